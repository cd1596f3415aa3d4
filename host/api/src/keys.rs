//! `/v1/keys` (owner only) and `/v1/audit`.

use crate::audit::record;
use crate::dto::KeyDto;
use crate::extract::{Body, P, Q};
use crate::{ApiError, ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_types::Role;
use weft_worker::now_ms;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    role: Role,
}

/// Creates an API key in the caller's tenant; the secret is in this answer only.
///
/// # Errors
/// 403 unless owner; 400 for a bad name.
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<KeyDto>)> {
    caller.require(Role::Owner)?;
    if new.name.is_empty() || new.name.len() > 100 {
        return Err(ApiError::invalid(
            "request body at `name`: must be 1-100 characters",
        ));
    }
    let (key, secret) = state
        .handle
        .issue_api_key(&caller.tenant_id, &new.name, new.role)
        .await?;
    record(&state, &caller, "key.create", &key.id).await?;
    let mut dto = KeyDto::from(key);
    dto.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(dto)))
}

pub async fn list_keys(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require(Role::Owner)?;
    let keys = state
        .handle
        .store()
        .list_api_keys(&caller.tenant_id)
        .await?;
    let items: Vec<KeyDto> = keys.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Owner)?;
    state
        .handle
        .store()
        .revoke_api_key(&caller.tenant_id, &id, now_ms())
        .await?;
    record(&state, &caller, "key.revoke", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<u32>,
}

pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<AuditQuery>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Admin)?;
    let items = state
        .handle
        .store()
        .list_audit(&caller.tenant_id, q.limit.unwrap_or(100).min(1000))
        .await?;
    Ok(Json(json!({ "items": items })))
}
