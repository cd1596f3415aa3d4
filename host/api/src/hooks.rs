//! Webhooks (`/hooks/{token}`) and resume URLs (`/resume/{token}`): no API
//! key; the unguessable token is the credential, and an unknown or inactive one
//! is a plain 404.

use crate::extract::P;
use crate::{ApiError, ApiResult, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::time::Duration;
use weft_limits::{Class, RateDecision};
use weft_types::{Run, Status, Trigger, WebhookMode};

/// How long a synchronous webhook waits when the workflow sets nothing.
const DEFAULT_SYNC_WAIT_MS: u64 = 30_000;
/// Request headers never handed to a workflow.
const HIDDEN: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

pub async fn post_hook(
    State(state): State<AppState>,
    P(token): P<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let store = state.handle.store();
    let wf = match store.workflow_by_token(&token).await? {
        Some(wf) if wf.active => wf,
        _ => return Err(ApiError::not_found("webhook")),
    };
    if let Some(limits) = &state.rate_limits {
        let l = &state.limit_settings;
        match limits
            .check_rate(
                &wf.tenant_id,
                Class::Webhook,
                l.webhook_rate,
                l.webhook_burst,
            )
            .await
        {
            RateDecision::Allowed => {}
            RateDecision::Limited { retry_after } => {
                return Err(ApiError::rate_limited("webhook", retry_after));
            }
            // Redis down: public webhooks fail closed (docs/DISTRIBUTED.md, D9).
            RateDecision::Unavailable => {
                return Err(ApiError::unavailable(
                    "rate limits cannot be checked right now; retry later",
                    1,
                ));
            }
        }
    }
    let def = state
        .handle
        .definition(&wf.tenant_id, &wf.id, wf.version)
        .await?;
    let input = json!({
        "body": body_value(&headers, &body)?,
        "query": query_value(query.as_deref()),
        "headers": headers_value(&headers),
    });
    let run = state
        .handle
        .start(&wf.tenant_id, &wf, Trigger::Webhook, input)
        .await?;
    let hook = def.triggers.webhook.unwrap_or_default();
    if hook.mode == WebhookMode::Async {
        return Ok(accepted(&run));
    }
    let run = if run.response.is_some() || run.status.is_terminal() {
        run
    } else {
        let wait = Duration::from_millis(hook.timeout_ms.unwrap_or(DEFAULT_SYNC_WAIT_MS));
        state.handle.wait(&wf.tenant_id, &run.id, wait).await?
    };
    Ok(answer(&run))
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
    let body = json!({"run_id": run.id, "status": run.status});
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

/// The webhook's answer: the run's `respond` step, else its output, else 202.
fn answer(run: &Run) -> Response {
    if let Some(r) = &run.response {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        for (k, v) in &r.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(k.as_str()),
                HeaderValue::try_from(v.as_str()),
            ) {
                headers.insert(name, value);
            }
        }
        let body = r.body.clone();
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
        Status::Failed | Status::Cancelled => {
            let msg = run
                .error
                .as_ref()
                .map_or("the run did not complete", |e| e.failure.message.as_str());
            let mut resp = ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "run_failed",
                format!("run {} {}: {msg}", run.id, run.status),
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
    let run = state
        .handle
        .resume_token(&token, payload)
        .await
        .map_err(|e| match e {
            weft_worker::Error::NotFound(_) | weft_worker::Error::Conflict(_) => {
                ApiError::not_found("resume token")
            }
            other => other.into(),
        })?;
    Ok((
        StatusCode::OK,
        Json(json!({"run_id": run.id, "status": run.status})),
    )
        .into_response())
}
