-- The delivery loop's fair claim (docs/TENANCY.md, section 6) reads, per
-- tenant, its earliest due pending rows and its live claims: both through
-- an index, so a claim costs the rows it takes (and the tenants with rows
-- due), not a scan of one tenant's backlog for every due row.
CREATE INDEX notification_deliveries_by_tenant ON notification_deliveries (tenant_id, next_at, id)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_live ON notification_deliveries (claimed_until, tenant_id)
    WHERE status = 'pending';
