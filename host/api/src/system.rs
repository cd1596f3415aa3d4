//! Health, readiness, metrics, the OpenAPI document, and the 404 fallback.

use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

pub async fn get_health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn get_ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.handle.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "store": "ok"})),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "store": e.to_string()})),
        ),
    }
}

pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    state.handle.metrics().render(&mut out);
    if let Ok(counts) = state.handle.store().count_runs().await {
        out.push_str("# HELP weft_runs Runs in the store, by status.\n# TYPE weft_runs gauge\n");
        for (status, n) in counts {
            out.push_str(&format!("weft_runs{{status=\"{status}\"}} {n}\n"));
        }
    }
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
}

pub async fn get_openapi() -> Json<Value> {
    Json(crate::openapi::document())
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}
