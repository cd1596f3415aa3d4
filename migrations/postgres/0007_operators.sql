-- Operators and tenant states (docs/TENANCY.md, sections 1, 2 and 7).

-- `state`: the tenant's state as JSON (`{"state":"active"}`, `suspended`
-- with its reason, `deleting` with `erase_after`); `limits`: the operator's
-- overrides as JSON (unknown keys are refused before they are written).
ALTER TABLE tenants ADD COLUMN state  TEXT NOT NULL DEFAULT '{"state":"active"}';
ALTER TABLE tenants ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';

-- The operator's keys: hash only, like API keys; they belong to no tenant.
CREATE TABLE operator_keys (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    prefix     TEXT COLLATE "C" NOT NULL UNIQUE,
    hash       BYTEA  NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- What operators did (insert only; kept when the tenant is erased).
-- `tenant_id` is the tenant acted on, or '' for none.
CREATE TABLE operator_audit (
    seq       BIGSERIAL PRIMARY KEY,
    tenant_id TEXT COLLATE "C" NOT NULL,
    actor     TEXT   NOT NULL,
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX operator_audit_by_at ON operator_audit (at, seq);

-- Retention: ended runs by when they ended; audit rows by age.
CREATE INDEX runs_by_finished ON runs (tenant_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX audit_by_at ON audit (at);
