-- Accounts, organisations, roles, sessions and API tokens (issue 4).

-- People who can sign in. E-mail is the login name.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY,      -- uuid; what other tables and the audit log reference
    email               TEXT NOT NULL UNIQUE,  -- lower-cased, trimmed; the login name
    display_name        TEXT NOT NULL DEFAULT '',
    password_hash       TEXT,                  -- argon2id PHC string; NULL for single-sign-on-only accounts
    platform_role       TEXT,                  -- 'superadmin' | 'sovereign-admin' | NULL (none)
    disabled            BOOLEAN NOT NULL DEFAULT FALSE, -- a disabled account cannot sign in or use tokens
    oidc_issuer         TEXT,                  -- with oidc_subject: the identity at the SSO provider
    oidc_subject        TEXT,
    created_at          BIGINT NOT NULL,       -- ms since epoch
    updated_at          BIGINT NOT NULL,
    last_login_at       BIGINT,                -- shown on the users page
    password_changed_at BIGINT                 -- sessions older than this are void
);
CREATE UNIQUE INDEX users_oidc_identity ON users (oidc_issuer, oidc_subject);

-- Organisations own deployments; people belong to them with a role.
CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,              -- uuid
    slug       TEXT NOT NULL UNIQUE,          -- URL-safe short name, used by the OIDC role mapping
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,                 -- 'owner' | 'admin' | 'editor' | 'viewer'
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Browser sessions. The cookie holds a random secret; only its SHA-256 is stored, so a copy of the
-- database cannot be replayed as sessions.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,            -- public id (uuid): logs and the audit log quote this, never the secret
    token_hash   TEXT NOT NULL UNIQUE,        -- hex SHA-256 of the cookie secret; the lookup key
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,             -- idle expiry counts from here (updated at most once a minute)
    expires_at   BIGINT NOT NULL,             -- absolute expiry
    ip           TEXT NOT NULL DEFAULT '',    -- where it was created
    user_agent   TEXT NOT NULL DEFAULT '',
    method       TEXT NOT NULL                -- how it was created: 'password' | 'oidc' | 'setup' | 'signup'
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens for automation (`Authorization: Bearer cat_…`). Shown once; only the SHA-256 is stored.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,            -- uuid
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE, -- acts with this user's roles
    name         TEXT NOT NULL,               -- what it is for, chosen by its owner
    token_hash   TEXT NOT NULL UNIQUE,        -- hex SHA-256 of the secret
    prefix       TEXT NOT NULL,               -- first characters, to recognise it in lists
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,                      -- updated at most once a minute
    expires_at   BIGINT,                      -- NULL: until revoked
    revoked_at   BIGINT                       -- set when revoked; kept for the record
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Invitation links: the way in when sign-up is invite-only.
CREATE TABLE invitations (
    id          TEXT PRIMARY KEY,             -- uuid
    token_hash  TEXT NOT NULL UNIQUE,         -- hex SHA-256 of the link's secret
    email       TEXT NOT NULL,                -- who it is for (lower-cased); the account gets this e-mail
    org_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,                -- the role they get in org_id
    created_by  TEXT NOT NULL,                -- user id of the inviter
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    accepted_at BIGINT                        -- set once used; a link works once
);
CREATE INDEX invitations_org ON invitations (org_id);

-- Failed sign-ins per account (and per unknown e-mail alike), shared by every replica.
CREATE TABLE auth_throttle (
    key               TEXT PRIMARY KEY,       -- '<kind>:<hex SHA-256 of the lower-cased e-mail>'
    failures          BIGINT NOT NULL,        -- failures in the current window
    window_started_at BIGINT NOT NULL,        -- the window restarts after 15 minutes without a lock
    locked_until      BIGINT NOT NULL         -- ms since epoch; 0 when not locked
);

-- One-time tokens for the first-run setup page, one per replica that started with no account.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY,              -- hex SHA-256 of the token printed in that replica's log
    instance   TEXT NOT NULL,                 -- which replica printed it
    created_at BIGINT NOT NULL
);

-- OpenID Connect logins in flight: from the redirect to the provider until its callback (10 minutes).
CREATE TABLE oidc_logins (
    state_hash    TEXT PRIMARY KEY,           -- hex SHA-256 of the state, which also sits in a browser cookie
    nonce         TEXT NOT NULL,              -- must come back inside the ID token
    pkce_verifier TEXT NOT NULL,              -- proves the callback belongs to this login
    next          TEXT NOT NULL,              -- the console page to return to
    created_at    BIGINT NOT NULL
);
