-- Single sign-on starts need no account, so logins in flight can pile up; every start deletes those older
-- than an hour by `created_at` (db::sessions::put_oidc_login). Without this index that delete reads the
-- whole table on every start.
CREATE INDEX oidc_logins_created_at ON oidc_logins (created_at);
