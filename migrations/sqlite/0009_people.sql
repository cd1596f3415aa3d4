-- People and sessions (docs/TENANCY.md, section 3).

-- Who created each workflow (a user id or an API key id); rows made before
-- people existed are `system`'s, which only admins and owners change.
ALTER TABLE workflows ADD COLUMN created_by TEXT NOT NULL DEFAULT 'system';

-- Users: a normalised email, an argon2id PHC string, a sealed TOTP secret
-- (confirmed, and one set up but not confirmed yet), the last TOTP step used.
CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    totp_secret    BLOB,
    totp_pending   BLOB,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    disabled_at    INTEGER
) STRICT;

CREATE TABLE memberships (
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships (user_id);

-- One-time links: invitations (`kind` 'invitation') and password resets
-- ('reset'). Only the token's SHA-256 is stored.
CREATE TABLE invitations (
    id         TEXT    NOT NULL PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    kind       TEXT    NOT NULL,
    tenant_id  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    email      TEXT,
    user_id    TEXT,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX invitations_by_tenant ON invitations (tenant_id, kind, created_at);

-- Browser sessions: the id's and the CSRF token's SHA-256 only. A request
-- reads its session by the primary key, joined with the membership.
CREATE TABLE sessions (
    id_hash      BLOB    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    csrf_hash    BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, tenant_id);

-- Failed logins per account (`account:<email>`) and per source address
-- (`addr:<ip>`), for the throttle; kept a day.
CREATE TABLE login_failures (
    key TEXT    NOT NULL,
    at  INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_by_key ON login_failures (key, at);
