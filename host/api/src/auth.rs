//! Who is calling: the bearer API key becomes a [`weft_app::Actor`] (the
//! application checks the key); the tenant comes only from the key, never from
//! a body or a query. Authenticated calls are then rate-limited per tenant.

use crate::{ApiError, AppState};
use crate::{Bucket, Verdict};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::ops::Deref;
use weft_app::Actor;

/// The authenticated caller of a `/v1` route.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl Deref for Caller {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(ApiError::unauthenticated)?;
        let actor = state.app.authenticate(secret).await?;
        if let Some(limiter) = &state.rate_limiter {
            match limiter.check(&actor.tenant_id, Bucket::Api).await {
                Verdict::Deny { retry_after } => {
                    return Err(ApiError::rate_limited("API", retry_after));
                }
                // Limiter down: authenticated calls fail open (docs/DISTRIBUTED.md, D9).
                Verdict::Unavailable | Verdict::Allow => {}
            }
        }
        Ok(Self(actor))
    }
}
