//! `/v1/workflows`: create, validate, list, get, update (new version),
//! activate, deactivate, delete. The use cases are `weft_app`'s; these
//! handlers translate HTTP.

use crate::extract::{Body, P, Q, Raw};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use weft_engine::Format;
use weft_model::{
    ImportN8n, ImportNote, Imported, LastRun, Page as WirePage, Validation, Workflow,
    WorkflowVersion, WorkflowsQuery,
};
use weft_store::{Page, WorkflowFilter};

/// The store's page of a checked `before` and `limit`.
fn page(q: &WorkflowsQuery) -> Page {
    weft_app::page(q.before.clone(), q.limit)
}

/// The wire form of a store's newest run.
fn last(r: weft_store::LastRun) -> LastRun {
    LastRun {
        id: r.id,
        status: r.status,
        created_at: r.created_at,
    }
}

/// The wire form of a workflow with its definition, naming its MCP tool.
pub fn with_definition(
    w: weft_types::Workflow,
    base_url: &str,
    def: Option<serde_json::Value>,
) -> Workflow {
    let tool = def
        .as_ref()
        .and_then(|d| serde_json::from_value::<weft_types::Definition>(d.clone()).ok())
        .and_then(|d| weft_engine::input::tool_name(&d));
    let mut out = Workflow::new(w, base_url, def);
    out.mcp_tool = tool;
    out
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
    Raw(body): Raw,
) -> ApiResult<(StatusCode, Json<Workflow>)> {
    let (wf, def) = state
        .app
        .create_workflow(&caller, &body, format(&headers))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(with_definition(wf, &state.base_url, Some(def))),
    ))
}

pub async fn validate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Raw(body): Raw,
) -> ApiResult<Json<Validation>> {
    let (def, warnings) = state
        .app
        .validate_workflow(&caller, &body, format(&headers))
        .await?;
    Ok(Json(Validation {
        valid: true,
        name: def.name,
        steps: def.steps.len(),
        warnings,
    }))
}

pub async fn import_n8n(
    State(state): State<AppState>,
    caller: Caller,
    Body(req): Body<ImportN8n>,
) -> ApiResult<Json<Imported>> {
    let out = state.app.import_n8n(&caller, &req.export, req.workflows)?;
    Ok(Json(Imported {
        definition: out.definition,
        notes: out
            .notes
            .into_iter()
            .map(|n| ImportNote {
                node: n.node,
                message: n.message,
            })
            .collect(),
    }))
}

pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<WorkflowsQuery>,
) -> ApiResult<Json<WirePage<Workflow>>> {
    let filter = WorkflowFilter {
        name: q.search().map(str::to_owned),
    };
    let listing = state
        .app
        .list_workflows(&caller, &filter, &page(&q))
        .await?;
    let items = listing
        .items
        .into_iter()
        .map(|(w, run)| Workflow::new(w, &state.base_url, None).with_last_run(run.map(last)))
        .collect();
    Ok(Json(WirePage {
        items,
        next: listing.next,
    }))
}

fn poll_status(p: weft_store::polling::PollState) -> weft_model::PollStatus {
    weft_model::PollStatus {
        polling: p.armed,
        next_poll_at: p.next_poll_at,
        last_poll_at: p.last_poll_at,
        last_success_at: p.last_success_at,
        last_error: p.last_error,
        consecutive_failures: p.failures,
    }
}

fn queue_status(q: weft_store::queue_trigger::QueueConsumer) -> weft_model::QueueStatus {
    weft_model::QueueStatus {
        armed: q.armed,
        consuming: q.armed && q.report.consuming,
        last_message_at: q.report.last_message_at,
        last_error: q.report.last_error,
        consecutive_failures: q.report.failures,
    }
}

pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Workflow>> {
    let (wf, def, run) = state.app.get_workflow(&caller, &id).await?;
    let poll = state.app.poll_status(&caller, &id).await?;
    let queue = state.app.queue_status(&caller, &id).await?;
    Ok(Json(
        with_definition(wf, &state.base_url, def)
            .with_last_run(run.map(last))
            .with_poll(poll.map(poll_status))
            .with_queue(queue.map(queue_status)),
    ))
}

pub async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    P((id, version)): P<(String, u32)>,
) -> ApiResult<Json<WorkflowVersion>> {
    let v = state
        .app
        .get_workflow_version(&caller, &id, version)
        .await?;
    Ok(Json(v.into()))
}

pub async fn update_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> ApiResult<Json<Workflow>> {
    let (wf, def) = state
        .app
        .update_workflow(&caller, &id, &body, format(&headers))
        .await?;
    Ok(Json(with_definition(wf, &state.base_url, Some(def))))
}

pub async fn activate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Workflow>> {
    let wf = state.app.set_workflow_active(&caller, &id, true).await?;
    Ok(Json(Workflow::new(wf, &state.base_url, None)))
}

pub async fn deactivate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Workflow>> {
    let wf = state.app.set_workflow_active(&caller, &id, false).await?;
    Ok(Json(Workflow::new(wf, &state.base_url, None)))
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    state.app.delete_workflow(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
