-- OAuth2 credentials (docs/SECURITY.md, OAuth2). The tokens are sealed in the
-- credential's own row (`credentials.ciphertext`); these tables hold what is
-- not secret.
--
-- A pending authorization: the `state` the provider hands back to the
-- callback, tying it to a tenant and credential, with its PKCE verifier.
-- Single use (taken by the callback, deleted), short-lived.
CREATE TABLE oauth_pending (
    state TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_pending_expiry ON oauth_pending (expires_at);

-- Per credential: the refresh lease (one token request at a time across
-- every worker) and whether the user must authorize again.
CREATE TABLE oauth_credentials (
    tenant_id TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    lease_holder TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    reauthorize TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, credential_id)
);
