//! `/v1/dead-letters`: tasks the queue gave up on (a poison step), listed for
//! the caller's tenant and re-driven one by one (admin and above).

use crate::extract::P;
use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use std::time::UNIX_EPOCH;
use weft_model::{DeadLetter, DeadReason, List, Redriven};

fn wire(d: &weft_queue::DeadLetter) -> DeadLetter {
    let at =
        d.at.duration_since(UNIX_EPOCH)
            .map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    DeadLetter {
        id: d.id.as_str().to_owned(),
        run_id: d.task.run_id.clone(),
        step_key: d.task.step_key.clone(),
        attempt: d.task.attempt,
        deliveries: d.deliveries,
        reason: match d.reason {
            weft_queue::DeadReason::Rejected => DeadReason::Rejected,
            weft_queue::DeadReason::DeliveryLimit => DeadReason::DeliveryLimit,
        },
        dead_lettered_at: at,
    }
}

pub async fn list_dead_letters(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<DeadLetter>>> {
    let items: Vec<DeadLetter> = state
        .app
        .list_dead_letters(&caller)
        .await?
        .iter()
        .map(wire)
        .collect();
    Ok(Json(items.into()))
}

pub async fn redrive_dead_letter(
    State(state): State<AppState>,
    caller: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Redriven>> {
    let done = state.app.redrive_dead_letter(&caller, &id).await?;
    Ok(Json(Redriven {
        id: done.id,
        redriven: true,
        rerun_id: done.rerun.map(|r| r.id),
    }))
}
