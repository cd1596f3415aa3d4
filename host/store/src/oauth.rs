//! What the store keeps for OAuth2 credentials besides the sealed tokens
//! (which live in the credential's own row, re-sealed on every refresh):
//! pending authorizations (the `state` of the code flow and its PKCE
//! verifier, single use, short-lived), and per credential the refresh lease
//! and whether the user must authorize again.
//!
//! The lease is a compare-and-set on the credential's `oauth_credentials`
//! row: a worker takes it when nobody holds it or the holder's time is up,
//! so two workers racing one refresh make one token request; the other waits
//! and reads the new tokens from the credential's row.

use crate::Result;
use async_trait::async_trait;

/// A code flow in progress: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthPending {
    /// The unguessable `state` the provider hands back.
    pub state: String,
    /// The tenant.
    pub tenant_id: String,
    /// The credential being authorized.
    pub credential_id: String,
    /// The PKCE code verifier (its S256 challenge went to the provider).
    pub verifier: String,
    /// The redirect URI sent with the authorization request (the token
    /// request must send the same).
    pub redirect_uri: String,
    /// After this (Unix ms) the callback refuses it.
    pub expires_at: i64,
}

/// An OAuth2 credential's state as the tenant sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// The credential.
    pub credential_id: String,
    /// Set when the provider refused the refresh token (revoked, expired):
    /// why. Cleared when the user authorizes again.
    pub reauthorize: Option<String>,
}

/// OAuth2 bookkeeping. Every adapter runs `conformance::oauth`.
#[async_trait]
pub trait OAuthStore: Send + Sync + 'static {
    /// Stores a pending authorization. # Errors: `Duplicate` (same state).
    async fn put_oauth_pending(&self, pending: &OAuthPending) -> Result<()>;

    /// Takes (reads and deletes) the pending authorization `state`: at most
    /// one caller gets it. An expired one (`expires_at <= now`) is deleted
    /// and `None`. Also deletes every other expired one.
    async fn take_oauth_pending(&self, state: &str, now: i64) -> Result<Option<OAuthPending>>;

    /// Takes the refresh lease of a credential for `holder` until `until`
    /// when nobody holds it, its holder's time is up (`lease_until <= now`),
    /// or `holder` already holds it. `true`: taken.
    async fn lease_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool>;

    /// Gives the lease back if `holder` still holds it.
    async fn release_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
    ) -> Result<()>;

    /// Marks the credential as needing authorization again (`Some(why)`) or
    /// clears the mark (`None`).
    async fn set_oauth_reauthorize(
        &self,
        tenant: &str,
        credential_id: &str,
        why: Option<&str>,
        now: i64,
    ) -> Result<()>;

    /// The tenant's OAuth2 credentials that have a row (leased or marked once).
    async fn oauth_states(&self, tenant: &str) -> Result<Vec<OAuthState>>;
}
