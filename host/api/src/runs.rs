//! `/v1/runs` and manual starts: start, list, get (with steps and journal),
//! cancel, retry, re-run from a step, resume a waiting step.

use crate::audit::record;
use crate::dto::{AttemptDto, PageDto, RunDto, StepDto};
use crate::extract::{Body, OptBody, P, Q};
use crate::workflows::PageQuery;
use crate::{ApiError, ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use weft_store::RunFilter;
use weft_types::{Role, Status, Trigger};

/// Longest `wait_ms` a caller may ask for.
const MAX_WAIT_MS: u64 = 60_000;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The trigger payload, read as `trigger.body`.
    #[serde(default)]
    input: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartQuery {
    /// Wait up to this long for the run to respond or end.
    wait_ms: Option<u64>,
}

pub async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    Q(q): Q<StartQuery>,
    OptBody(body): OptBody<StartBody>,
) -> ApiResult<(StatusCode, Json<RunDto>)> {
    caller.require(Role::Member)?;
    let wf = state
        .handle
        .store()
        .get_workflow(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    let input = body.input;
    let mut run = state
        .handle
        .start(
            &caller.tenant_id,
            &wf,
            Trigger::Manual,
            json!({"body": input}),
        )
        .await?;
    if let Some(ms) = q.wait_ms.filter(|ms| *ms > 0) {
        let wait = Duration::from_millis(ms.min(MAX_WAIT_MS));
        run = state.handle.wait(&caller.tenant_id, &run.id, wait).await?;
    }
    record(&state, &caller, "run.start", &run.id).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    workflow_id: Option<String>,
    status: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<ListQuery>,
) -> ApiResult<Json<PageDto<RunDto>>> {
    caller.require(Role::Viewer)?;
    let status = match &q.status {
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| ApiError::invalid(format!("status: {e}")))?,
        ),
        None => None,
    };
    let filter = RunFilter {
        workflow_id: q.workflow_id.clone(),
        status,
    };
    let page = PageQuery::from_parts(q.before.clone(), q.limit).page();
    let runs = state
        .handle
        .store()
        .list_runs(&caller.tenant_id, &filter, &page)
        .await?;
    let next = (runs.len() == page.limit as usize)
        .then(|| runs.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(PageDto {
        items: runs.into_iter().map(RunDto::from).collect(),
        next,
    }))
}

pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<RunDto>> {
    caller.require(Role::Viewer)?;
    let store = state.handle.store();
    let loaded = store
        .load_run(&caller.tenant_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("run"))?;
    let mut attempts = store.list_attempts(&caller.tenant_id, &id).await?;
    let mut steps = loaded.steps;
    steps.sort_by_key(|s| (s.created_at, s.key.clone()));
    let steps = steps
        .into_iter()
        .map(|s| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                attempts.drain(..).partition(|a| a.step_key == s.key);
            attempts = rest;
            StepDto::new(
                s,
                &state.base_url,
                mine.into_iter().map(AttemptDto::from).collect(),
            )
        })
        .collect();
    let mut dto = RunDto::from(loaded.run);
    dto.steps = Some(steps);
    Ok(Json(dto))
}

pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<RunDto>> {
    caller.require(Role::Member)?;
    let run = state.handle.cancel(&caller.tenant_id, &id).await?;
    record(&state, &caller, "run.cancel", &id).await?;
    Ok(Json(run.into()))
}

pub async fn retry_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<(StatusCode, Json<RunDto>)> {
    caller.require(Role::Member)?;
    let run = state.handle.rerun(&caller.tenant_id, &id, None).await?;
    record(&state, &caller, "run.retry", &id).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RerunBody {
    /// The top-level step to start again from.
    from: String,
}

pub async fn rerun_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    Body(body): Body<RerunBody>,
) -> ApiResult<(StatusCode, Json<RunDto>)> {
    caller.require(Role::Member)?;
    let run = state
        .handle
        .rerun(&caller.tenant_id, &id, Some(&body.from))
        .await?;
    record(&state, &caller, "run.rerun", &id).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    /// Becomes the step's `output.payload`.
    #[serde(default)]
    payload: Value,
}

pub async fn resume_step(
    State(state): State<AppState>,
    caller: Caller,
    P((id, key)): P<(String, String)>,
    OptBody(body): OptBody<ResumeBody>,
) -> ApiResult<Json<RunDto>> {
    caller.require(Role::Member)?;
    let payload = body.payload;
    let run = state
        .handle
        .resume(&caller.tenant_id, &id, &key, payload)
        .await?;
    record(&state, &caller, "run.resume", &id).await?;
    Ok(Json(run.into()))
}
