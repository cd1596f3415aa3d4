-- Scoped API keys (docs/TENANCY.md, section 4): scopes narrower than the
-- role (a JSON array of `resource:verb[:id]`, NULL: the whole role), an
-- expiry, and when the key was last used (written at most once a minute).
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
