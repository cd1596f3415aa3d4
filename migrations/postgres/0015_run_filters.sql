-- Runs by creation time (the console: `GET /v1/runs?from=&to=` and
-- `GET /v1/runs/stats`). Status and workflow are in the index so that the
-- statistics' two GROUP BYs (by time bucket and status, by workflow) read the
-- index only, never the runs' rows.
CREATE INDEX runs_by_created ON runs (tenant_id, created_at, status, workflow_id);
