//! `/v1/connectors`: what workflows can use, with actions and schemas.

use crate::{ApiResult, AppState, Caller};
use axum::Json;
use axum::extract::State;
use weft_model::{Connector, List};

pub async fn list_connectors(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<List<Connector>>> {
    let items: Vec<Connector> = state
        .app
        .list_connectors(&caller)?
        .iter()
        .map(connector)
        .collect();
    Ok(Json(items.into()))
}

/// The wire form of a connector the tenant can use.
pub fn connector(e: &weft_app::Entry) -> Connector {
    let m = e.plugin.manifest();
    Connector {
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        source: e.source.to_string(),
        digest: e.plugin.digest().to_string(),
        actions: m.actions.clone(),
        config_schema: m.config_schema.clone(),
        capabilities: m.capabilities.clone(),
    }
}
