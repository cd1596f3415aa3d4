//! `/v1/dead-letters`: tasks the queue gave up on (a poison step), listed for
//! the caller's tenant and re-driven one by one (admin and above).

use crate::audit::record;
use crate::extract::P;
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::time::UNIX_EPOCH;
use weft_queue::DeadLetter;
use weft_types::Role;

/// Most dead letters one listing returns.
const LIMIT: usize = 500;

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
    caller.require(Role::Admin)?;
    let items: Vec<Value> = state
        .handle
        .dead_letters(&caller.tenant_id, LIMIT)
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
    caller.require(Role::Admin)?;
    let rerun = state.handle.redrive(&caller.tenant_id, &id).await?;
    record(&state, &caller, "dead_letter.redrive", &id).await?;
    Ok(Json(json!({
        "id": id,
        "redriven": true,
        "rerun_id": rerun.map(|r| r.id),
    })))
}
