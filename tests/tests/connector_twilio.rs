//! The `twilio` connector in the real sandbox against a loopback stand-in for
//! the Twilio REST API (`api.twilio.com` resolves to the stand-in), answering
//! with the documented shapes:
//! - create a message: <https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>
//!   (form-encoded `To`, `From`/`MessagingServiceSid`, `Body`; 201 with the message resource)
//! - HTTP Basic with the account SID and auth token: <https://www.twilio.com/docs/usage/requests-to-twilio>
//! - errors `{"code", "message", "more_info", "status"}`, 20003 authenticate, 21211 invalid
//!   'To', 20429 too many requests: <https://www.twilio.com/docs/usage/twilios-response>,
//!   <https://www.twilio.com/docs/api/errors>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Failure, Injection, Outcome};
use weft_tests::connector::{Provider, credential};
use weft_tests::{Inbox, Received, StandIn, failure, output};
use weft_types::ErrorKind;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfeedf00dfeedf00dfeedf00dfeed";
/// base64("{SID}:{TOKEN}")
const BASIC: &str = "Basic QUMwMTIzNDU2Nzg5YWJjZGVmMDEyMzQ1Njc4OWFiY2RlZjpmMDBkZmVlZGYwMGRmZWVkZjAwZGZlZWRmMDBkZmVlZA==";
const HOST: &str = "api.twilio.com";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    reply(
        status,
        json!({"code": code, "message": message,
               "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status.as_u16()}),
    )
}

async fn twilio(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(BASIC) {
            return twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_twilio", HOST, server).await
}

async fn run(p: &Provider, input: Value, token: &str) -> Outcome {
    p.invoke(
        "send-sms",
        input,
        json!({"account_sid": SID, "base_url": p.url("")}),
        p.grants(vec![credential(
            "auth-token",
            token,
            &[HOST],
            Injection::Basic {
                username: SID.into(),
            },
        )]),
    )
    .await
}

async fn fails(p: &Provider, input: Value) -> Failure {
    failure(&run(p, input, TOKEN).await).clone()
}

fn sms() -> Value {
    json!({"to": "+14155552671", "from": "+15017122661", "body": "Your order A-1001 has shipped & is on its way."})
}

#[tokio::test]
async fn send_sms_is_form_encoded_with_basic_auth() {
    let (server, inbox) = twilio(|_| {
        reply(
            StatusCode::CREATED,
            json!({"sid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "account_sid": SID, "status": "queued",
                   "to": "+14155552671", "from": "+15017122661", "body": "Your order A-1001 has shipped & is on its way.",
                   "num_segments": "1", "direction": "outbound-api", "error_code": null}),
        )
    })
    .await;
    let p = provider(&server).await;
    let out = run(&p, sms(), TOKEN).await;
    assert_eq!(output(&out)["sid"], "SM1f0e8ae6ade43cb3c0ce4525424e404f");
    assert_eq!(output(&out)["status"], "queued");
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        (
            "POST",
            format!("/2010-04-01/Accounts/{SID}/Messages.json").as_str()
        )
    );
    assert_eq!(seen.header("authorization"), Some(BASIC));
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        seen.text(),
        "To=%2B14155552671&From=%2B15017122661&Body=Your%20order%20A-1001%20has%20shipped%20%26%20is%20on%20its%20way."
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn a_messaging_service_replaces_from() {
    let (server, inbox) = twilio(|_| {
        reply(
            StatusCode::CREATED,
            json!({"sid": "SM1", "status": "accepted"}),
        )
    })
    .await;
    let p = provider(&server).await;
    let input = json!({"to": "+14155552671", "messaging_service_sid": "MG9752274e9e519418a7406176694466fa", "body": "hi"});
    assert_eq!(output(&run(&p, input, TOKEN).await)["status"], "accepted");
    assert_eq!(
        inbox.only().text(),
        "To=%2B14155552671&MessagingServiceSid=MG9752274e9e519418a7406176694466fa&Body=hi"
    );
}

#[tokio::test]
async fn a_wrong_token_is_auth() {
    let (server, _inbox) = twilio(|_| unreachable!()).await;
    let p = provider(&server).await;
    let f = failure(&run(&p, sms(), "wrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.ends_with("HTTP 401 Unauthorized: Twilio error 20003: Authenticate (https://www.twilio.com/docs/errors/20003)"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn an_invalid_number_is_invalid_input() {
    let (server, _inbox) = twilio(|_| {
        twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            "The 'To' number +15005550001 is not a valid phone number.",
        )
    })
    .await;
    let p = provider(&server).await;
    let f = fails(
        &p,
        json!({"to": "+15005550001", "from": "+15017122661", "body": "hi"}),
    )
    .await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.contains("Twilio error 21211: The 'To' number"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn too_many_requests_is_rate_limited_and_5xx_transient() {
    let (server, _inbox) = twilio(|req| {
        if req.text().contains("Body=slow") {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "2")],
                axum::Json(json!({"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})),
            )
                .into_response()
        } else {
            twilio_error(StatusCode::SERVICE_UNAVAILABLE, 20500, "Internal Server Error")
        }
    })
    .await;
    let p = provider(&server).await;
    let f = fails(
        &p,
        json!({"to": "+14155552671", "from": "+15017122661", "body": "slow"}),
    )
    .await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(2_000))
    );
    assert_eq!(fails(&p, sms()).await.kind, ErrorKind::Transient);
}

#[tokio::test]
async fn bad_numbers_and_senders_never_leave() {
    let (server, inbox) = twilio(|_| unreachable!()).await;
    let p = provider(&server).await;
    let f = fails(
        &p,
        json!({"to": "0415 555 267", "from": "+15017122661", "body": "hi"}),
    )
    .await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert_eq!(
        f.message,
        "input.to: `0415 555 267` is not an E.164 phone number (+ then up to 15 digits)"
    );
    let f = fails(&p, json!({"to": "+14155552671", "body": "hi"})).await;
    assert_eq!(
        f.message,
        "input: exactly one of `from` and `messaging_service_sid` is required"
    );
    assert!(inbox.is_empty());
}
