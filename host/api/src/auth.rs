//! Who is calling a tenant route: a bearer API key, or without one a browser
//! session's cookie (with its CSRF token, `sessions.rs`), becomes a
//! [`weft_app::Actor`]; an operator key is refused here (`ops.rs` has its
//! own extractor). The tenant comes only from the key or the session, never
//! from a body or a query. Then, in order and before any body is read: the
//! tenant's state gate (suspended and deleting tenants are refused), the
//! tenant's API rate, the route's least role (from the route table), and for
//! a scoped key the route's scope (`docs/TENANCY.md`, section 4), so a
//! refused caller learns nothing about what the body should have been. The
//! application checks the role again.

use crate::routes::{ROUTES, ScopeId};
use crate::{ApiError, AppState};
use crate::{Bucket, Verdict};
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::ops::Deref;
use weft_app::Actor;
use weft_types::Role;

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
        // No bearer key: a browser session's cookie, with its CSRF check.
        let Some(secret) = bearer(parts) else {
            return crate::sessions::cookie_caller(parts, state).await.map(Self);
        };
        let actor = key_caller(state, secret).await?;
        let matched = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        actor.require(least_role(parts.method.as_str(), matched)?)?;
        if actor.scopes.is_some() {
            let matched = matched.map(str::to_owned);
            check_scope(parts, state, &actor, matched.as_deref()).await?;
        }
        Ok(Self(actor))
    }
}

/// The tenant caller a bearer API key stands for, on every tenant surface
/// (the API and the MCP server): an operator key is refused, then the key is
/// checked, then the tenant's state gate and its API rate.
///
/// # Errors
/// 403 `wrong_principal` for an operator key; 401 for a key that does not
/// open; 403 `tenant_suspended`; 429 `rate_limited`.
pub async fn key_caller(state: &AppState, secret: &str) -> Result<Actor, ApiError> {
    if weft_app::ops::is_operator_key(secret) {
        return Err(weft_app::Error::WrongPrincipal(
            "this is a tenant route: it takes a tenant's API key (weft_…), \
             not an operator key"
                .to_owned(),
        )
        .into());
    }
    let actor = state.app.authenticate(secret).await?;
    // A suspended or deleted tenant's callers stop here (403
    // `tenant_suspended`, the operator's reason), from a state at most 5 s old.
    state.app.tenants().gate(&actor.tenant_id).await?;
    if let Some(limiter) = &state.rate_limiter {
        match limiter.check(&actor.tenant_id, Bucket::Api).await {
            Verdict::Deny { retry_after } => {
                return Err(ApiError::rate_limited("API", retry_after));
            }
            // Limiter down: authenticated calls fail open (docs/DISTRIBUTED.md, D9).
            Verdict::Unavailable | Verdict::Allow => {}
        }
    }
    Ok(actor)
}

/// Holds a scoped key to the scope the route table gives the route
/// (`docs/TENANCY.md`, section 4), with the route's id taken from the path,
/// the query, or the run's workflow. A route without a scope takes no
/// scoped key. Runs after the role check and before any body is read.
async fn check_scope(
    parts: &mut Parts,
    state: &AppState,
    actor: &Actor,
    path: Option<&str>,
) -> Result<(), ApiError> {
    let method = if parts.method == http::Method::HEAD {
        "GET"
    } else {
        parts.method.as_str()
    };
    let scope = ROUTES
        .iter()
        .find(|r| Some(r.path) == path && r.method == method)
        .and_then(|r| r.scope);
    let Some(scope) = scope else {
        return Err(weft_app::Error::OutOfScope {
            needs: "a key without scopes: this route takes none".into(),
        }
        .into());
    };
    let id = match scope.id {
        ScopeId::None => None,
        ScopeId::Path(name) | ScopeId::RunOf(name) => {
            let params = RawPathParams::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::invalid(e.to_string()))?;
            let value = params
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned());
            match (scope.id, value) {
                (ScopeId::RunOf(_), Some(run)) => state.app.run_workflow_id(actor, &run).await?,
                (_, value) => value,
            }
        }
        ScopeId::Query(name) => {
            axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
                .map_err(|e| ApiError::invalid(e.body_text()))?
                .0
                .remove(name)
        }
    };
    Ok(actor.require_scope(scope.resource, scope.verb, id.as_deref())?)
}

/// The bearer credential of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The least role the route table gives `method` on the matched `path`. HEAD
/// is the GET route's (axum answers HEAD with the GET handler). A route that
/// takes an API key but has no role in the table is a bug: refused (500)
/// rather than served unchecked.
pub(crate) fn least_role(method: &str, path: Option<&str>) -> Result<Role, ApiError> {
    let method = if method == "HEAD" { "GET" } else { method };
    ROUTES
        .iter()
        .find(|r| Some(r.path) == path && r.method == method)
        .and_then(|r| r.role)
        .ok_or_else(|| {
            ApiError::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!(
                    "{method} {} takes an API key but has no role in the route table \
                 (host/api/src/routes.rs): refused",
                    path.unwrap_or("(no matched path)")
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_is_held_to_the_get_route_role() {
        for r in ROUTES.iter().filter(|r| r.method == "GET") {
            assert_eq!(least_role("HEAD", Some(r.path)).ok(), r.role, "{}", r.path);
        }
        assert_eq!(least_role("HEAD", Some("/v1/keys")).ok(), Some(Role::Owner));
    }

    /// Every tenant route names the scope a scoped key needs, so scoped keys
    /// reach all of the API; the exceptions are the operator's routes, which
    /// no tenant key may call, and issuing invitations and reset links, whose
    /// links would outlive a scoped key's limits (`docs/TENANCY.md` 3).
    #[test]
    fn every_keyed_route_declares_its_scope() {
        let unscoped: Vec<&str> = ROUTES
            .iter()
            .filter(|r| r.role.is_some() && r.scope.is_none())
            .map(|r| r.op)
            .filter(|op| {
                ![
                    "verify_publisher",
                    "take_down_version",
                    "create_invitation",
                    "reset_member",
                ]
                .contains(op)
            })
            .collect();
        assert!(unscoped.is_empty(), "routes without a scope: {unscoped:?}");
        for r in ROUTES.iter().filter_map(|r| r.scope.map(|s| (r, s))) {
            let (route, scope) = r;
            assert!(
                scope.resource.verbs().contains(&scope.verb),
                "{}: {} is not a verb of {}",
                route.op,
                scope.verb.as_str(),
                scope.resource.as_str()
            );
            if let ScopeId::Path(p) | ScopeId::RunOf(p) = scope.id {
                assert!(route.path.contains(&format!("{{{p}}}")), "{}", route.op);
            }
        }
    }

    #[test]
    fn a_keyed_route_missing_from_the_table_is_refused_naming_it() {
        for (method, path) in [
            ("GET", Some("/v1/nowhere")),
            ("PATCH", Some("/v1/workflows/{id}")),
            ("GET", Some("/healthz")),
            ("GET", None),
        ] {
            let e = least_role(method, path).unwrap_err();
            assert_eq!(e.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
            let e = format!("{e:?}");
            assert!(
                e.contains(method) && e.contains("no role in the route table"),
                "{e}"
            );
        }
    }
}
