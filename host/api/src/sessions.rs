//! Browser sessions on the wire (`docs/TENANCY.md`, section 3): the public
//! `/v1/auth/…` routes, the `weft_session` cookie, and the cookie path of the
//! [`Caller`](crate::Caller) extractor with its CSRF check.
//!
//! - The cookie is `HttpOnly; Secure; SameSite=Lax; Path=/`; `Secure` is
//!   dropped only when the public URL is plain http on loopback and
//!   `sessions.always_secure` is off.
//! - Every unsafe method (POST, PUT, PATCH, DELETE) authenticated by the
//!   cookie needs `X-CSRF-Token` equal to the session's token, else 403 `csrf`.
//! - Login, accepting an invitation and a reset take no session and no
//!   token; a request to them that carries an `Origin` other than the
//!   server's public origin is refused (403 `csrf`), so another site cannot
//!   log a browser in to an account of its choosing.

use crate::extract::Body;
use crate::{ApiError, ApiResult, AppState, Bucket, Verdict};
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use weft_app::{Actor, Current, Started};
use weft_model::people::{
    AcceptInvitation, Login, Membership, ResetPassword, SessionInfo, SwitchTenant,
};

/// The session cookie's name.
pub const COOKIE: &str = "weft_session";
/// The CSRF header.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header choosing another of the user's tenants for one request.
pub const TENANT_HEADER: &str = "x-weft-tenant";

/// The session id in the request's cookies, if any.
pub(crate) fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn csrf_error(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf", message)
}

/// The cookie path of the `Caller` extractor: the session, the tenant's
/// state, the rate limit, CSRF for unsafe methods, the route's least role.
pub(crate) async fn cookie_caller(parts: &mut Parts, state: &AppState) -> Result<Actor, ApiError> {
    let secret = cookie(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
    let current = state.app.session(secret).await?;
    let unsafe_method = !matches!(
        parts.method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    );
    if unsafe_method {
        let token = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if token.is_none() {
            return Err(csrf_error(
                "X-CSRF-Token: required with a session cookie on this method (the token is in the login answer and GET /v1/auth/session)",
            ));
        }
        if !state.app.csrf_ok(&current, token) {
            return Err(csrf_error("X-CSRF-Token: not this session's token"));
        }
    }
    let mut actor = current.actor;
    if let Some(t) = parts.headers.get(TENANT_HEADER) {
        let t = t
            .to_str()
            .map_err(|_| ApiError::invalid("X-Weft-Tenant: not text"))?;
        if t != actor.tenant_id {
            actor = state.app.session_in_tenant(&actor, t).await?;
        }
    }
    state.app.tenants().gate(&actor.tenant_id).await?;
    if let Some(limiter) = &state.rate_limiter
        && let Verdict::Deny { retry_after } = limiter.check(&actor.tenant_id, Bucket::Api).await
    {
        return Err(ApiError::rate_limited("API", retry_after));
    }
    let matched = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    actor.require(crate::auth::least_role(parts.method.as_str(), matched)?)?;
    Ok(actor)
}

/// The request's live session (for `/v1/auth/session`, `logout`, `switch`).
pub struct SessionCaller {
    pub(crate) secret: String,
    pub(crate) current: Current,
}

impl FromRequestParts<AppState> for SessionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = cookie(&parts.headers)
            .ok_or_else(ApiError::unauthenticated)?
            .to_owned();
        let current = state.app.session(&secret).await?;
        if parts.method != http::Method::GET {
            let token = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !state.app.csrf_ok(&current, token) {
                return Err(csrf_error(
                    "X-CSRF-Token: missing or not this session's token",
                ));
            }
        }
        Ok(Self { secret, current })
    }
}

/// Refuses a request whose `Origin` is another site's.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let ours = origin_of(&state.base_url);
    if ours.is_empty() || origin.eq_ignore_ascii_case(&ours) {
        Ok(())
    } else {
        Err(csrf_error(&format!(
            "Origin: `{origin}` is not this server's origin `{ours}`"
        )))
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let host = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{host}")
}

/// Whether the cookie may go without `Secure`: plain http on loopback.
fn insecure_ok(state: &AppState) -> bool {
    if state.app.session_options().always_secure {
        return false;
    }
    let o = origin_of(&state.base_url);
    let host = o.strip_prefix("http://").unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

fn set_cookie(state: &AppState, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if insecure_ok(state) { "" } else { "; Secure" };
    let c =
        format!("{COOKIE}={value}; HttpOnly{secure}; SameSite=Lax; Path=/; Max-Age={max_age_s}");
    HeaderValue::from_str(&c)
        .unwrap_or_else(|_| HeaderValue::from_static("weft_session=; Max-Age=0"))
}

fn info(s: &Started) -> SessionInfo {
    SessionInfo {
        user_id: s.user.id.clone(),
        email: s.user.email.clone(),
        tenant_id: s.tenant_id.clone(),
        role: s.role,
        memberships: s
            .memberships
            .iter()
            .map(|m| Membership {
                tenant_id: m.tenant_id.clone(),
                role: m.role,
            })
            .collect(),
        csrf_token: s.csrf.clone(),
        expires_at: s.expires_at,
    }
}

pub(crate) fn started(state: &AppState, s: &Started, status: StatusCode) -> Response {
    let ttl = state.app.session_options().absolute_ms / 1000;
    let mut r = (status, Json(info(s))).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(state, &s.secret, ttl));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The client's address for the login throttle: the TCP peer, or behind a
/// trusted proxy (`sessions.trusted_proxies`) the rightmost untrusted hop of
/// `Forwarded` / `X-Forwarded-For`.
fn client(
    state: &AppState,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Option<String> {
    let peer = peer.map(|axum::Extension(ConnectInfo(a))| a.ip());
    let joined = |name: header::HeaderName| {
        let all: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!all.is_empty()).then(|| all.join(","))
    };
    state
        .app
        .session_options()
        .client_address(
            peer,
            joined(header::FORWARDED).as_deref(),
            joined(header::HeaderName::from_static("x-forwarded-for")).as_deref(),
        )
        .map(|ip| ip.to_string())
}

/// Logs in with an email and a password; sets the session cookie.
///
/// # Errors
/// 401 for a wrong email or password (the same answer); 429 while throttled.
pub async fn login(
    State(state): State<AppState>,
    addr: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Body(body): Body<Login>,
) -> ApiResult<Response> {
    same_origin(&state, &headers)?;
    let s = state
        .app
        .login(
            &body.email,
            &body.password,
            body.totp.as_deref(),
            body.tenant.as_deref(),
            client(&state, addr, &headers).as_deref(),
            cookie(&headers),
        )
        .await?;
    Ok(started(&state, &s, StatusCode::OK))
}

/// Ends the session at once and clears the cookie.
///
/// # Errors
/// 401 without a live session; 403 `csrf`.
pub async fn logout(State(state): State<AppState>, s: SessionCaller) -> ApiResult<Response> {
    state.app.logout(&s.secret).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&state, "", 0));
    Ok(r)
}

/// Who the session is, and its CSRF token.
///
/// # Errors
/// 401 without a live session.
pub async fn get_session(
    State(state): State<AppState>,
    s: SessionCaller,
) -> ApiResult<Json<SessionInfo>> {
    let (user, memberships) = state.app.session_user(&s.current).await?;
    Ok(Json(SessionInfo {
        user_id: user.id,
        email: user.email,
        tenant_id: s.current.actor.tenant_id.clone(),
        role: s.current.auth.role,
        memberships: memberships
            .into_iter()
            .map(|m| Membership {
                tenant_id: m.tenant_id,
                role: m.role,
            })
            .collect(),
        csrf_token: weft_app::csrf_token(&s.secret),
        expires_at: s.current.auth.session.expires_at,
    }))
}

/// Moves the session to another of the user's tenants: a new cookie.
///
/// # Errors
/// 401; 403 `csrf`, or not a member there.
pub async fn switch_tenant(
    State(state): State<AppState>,
    s: SessionCaller,
    Body(body): Body<SwitchTenant>,
) -> ApiResult<Response> {
    let started_ = state.app.switch_tenant(&s.secret, &body.tenant).await?;
    Ok(started(&state, &started_, StatusCode::OK))
}

/// Accepts an invitation; starts a session.
///
/// # Errors
/// 422 `invalid_token`; 400 for a weak password or another email.
pub async fn accept_invitation(
    State(state): State<AppState>,
    addr: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Body(body): Body<AcceptInvitation>,
) -> ApiResult<Response> {
    same_origin(&state, &headers)?;
    let s = state
        .app
        .accept_invitation(
            &body.token,
            body.email.as_deref(),
            &body.password,
            body.totp.as_deref(),
            client(&state, addr, &headers).as_deref(),
            cookie(&headers),
        )
        .await?;
    Ok(started(&state, &s, StatusCode::CREATED))
}

/// Uses a reset link: sets the password, ends every session of the user.
///
/// # Errors
/// 422 `invalid_token`; 400 for a weak password.
pub async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body<ResetPassword>,
) -> ApiResult<StatusCode> {
    same_origin(&state, &headers)?;
    state
        .app
        .reset_password(&body.token, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
