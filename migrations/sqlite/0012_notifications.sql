-- Notifications (docs/TENANCY.md, section 6). A rule says which event of
-- which workflow (NULL: every workflow of the tenant) goes where; the
-- webhook's signing secret is sealed by the vault (bound to the tenant and the
-- rule id). A delivery is one event for one rule, written in the transaction
-- of the run's commit; UNIQUE (rule_id, event_key) makes an event deliver once
-- whatever commit is retried. `claimed_until` is the delivery loop's lease;
-- `attempts` is the JSON list of tries.
CREATE TABLE notification_rules (
    tenant_id         TEXT    NOT NULL,
    id                TEXT    NOT NULL,
    workflow_id       TEXT,
    event             TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    url               TEXT    NOT NULL,
    secret_nonce      BLOB    NOT NULL,
    secret_ciphertext BLOB    NOT NULL,
    secret_ad_version INTEGER NOT NULL,
    enabled           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

CREATE UNIQUE INDEX notification_rules_id ON notification_rules (id);
CREATE INDEX notification_rules_by_event ON notification_rules (tenant_id, event);

CREATE TABLE notification_deliveries (
    tenant_id     TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    rule_id       TEXT    NOT NULL,
    event_key     TEXT    NOT NULL,
    event         TEXT    NOT NULL,
    run_id        TEXT    NOT NULL,
    workflow_id   TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    attempts      TEXT    NOT NULL,
    next_at       INTEGER,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (rule_id, event_key)
) STRICT;

CREATE INDEX notification_deliveries_due ON notification_deliveries (next_at)
    WHERE status = 'pending';
-- The previous finished run of a workflow (`run_recovered`).
CREATE INDEX runs_by_workflow_finished ON runs (tenant_id, workflow_id, finished_at)
    WHERE finished_at IS NOT NULL;
