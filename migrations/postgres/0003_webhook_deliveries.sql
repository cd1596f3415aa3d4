-- Webhook delivery ids (docs/SECURITY.md, A6): a repeated delivery id of a
-- workflow starts no second run. Written in the transaction that creates the
-- run; the primary key makes two concurrent deliveries with one id start one
-- run. body_sha256 (hex) is the first body's digest: a repeated id with
-- another body is refused. An expired row is replaced by the next delivery
-- with its id, and the sweeper prunes expired rows (by `expires_at`).
CREATE TABLE webhook_deliveries (
    tenant_id   TEXT   NOT NULL,
    workflow_id TEXT   NOT NULL,
    delivery_id TEXT   NOT NULL,
    run_id      TEXT   NOT NULL,
    body_sha256 TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, delivery_id)
);

CREATE INDEX webhook_deliveries_by_expiry ON webhook_deliveries (expires_at);
