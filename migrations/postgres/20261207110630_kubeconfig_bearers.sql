-- The single-use bearers a Sovereign's control planes present when they PUT their kubeconfig back (issue 18):
-- random, one per region and run, never derivable from the deployment id; only a hash is kept.
CREATE TABLE kubeconfig_bearers (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    region        TEXT NOT NULL,   -- region key (fsn1, fsn1-2 …): each region's first control plane has its own bearer
    sha256        TEXT NOT NULL,   -- hex SHA-256 of the bearer; the bearer itself is never stored
    issued_at     BIGINT NOT NULL, -- ms since epoch: when a run handed it to OpenTofu (a new run issues a new one)
    expires_at    BIGINT NOT NULL, -- refused from then on: --cluster-timeout after the cluster phase starts, at once when it ends
    used_at       BIGINT,          -- when it carried the region's kubeconfig: it works once
    PRIMARY KEY (deployment_id, region)
);

-- Bearers of earlier versions were derived from the console's key and the deployment id; they stop working.
UPDATE deployments SET kubeconfig_bearer_sha256 = '';
