//! TOTP on the wire (`docs/TENANCY.md`, section 3): the signed-in user sets
//! up, confirms and turns off their second factor (cookie and
//! `X-CSRF-Token`, never an API key); the operator turns it off for a user
//! who lost their device.

use crate::extract::Body;
use crate::ops::OperatorCaller;
use crate::sessions::{SessionCaller, started};
use crate::{ApiResult, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use weft_model::people::{TotpConfirm, TotpDisable, TotpSetup, TotpSetupRequest};

/// `POST /v1/auth/totp/setup`: a new secret (base32 and `otpauth://` URI),
/// pending until confirmed.
///
/// # Errors
/// 401; 403 `csrf`; 409 when TOTP is on already.
pub async fn setup_totp(
    State(state): State<AppState>,
    s: SessionCaller,
    Body(req): Body<TotpSetupRequest>,
) -> ApiResult<Response> {
    let t = state.app.totp_setup(&s.current, &req.password).await?;
    let mut r = (
        StatusCode::CREATED,
        Json(TotpSetup {
            secret: t.secret.to_string(),
            uri: t.uri.to_string(),
        }),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `POST /v1/auth/totp/confirm`: TOTP on; the session rotates (a new cookie).
///
/// # Errors
/// 401; 403 `csrf`; 409 with nothing set up; 422 `totp_invalid`.
pub async fn confirm_totp(
    State(state): State<AppState>,
    s: SessionCaller,
    Body(body): Body<TotpConfirm>,
) -> ApiResult<Response> {
    let st = state
        .app
        .totp_confirm(&s.secret, &s.current, &body.code)
        .await?;
    Ok(started(&state, &st, StatusCode::OK))
}

/// `DELETE /v1/auth/totp`: TOTP off, proven by a current code or the password.
///
/// # Errors
/// 400 without a proof; 401; 403 `csrf`; 409 when it is off; 422
/// `totp_invalid` or `invalid_password`; 429 while throttled.
pub async fn delete_totp(
    State(state): State<AppState>,
    s: SessionCaller,
    Body(body): Body<TotpDisable>,
) -> ApiResult<StatusCode> {
    state
        .app
        .totp_disable(&s.current, body.code.as_deref(), body.password.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/ops/users/totp/remove`: the operator turns a user's TOTP off.
///
/// # Errors
/// 404 for an unknown email.
pub async fn op_remove_totp(
    State(state): State<AppState>,
    OperatorCaller(op): OperatorCaller,
    Body(r): Body<weft_model::ops::UserReset>,
) -> ApiResult<StatusCode> {
    state.app.op_remove_totp(&op, &r.email).await?;
    Ok(StatusCode::NO_CONTENT)
}
