-- Operators and tenant states (docs/TENANCY.md, sections 1, 2 and 7).

-- `state`: the tenant's state as JSON (`{"state":"active"}`, `suspended`
-- with its reason, `deleting` with `erase_after`); `limits`: the operator's
-- overrides as JSON (unknown keys are refused before they are written).
ALTER TABLE tenants ADD COLUMN state  TEXT NOT NULL DEFAULT '{"state":"active"}';
ALTER TABLE tenants ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';

-- The operator's keys: hash only, like API keys; they belong to no tenant.
CREATE TABLE operator_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    prefix     TEXT    NOT NULL UNIQUE,
    hash       BLOB    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- What operators did (insert only; kept when the tenant is erased).
-- `tenant_id` is the tenant acted on, or '' for none.
CREATE TABLE operator_audit (
    seq       INTEGER NOT NULL PRIMARY KEY,
    tenant_id TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    at        INTEGER NOT NULL
) STRICT;
CREATE INDEX operator_audit_by_at ON operator_audit (at, seq);

-- Retention: ended runs by when they ended; audit rows by age.
CREATE INDEX runs_by_finished ON runs (tenant_id, finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX audit_by_at ON audit (at);
