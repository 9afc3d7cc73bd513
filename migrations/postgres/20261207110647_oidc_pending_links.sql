-- Single sign-on identities waiting to be linked to an existing account (issue 18.2). An identity is never
-- linked by its e-mail alone: when the provider vouches (`email_verified: true`) for the address of an account
-- that exists here, the person must also give that account's password within 10 minutes, in the browser that
-- signed in at the provider. Rows are removed when used and swept when stale.
CREATE TABLE oidc_pending_links (
    token_hash   TEXT PRIMARY KEY,            -- hex SHA-256 of the secret in that browser's cookie
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE, -- the account whose e-mail matched
    issuer       TEXT NOT NULL,               -- with subject: the identity to link
    subject      TEXT NOT NULL,
    display_name TEXT NOT NULL,               -- the name the provider gave, applied once linked
    roles        TEXT NOT NULL,               -- JSON list of the role claim's values, mapped once linked
    next         TEXT NOT NULL,               -- the console page to return to
    created_at   BIGINT NOT NULL              -- ms since epoch
);
