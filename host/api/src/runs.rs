//! `/v1/runs` and manual starts: start, list, get (with steps and journal),
//! cancel, retry, re-run from a step, resume a waiting step. The use cases
//! are `weft_app`'s; these handlers translate HTTP.

use crate::extract::{Body, OptBody, P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use weft_model::{Attempt, Page, Run, RunsQuery, StartQuery, Step};
use weft_store::RunFilter;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The trigger payload, read as `trigger.body`.
    #[serde(default)]
    input: Value,
}

pub async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    Q(q): Q<StartQuery>,
    OptBody(body): OptBody<StartBody>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let wait = q.wait_ms.map(Duration::from_millis);
    let run = state.app.start_run(&caller, &id, body.input, wait).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<RunsQuery>,
) -> ApiResult<Json<Page<Run>>> {
    let filter = RunFilter {
        workflow_id: q.workflow_id.clone(),
        status: q.status,
        trigger: q.trigger,
        created_from: q.from,
        created_to: q.to,
    };
    let page = weft_app::page(q.before.clone(), q.limit);
    let listing = state.app.list_runs(&caller, &filter, &page).await?;
    Ok(Json(Page {
        items: listing.items.into_iter().map(Run::from).collect(),
        next: listing.next,
    }))
}

pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Run>> {
    let detail = state.app.get_run(&caller, &id).await?;
    let steps = detail
        .steps
        .into_iter()
        .map(|s| {
            let attempts = s.attempts.into_iter().map(Attempt::from).collect();
            Step::new(s.step, &state.base_url, attempts)
        })
        .collect();
    let mut dto = Run::from(detail.run);
    dto.steps = Some(steps);
    Ok(Json(dto))
}

pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Run>> {
    let run = state.app.cancel_run(&caller, &id).await?;
    Ok(Json(run.into()))
}

pub async fn retry_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let run = state.app.retry_run(&caller, &id).await?;
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
) -> ApiResult<(StatusCode, Json<Run>)> {
    let run = state.app.rerun_from(&caller, &id, &body.from).await?;
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
) -> ApiResult<Json<Run>> {
    let run = state
        .app
        .resume_step(&caller, &id, &key, body.payload)
        .await?;
    Ok(Json(run.into()))
}
