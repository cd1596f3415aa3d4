-- Usage counters spread over shards (docs/DISTRIBUTED.md, "Costs and
-- scaling"): a commit adds to one of 16 rows per counter, picked from its
-- run's id, instead of the one row of the (tenant, day, workflow, counter),
-- whose lock every commit of a busy workflow waited for (it is held until
-- COMMIT, across the WAL flush). Readers sum the shards (the maximum for
-- `peak_memory_bytes`). Existing rows are shard 0.
ALTER TABLE usage ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE usage DROP CONSTRAINT usage_pkey;
ALTER TABLE usage ADD PRIMARY KEY (tenant_id, day, workflow_id, counter, shard);
