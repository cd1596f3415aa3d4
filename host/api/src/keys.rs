//! `/v1/keys` (owner only) and `/v1/audit`.

use crate::extract::{Body, P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use weft_model::{AuditEntry, AuditQuery, Key, List, NewKey};

/// Creates an API key in the caller's tenant; the secret is in this answer only.
///
/// # Errors
/// 403 unless owner; 400 for a bad name.
pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewKey>,
) -> ApiResult<(StatusCode, Json<Key>)> {
    let (key, secret) = state
        .app
        .tenants()
        .create_key(
            &caller,
            &new.name,
            new.role,
            new.scopes.as_deref(),
            new.expires_at,
        )
        .await?;
    let mut key = Key::from(key);
    key.secret = Some(secret);
    Ok((StatusCode::CREATED, Json(key)))
}

pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Key>>> {
    let keys = state.app.tenants().list_keys(&caller).await?;
    let items: Vec<Key> = keys.into_iter().map(Into::into).collect();
    Ok(Json(items.into()))
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
) -> ApiResult<Json<List<AuditEntry>>> {
    let items = state.app.tenants().audit_log(&caller, q.limit).await?;
    let items: Vec<AuditEntry> = items
        .into_iter()
        .map(|e| AuditEntry {
            tenant_id: e.tenant_id,
            actor: e.actor,
            action: e.action,
            target: e.target,
            at: e.at,
        })
        .collect();
    Ok(Json(items.into()))
}
