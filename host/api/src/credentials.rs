//! `/v1/credentials`: create (sealed at once), list (metadata only), delete.
//! No route returns a secret.

use crate::dto::CredentialDto;
use crate::extract::{Body, P};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use weft_app::NewCredential;

pub async fn create_credential(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewCredential>,
) -> ApiResult<(StatusCode, Json<CredentialDto>)> {
    let c = state.app.create_credential(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

pub async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let items: Vec<CredentialDto> = state
        .app
        .list_credentials(&caller)
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
    state.app.delete_credential(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
