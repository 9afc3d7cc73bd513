-- The flow of a run as jobs (spec §C.11): one job per OpenTofu resource (`tofu:<address>`), one for the
-- cluster's kubeconfig hand-back (`cluster-handback`) and one per component HelmRelease (`install-<id>`).
-- Each attempt at a job is an execution with its own numbered log lines. Merge rules (server/src/db/jobs.rs):
-- started_at, finished_at and latest_execution_id only move forward (a missing value never clears a set one),
-- and depends_on is kept when a write brings none.
CREATE TABLE jobs (
    deployment_id       TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    job_name            TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('resource', 'handback', 'release')),
    app_id              TEXT NOT NULL,      -- resource type, 'cluster', or the component id
    batch_id            TEXT NOT NULL,      -- phase group: infrastructure | cluster | components
    region              TEXT NOT NULL DEFAULT '',
    depends_on          TEXT NOT NULL DEFAULT '[]', -- JSON array of job names (finish-to-start)
    status              TEXT NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    started_at          BIGINT,             -- ms since epoch; first start, never cleared
    finished_at         BIGINT,             -- ms since epoch; latest finish, never moves back
    latest_execution_id TEXT,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, job_name)
);

CREATE TABLE job_executions (
    id            TEXT PRIMARY KEY,         -- 32 hex, random
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    job_name      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    started_at    BIGINT NOT NULL,
    finished_at   BIGINT,
    line_count    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX job_executions_job ON job_executions (deployment_id, job_name, started_at);

CREATE TABLE job_log_lines (
    execution_id TEXT NOT NULL REFERENCES job_executions (id) ON DELETE CASCADE,
    line_number  BIGINT NOT NULL,           -- 1-based, stamped by the store
    at           BIGINT NOT NULL,
    level        TEXT NOT NULL,             -- debug | info | warn | error
    message      TEXT NOT NULL,
    PRIMARY KEY (execution_id, line_number)
);
