-- What Hetzner's API said that is the same for every project (issue 21): the price list (`GET /pricing`) and
-- which server types are not available where (`GET /server_types`). Shared by every replica, so the wizard's
-- estimate before a token is entered uses the last list any replica fetched ("prices as of" that time); the
-- pre-flight fetches again once a row is older than six hours. One row per kind.
CREATE TABLE hetzner_cache (
    what       TEXT PRIMARY KEY,   -- 'pricing' or 'unavailable'
    api_url    TEXT NOT NULL,      -- the --hetzner-api-url it came from; another API's rows are not used
    body       TEXT NOT NULL,      -- JSON: app::preflight::PriceTable, or a list of [type, location] pairs
    fetched_at BIGINT NOT NULL     -- ms since epoch: when Hetzner answered
);
