//! The `teams` connector in the real sandbox against a loopback stand-in for a
//! Microsoft Teams Workflows (Power Automate / Logic Apps) webhook
//! (`prod-27.westus.logic.azure.com` resolves to the stand-in), answering with
//! the documented shapes:
//! - post a message with an Adaptive Card to a Workflows webhook, 202 Accepted:
//!   <https://learn.microsoft.com/en-us/power-automate/teams/send-a-message-in-teams>,
//!   <https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using>
//! - the URL's `sig` parameter authenticates (SAS), errors `{"error": {"code", "message"}}`,
//!   429 with `Retry-After`: <https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-limits-and-config>
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

const HOST: &str = "prod-27.westus.logic.azure.com";
const SIG: &str = "dG9wLXNlY3JldC1zaWduYXR1cmU_x-0123";
const PATH: &str = "/workflows/8f1d5e2a/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0";

fn logic_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn teams(answer: impl Fn(&Received) -> Response + Send + Sync + 'static) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.uri != format!("{PATH}&sig={SIG}") {
            return logic_error(
                StatusCode::UNAUTHORIZED,
                "DirectApiInvalidAuthorizationScheme",
                "The provided authentication token is not valid.",
            );
        }
        answer(req)
    })
    .await
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_teams", HOST, server).await
}

async fn run_with(p: &Provider, input: Value, webhook: &str, sig: &str) -> Outcome {
    p.invoke(
        "send-message",
        input,
        json!({"webhook_url": webhook}),
        p.grants(vec![credential(
            "signature",
            sig,
            &[HOST],
            Injection::Query {
                param: "sig".into(),
            },
        )]),
    )
    .await
}

async fn run(p: &Provider, input: Value) -> Outcome {
    run_with(p, input, &p.url(PATH), SIG).await
}

async fn fails(p: &Provider, input: Value) -> Failure {
    failure(&run(p, input).await).clone()
}

#[tokio::test]
async fn a_card_is_posted_with_the_signature_the_host_appends() {
    let (server, inbox) = teams(|_| StatusCode::ACCEPTED.into_response()).await;
    let p = provider(&server).await;
    let out = run(&p, json!({"title": "Deploy", "text": "v1.2.0 is **live**"})).await;
    assert_eq!(output(&out), &json!({"accepted": true}));
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", format!("{PATH}&sig={SIG}").as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    let body = seen.json();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["body"][0]["text"], "Deploy");
    assert_eq!(
        attachment["content"]["body"][1]["text"],
        "v1.2.0 is **live**"
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(SIG));
}

#[tokio::test]
async fn a_url_with_its_signature_is_refused_before_sending() {
    let (server, inbox) = teams(|_| StatusCode::ACCEPTED.into_response()).await;
    let p = provider(&server).await;
    let f = failure(
        &run_with(
            &p,
            json!({"text": "hi"}),
            &p.url(&format!("{PATH}&sig={SIG}")),
            SIG,
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .starts_with("config.webhook_url: remove the `sig` parameter"),
        "{}",
        f.message
    );
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn errors_are_classified() {
    let (server, _inbox) = teams(|req| match req.json()["attachments"][0]["content"]["body"][0]["text"].as_str() {
        Some("bad") => logic_error(StatusCode::BAD_REQUEST, "InvalidRequestContent", "The request content is not valid and could not be deserialized."),
        Some("slow") => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "17")],
            axum::Json(json!({"error": {"code": "WorkflowRequestsThrottled", "message": "The workflow is throttled."}})),
        )
            .into_response(),
        _ => logic_error(StatusCode::BAD_GATEWAY, "BadGateway", "The service is unavailable."),
    })
    .await;
    let p = provider(&server).await;
    let f = fails(&p, json!({"text": "bad"})).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.ends_with("Teams workflow `InvalidRequestContent`: The request content is not valid and could not be deserialized."), "{}", f.message);
    assert!(!f.message.contains(SIG), "{}", f.message);
    let f = fails(&p, json!({"text": "slow"})).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(17_000))
    );
    assert_eq!(
        fails(&p, json!({"text": "down"})).await.kind,
        ErrorKind::Transient
    );
    let f = failure(&run_with(&p, json!({"text": "hi"}), &p.url(PATH), "wrong").await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert_eq!(
        fails(&p, json!({"title": "only a title"})).await.kind,
        ErrorKind::InvalidInput
    );
}
