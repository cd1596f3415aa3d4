//! Webhooks (`/hooks/{token}`) and resume URLs (`/resume/{token}`): no API
//! key; the unguessable token is the credential, and an unknown or inactive one
//! is a plain 404. A signed webhook's signature and a delivery id are checked
//! by the application (`weft_app::signing`, `App::start_webhook`): a failed
//! check is 401 `invalid_signature` with its `reason`.

use crate::extract::{P, Raw};
use crate::{ApiError, ApiResult, AppState, Bucket, Verdict};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use weft_app::{WebhookCall, WebhookStart};
use weft_types::{RespondStep, Run, Status};

/// Request headers never handed to a workflow.
const HIDDEN: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

pub async fn post_hook(
    State(state): State<AppState>,
    P(token): P<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Raw(body): Raw,
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
        body: body.to_vec(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
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

/// The webhook's answer: the run's `respond` step, else its output, else 422
/// for a run that failed or was cancelled, else 202.
///
/// A workflow's answer comes from the server's origin, so it never sets the
/// server's own headers (cookies, framing: dropped here too for definitions
/// stored before validation refused them), is never sniffed into another type,
/// and an HTML body runs sandboxed: no script, no access to the origin.
fn answer(run: &Run) -> Response {
    if let Some(r) = &run.response {
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        for (k, v) in &r.headers {
            if !RespondStep::header_allowed(k) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(k.as_str()),
                HeaderValue::try_from(v.as_str()),
            ) {
                headers.insert(name, value);
            }
        }
        headers.insert(
            http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            http::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
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
        // A failed run is the workflow's answer, not a server fault: 422
        // with the envelope, logged at INFO (anyone with the URL can cause it).
        Status::Failed | Status::Cancelled => {
            let f = run.error.as_ref();
            let at = f
                .and_then(|e| e.step.as_deref())
                .map(|s| format!(" at step `{s}`"))
                .unwrap_or_default();
            let why = f
                .map(|e| {
                    e.failure
                        .reason
                        .map_or_else(|| e.failure.kind.to_string(), |r| r.to_string())
                })
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            let msg = f.map_or("the run did not complete", |e| e.failure.message.as_str());
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
    Raw(body): Raw,
) -> ApiResult<Response> {
    let payload = body_value(&headers, &body)?;
    let run = state.app.resume_by_token(&token, payload).await?;
    let body = weft_model::RunRef {
        run_id: run.id,
        status: run.status,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}
