//! The `slack` connector, built as a component and run in the real sandbox against
//! a loopback stand-in for the Slack Web API. The connector declares the host
//! `slack.com`, so the sandbox resolves `slack.com` to the stand-in (static DNS)
//! and the test points `base_url` at `http://slack.com:PORT/api`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::Arc;
use weft_sandbox::{Grants, Invocation, Outcome, Plugin};
use weft_tests::{Built, Inbox, Received, StandIn, TestSandbox, bearer, failure, hosts, output};
use weft_types::ErrorKind;

const TOKEN: &str = "xoxb-test-1234-abcd";

fn slack_reply(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A Slack stand-in: `invalid_auth` unless the bot token came as a bearer,
/// otherwise `answer`.
async fn slack(answer: impl Fn(&Received) -> Response + Send + Sync + 'static) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if (req.method.as_str(), req.uri.as_str()) != ("POST", "/api/chat.postMessage") {
            return slack_reply(json!({"ok": false, "error": "unknown_method"}));
        }
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return slack_reply(json!({"ok": false, "error": "invalid_auth"}));
        }
        answer(req)
    })
    .await
}

fn posted(req: &Received) -> Response {
    let body = req.json();
    slack_reply(json!({
        "ok": true,
        "channel": body["channel"],
        "ts": "1712345678.000100",
        "message": {"type": "message", "text": body["text"], "bot_id": "B01"}
    }))
}

struct Slack {
    sandbox: Built,
    plugin: Arc<Plugin>,
    port: u16,
}

impl Slack {
    async fn new(server: &StandIn) -> Self {
        let sandbox = TestSandbox::new().resolve("slack.com", "127.0.0.1").build();
        let plugin = sandbox.plugin("weft_plugin_slack").await;
        Self {
            sandbox,
            plugin,
            port: server.port(),
        }
    }

    fn base_url(&self) -> String {
        format!("http://slack.com:{}/api", self.port)
    }

    fn grants(&self, token: &str) -> Grants {
        Grants {
            credentials: vec![bearer("bot-token", token, &["slack.com"])],
            ..hosts(&["slack.com"])
        }
    }

    async fn post_with(&self, input: Value, config: Value, grants: Grants) -> Outcome {
        let inv = Invocation {
            config: config.to_string(),
            grants,
            ..Invocation::new("post-message", input.to_string())
        };
        self.sandbox.invoke(&self.plugin, inv).await
    }

    async fn post(&self, input: Value) -> Outcome {
        self.post_with(
            input,
            json!({"base_url": self.base_url()}),
            self.grants(TOKEN),
        )
        .await
    }
}

#[tokio::test]
async fn post_message_sends_the_token_and_the_json_body() {
    let (server, inbox) = slack(posted).await;
    let slack = Slack::new(&server).await;
    let input = json!({
        "channel": "C024BE91L",
        "text": "Deploy *finished* :tada:",
        "thread_ts": "1712340000.000001",
        "unfurl_links": false,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Deploy *finished*"}}],
    });
    let out = slack.post(input.clone()).await;

    assert_eq!(
        output(&out),
        &json!({
            "ok": true,
            "channel": "C024BE91L",
            "ts": "1712345678.000100",
            "message": {"type": "message", "text": "Deploy *finished* :tada:", "bot_id": "B01"},
        })
    );
    let seen = inbox.only();
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        seen.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        seen.header("host"),
        Some(format!("slack.com:{}", slack.port).as_str()),
        "the request went to slack.com"
    );
    assert_eq!(seen.json(), input);
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn slack_errors_are_classified() {
    let (server, _inbox) = slack(|req| {
        let error = match req.json()["channel"].as_str() {
            Some("C-MISSING") => "channel_not_found",
            Some("C-ARCHIVED") => "is_archived",
            _ => "something_new",
        };
        slack_reply(json!({"ok": false, "error": error}))
    })
    .await;
    let slack = Slack::new(&server).await;
    let post = |channel: &str| json!({"channel": channel, "text": "hi"});

    let f = failure(&slack.post(post("C-MISSING")).await).clone();
    assert_eq!((f.kind, f.reason), (ErrorKind::InvalidInput, None));
    let url = format!("{}/chat.postMessage", slack.base_url());
    assert_eq!(
        f.message,
        format!("POST {url}: Slack error `channel_not_found`")
    );

    assert_eq!(
        failure(&slack.post(post("C-ARCHIVED")).await).kind,
        ErrorKind::InvalidInput
    );
    assert_eq!(
        failure(&slack.post(post("C-OTHER")).await).kind,
        ErrorKind::Permanent,
        "unknown codes are not retried"
    );
}

#[tokio::test]
async fn a_wrong_token_is_auth() {
    let (server, inbox) = slack(posted).await;
    let slack = Slack::new(&server).await;
    let input = json!({"channel": "C1", "text": "hi"});
    let out = slack
        .post_with(
            input,
            json!({"base_url": slack.base_url()}),
            slack.grants("xoxb-revoked-0000"),
        )
        .await;
    let f = failure(&out);
    assert_eq!((f.kind, f.reason), (ErrorKind::Auth, None));
    assert!(
        f.message.ends_with("Slack error `invalid_auth`"),
        "{}",
        f.message
    );
    assert_eq!(
        inbox.only().header("authorization"),
        Some("Bearer xoxb-revoked-0000")
    );
}

#[tokio::test]
async fn http_429_is_rate_limited_with_retry_after() {
    let (server, _inbox) =
        slack(|_| (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "30")], "").into_response())
            .await;
    let slack = Slack::new(&server).await;
    let f = failure(&slack.post(json!({"channel": "C1", "text": "hi"})).await).clone();
    assert_eq!(
        (f.kind, f.reason, f.retry_after_ms),
        (ErrorKind::RateLimited, None, Some(30_000))
    );
    assert!(
        f.message.contains("Slack rate limit (HTTP 429)"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn http_5xx_is_transient() {
    let (server, _inbox) =
        slack(|_| (StatusCode::SERVICE_UNAVAILABLE, "upstream down").into_response()).await;
    let slack = Slack::new(&server).await;
    let f = failure(&slack.post(json!({"channel": "C1", "text": "hi"})).await).clone();
    assert_eq!(f.kind, ErrorKind::Transient);
    assert!(
        f.message.contains("HTTP 503: upstream down"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn the_token_is_not_sent_to_a_host_the_plugin_did_not_declare() {
    let (server, inbox) = slack(posted).await;
    let slack = Slack::new(&server).await;
    // Same server, reached by address instead of as slack.com; the tenant even
    // grants that address and binds the token to it.
    let direct = server.url("/api");
    let grants = Grants {
        credentials: vec![bearer("bot-token", TOKEN, &["slack.com", "127.0.0.1"])],
        ..hosts(&["slack.com", "127.0.0.1"])
    };
    let out = slack
        .post_with(
            json!({"channel": "C1", "text": "hi"}),
            json!({"base_url": direct}),
            grants,
        )
        .await;
    let f = failure(&out);
    assert_eq!((f.kind, f.reason), (ErrorKind::Permanent, None));
    assert!(f.message.contains("egress denied"), "{}", f.message);
    assert!(
        f.message.contains("did not declare host `127.0.0.1"),
        "{}",
        f.message
    );
    assert!(
        inbox.is_empty(),
        "nothing, and so no token, reached the server: {:?}",
        inbox.all()
    );
}

#[tokio::test]
async fn the_token_is_not_sent_when_bound_to_another_host() {
    let (server, inbox) = slack(posted).await;
    let slack = Slack::new(&server).await;
    let grants = Grants {
        credentials: vec![bearer("bot-token", TOKEN, &["hooks.slack.com"])],
        ..hosts(&["slack.com"])
    };
    let out = slack
        .post_with(
            json!({"channel": "C1", "text": "hi"}),
            json!({"base_url": slack.base_url()}),
            grants,
        )
        .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(f.message.contains("not bound"), "{}", f.message);
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let (server, inbox) = slack(posted).await;
    let slack = Slack::new(&server).await;
    let cases = [
        (
            json!({"channel": "C1"}),
            "input: `text` or `blocks` is required",
        ),
        (
            json!({"channel": "  ", "text": "hi"}),
            "input.channel: must not be empty",
        ),
        (json!({"text": "hi"}), "input: missing field `channel`"),
        (
            json!({"channel": "C1", "text": "x".repeat(40_001)}),
            "input.text: 40001 characters is over Slack's limit",
        ),
        (
            json!({"channel": "C1", "blocks": vec![json!({"type": "divider"}); 51]}),
            "input.blocks: 51 blocks",
        ),
    ];
    for (input, expected) in cases {
        let f = failure(&slack.post(input.clone()).await).clone();
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{expected}");
        assert!(
            f.message.starts_with(expected),
            "expected `{expected}…`, got `{}`",
            f.message
        );
    }
    assert!(inbox.is_empty());
}
