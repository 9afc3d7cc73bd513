-- Catalyst's DNS: one PowerDNS zone per Sovereign, a subdomain of a pool domain or the customer's own domain.
-- Pool names follow reserve → commit → release: `reserved` while the deployment's run holds its lease
-- (deployment_leases), `active` once the run committed it (the Sovereign's record set is owed in PowerDNS).
-- A reservation whose run is gone is swept (row, zone, delegation and key removed); an active one lives
-- until the Sovereign is wiped.
CREATE TABLE dns_zones (
    zone              TEXT PRIMARY KEY,   -- the Sovereign's domain, lowercase, no trailing dot: <subdomain>.<pool> or the BYO domain
    pool_domain       TEXT,               -- the pool it is a subdomain of; NULL for a bring-your-own domain
    subdomain         TEXT,               -- the label under pool_domain; NULL for a bring-your-own domain
    state             TEXT NOT NULL CHECK (state IN ('reserved', 'active')),
    deployment_id     TEXT NOT NULL,      -- the deployment whose run reserved it (no foreign key: an active name outlives a deleted record)
    reservation_token TEXT NOT NULL,      -- random; a commit must present it (kept after commit so the run can repeat its commit)
    created_by        TEXT NOT NULL,      -- user id that launched the deployment (audit, support)
    reserved_at       BIGINT NOT NULL,    -- ms since epoch
    committed_at      BIGINT,             -- when it became active
    load_balancer_ip  TEXT,               -- the address the record set points at, from `tofu output`
    published         BOOLEAN NOT NULL DEFAULT FALSE, -- the record set for load_balancer_ip is written in PowerDNS; false: the run still owes it
    tsig_key_name     TEXT NOT NULL       -- the zone's own TSIG key in PowerDNS (RFC 2136 updates of this zone only); the secret lives in PowerDNS alone
);
CREATE INDEX dns_zones_deployment ON dns_zones (deployment_id);
CREATE INDEX dns_zones_pool_state ON dns_zones (pool_domain, state);
