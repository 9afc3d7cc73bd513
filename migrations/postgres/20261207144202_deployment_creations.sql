-- Every deployment created, per organisation: what the per-day limit counts (--max-deployments-per-day,
-- issue 18). A row outlives its deployment's record (deleting a record does not reset the count); rows older
-- than two days are removed by the next creation in the organisation.
CREATE TABLE deployment_creations (
    org_id        TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    at            BIGINT NOT NULL  -- ms since epoch
);
CREATE INDEX deployment_creations_org_at ON deployment_creations (org_id, at);
