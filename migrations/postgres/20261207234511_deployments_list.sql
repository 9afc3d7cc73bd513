-- The deployments list at scale (issue 25): what it filters and sorts by, copied out of the stored request so the
-- database can index it, and indexes for every sort order (keyset paging reads one index range per page).
ALTER TABLE deployments ADD COLUMN regions TEXT NOT NULL DEFAULT '';        -- ',fsn1,hel1,': the request's regions in order
ALTER TABLE deployments ADD COLUMN providers TEXT NOT NULL DEFAULT '';      -- ',hetzner,': their providers, each once
ALTER TABLE deployments ADD COLUMN monthly_cents BIGINT NOT NULL DEFAULT 0; -- the launch's monthly estimate without VAT (0: unknown)

UPDATE deployments SET
    regions = COALESCE((SELECT ',' || string_agg(r.value->>'cloudRegion', ',' ORDER BY r.n) || ','
                        FROM jsonb_array_elements(deployments.request::jsonb->'regions') WITH ORDINALITY AS r(value, n)), ''),
    providers = COALESCE((SELECT ',' || string_agg(DISTINCT r.value->>'provider', ',') || ','
                          FROM jsonb_array_elements(deployments.request::jsonb->'regions') AS r(value)), ''),
    monthly_cents = COALESCE((SELECT MAX(o.amount_cents) FROM orders o
                              WHERE o.kind = 'deployment' AND o.deployment_id = deployments.id), 0)
WHERE jsonb_typeof(deployments.request::jsonb->'regions') = 'array';

CREATE INDEX deployments_created_id ON deployments (created_at, id);
CREATE INDEX deployments_updated_id ON deployments (updated_at, id);
CREATE INDEX deployments_fqdn_id ON deployments (fqdn, id);
CREATE INDEX deployments_status_id ON deployments (status, id);
CREATE INDEX deployments_regions_id ON deployments (regions, id);
CREATE INDEX deployments_cost_id ON deployments (monthly_cents, id);
-- The search's creator branch (deployments of the users whose e-mail or name matches).
CREATE INDEX deployments_created_by ON deployments (created_by);
-- The search ('%part%' of the lowered texts): trigram indexes, which serve substring matches (pg_trgm ships
-- with Postgres and is a trusted extension since 13: the database's owner may create it). SQLite has lowered-text
-- indexes of the same names.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX deployments_fqdn_search ON deployments USING gin (lower(fqdn) gin_trgm_ops);
CREATE INDEX organisations_name_search ON organisations USING gin (lower(name) gin_trgm_ops);
CREATE INDEX users_email_search ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_display_name_search ON users USING gin (lower(display_name) gin_trgm_ops);
