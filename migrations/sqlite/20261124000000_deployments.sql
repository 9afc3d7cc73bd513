-- Deployments: one provisioning request and everything the engine learns while it runs it.
CREATE TABLE deployments (
    id                       TEXT PRIMARY KEY,     -- random, URL-safe, not guessable (also the cloud label value)
    org_id                   TEXT NOT NULL,        -- owning organisation: every read is scoped by it
    created_by               TEXT NOT NULL,        -- user id of the creator
    fqdn                     TEXT NOT NULL,        -- the Sovereign's domain, copied out of the request for listing/sorting
    status                   TEXT NOT NULL,        -- app::deployments::DeploymentStatus; written only through checked transitions
    request                  TEXT NOT NULL,        -- JSON DeploymentRequest, never secrets (those are in deployment_secrets)
    result                   TEXT,                 -- JSON DeploymentResult once `tofu output` has run
    error                    TEXT,                 -- JSON DeploymentError of the last failure; cleared on retry
    teardown                 TEXT,                 -- JSON TeardownReport of the last wipe
    kubeconfig_bearer_sha256 TEXT NOT NULL,        -- hex SHA-256 of the cloud-init PUT-back bearer; the bearer itself is never stored
    last_seq                 BIGINT NOT NULL DEFAULT 0, -- seq of the newest event; bumped in the transaction that inserts events
    cancel_requested_at      BIGINT,               -- set by whichever replica got the cancel; the lease holder stops the run
    cancel_requested_by      TEXT,
    created_at               BIGINT NOT NULL,      -- ms since epoch
    updated_at               BIGINT NOT NULL,
    started_at               BIGINT,               -- start of the current run (create, retry, wipe)
    finished_at              BIGINT                -- when it last settled (ready, failed, wiped)
);
CREATE INDEX deployments_org_created ON deployments (org_id, created_at);
CREATE INDEX deployments_status ON deployments (status);
-- Two live deployments of one domain would fight over its DNS and cloud resources.
CREATE UNIQUE INDEX deployments_live_fqdn ON deployments (fqdn) WHERE status <> 'wiped';

-- The event log: append-only, per-deployment gap-free sequence (the SSE id and every cursor).
CREATE TABLE deployment_events (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,     -- 1, 2, 3 … per deployment, assigned from deployments.last_seq
    at            BIGINT NOT NULL,     -- ms since epoch
    kind          TEXT NOT NULL,       -- log | phase | status | resource | component
    phase         TEXT NOT NULL,       -- app::deployments::Phase
    level         TEXT NOT NULL,       -- debug | info | warn | error
    message       TEXT NOT NULL,       -- already redacted: never a secret
    component     TEXT,                -- component id for component events
    state         TEXT,                -- new phase/status/component state
    resource      TEXT,                -- JSON ResourceProgress for resource events
    PRIMARY KEY (deployment_id, seq)
);

-- Phase timeline of the deployment page (state and duration per phase).
CREATE TABLE deployment_phases (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    phase         TEXT NOT NULL,
    state         TEXT NOT NULL,       -- pending | running | succeeded | failed | skipped
    started_at    BIGINT,
    finished_at   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0, -- starts, counting retries and resumes
    PRIMARY KEY (deployment_id, phase)
);

-- Per-resource OpenTofu progress parsed from `-json` output (for the page and the flow canvas).
CREATE TABLE deployment_resources (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    address       TEXT NOT NULL,       -- hcloud_server.control_plane[0]
    resource_type TEXT NOT NULL,
    action        TEXT NOT NULL,       -- create | read | update | replace | delete | noop
    state         TEXT NOT NULL,       -- planned | applying | complete | errored
    elapsed_secs  BIGINT NOT NULL DEFAULT 0,
    cloud_id      TEXT,                -- the provider's id once created
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, address)
);

-- Component (HelmRelease) states seen by the watcher.
CREATE TABLE deployment_components (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    component     TEXT NOT NULL,       -- catalog id; the HelmRelease is bp-<id>
    state         TEXT NOT NULL,       -- pending | installing | installed | degraded | failed
    message       TEXT NOT NULL DEFAULT '',
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, component)
);

-- Secrets, encrypted at rest (XChaCha20-Poly1305; the key is outside the database). The associated data
-- binds each ciphertext to its deployment and name, so rows cannot be swapped.
-- Names: `request` (DeploymentSecrets JSON), `kubeconfig:<region>`, `tfstate`.
CREATE TABLE deployment_secrets (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    nonce         BLOB NOT NULL,       -- 24 random bytes
    ciphertext    BLOB NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, name)
);

-- Who runs a deployment's work right now. A replica holds the lease while it works and renews it; when it
-- expires (the replica died) another replica takes the run over and resumes it.
CREATE TABLE deployment_leases (
    deployment_id TEXT PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    holder        TEXT NOT NULL,       -- instance id of the replica
    acquired_at   BIGINT NOT NULL,
    heartbeat_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL      -- ms since epoch; past it, any replica may take over
);
CREATE INDEX deployment_leases_expiry ON deployment_leases (expires_at);

-- Proof of which encryption key the secrets were written with: a known plaintext encrypted with it. A
-- console started with another key fails at start instead of producing garbage.
CREATE TABLE secret_key_check (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    key_id     TEXT NOT NULL,          -- first 16 hex digits of SHA-256(key): names the key, reveals nothing
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
