//! Who is calling: the tenant comes only from the API key, never from a body or
//! a query. Keys are found by their public prefix and checked against the
//! stored SHA-256 in constant time; a revoked key is refused at once.

use crate::{ApiError, AppState};
use crate::{Bucket, Verdict};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use weft_types::Role;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant every id in the request is looked up in.
    pub tenant_id: String,
    /// The key used (the audit actor).
    pub key_id: String,
    /// What the key may do.
    pub role: Role,
}

impl Caller {
    /// Refuses with 403 unless the key's role is at least `role`.
    ///
    /// # Errors
    /// `forbidden`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(role.as_str()))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthenticated)?;
        let secret = header
            .strip_prefix("Bearer ")
            .ok_or_else(ApiError::unauthenticated)?
            .trim();
        let prefix =
            weft_vault::apikey::parse_prefix(secret).ok_or_else(ApiError::unauthenticated)?;
        let key = state
            .handle
            .store()
            .api_key_by_prefix(prefix)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        if key.revoked_at.is_some() || !weft_vault::apikey::verify(secret, &key.hash) {
            return Err(ApiError::unauthenticated());
        }
        if let Some(limiter) = &state.rate_limiter {
            match limiter.check(&key.tenant_id, Bucket::Api).await {
                Verdict::Deny { retry_after } => {
                    return Err(ApiError::rate_limited("API", retry_after));
                }
                // Limiter down: authenticated calls fail open (docs/DISTRIBUTED.md, D9).
                Verdict::Unavailable | Verdict::Allow => {}
            }
        }
        Ok(Self {
            tenant_id: key.tenant_id,
            key_id: key.id,
            role: key.role,
        })
    }
}
