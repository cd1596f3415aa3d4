//! `/v1/credentials`: create (sealed at once), list (metadata only), delete.
//! No route returns a secret.

use crate::extract::{Body, P};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use weft_model::{Credential, List, NewCredential};
use weft_types::CredentialRecord;

fn wire(c: CredentialRecord) -> ApiResult<Credential> {
    Credential::try_from(c).map_err(|m| weft_app::Error::Internal(m).into())
}

pub async fn create_credential(
    State(state): State<AppState>,
    caller: Caller,
    Body(new): Body<NewCredential>,
) -> ApiResult<(StatusCode, Json<Credential>)> {
    let c = state.app.create_credential(&caller, new).await?;
    Ok((StatusCode::CREATED, Json(wire(c)?)))
}

pub async fn list_credentials(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Credential>>> {
    let items = state
        .app
        .list_credentials(&caller)
        .await?
        .into_iter()
        .map(wire)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(items.into()))
}

pub async fn delete_credential(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_credential(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
