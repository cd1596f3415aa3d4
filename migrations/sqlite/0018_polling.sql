-- Polling triggers (docs/WORKFLOWS.md, "Polling"; weft_store::polling).
--
-- One row per workflow that has had a `triggers.poll`: armed while the
-- workflow is active with one; the connector's cursor; when the next poll is
-- due (while a poll runs, the end of its claim); what the last poll did. `seq`
-- is bumped by every claim, advance and failure (compare-and-set).
CREATE TABLE poll_states (
    tenant_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    armed INTEGER NOT NULL,
    cursor TEXT,
    next_poll_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    last_poll_at INTEGER,
    last_success_at INTEGER,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, workflow_id)
);
CREATE INDEX poll_states_due ON poll_states (next_poll_at) WHERE armed = 1;

-- The item keys a workflow's polls have started runs for, written in the
-- commit that creates those runs; the newest SEEN_KEYS_KEPT per workflow are
-- kept (`ord` orders them).
CREATE TABLE poll_seen (
    tenant_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    ord INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, item_key)
);
CREATE INDEX poll_seen_order ON poll_seen (tenant_id, workflow_id, ord);
