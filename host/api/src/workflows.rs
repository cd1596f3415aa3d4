//! `/v1/workflows`: create, validate, list, get, update (new version),
//! activate, deactivate, delete.

use crate::audit::record;
use crate::dto::{PageDto, WorkflowDto};
use crate::extract::{P, Q};
use crate::{ApiError, ApiResult, AppState, Caller};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_engine::{Format, definition, validate};
use weft_store::Page;
use weft_types::{
    Definition, Problem, Role, Schedule, StepDef, StepKind, Workflow, WorkflowVersion,
};
use weft_worker::{new_id, new_token, now_ms};

/// `before` and `limit`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    before: Option<String>,
    limit: Option<u32>,
}

impl PageQuery {
    pub(crate) fn from_parts(before: Option<String>, limit: Option<u32>) -> Self {
        Self { before, limit }
    }

    pub(crate) fn page(&self) -> Page {
        Page {
            before: self.before.clone(),
            limit: self.limit.unwrap_or(50).clamp(1, 500),
        }
    }
}

/// Parses and validates a definition from a request body.
async fn parse(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Definition> {
    let yaml = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("yaml"));
    let format = if yaml { Format::Yaml } else { Format::Json };
    let def = definition::parse(body, format, &state.limits)?;
    let catalog = state.handle.connectors().catalog();
    let mut problems = validate::check(&def, &catalog, &state.limits);
    problems.extend(workflow_refs(state, caller, &def).await?);
    if problems.is_empty() {
        Ok(def)
    } else {
        Err(ApiError::invalid_workflow(problems))
    }
}

/// Sub-workflows and the error workflow must be workflows of the same tenant.
async fn workflow_refs(
    state: &AppState,
    caller: &Caller,
    def: &Definition,
) -> ApiResult<Vec<Problem>> {
    let mut refs = Vec::new();
    if let Some(e) = &def.error_workflow {
        refs.push(("/error_workflow".to_owned(), e.clone()));
    }
    collect(&def.steps, "/steps", &mut refs);
    let mut problems = Vec::new();
    for (path, id) in refs.into_iter().take(100) {
        if state
            .handle
            .store()
            .get_workflow(&caller.tenant_id, &id)
            .await?
            .is_none()
        {
            problems.push(Problem::new(path, format!("unknown workflow `{id}`")));
        }
    }
    Ok(problems)
}

fn collect(steps: &[StepDef], path: &str, out: &mut Vec<(String, String)>) {
    for (i, s) in steps.iter().enumerate() {
        match &s.kind {
            StepKind::Subworkflow(sw) => {
                out.push((format!("{path}/{i}/workflow"), sw.workflow.clone()))
            }
            StepKind::Loop(l) => collect(&l.body, &format!("{path}/{i}/body"), out),
            _ => {}
        }
    }
}

fn to_value(def: &Definition) -> ApiResult<Value> {
    serde_json::to_value(def).map_err(|e| ApiError::invalid(e.to_string()))
}

pub async fn create_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<WorkflowDto>)> {
    caller.require(Role::Admin)?;
    let def = parse(&state, &caller, &headers, &body).await?;
    let now = now_ms();
    let wf = Workflow {
        tenant_id: caller.tenant_id.clone(),
        id: new_id("wf"),
        name: def.name.clone(),
        version: 1,
        active: false,
        webhook_token: new_token(),
        created_at: now,
        updated_at: now,
    };
    let value = to_value(&def)?;
    let v = WorkflowVersion {
        tenant_id: caller.tenant_id.clone(),
        workflow_id: wf.id.clone(),
        version: 1,
        definition: value.clone(),
        created_at: now,
    };
    state.handle.store().create_workflow(&wf, &v).await?;
    record(&state, &caller, "workflow.create", &wf.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkflowDto::new(wf, &state.base_url, Some(value))),
    ))
}

pub async fn validate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Viewer)?;
    let def = parse(&state, &caller, &headers, &body).await?;
    Ok(Json(
        json!({"valid": true, "name": def.name, "steps": def.steps.len()}),
    ))
}

pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<PageDto<WorkflowDto>>> {
    caller.require(Role::Viewer)?;
    let page = q.page();
    let items = state
        .handle
        .store()
        .list_workflows(&caller.tenant_id, &page)
        .await?;
    let next = (items.len() == page.limit as usize)
        .then(|| items.last().map(|w| w.id.clone()))
        .flatten();
    let items = items
        .into_iter()
        .map(|w| WorkflowDto::new(w, &state.base_url, None))
        .collect();
    Ok(Json(PageDto { items, next }))
}

async fn load(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Workflow> {
    state
        .handle
        .store()
        .get_workflow(&caller.tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))
}

pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    caller.require(Role::Viewer)?;
    let wf = load(&state, &caller, &id).await?;
    let v = state
        .handle
        .store()
        .get_version(&caller.tenant_id, &id, wf.version)
        .await?;
    Ok(Json(WorkflowDto::new(
        wf,
        &state.base_url,
        v.map(|v| v.definition),
    )))
}

pub async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    P((id, version)): P<(String, u32)>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Viewer)?;
    let v = state
        .handle
        .store()
        .get_version(&caller.tenant_id, &id, version)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow version"))?;
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
    caller.require(Role::Admin)?;
    let wf = load(&state, &caller, &id).await?;
    let def = parse(&state, &caller, &headers, &body).await?;
    let value = to_value(&def)?;
    let now = now_ms();
    let next = WorkflowVersion {
        tenant_id: caller.tenant_id.clone(),
        workflow_id: id.clone(),
        version: wf.version + 1,
        definition: value.clone(),
        created_at: now,
    };
    let mut wf = state
        .handle
        .store()
        .add_version(&next, &def.name, now)
        .await?;
    if wf.active {
        let schedule = schedule_of(&caller, &wf, &def, now)?;
        wf = state
            .handle
            .store()
            .set_active(&caller.tenant_id, &id, true, schedule.as_ref(), now)
            .await?;
    }
    record(&state, &caller, "workflow.update", &id).await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, Some(value))))
}

fn schedule_of(
    caller: &Caller,
    wf: &Workflow,
    def: &Definition,
    now: i64,
) -> ApiResult<Option<Schedule>> {
    let Some(s) = &def.triggers.schedule else {
        return Ok(None);
    };
    let next = weft_worker::schedule::first_tick(&s.cron, &s.timezone, now).map_err(|m| {
        ApiError::invalid_workflow(vec![Problem::new("/triggers/schedule/cron", m)])
    })?;
    Ok(Some(Schedule {
        tenant_id: caller.tenant_id.clone(),
        workflow_id: wf.id.clone(),
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        missed: s.missed,
        next_fire_at: next,
    }))
}

async fn set_active(
    state: &AppState,
    caller: &Caller,
    id: &str,
    active: bool,
) -> ApiResult<Json<WorkflowDto>> {
    caller.require(Role::Admin)?;
    let wf = load(state, caller, id).await?;
    let now = now_ms();
    let schedule = if active {
        let def = state
            .handle
            .definition(&caller.tenant_id, id, wf.version)
            .await?;
        schedule_of(caller, &wf, &def, now)?
    } else {
        None
    };
    let wf = state
        .handle
        .store()
        .set_active(&caller.tenant_id, id, active, schedule.as_ref(), now)
        .await?;
    let action = if active {
        "workflow.activate"
    } else {
        "workflow.deactivate"
    };
    record(state, caller, action, id).await?;
    Ok(Json(WorkflowDto::new(wf, &state.base_url, None)))
}

pub async fn activate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    set_active(&state, &caller, &id, true).await
}

pub async fn deactivate_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<WorkflowDto>> {
    set_active(&state, &caller, &id, false).await
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    state
        .handle
        .store()
        .delete_workflow(&caller.tenant_id, &id)
        .await?;
    record(&state, &caller, "workflow.delete", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
