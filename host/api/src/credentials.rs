//! `/v1/credentials`: create (sealed at once), list (metadata only), delete.
//! No route returns a secret.

use crate::audit::record;
use crate::dto::CredentialDto;
use crate::extract::{Body, P};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use weft_types::Role;
use weft_worker::NewCredential;

pub async fn create_credential(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewCredential>,
) -> ApiResult<(StatusCode, Json<CredentialDto>)> {
    caller.require(Role::Admin)?;
    let c = state
        .handle
        .create_credential(&caller.tenant_id, new)
        .await?;
    record(&state, &caller, "credential.create", &c.id).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

pub async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Viewer)?;
    let items: Vec<CredentialDto> = state
        .handle
        .store()
        .list_credentials(&caller.tenant_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn delete_credential(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    state
        .handle
        .store()
        .delete_credential(&caller.tenant_id, &id)
        .await?;
    record(&state, &caller, "credential.delete", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
