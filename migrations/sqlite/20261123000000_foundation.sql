-- Console-wide settings, one JSON value per key.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,          -- dotted name, e.g. 'console.name'
    value      TEXT NOT NULL,             -- JSON document
    updated_at BIGINT NOT NULL,           -- ms since epoch
    updated_by TEXT NOT NULL              -- user id, or 'system'
);

-- Security and administration events: who did what, when, from where. Append-only.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT, -- total order for stable paging
    id         TEXT NOT NULL UNIQUE,      -- uuid, quoted to users and in logs
    at         BIGINT NOT NULL,           -- ms since epoch
    actor_id   TEXT,                      -- user id; NULL for anonymous (e.g. a failed login)
    actor      TEXT NOT NULL,             -- display label at the time (e-mail, 'system')
    action     TEXT NOT NULL,             -- machine name, e.g. 'auth.login'
    target     TEXT NOT NULL DEFAULT '',  -- what it acted on (user, token, deployment id)
    outcome    TEXT NOT NULL,             -- 'success' | 'failure' | 'denied'
    detail     TEXT NOT NULL DEFAULT '',  -- one sentence for people; never secrets
    ip         TEXT NOT NULL DEFAULT '',  -- client address as seen by the console
    request_id TEXT NOT NULL DEFAULT ''   -- ties the entry to the request's log lines
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, seq);
