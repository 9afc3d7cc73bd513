-- The deployments list at scale (issue 25): what it filters and sorts by, copied out of the stored request so the
-- database can index it, and indexes for every sort order (keyset paging reads one index range per page).
ALTER TABLE deployments ADD COLUMN regions TEXT NOT NULL DEFAULT '';        -- ',fsn1,hel1,': the request's regions in order
ALTER TABLE deployments ADD COLUMN providers TEXT NOT NULL DEFAULT '';      -- ',hetzner,': their providers, each once
ALTER TABLE deployments ADD COLUMN monthly_cents BIGINT NOT NULL DEFAULT 0; -- the launch's monthly estimate without VAT (0: unknown)

UPDATE deployments SET
    regions = COALESCE((SELECT ',' || group_concat(json_extract(r.value, '$.cloudRegion'), ',') || ','
                        FROM json_each(deployments.request, '$.regions') AS r), ''),
    providers = COALESCE((SELECT ',' || group_concat(p, ',') || ','
                          FROM (SELECT DISTINCT json_extract(r.value, '$.provider') AS p
                                FROM json_each(deployments.request, '$.regions') AS r)), ''),
    monthly_cents = COALESCE((SELECT MAX(o.amount_cents) FROM orders o
                              WHERE o.kind = 'deployment' AND o.deployment_id = deployments.id), 0)
WHERE json_valid(request);

CREATE INDEX deployments_created_id ON deployments (created_at, id);
CREATE INDEX deployments_updated_id ON deployments (updated_at, id);
CREATE INDEX deployments_fqdn_id ON deployments (fqdn, id);
CREATE INDEX deployments_status_id ON deployments (status, id);
CREATE INDEX deployments_regions_id ON deployments (regions, id);
CREATE INDEX deployments_cost_id ON deployments (monthly_cents, id);
-- The search's creator branch (deployments of the users whose e-mail or name matches).
CREATE INDEX deployments_created_by ON deployments (created_by);
-- The search's lowered texts (Postgres has trigram indexes of the same names). SQLite has no trigram index:
-- these serve exact and prefix lookups of the lowered text; a substring search ('%part%') scans.
CREATE INDEX deployments_fqdn_search ON deployments (lower(fqdn));
CREATE INDEX organisations_name_search ON organisations (lower(name));
CREATE INDEX users_email_search ON users (lower(email));
CREATE INDEX users_display_name_search ON users (lower(display_name));
