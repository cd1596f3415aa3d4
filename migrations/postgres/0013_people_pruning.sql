-- The sweeper prunes ended sessions, spent links and old login failures in
-- bounded batches (docs/TENANCY.md, section 3): indexes so that a batch
-- reads what it deletes rather than scanning the tables.
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX invitations_by_expiry ON invitations (expires_at);
CREATE INDEX invitations_used ON invitations (used_at) WHERE used_at IS NOT NULL;
CREATE INDEX login_failures_by_time ON login_failures (at);
