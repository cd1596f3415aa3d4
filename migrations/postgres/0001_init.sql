-- The store's schema (weft-store-postgres). Every table carries its tenant and
-- has it first in its primary key; times are Unix milliseconds; statuses,
-- triggers and roles are their stable names; JSON values are TEXT written by
-- serde_json (exact round trip of numbers); secrets are BYTEA. Keys compare
-- bytewise (COLLATE "C"), like SQLite, so pagination orders agree.

CREATE TABLE tenants (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    wrapped_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    prefix     TEXT COLLATE "C" NOT NULL,
    hash       BYTEA  NOT NULL,
    role       TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE workflows (
    tenant_id     TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    name          TEXT    NOT NULL,
    version       BIGINT  NOT NULL,
    active        BOOLEAN NOT NULL,
    webhook_token TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX workflows_webhook_token ON workflows (webhook_token);

-- Kept when the workflow is deleted: runs read their version.
CREATE TABLE workflow_versions (
    tenant_id   TEXT COLLATE "C" NOT NULL,
    workflow_id TEXT COLLATE "C" NOT NULL,
    version     BIGINT NOT NULL,
    definition  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id, version)
);

CREATE TABLE schedules (
    tenant_id    TEXT COLLATE "C" NOT NULL,
    workflow_id  TEXT COLLATE "C" NOT NULL,
    cron         TEXT   NOT NULL,
    timezone     TEXT   NOT NULL,
    missed       TEXT   NOT NULL,
    next_fire_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, workflow_id),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX schedules_due ON schedules (next_fire_at);

CREATE TABLE runs (
    tenant_id       TEXT COLLATE "C" NOT NULL,
    id              TEXT COLLATE "C" NOT NULL,
    workflow_id     TEXT COLLATE "C" NOT NULL,
    version         BIGINT NOT NULL,
    status          TEXT   NOT NULL,
    trigger_kind    TEXT   NOT NULL,
    input           TEXT   NOT NULL,
    output          TEXT,
    error           TEXT,
    response        TEXT,
    parent_run_id   TEXT,
    parent_step_key TEXT,
    depth           BIGINT NOT NULL,
    deadline_at     BIGINT,
    seq             BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX runs_by_workflow ON runs (tenant_id, workflow_id, id);
CREATE INDEX runs_by_status ON runs (tenant_id, status, id);
CREATE INDEX runs_deadline ON runs (deadline_at)
    WHERE status NOT IN ('completed', 'failed', 'cancelled', 'skipped');

CREATE TABLE steps (
    tenant_id    TEXT COLLATE "C" NOT NULL,
    run_id       TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    status       TEXT   NOT NULL,
    attempt      BIGINT NOT NULL,
    input        TEXT,
    output       TEXT,
    error        TEXT,
    due_at       BIGINT,
    resume_token TEXT COLLATE "C",
    child_run_id TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, key),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX steps_due ON steps (due_at)
    WHERE status NOT IN ('completed', 'failed', 'cancelled', 'skipped');
CREATE UNIQUE INDEX steps_resume_token ON steps (resume_token)
    WHERE resume_token IS NOT NULL;

CREATE TABLE attempts (
    tenant_id       TEXT COLLATE "C" NOT NULL,
    run_id          TEXT COLLATE "C" NOT NULL,
    step_key        TEXT COLLATE "C" NOT NULL,
    attempt         BIGINT NOT NULL,
    idempotency_key TEXT   NOT NULL,
    status          TEXT   NOT NULL,
    input           TEXT,
    output          TEXT,
    error           TEXT,
    usage           TEXT,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT,
    PRIMARY KEY (tenant_id, run_id, step_key, attempt),
    FOREIGN KEY (tenant_id, run_id, step_key)
        REFERENCES steps (tenant_id, run_id, key) ON DELETE CASCADE
);

CREATE TABLE credentials (
    tenant_id  TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    injection  TEXT   NOT NULL,
    hosts      TEXT   NOT NULL,
    nonce      BYTEA  NOT NULL,
    ciphertext BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX credentials_name ON credentials (tenant_id, name);

CREATE TABLE plugin_state (
    tenant_id TEXT COLLATE "C" NOT NULL,
    plugin    TEXT COLLATE "C" NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    value     BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, plugin, key)
);

-- Insert only: the application role needs no UPDATE or DELETE on it.
CREATE TABLE audit (
    seq       BIGSERIAL PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX audit_by_tenant ON audit (tenant_id, at, seq);

-- The transactional outbox (docs/DISTRIBUTED.md).
CREATE TABLE outbox (
    id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id     TEXT COLLATE "C" NOT NULL,
    run_id        TEXT   NOT NULL,
    step_key      TEXT   NOT NULL,
    attempt       BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_by_age ON outbox (created_at, id);
