//! `/v1/dead-letters`: tasks the queue gave up on (a poison step), listed for
//! the caller's tenant and re-driven one by one (admin and above).

use crate::extract::P;
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::time::UNIX_EPOCH;
use weft_queue::DeadLetter;

fn dto(d: &DeadLetter) -> Value {
    let at =
        d.at.duration_since(UNIX_EPOCH)
            .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    json!({
        "id": d.id.as_str(),
        "run_id": d.task.run_id,
        "step_key": d.task.step_key,
        "attempt": d.task.attempt,
        "deliveries": d.deliveries,
        "reason": d.reason,
        "dead_lettered_at": at,
    })
}

pub async fn list_dead_letters(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .app
        .list_dead_letters(&caller)
        .await?
        .iter()
        .map(dto)
        .collect();
    Ok(Json(json!({ "items": items })))
}

pub async fn redrive_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Value>> {
    let done = state.app.redrive_dead_letter(&caller, &id).await?;
    Ok(Json(json!({
        "id": done.id,
        "redriven": true,
        "rerun_id": done.rerun.map(|r| r.id),
    })))
}
