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

/// Ready when the store answers (503 otherwise); `degraded` when the queue or
/// Redis does not (runs are still accepted: the outbox holds their tasks, and
/// limits fail open or closed by policy). The body says each one's state.
pub async fn get_ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let store = state
        .app
        .handle()
        .store()
        .ping()
        .await
        .map_err(|e| e.to_string());
    let queue = state
        .app
        .handle()
        .queue()
        .ping()
        .await
        .map_err(|e| e.to_string());
    // The limiter's backend (Redis), when it has one.
    let limiter = match &state.rate_limiter {
        Some(l) => match l.backend() {
            Some(name) => Some((name, l.ping().await)),
            None => None,
        },
        None => None,
    };
    let show = |r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(e) => json!(e),
    };
    let mut body = json!({"store": show(&store), "queue": show(&queue)});
    if let Some((name, r)) = &limiter {
        body[*name] = show(r);
    }
    let ready = store.is_ok();
    let whole = queue.is_ok() && limiter.as_ref().is_none_or(|(_, r)| r.is_ok());
    body["status"] = json!(match (ready, whole) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ready",
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

pub async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let out = state.app.handle().render_metrics().await;
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
