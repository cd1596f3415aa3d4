//! Health, readiness, metrics, the OpenAPI document, and the 404 fallback.

use crate::{ApiError, AppState, Backend};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::Value;
use weft_model::{Health, LimitsBackend, Readiness, Ready};

pub async fn get_health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Ready when the store answers (503 otherwise); `degraded` when the queue or
/// Redis (when the limits are kept there) does not (runs are still accepted: the outbox holds their tasks, and
/// limits fail open or closed by policy). The body says each one's state.
pub async fn get_ready(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
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
    // Where the limits are kept; Redis is pinged.
    let backend = state.rate_limiter.as_ref().and_then(|l| l.backend());
    let limiter = match (&state.rate_limiter, backend) {
        (Some(l), Some(Backend::Redis)) => Some(l.ping().await),
        _ => None,
    };
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.clone(),
    };
    let ready = store.is_ok();
    let whole = queue.is_ok() && limiter.as_ref().is_none_or(Result::is_ok);
    let body = Ready {
        status: match (ready, whole) {
            (false, _) => Readiness::Unavailable,
            (true, false) => Readiness::Degraded,
            (true, true) => Readiness::Ready,
        },
        store: show(&store),
        queue: show(&queue),
        redis: limiter.as_ref().map(show),
        limits: backend.map(|b| match b {
            Backend::Memory => LimitsBackend::Memory,
            Backend::Redis => LimitsBackend::Redis,
        }),
    };
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

/// What no route matched: the console's page or file for a `GET` outside
/// the API's own prefixes (when this server has a console), else a JSON 404.
pub async fn fallback(
    State(state): State<AppState>,
    method: http::Method,
    uri: http::Uri,
    headers: http::HeaderMap,
) -> axum::response::Response {
    let path = uri.path();
    let api = ["/v1/", "/hooks/", "/resume/"]
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'));
    if let Some(console) = state.console.as_deref().filter(|_| !api)
        && let Some(answer) = console.respond(&method, path, &headers)
    {
        return answer.map(axum::body::Body::from);
    }
    ApiError::not_found("route").into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}
