-- Queue triggers (docs/WORKFLOWS.md, "Queue"; weft_store::queue_trigger).
--
-- One row per workflow that has had a `triggers.queue`: armed while the
-- workflow is active with one; the worker holding its consumer (`owner`,
-- until `lease_until`: one consumer per trigger across the workers; a
-- tenant holds at most the deployment's cap of live leases); what the
-- consumer last reported.
CREATE TABLE queue_consumers (
    tenant_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    armed BOOLEAN NOT NULL,
    owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    consuming BOOLEAN NOT NULL DEFAULT FALSE,
    last_message_at BIGINT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, workflow_id)
);
CREATE INDEX queue_consumers_armed ON queue_consumers (lease_until) WHERE armed = 1;
