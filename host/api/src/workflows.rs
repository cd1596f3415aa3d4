//! `/v1/workflows`: create, validate, list, get, update (new version),
//! activate, deactivate, delete. The use cases are `weft_app`'s; these
//! handlers translate HTTP.

use crate::dto::{PageDto, WorkflowDto};
use crate::extract::{P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use weft_engine::Format;
use weft_model::PageQuery;
use weft_store::Page;

/// The store's page of a checked `before` and `limit`.
fn page(q: &PageQuery) -> Page {
    weft_app::page(q.before.clone(), q.limit)
}

/// YAML when the content type says so, else JSON.
fn format(headers: &HeaderMap) -> Format {
    let yaml = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("yaml"));
    if yaml { Format::Yaml } else { Format::Json }
}

pub async fn create_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WorkflowDto>)> {
    let (wf, def) = state
        .app
        .create_workflow(&caller, &body, format(&headers))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkflowDto::new(wf, &state.base_url, Some(def))),
    ))
}

pub async fn validate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let def = state
        .app
        .validate_workflow(&caller, &body, format(&headers))
        .await?;
    Ok(Json(
        json!({"valid": true, "name": def.name, "steps": def.steps.len()}),
    ))
}

pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<PageDto<WorkflowDto>>> {
    let listing = state.app.list_workflows(&caller, &page(&q)).await?;
    let items = listing
        .items
        .into_iter()
        .map(|w| WorkflowDto::new(w, &state.base_url, None))
        .collect();
    Ok(Json(PageDto {
        items,
        next: listing.next,
    }))
}

pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    let (wf, def) = state.app.get_workflow(&caller, &id).await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, def)))
}

pub async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    P((id, version)): P<(String, u32)>,
) -> ApiResult<Json<Value>> {
    let v = state
        .app
        .get_workflow_version(&caller, &id, version)
        .await?;
    Ok(Json(
        json!({"workflow_id": v.workflow_id, "version": v.version, "definition": v.definition, "created_at": v.created_at}),
    ))
}

pub async fn update_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WorkflowDto>> {
    let (wf, def) = state
        .app
        .update_workflow(&caller, &id, &body, format(&headers))
        .await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, Some(def))))
}

pub async fn activate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    let wf = state.app.set_workflow_active(&caller, &id, true).await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, None)))
}

pub async fn deactivate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    let wf = state.app.set_workflow_active(&caller, &id, false).await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, None)))
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_workflow(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
