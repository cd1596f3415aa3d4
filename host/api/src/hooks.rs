//! Webhooks (`/hooks/{token}`) and resume URLs (`/resume/{token}`): no API
//! key; the unguessable token is the credential, and an unknown or inactive one
//! is a plain 404.

use crate::extract::P;
use crate::{ApiError, ApiResult, AppState, Bucket, Verdict};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use weft_app::{WebhookCall, WebhookStart};
use weft_types::{Run, Status};

/// Request headers never handed to a workflow.
const HIDDEN: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

pub async fn post_hook(
    State(state): State<AppState>,
    P(token): P<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let wf = state.app.webhook_workflow(&token).await?;
    if let Some(limiter) = &state.rate_limiter {
        match limiter.check(&wf.tenant_id, Bucket::Webhook).await {
            Verdict::Allow => {}
            Verdict::Deny { retry_after } => {
                return Err(ApiError::rate_limited("webhook", retry_after));
            }
            // Limiter down: public webhooks fail closed (docs/DISTRIBUTED.md, D9).
            Verdict::Unavailable => {
                return Err(ApiError::unavailable(
                    "rate limits cannot be checked right now; retry later",
                    1,
                ));
            }
        }
    }
    let input = json!({
        "body": body_value(&headers, &body)?,
        "query": query_value(query.as_deref()),
        "headers": headers_value(&headers),
    });
    let call = WebhookCall {
        workflow: wf,
        input,
    };
    Ok(match state.app.start_webhook(call).await? {
        WebhookStart::Accepted(run) => accepted(&run),
        WebhookStart::Waited(run) => answer(&run),
    })
}

fn body_value(headers: &HeaderMap, body: &[u8]) -> ApiResult<Value> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    let json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| ct.contains("json"));
    if json {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid(format!("request body is not JSON: {e}")))
    } else {
        Ok(Value::String(String::from_utf8_lossy(body).into_owned()))
    }
}

fn query_value(query: Option<&str>) -> Value {
    let mut out = Map::new();
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes());
    for (k, v) in pairs.take(100) {
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Value::Object(out)
}

fn headers_value(headers: &HeaderMap) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        if HIDDEN.contains(&name.as_str()) {
            continue;
        }
        if let Ok(v) = value.to_str() {
            out.insert(name.as_str().to_owned(), Value::String(v.to_owned()));
        }
    }
    Value::Object(out)
}

fn accepted(run: &Run) -> Response {
    let body = weft_model::RunRef {
        run_id: run.id.clone(),
        status: run.status,
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// What a webhook's 422 says of a run's failure (read from its stored error).
#[derive(Debug, Default, serde::Deserialize)]
struct Failure {
    step: Option<String>,
    kind: Option<String>,
    reason: Option<String>,
    message: Option<String>,
}

/// The webhook's answer: the run's `respond` step, else its output, else 422
/// for a run that failed or was cancelled, else 202.
fn answer(run: &Run) -> Response {
    if let Some(r) = &run.response {
        let status = r
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        if let Some(h) = r.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                if let (Ok(name), Some(Ok(value))) = (
                    HeaderName::try_from(k.as_str()),
                    v.as_str().map(HeaderValue::try_from),
                ) {
                    headers.insert(name, value);
                }
            }
        }
        let body = r.get("body").cloned().unwrap_or(Value::Null);
        let is_json = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|ct| ct.contains("json"));
        return match (is_json, body) {
            (false, Value::String(text)) => (status, headers, text).into_response(),
            (_, body) => (status, headers, Json(body)).into_response(),
        };
    }
    match run.status {
        Status::Completed => Json(run.output.clone().unwrap_or(Value::Null)).into_response(),
        // A failed run is the workflow's answer, not a server fault: 422
        // with the envelope, logged at INFO (anyone with the URL can cause it).
        Status::Failed | Status::Cancelled => {
            let f: Failure = run
                .error
                .clone()
                .and_then(|e| serde_json::from_value(e).ok())
                .unwrap_or_default();
            let at = f
                .step
                .map(|s| format!(" at step `{s}`"))
                .unwrap_or_default();
            let why = f
                .reason
                .or(f.kind)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            let msg = f
                .message
                .unwrap_or_else(|| "the run did not complete".to_owned());
            tracing::info!(run.id = %run.id, status = %run.status, "webhook run ended without a response");
            let mut resp = ApiError::run_failed(
                &run.id,
                format!("run {} {}{at}{why}: {msg}", run.id, run.status),
            )
            .into_response();
            if let Ok(v) = HeaderValue::try_from(run.id.as_str()) {
                resp.headers_mut().insert("x-weft-run-id", v);
            }
            resp
        }
        _ => accepted(run),
    }
}

pub async fn post_resume(
    State(state): State<AppState>,
    P(token): P<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let payload = body_value(&headers, &body)?;
    let run = state.app.resume_by_token(&token, payload).await?;
    Ok((
        StatusCode::OK,
        Json(json!({"run_id": run.id, "status": run.status})),
    )
        .into_response())
}
