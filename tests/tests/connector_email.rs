//! The `email` connector (Resend) in the real sandbox against a loopback
//! stand-in for the Resend API (`api.resend.com` resolves to the stand-in),
//! answering with the documented shapes:
//! - send an e-mail (`POST /emails`, answer `{"id"}`): <https://resend.com/docs/api-reference/emails/send-email>
//! - idempotency keys: <https://resend.com/docs/dashboard/emails/idempotency-keys>
//! - errors `{"statusCode", "name", "message"}` (401 missing_api_key, 403 invalid_api_key,
//!   422 validation_error, 429 rate_limit_exceeded, 500 application_error):
//!   <https://resend.com/docs/api-reference/errors>
//! - rate-limit headers (`retry-after`, `ratelimit-reset`):
//!   <https://resend.com/docs/api-reference/introduction#rate-limit>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Failure, Invocation, Outcome};
use weft_tests::connector::Provider;
use weft_tests::{Inbox, Received, StandIn, bearer, failure, output};
use weft_types::{ErrorKind, StepContext};

const KEY: &str = "re_123456789_abcdefghijklmnopqrstuvwx";
const HOST: &str = "api.resend.com";

fn resend_error(status: StatusCode, name: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"statusCode": status.as_u16(), "name": name, "message": message})),
    )
        .into_response()
}

async fn resend(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {KEY}")) {
            return resend_error(
                StatusCode::FORBIDDEN,
                "invalid_api_key",
                "API key is invalid",
            );
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_email", HOST, server).await
}

async fn run(p: &Provider, input: Value, key: &str) -> Outcome {
    p.invoke_with(Invocation {
        config: json!({"base_url": p.url("")}).to_string(),
        grants: p.grants(vec![bearer("api-key", key, &[HOST])]),
        context: StepContext {
            idempotency_key: "run-42/welcome/0".into(),
            ..StepContext::adhoc("run-42")
        },
        ..Invocation::new("send", input.to_string())
    })
    .await
}

async fn fails(p: &Provider, input: Value) -> Failure {
    failure(&run(p, input, KEY).await).clone()
}

fn mail() -> Value {
    json!({"from": "Acme <onboarding@acme.example>", "to": "delivered@resend.dev",
           "subject": "Welcome", "html": "<p>Hello <strong>Jenny</strong></p>", "text": "Hello Jenny"})
}

#[tokio::test]
async fn send_posts_the_message_with_the_idempotency_key() {
    let (server, inbox) = resend(|_| {
        (
            StatusCode::OK,
            axum::Json(json!({"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})),
        )
            .into_response()
    })
    .await;
    let p = provider(&server).await;
    let mut input = mail();
    input["cc"] = json!(["ops@acme.example"]);
    let out = run(&p, input, KEY).await;
    assert_eq!(
        output(&out),
        &json!({"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})
    );
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/emails")
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(seen.header("idempotency-key"), Some("run-42/welcome/0"));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({"from": "Acme <onboarding@acme.example>", "to": ["delivered@resend.dev"], "subject": "Welcome",
               "text": "Hello Jenny", "html": "<p>Hello <strong>Jenny</strong></p>", "cc": ["ops@acme.example"]})
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(KEY));
}

#[tokio::test]
async fn errors_are_classified() {
    let (server, _inbox) = resend(|req| match req.json()["subject"].as_str() {
        Some("invalid") => resend_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            "The acme.example domain is not verified. Please, add and verify your domain on https://resend.com/domains",
        ),
        Some("slow") => (
            StatusCode::TOO_MANY_REQUESTS,
            [("ratelimit-limit", "2"), ("ratelimit-remaining", "0"), ("ratelimit-reset", "1")],
            axum::Json(json!({"statusCode": 429, "name": "rate_limit_exceeded",
                              "message": "Too many requests. You can only make 2 requests per second."})),
        )
            .into_response(),
        _ => resend_error(StatusCode::INTERNAL_SERVER_ERROR, "application_error", "An unexpected error occurred."),
    })
    .await;
    let p = provider(&server).await;
    let with = |subject: &str| {
        let mut m = mail();
        m["subject"] = json!(subject);
        m
    };
    let f = fails(&p, with("invalid")).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.contains("HTTP 422 Unprocessable Content: Resend `validation_error`: The acme.example domain is not verified"), "{}", f.message);
    let f = fails(&p, with("slow")).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(1_000)),
        "from ratelimit-reset"
    );
    assert_eq!(fails(&p, with("boom")).await.kind, ErrorKind::Transient);
    let f = failure(&run(&p, mail(), "re_wrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("Resend `invalid_api_key`: API key is invalid"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn bad_addresses_never_leave() {
    let (server, inbox) = resend(|_| unreachable!()).await;
    let p = provider(&server).await;
    let mut m = mail();
    m["to"] = json!([
        "ok@acme.example",
        "victim@acme.example\r\nBcc: all@acme.example"
    ]);
    let f = fails(&p, m).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.starts_with("input.to[1]: "), "{}", f.message);
    let mut m = mail();
    m.as_object_mut().unwrap().remove("html");
    m.as_object_mut().unwrap().remove("text");
    assert_eq!(
        fails(&p, m).await.message,
        "input: `text` or `html` is required"
    );
    assert!(inbox.is_empty());
}
