-- The store's schema (weft-store-sqlite). Every table carries its tenant;
-- times are Unix milliseconds; statuses, triggers and roles are their stable
-- names; JSON values are TEXT written by serde_json; secrets are BLOBs.

CREATE TABLE tenants (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    tenant_id  TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    hash       BLOB    NOT NULL,
    role       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE workflows (
    tenant_id     TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    webhook_token TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX workflows_webhook_token ON workflows (webhook_token);

-- Kept when the workflow is deleted: runs read their version.
CREATE TABLE workflow_versions (
    tenant_id   TEXT    NOT NULL,
    workflow_id TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, version)
) STRICT;

CREATE TABLE schedules (
    tenant_id    TEXT    NOT NULL,
    workflow_id  TEXT    NOT NULL,
    cron         TEXT    NOT NULL,
    timezone     TEXT    NOT NULL,
    missed       TEXT    NOT NULL,
    next_fire_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX schedules_due ON schedules (next_fire_at);

CREATE TABLE runs (
    tenant_id       TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    workflow_id     TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    trigger_kind    TEXT    NOT NULL,
    input           TEXT    NOT NULL,
    output          TEXT,
    error           TEXT,
    response        TEXT,
    parent_run_id   TEXT,
    parent_step_key TEXT,
    depth           INTEGER NOT NULL,
    deadline_at     INTEGER,
    seq             INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE INDEX runs_by_workflow ON runs (tenant_id, workflow_id, id);
CREATE INDEX runs_by_status ON runs (tenant_id, status, id);
-- overdue_runs: only runs that can still time out.
CREATE INDEX runs_deadline ON runs (deadline_at)
    WHERE status NOT IN ('completed', 'failed', 'cancelled', 'skipped');

CREATE TABLE steps (
    tenant_id    TEXT    NOT NULL,
    run_id       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    input        TEXT,
    output       TEXT,
    error        TEXT,
    due_at       INTEGER,
    resume_token TEXT,
    child_run_id TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, run_id, key),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- due_steps: the sweeper reads only steps that can still become due.
CREATE INDEX steps_due ON steps (due_at)
    WHERE status NOT IN ('completed', 'failed', 'cancelled', 'skipped');
CREATE UNIQUE INDEX steps_resume_token ON steps (resume_token)
    WHERE resume_token IS NOT NULL;

CREATE TABLE attempts (
    tenant_id       TEXT    NOT NULL,
    run_id          TEXT    NOT NULL,
    step_key        TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    input           TEXT,
    output          TEXT,
    error           TEXT,
    usage           TEXT,
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    PRIMARY KEY (tenant_id, run_id, step_key, attempt),
    FOREIGN KEY (tenant_id, run_id, step_key)
        REFERENCES steps (tenant_id, run_id, key) ON DELETE CASCADE
) STRICT;

CREATE TABLE credentials (
    tenant_id  TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    injection  TEXT    NOT NULL,
    hosts      TEXT    NOT NULL,
    nonce      BLOB    NOT NULL,
    ciphertext BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX credentials_name ON credentials (tenant_id, name);

CREATE TABLE plugin_state (
    tenant_id TEXT NOT NULL,
    plugin    TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     BLOB NOT NULL,
    PRIMARY KEY (tenant_id, plugin, key)
) STRICT, WITHOUT ROWID;

-- Insert only. `seq` orders entries written in the same millisecond.
CREATE TABLE audit (
    seq       INTEGER NOT NULL PRIMARY KEY,
    tenant_id TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    at        INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_by_tenant ON audit (tenant_id, at, seq);
