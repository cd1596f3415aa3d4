-- Usage counters (docs/TENANCY.md, section 5), written by the commit that
-- records the journal rows they are derived from. `day` is the UTC day
-- `YYYY-MM-DD`; `peak_memory_bytes` holds a maximum, the others sums. Kept
-- when runs are pruned (they are small). The key serves the reports and the
-- quota check (one tenant, a range of days).
CREATE TABLE usage (
    tenant_id   TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    workflow_id TEXT    NOT NULL,
    counter     TEXT    NOT NULL,
    value       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, workflow_id, counter)
) STRICT, WITHOUT ROWID;

-- The operator's report reads all tenants by day.
CREATE INDEX usage_by_day ON usage (day);
