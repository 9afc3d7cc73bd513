-- A deployment record deleted while its infrastructure may still exist (not wiped) is hidden, not removed
-- (issue 18 item 5): its row keeps the domain held (the live-domain unique index counts it), so no other
-- organisation can take the domain — and so its clusters/<fqdn>/ tree, which the running Sovereign follows —
-- until a superadmin wipes it or releases the domain (deletes the row for good). The run's state stays.
ALTER TABLE deployments ADD COLUMN deleted_at BIGINT; -- ms since epoch when its organisation deleted the record; NULL: visible
