//! `/v1/connectors`: what workflows can use, with actions and schemas.

use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn list_connectors(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .app
        .list_connectors(&caller)?
        .into_iter()
        .map(|e| {
            let m = e.plugin.manifest();
            json!({
                "name": m.name,
                "version": m.version,
                "description": m.description,
                "source": e.source,
                "digest": e.plugin.digest().to_string(),
                "actions": m.actions,
                "config_schema": m.config_schema,
                "capabilities": m.capabilities,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}
