-- Polling triggers (docs/WORKFLOWS.md, "Polling"; weft_store::polling).
--
-- One row per workflow that has had a `triggers.poll`: armed while the
-- workflow is active with one; the connector's cursor; when the next poll is
-- due (while a poll runs, the end of its claim); what the last poll did. `seq`
-- is bumped by every claim, advance and failure (compare-and-set).
CREATE TABLE poll_states (
    tenant_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    armed BOOLEAN NOT NULL,
    cursor TEXT,
    next_poll_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    last_poll_at BIGINT,
    last_success_at BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, workflow_id)
);
CREATE INDEX poll_states_due ON poll_states (next_poll_at) WHERE armed;

-- The item keys a workflow's polls have started runs for, written in the
-- commit that creates those runs; the newest SEEN_KEYS_KEPT per workflow are
-- kept (`ord` orders them).
CREATE TABLE poll_seen (
    tenant_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    ord BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, item_key)
);
CREATE INDEX poll_seen_order ON poll_seen (tenant_id, workflow_id, ord);
