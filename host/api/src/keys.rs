//! `/v1/keys` (owner only) and `/v1/audit`.

use crate::dto::KeyDto;
use crate::extract::{Body, P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use weft_model::AuditQuery;
use weft_types::Role;

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
    let (key, secret) = state
        .app
        .tenants()
        .create_key(&caller, &new.name, new.role)
        .await?;
    let mut dto = KeyDto::from(key);
    dto.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(dto)))
}

pub async fn list_keys(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let keys = state.app.tenants().list_keys(&caller).await?;
    let items: Vec<KeyDto> = keys.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.tenants().revoke_key(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let items = state.app.tenants().audit_log(&caller, q.limit).await?;
    Ok(Json(json!({ "items": items })))
}
