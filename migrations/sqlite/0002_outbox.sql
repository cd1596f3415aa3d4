-- The transactional outbox (docs/DISTRIBUTED.md): tasks written with the
-- decision that made them due; a relay publishes, then deletes them.
CREATE TABLE outbox (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    run_id        TEXT    NOT NULL,
    step_key      TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    due_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    claimed_until INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX outbox_by_age ON outbox (created_at, id);
