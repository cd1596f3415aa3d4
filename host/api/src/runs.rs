//! `/v1/runs` and manual starts: start, list, statistics, get (with steps
//! and journal), cancel, retry, re-run from a step, resume a waiting step. The use cases
//! are `weft_app`'s; these handlers translate HTTP.

use crate::extract::{Body, OptBody, P, Q};
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use weft_model::stats::{BusyWorkflow, RunBucket, RunStats, RunStatsQuery, StatusCounts};
use weft_model::{Attempt, Page, Run, RunsQuery, StartQuery, Step};
use weft_store::RunFilter;
use weft_store::stats::StatsWindow;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// The trigger payload, read as `trigger.body`.
    #[serde(default)]
    input: Value,
    /// A test run up to this top-level step.
    #[serde(default)]
    until: Option<String>,
}

pub async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
    Q(q): Q<StartQuery>,
    OptBody(body): OptBody<StartBody>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let wait = q.wait_ms.map(Duration::from_millis);
    let run = state
        .app
        .start_run(&caller, &id, body.input, body.until.as_deref(), wait)
        .await?;
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

/// The wire form of the store's counts: every bucket of the window, empty
/// ones too (at most 366), and the totals.
fn stats(w: &StatsWindow, counted: weft_store::stats::RunStats) -> RunStats {
    let mut buckets: Vec<RunBucket> = (0..w.buckets())
        .map(|i| RunBucket {
            start: w.from.saturating_add(i.saturating_mul(w.bucket_ms)),
            runs: StatusCounts::default(),
        })
        .collect();
    let mut total = StatusCounts::default();
    for c in counted.buckets {
        if let Some(b) = usize::try_from(c.bucket)
            .ok()
            .and_then(|i| buckets.get_mut(i))
        {
            b.runs.add(c.status, c.runs);
        }
        total.add(c.status, c.runs);
    }
    RunStats {
        from: w.from,
        to: w.to,
        bucket_ms: w.bucket_ms,
        buckets,
        total,
        busiest: counted
            .busiest
            .into_iter()
            .map(|b| BusyWorkflow {
                workflow_id: b.workflow_id,
                name: b.name,
                runs: b.runs,
                failed: b.failed,
            })
            .collect(),
    }
}

pub async fn get_run_stats(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<RunStatsQuery>,
) -> ApiResult<Json<RunStats>> {
    let (w, counted) = state
        .app
        .run_stats(&caller, q.from, q.to, q.bucket_ms)
        .await?;
    Ok(Json(stats(&w, counted)))
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
