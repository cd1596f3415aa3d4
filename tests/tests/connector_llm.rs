//! The `llm` connector, built as a component and run in the real sandbox against a
//! loopback stand-in for an OpenAI-compatible API (`POST /v1/chat/completions`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::Arc;
use weft_sandbox::{Grants, Invocation, Outcome, Plugin};
use weft_tests::{Built, Inbox, Received, StandIn, TestSandbox, bearer, failure, hosts, output};
use weft_types::{ErrorKind, StepContext};

const API_KEY: &str = "sk-test-0123456789";

/// The step's context: the idempotency key must reach the API unchanged.
fn context() -> StepContext {
    StepContext {
        workflow_id: "wf-support".into(),
        run_id: "run-42".into(),
        step_id: "summarise".into(),
        attempt: 2,
        idempotency_key: "run-42:summarise".into(),
    }
}

fn json_reply(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn completion(content: &str) -> Response {
    json_reply(
        200,
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "gpt-test-2024",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
        }),
    )
}

/// An OpenAI-compatible stand-in: 404 off the one route, 401 without the right
/// key, otherwise `answer`.
async fn api(answer: impl Fn(&Received) -> Response + Send + Sync + 'static) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if (req.method.as_str(), req.uri.as_str()) != ("POST", "/v1/chat/completions") {
            return json_reply(404, json!({"error": {"message": "unknown route"}}));
        }
        if req.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
            return json_reply(401, json!({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}));
        }
        answer(req)
    })
    .await
}

struct Llm {
    sandbox: Built,
    plugin: Arc<Plugin>,
    base_url: String,
}

impl Llm {
    async fn new(server: &StandIn) -> Self {
        let sandbox = TestSandbox::new().build();
        let plugin = sandbox.plugin("weft_plugin_llm").await;
        Self {
            sandbox,
            plugin,
            base_url: server.url("/v1"),
        }
    }

    fn grants(&self, key: &str) -> Grants {
        let host = self
            .base_url
            .trim_start_matches("http://")
            .trim_end_matches("/v1")
            .to_owned();
        Grants {
            credentials: vec![bearer("api-key", key, &[&host])],
            ..hosts(&["127.0.0.1"])
        }
    }

    async fn chat_with(&self, input: Value, config: Value, grants: Grants) -> Outcome {
        let inv = Invocation {
            config: config.to_string(),
            grants,
            context: context(),
            ..Invocation::new("chat", input.to_string())
        };
        self.sandbox.invoke(&self.plugin, inv).await
    }

    async fn chat(&self, input: Value) -> Outcome {
        let config = json!({"base_url": self.base_url, "default_model": "gpt-test"});
        self.chat_with(input, config, self.grants(API_KEY)).await
    }
}

fn hello() -> Value {
    json!({"messages": [{"role": "user", "content": "Say hello"}]})
}

#[tokio::test]
async fn chat_returns_content_usage_and_cost() {
    let (server, inbox) = api(|_| completion("Hello there!")).await;
    let llm = Llm::new(&server).await;
    let input = json!({
        "model": "gpt-test-large",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        "temperature": 0.2,
        "max_tokens": 50,
    });
    let config = json!({
        "base_url": llm.base_url,
        "prompt_price_per_1k": 0.5,
        "completion_price_per_1k": 1.5,
    });
    let out = llm.chat_with(input, config, llm.grants(API_KEY)).await;

    assert_eq!(
        output(&out),
        &json!({
            "content": "Hello there!",
            "finish_reason": "stop",
            "model": "gpt-test-2024",
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
            // 1.2k prompt tokens at 0.5 + 0.3k completion tokens at 1.5
            "cost": 1.05,
        })
    );
    let seen = inbox.only();
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(
        seen.header("idempotency-key"),
        Some(context().idempotency_key.as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({
            "model": "gpt-test-large",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
            "temperature": 0.2,
            "max_tokens": 50,
        }),
        "no response_format without json_mode"
    );
    assert!(
        !serde_json::to_string(&out).unwrap().contains(API_KEY),
        "the key never shows in the outcome"
    );
}

#[tokio::test]
async fn cost_is_null_without_prices_and_the_default_model_is_used() {
    let (server, inbox) = api(|_| completion("hi")).await;
    let llm = Llm::new(&server).await;
    let out = llm.chat(hello()).await;
    assert_eq!(output(&out)["cost"], Value::Null);
    assert_eq!(output(&out)["content"], "hi");
    assert_eq!(
        inbox.only().json()["model"],
        "gpt-test",
        "config.default_model fills in"
    );
}

#[tokio::test]
async fn json_mode_asks_for_json_and_parses_the_reply() {
    let (server, inbox) = api(|req| {
        if req.json()["messages"][0]["content"] == "broken" {
            completion("Sure! {\"city\": ")
        } else {
            completion(r#"{"city": "Paris", "population": 2102650, "tags": ["capital"]}"#)
        }
    })
    .await;
    let llm = Llm::new(&server).await;
    let ask = |content: &str| json!({"messages": [{"role": "user", "content": content}], "json_mode": true});

    let out = llm.chat(ask("Capital of France as JSON")).await;
    assert_eq!(
        output(&out)["json"],
        json!({"city": "Paris", "population": 2102650, "tags": ["capital"]})
    );
    assert_eq!(
        inbox.only().json()["response_format"],
        json!({"type": "json_object"})
    );

    let out = llm.chat(ask("broken")).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(
        f.message
            .starts_with("json_mode: the model's reply is not valid JSON"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn rate_limit_carries_retry_after() {
    let (server, _inbox) = api(|_| {
        let mut r = json_reply(429, json!({"error": {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}}));
        r.headers_mut().insert("retry-after", "20".parse().unwrap());
        r
    })
    .await;
    let llm = Llm::new(&server).await;
    let out = llm.chat(hello()).await;
    let f = failure(&out);
    assert_eq!(
        (f.kind, f.reason, f.retry_after_ms),
        (ErrorKind::RateLimited, None, Some(20_000))
    );
    assert!(
        f.message
            .contains("HTTP 429: Rate limit reached for requests"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn out_of_quota_is_permanent_not_rate_limited() {
    let (server, _inbox) =
        api(|_| json_reply(429, json!({"error": {"message": "You exceeded your current quota", "code": "insufficient_quota"}})))
            .await;
    let llm = Llm::new(&server).await;
    let f = failure(&llm.chat(hello()).await).clone();
    assert_eq!((f.kind, f.retry_after_ms), (ErrorKind::Permanent, None));
    assert!(
        f.message.contains("You exceeded your current quota"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn a_wrong_key_is_auth() {
    let (server, inbox) = api(|_| completion("never")).await;
    let llm = Llm::new(&server).await;
    let config = json!({"base_url": llm.base_url, "default_model": "gpt-test"});
    let out = llm
        .chat_with(hello(), config, llm.grants("sk-wrong-key"))
        .await;
    let f = failure(&out);
    assert_eq!((f.kind, f.reason), (ErrorKind::Auth, None));
    assert!(
        f.message.contains("HTTP 401: Incorrect API key provided"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("sk-wrong-key"));
    assert_eq!(
        inbox.only().header("authorization"),
        Some("Bearer sk-wrong-key"),
        "the stand-in really judged the key"
    );
}

#[tokio::test]
async fn no_bound_key_is_auth_and_nothing_is_sent() {
    let (server, inbox) = api(|_| completion("never")).await;
    let llm = Llm::new(&server).await;
    let config = json!({"base_url": llm.base_url, "default_model": "gpt-test"});
    let out = llm.chat_with(hello(), config, hosts(&["127.0.0.1"])).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.contains("credential not found: api-key"),
        "{}",
        f.message
    );
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn server_errors_are_transient() {
    let (server, _inbox) = api(|_| {
        json_reply(
            500,
            json!({"error": {"message": "The server had an error"}}),
        )
    })
    .await;
    let llm = Llm::new(&server).await;
    let f = failure(&llm.chat(hello()).await).clone();
    assert_eq!((f.kind, f.reason), (ErrorKind::Transient, None));
    let url = format!("{}/chat/completions", llm.base_url);
    assert_eq!(
        f.message,
        format!("POST {url}: HTTP 500: The server had an error")
    );
}

#[tokio::test]
async fn a_bad_request_is_invalid_input_carrying_the_api_message() {
    let (server, _inbox) = api(|req| {
        let model = req.json()["model"].as_str().unwrap_or_default().to_owned();
        json_reply(
            400,
            json!({"error": {"message": format!("The model `{model}` does not exist"), "type": "invalid_request_error"}}),
        )
    })
    .await;
    let llm = Llm::new(&server).await;
    let input = json!({"model": "gpt-nope", "messages": [{"role": "user", "content": "hi"}]});
    let f = failure(&llm.chat(input).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .ends_with("HTTP 400: The model `gpt-nope` does not exist"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn bad_input_is_rejected_before_any_request() {
    let (server, inbox) = api(|_| completion("never")).await;
    let llm = Llm::new(&server).await;
    let cases = [
        (
            json!({"messages": []}),
            "input.messages: at least one message is required",
        ),
        (
            json!({"messages": [{"role": "robot", "content": "x"}]}),
            "input.messages[0].role: `robot` is not one of",
        ),
        (
            json!({"messages": [{"role": "user"}]}),
            "input.messages[0]: missing field `content`",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "temperature": 3}),
            "input.temperature: 3 is outside 0..=2",
        ),
        (json!({}), "input: missing field `messages`"),
    ];
    for (input, expected) in cases {
        let f = failure(&llm.chat(input.clone()).await).clone();
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{input}");
        assert!(
            f.message.starts_with(expected),
            "{input}: expected `{expected}…`, got `{}`",
            f.message
        );
    }
    let no_model = json!({"base_url": llm.base_url});
    let f = failure(&llm.chat_with(hello(), no_model, llm.grants(API_KEY)).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert_eq!(
        f.message,
        "input.model: required (or set config.default_model)"
    );
    assert!(inbox.is_empty(), "no invalid request reached the API");
}
