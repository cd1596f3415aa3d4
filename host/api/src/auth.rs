//! Who is calling: the bearer API key becomes a [`weft_app::Actor`] (the
//! application checks the key); the tenant comes only from the key, never from
//! a body or a query. Authenticated calls are then rate-limited per tenant,
//! and the key's role is held against the route's least role (from the route
//! table) before any body is read, so a refused caller learns nothing about
//! what the body should have been. The application checks the role again.

use crate::routes::ROUTES;
use crate::{ApiError, AppState};
use crate::{Bucket, Verdict};
use axum::extract::{FromRequestParts, MatchedPath};
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
        let matched = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let route = ROUTES
            .iter()
            .find(|r| Some(r.path) == matched && r.method == parts.method.as_str());
        if let Some(need) = route.and_then(|r| r.role) {
            actor.require(need)?;
        }
        Ok(Self(actor))
    }
}
