//! The `llm` connector, built as a component and run in the real sandbox against
//! loopback stand-ins for an OpenAI-compatible API (`POST /v1/chat/completions`,
//! https://platform.openai.com/docs/api-reference/chat/create) and Anthropic's
//! Messages API (`POST /v1/messages`, https://docs.anthropic.com/en/api/messages),
//! answering with the shapes those pages document: tool calls, usage, errors.
//! Ends with a tool-call round trip through real workflow runs, one per provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::sync::Arc;
use weft_sandbox::{Grants, Injection, Invocation, Outcome, Plugin};
use weft_tests::connector::{Provider, credential};
use weft_tests::{
    Built, Inbox, Received, StandIn, TestApp, TestSandbox, bearer, failure, hosts, output,
};
use weft_types::{ErrorKind, Status, StepContext};

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
            "text": "Hello there!",
            "tool_calls": [],
            "stop_reason": "stop",
            "stop_reason_raw": "stop",
            "message": {"role": "assistant", "content": "Hello there!"},
            "model": "gpt-test-2024",
            "provider": "openai",
            "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
            // 1.2k prompt tokens at 0.5 + 0.3k completion tokens at 1.5
            "cost": 1.05,
            // The first version's names, still there for the workflows that read them.
            "content": "Hello there!",
            "finish_reason": "stop",
        })
    );
    assert_eq!(
        (
            out.usage.llm_input_tokens,
            out.usage.llm_output_tokens,
            out.usage.llm_cost_micros
        ),
        (1200, 300, 1_050_000),
        "the tenant's usage counts the tokens and the cost"
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
        f.message.contains(
            "HTTP 429 Too Many Requests: Rate limit reached for requests (rate_limit_exceeded)"
        ),
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
        f.message
            .contains("HTTP 401 Unauthorized: Incorrect API key provided (invalid_api_key)"),
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
        format!("{url}: HTTP 500 Internal Server Error: The server had an error")
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
        f.message.ends_with(
            "HTTP 400 Bad Request: The model `gpt-nope` does not exist (invalid_request_error)"
        ),
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
            "input.messages[0].content: required on a `user` message",
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

// ---------------------------------------------------------------------------
// Tool calls, OpenAI shapes (https://platform.openai.com/docs/guides/function-calling):
// `tools[].function`, `tool_calls[].function.arguments` a JSON STRING.

fn weather_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    })
}

/// An OpenAI answer asking for `get_weather` with `arguments` (a string, as the API sends it).
fn openai_tool_call(arguments: &str) -> Response {
    json_reply(
        200,
        json!({
            "id": "chatcmpl-2",
            "object": "chat.completion",
            "model": "gpt-test-2024",
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": null,
                    "refusal": null,
                    "tool_calls": [{"id": "call_abc", "type": "function",
                                    "function": {"name": "get_weather", "arguments": arguments}}]
                },
                "finish_reason": "tool_calls"
            }],
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100,
                      "prompt_tokens_details": {"cached_tokens": 64}}
        }),
    )
}

#[tokio::test]
async fn openai_tools_go_as_functions_and_calls_come_back_as_objects() {
    let (server, inbox) = api(|_| openai_tool_call(r#"{"city": "Paris"}"#)).await;
    let llm = Llm::new(&server).await;
    let input = json!({
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [weather_tool(), {"name": "now"}],
        "tool_choice": {"name": "get_weather"},
    });
    let config = json!({"base_url": llm.base_url, "default_model": "gpt-test",
                        "prompt_price_per_1k": 1.0, "cache_read_price_per_1k": 0.5});
    let out = llm.chat_with(input, config, llm.grants(API_KEY)).await;
    let call = json!({"id": "call_abc", "name": "get_weather", "arguments": {"city": "Paris"}});
    assert_eq!(
        output(&out),
        &json!({
            "text": null,
            "tool_calls": [call],
            "stop_reason": "tool_calls",
            "stop_reason_raw": "tool_calls",
            "message": {"role": "assistant", "content": null, "tool_calls": [call]},
            "model": "gpt-test-2024",
            "provider": "openai",
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100,
                      "cache_read_tokens": 64},
            // 16 uncached at 1.0 + 64 cached at 0.5 per 1k; no completion price
            "cost": 0.048,
            "content": null,
            "finish_reason": "tool_calls",
        })
    );
    assert_eq!(
        inbox.only().json(),
        json!({
            "model": "gpt-test",
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [
                {"type": "function", "function": {
                    "name": "get_weather",
                    "description": "The current weather in a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
                {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        })
    );
}

#[tokio::test]
async fn malformed_tool_arguments_fail_naming_the_call_and_the_tokens_still_count() {
    let (server, _inbox) = api(|_| openai_tool_call(r#"{"city": "Par"#)).await;
    let llm = Llm::new(&server).await;
    let input =
        json!({"messages": [{"role": "user", "content": "Weather?"}], "tools": [weather_tool()]});
    let out = llm.chat(input).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(
        f.message.contains(
            "the model's tool call 0 (`get_weather`, id `call_abc`) has arguments that are not valid JSON"
        ) && f.message.ends_with(r#": {"city": "Par"#),
        "{}",
        f.message
    );
    assert_eq!(
        (out.usage.llm_input_tokens, out.usage.llm_output_tokens),
        (80, 20),
        "the tokens were spent"
    );
}

#[tokio::test]
async fn tool_messages_are_checked_before_any_request() {
    let (server, inbox) = api(|_| completion("never")).await;
    let llm = Llm::new(&server).await;
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "call_1", "content": "21C"}]}),
            "input.messages[1].tool_call_id: `call_1` answers no tool call of an earlier `assistant` message",
        ),
        (
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "name": "f", "arguments": "{oops"}]}]}),
            "input.messages[0].tool_calls[0].arguments: a string that is not JSON",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": [{"name": "get weather"}]}),
            "input.tools[0].name: `get weather` is not 1-64 letters, digits, `_` or `-`",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": [weather_tool()], "tool_choice": {"name": "other"}}),
            "input.tool_choice.name: `other` is not one of input.tools",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}),
            "input.tool_choice: set without input.tools",
        ),
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
    assert!(inbox.is_empty());
}

// ---------------------------------------------------------------------------
// Anthropic (https://docs.anthropic.com/en/api/messages): `x-api-key` (the
// credential's header injection), `anthropic-version: 2023-06-01`, top-level
// `system`, required `max_tokens`, content blocks, `tool_use`/`tool_result`
// (https://docs.anthropic.com/en/docs/build-with-claude/tool-use), errors
// `{"type": "error", "error": {"type", "message"}}`
// (https://docs.anthropic.com/en/api/errors).

const ANTHROPIC_KEY: &str = "sk-ant-test-0123456789";
const ANTHROPIC: &str = "api.anthropic.com";

fn anthropic_error(status: u16, kind: &str, message: &str) -> Response {
    json_reply(
        status,
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn anthropic_message(content: Value, stop_reason: &str) -> Response {
    json_reply(
        200,
        json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test-4",
            "content": content, "stop_reason": stop_reason, "stop_sequence": null,
            "usage": {"input_tokens": 50, "output_tokens": 30,
                      "cache_creation_input_tokens": 20, "cache_read_input_tokens": 100}
        }),
    )
}

/// An Anthropic stand-in: 404 off `POST /v1/messages`, 401 without the key in
/// `x-api-key`, 400 without `anthropic-version`, otherwise `answer`.
async fn anthropic_api(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if (req.method.as_str(), req.uri.as_str()) != ("POST", "/v1/messages") {
            return anthropic_error(404, "not_found_error", "Not found");
        }
        if req.header("x-api-key") != Some(ANTHROPIC_KEY) {
            return anthropic_error(401, "authentication_error", "invalid x-api-key");
        }
        if req.header("anthropic-version").is_none() {
            return anthropic_error(
                400,
                "invalid_request_error",
                "anthropic-version: header is required",
            );
        }
        answer(req)
    })
    .await
}

/// The connector with `api.anthropic.com` sent to the stand-in: the default
/// host, granted and bound as a tenant would.
async fn claude(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_llm", ANTHROPIC, server).await
}

async fn claude_chat(p: &Provider, input: Value, config: Value) -> Outcome {
    let grants = p.grants(vec![credential(
        "api-key",
        ANTHROPIC_KEY,
        &[ANTHROPIC],
        Injection::Header {
            name: "x-api-key".into(),
        },
    )]);
    let mut base =
        json!({"provider": "anthropic", "base_url": p.url(""), "default_model": "claude-test"});
    for (k, v) in config.as_object().unwrap() {
        base[k] = v.clone();
    }
    p.invoke_with(Invocation {
        config: base.to_string(),
        grants,
        context: context(),
        ..Invocation::new("chat", input.to_string())
    })
    .await
}

#[tokio::test]
async fn anthropic_lifts_the_system_prompt_and_counts_cache_tokens() {
    let (server, inbox) = anthropic_api(|_| {
        anthropic_message(
            json!([{"type": "text", "text": "Hello"}, {"type": "text", "text": " there!"}]),
            "end_turn",
        )
    })
    .await;
    let p = claude(&server).await;
    let input = json!({
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
        "temperature": 0.2,
    });
    let config = json!({"prompt_price_per_1k": 3.0, "completion_price_per_1k": 15.0,
                        "cache_read_price_per_1k": 0.3, "cache_write_price_per_1k": 3.75});
    let out = claude_chat(&p, input, config).await;
    assert_eq!(
        output(&out),
        &json!({
            "text": "Hello there!",
            "tool_calls": [],
            "stop_reason": "stop",
            "stop_reason_raw": "end_turn",
            "message": {"role": "assistant", "content": "Hello there!"},
            "model": "claude-test-4",
            "provider": "anthropic",
            // input_tokens excludes the cached ones: 50 + 20 written + 100 read
            "usage": {"prompt_tokens": 170, "completion_tokens": 30, "total_tokens": 200,
                      "cache_read_tokens": 100, "cache_write_tokens": 20},
            // (50 x 3 + 100 x 0.3 + 20 x 3.75 + 30 x 15) / 1000
            "cost": 0.705,
            "content": "Hello there!",
            "finish_reason": "end_turn",
        })
    );
    assert_eq!(
        (
            out.usage.llm_input_tokens,
            out.usage.llm_output_tokens,
            out.usage.llm_cost_micros
        ),
        (170, 30, 705_000)
    );
    let seen = inbox.only();
    assert_eq!(seen.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(
        seen.header("authorization"),
        None,
        "no bearer token for Anthropic"
    );
    assert_eq!(seen.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen.header("idempotency-key"), Some("run-42:summarise"));
    assert_eq!(
        seen.json(),
        json!({
            "model": "claude-test",
            "max_tokens": 4096,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Say hello"}],
            "temperature": 0.2,
        })
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(ANTHROPIC_KEY));
}

#[tokio::test]
async fn anthropic_tool_use_comes_back_normalised() {
    let (server, inbox) = anthropic_api(|_| {
        anthropic_message(
            json!([
                {"type": "text", "text": "Let me look that up."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}
            ]),
            "tool_use",
        )
    })
    .await;
    let p = claude(&server).await;
    let input = json!({
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": [weather_tool()],
        "tool_choice": "required",
        "max_tokens": 200,
    });
    let out = claude_chat(&p, input, json!({})).await;
    let call = json!({"id": "toolu_01", "name": "get_weather", "arguments": {"city": "Paris"}});
    let out = output(&out);
    assert_eq!(out["tool_calls"], json!([call]));
    assert_eq!(
        (&out["stop_reason"], &out["stop_reason_raw"]),
        (&json!("tool_calls"), &json!("tool_use"))
    );
    assert_eq!(
        out["message"],
        json!({"role": "assistant", "content": "Let me look that up.", "tool_calls": [call]})
    );
    assert_eq!(out["cost"], Value::Null, "no prices configured");
    assert_eq!(
        inbox.only().json(),
        json!({
            "model": "claude-test",
            "max_tokens": 200,
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
            "tools": [{"name": "get_weather", "description": "The current weather in a city.",
                       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
            "tool_choice": {"type": "any"},
        })
    );
}

#[tokio::test]
async fn anthropic_errors_are_classified() {
    let (server, _inbox) = anthropic_api(|req| {
        let case = req.json()["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match case.as_str() {
            "429" => {
                let mut r = anthropic_error(
                    429,
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                );
                r.headers_mut().insert("retry-after", "7".parse().unwrap());
                r
            }
            "529" => anthropic_error(529, "overloaded_error", "Overloaded"),
            "500" => anthropic_error(500, "api_error", "Internal server error"),
            "403" => anthropic_error(
                403,
                "permission_error",
                "Your API key does not have permission to use the specified resource.",
            ),
            "400" => anthropic_error(
                400,
                "invalid_request_error",
                "max_tokens: 100000 > 8192, which is the maximum allowed",
            ),
            "404" => anthropic_error(404, "not_found_error", "model: claude-nope"),
            "413" => anthropic_error(
                413,
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes.",
            ),
            "billing" => anthropic_error(
                400,
                "billing_error",
                "Your credit balance is too low to access the Anthropic API.",
            ),
            _ => anthropic_message(json!([{"type": "text", "text": "?"}]), "end_turn"),
        }
    })
    .await;
    let p = claude(&server).await;
    let cases = [
        (
            "429",
            ErrorKind::RateLimited,
            Some(7_000),
            "HTTP 429 Too Many Requests: Number of request tokens has exceeded your per-minute rate limit (rate_limit_error)",
        ),
        (
            "529",
            ErrorKind::Transient,
            None,
            "HTTP 529: Overloaded (overloaded_error)",
        ),
        (
            "500",
            ErrorKind::Transient,
            None,
            "HTTP 500 Internal Server Error: Internal server error (api_error)",
        ),
        (
            "403",
            ErrorKind::Auth,
            None,
            "HTTP 403 Forbidden: Your API key does not have permission to use the specified resource. (permission_error)",
        ),
        (
            "400",
            ErrorKind::InvalidInput,
            None,
            "HTTP 400 Bad Request: max_tokens: 100000 > 8192, which is the maximum allowed (invalid_request_error)",
        ),
        (
            "404",
            ErrorKind::InvalidInput,
            None,
            "HTTP 404 Not Found: model: claude-nope (not_found_error)",
        ),
        ("413", ErrorKind::InvalidInput, None, "(request_too_large)"),
        (
            "billing",
            ErrorKind::Permanent,
            None,
            "Your credit balance is too low to access the Anthropic API. (billing_error)",
        ),
    ];
    for (case, kind, retry_after_ms, message) in cases {
        let input = json!({"messages": [{"role": "user", "content": case}]});
        let out = claude_chat(&p, input, json!({})).await;
        let f = failure(&out);
        assert_eq!(
            (f.kind, f.retry_after_ms),
            (kind, retry_after_ms),
            "{case}: {}",
            f.message
        );
        assert!(f.message.ends_with(message), "{case}: {}", f.message);
    }
    // A wrong key: the stand-in judged the header it got.
    let wrong = p
        .invoke(
            "chat",
            json!({"messages": [{"role": "user", "content": "hi"}]}),
            json!({"provider": "anthropic", "base_url": p.url(""), "default_model": "claude-test"}),
            p.grants(vec![credential(
                "api-key",
                "sk-ant-wrong",
                &[ANTHROPIC],
                Injection::Header {
                    name: "x-api-key".into(),
                },
            )]),
        )
        .await;
    let f = failure(&wrong);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("HTTP 401 Unauthorized: invalid x-api-key (authentication_error)"),
        "{}",
        f.message
    );
    assert!(!f.message.contains("sk-ant-wrong"));
    // What Anthropic cannot take is refused before any request.
    for (input, expected) in [
        (
            json!({"messages": [{"role": "user", "content": "x"}], "json_mode": true}),
            "input.json_mode: not available with provider `anthropic`",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "temperature": 1.5}),
            "input.temperature: 1.5 is outside 0..=1",
        ),
        (
            json!({"messages": [{"role": "system", "content": "x"}]}),
            "input.messages: the anthropic API needs a `user` message",
        ),
    ] {
        let f = failure(&claude_chat(&p, input.clone(), json!({})).await).clone();
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{input}");
        assert!(f.message.starts_with(expected), "{input}: {}", f.message);
    }
}

#[tokio::test]
async fn openai_forbidden_is_auth() {
    let (server, _inbox) = api(|_| {
        json_reply(403, json!({"error": {"message": "Project does not have access to model `gpt-x`", "type": "invalid_request_error", "code": "model_not_found"}}))
    })
    .await;
    let llm = Llm::new(&server).await;
    let f = failure(&llm.chat(hello()).await).clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("Project does not have access to model `gpt-x` (model_not_found)"),
        "{}",
        f.message
    );
}

// ---------------------------------------------------------------------------
// The round trip in a real workflow run: `ask` (the model asks for
// `get_weather`), a loop runs each call as an `http` step against a weather
// stand-in, `history` (jq) appends the model's message and one `tool` message
// per result, `answer` sends it all back and the model answers.

/// A weather API: `GET /weather?city=X` answers `{"city": X, "temp_c": 21}`.
async fn weather_api() -> (StandIn, Inbox) {
    StandIn::scripted(|req| {
        let city = req.uri.split("city=").nth(1).unwrap_or_default().to_owned();
        json_reply(200, json!({"city": city, "temp_c": 21}))
    })
    .await
}

/// What the workflow builds the second request from, in jq: the conversation,
/// the model's message, then each call's result as a `tool` message.
const HISTORY: &str = ". as $d | $d.history + [$d.reply] + [range($d.calls | length) as $i | {role: \"tool\", tool_call_id: $d.calls[$i].id, content: $d.results[$i].body}]";

fn agent(config: Value, llm: &StandIn, tools: &StandIn) -> Value {
    let chat = |id: &str, messages: &str| {
        json!({"id": id, "kind": "action", "connector": "llm", "action": "chat", "config": config,
               "input": {"messages": messages, "tools": [weather_tool()]}})
    };
    json!({
        "name": "agent",
        "grants": {
            "hosts": [format!("127.0.0.1:{}", llm.port()), format!("127.0.0.1:{}", tools.port())],
            "credentials": {"llm/api-key": "model-key"}
        },
        "steps": [
            chat("ask", "{{ trigger.body.messages }}"),
            {"id": "tools", "kind": "loop", "items": "steps.ask.output.tool_calls", "body": [
                {"id": "weather", "kind": "action", "connector": "http", "action": "request",
                 "input": {"method": "GET", "url": tools.url("/weather"),
                           "query": {"city": "{{ item.arguments.city }}"}}}
            ]},
            {"id": "history", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": HISTORY, "data": {
                 "history": "{{ trigger.body.messages }}",
                 "reply": "{{ steps.ask.output.message }}",
                 "calls": "{{ steps.ask.output.tool_calls }}",
                 "results": "{{ steps.tools.output }}"}}},
            chat("answer", "{{ steps.history.output.result }}")
        ]
    })
}

/// Runs `agent` on a server with the credential `model-key` (`injection`) and
/// returns the finished run.
async fn run_agent(def: Value, llm: &StandIn, secret: &str, injection: Value) -> weft_model::Run {
    let app = TestApp::builder()
        .plugin("weft_plugin_llm")
        .plugin("weft_plugin_http")
        .plugin("weft_plugin_transform")
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "model-key", "secret": secret,
               "hosts": [format!("127.0.0.1:{}", llm.port())], "injection": injection}),
    )
    .await
    .expect(201);
    let wf = app.workflow(def).await;
    let question = json!({"messages": [
        {"role": "system", "content": "Use the weather tool."},
        {"role": "user", "content": "Weather in Paris?"}
    ]});
    let id = app.start_run(&wf.id, question).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    run
}

#[tokio::test]
async fn openai_tool_round_trip_in_a_workflow() {
    let (llm, inbox) = api(|req| {
        let messages = req.json()["messages"].clone();
        if messages
            .as_array()
            .and_then(|m| m.last())
            .is_some_and(|m| m["role"] == "tool")
        {
            completion("It is 21°C in Paris.")
        } else {
            openai_tool_call(r#"{"city":"Paris"}"#)
        }
    })
    .await;
    let (tools, weather_calls) = weather_api().await;
    let config = json!({"base_url": llm.url("/v1"), "default_model": "gpt-test",
                        "prompt_price_per_1k": 0.5, "completion_price_per_1k": 1.5});
    let run = run_agent(
        agent(config, &llm, &tools),
        &llm,
        API_KEY,
        json!({"type": "bearer"}),
    )
    .await;

    assert_eq!(weather_calls.only().uri, "/weather?city=Paris");
    let sent = inbox.all();
    assert_eq!(sent.len(), 2);
    let tools_sent = json!([{"type": "function", "function": {
        "name": "get_weather", "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]);
    assert_eq!(
        sent[1].json(),
        json!({
            "model": "gpt-test",
            "messages": [
                {"role": "system", "content": "Use the weather tool."},
                {"role": "user", "content": "Weather in Paris?"},
                // The model's call goes back with its arguments a string again.
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_abc", "type": "function",
                     "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                // The http step's JSON body, as JSON text.
                {"role": "tool", "tool_call_id": "call_abc", "content": "{\"city\":\"Paris\",\"temp_c\":21}"}
            ],
            "tools": tools_sent,
        })
    );
    let answer = weft_tests::step(&run, "answer").output.clone().unwrap();
    assert_eq!(answer["text"], "It is 21°C in Paris.");
    assert_eq!(answer["stop_reason"], "stop");
    assert_eq!(answer["cost"], json!(1.05));
    let ask = weft_tests::step(&run, "ask").output.clone().unwrap();
    assert_eq!(ask["stop_reason"], "tool_calls");
    // 80 prompt tokens at 0.5 (the 64 cached ones too: no cache price is set) + 20 at 1.5
    assert_eq!(ask["cost"], json!(0.07));
}

#[tokio::test]
async fn anthropic_tool_round_trip_in_a_workflow() {
    let (llm, inbox) = anthropic_api(|req| {
        let last = req.json()["messages"].as_array().and_then(|m| m.last().cloned()).unwrap_or_default();
        if last["content"][0]["type"] == "tool_result" {
            anthropic_message(json!([{"type": "text", "text": "It is 21°C in Paris."}]), "end_turn")
        } else {
            anthropic_message(
                json!([{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]),
                "tool_use",
            )
        }
    })
    .await;
    let (tools, weather_calls) = weather_api().await;
    let config = json!({"provider": "anthropic", "base_url": llm.url(""), "default_model": "claude-test",
                        "default_max_tokens": 512});
    let run = run_agent(
        agent(config, &llm, &tools),
        &llm,
        ANTHROPIC_KEY,
        json!({"type": "header", "name": "x-api-key"}),
    )
    .await;

    assert_eq!(weather_calls.only().uri, "/weather?city=Paris");
    let sent = inbox.all();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].json(),
        json!({
            "model": "claude-test",
            "max_tokens": 512,
            "system": "Use the weather tool.",
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]},
                // The result in a USER turn, as a tool_result block.
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "{\"city\":\"Paris\",\"temp_c\":21}"}]}
            ],
            "tools": [{"name": "get_weather", "description": "The current weather in a city.",
                       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        })
    );
    let answer = weft_tests::step(&run, "answer").output.clone().unwrap();
    assert_eq!(answer["text"], "It is 21°C in Paris.");
    assert_eq!(answer["provider"], "anthropic");
    assert_eq!(answer["usage"]["prompt_tokens"], 170);
}

// ---------------------------------------------------------------------------
// examples/llm-tools-weather.yaml itself, saved as YAML and run through its
// webhook, with only its endpoints pointed at stand-ins: the branch with a
// tool round (`tool_choice: none` on the last call) and the branch without.

#[tokio::test]
async fn the_weather_example_runs_both_branches() {
    let (llm, inbox) = anthropic_api(|req| {
        let body = req.json();
        let last = body["messages"].as_array().and_then(|m| m.last().cloned()).unwrap_or_default();
        if last["content"][0]["type"] == "tool_result" {
            anthropic_message(json!([{"type": "text", "text": "Yes, take an umbrella."}]), "end_turn")
        } else if last["content"].as_str().unwrap_or_default().contains("umbrella") {
            anthropic_message(
                json!([{"type": "tool_use", "id": "toolu_07", "name": "get_weather", "input": {"city": "Paris"}}]),
                "tool_use",
            )
        } else {
            anthropic_message(json!([{"type": "text", "text": "Hello!"}]), "end_turn")
        }
    })
    .await;
    let (weather, weather_calls) = StandIn::scripted(|_| "Light rain +12°C".into_response()).await;
    let yaml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/llm-tools-weather.yaml"
    ))
    .unwrap();
    let patched = [
        (
            "      provider: anthropic\n",
            format!(
                "      provider: anthropic\n      base_url: {}\n",
                llm.url("")
            ),
        ),
        (
            "hosts: [api.anthropic.com, wttr.in]",
            format!(
                "hosts: [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]",
                llm.port(),
                weather.port()
            ),
        ),
        ("https://wttr.in/", weather.url("/")),
    ]
    .iter()
    .fold(yaml, |text, (from, to)| {
        assert!(text.contains(from), "the example no longer has `{from}`");
        text.replace(from, to)
    });
    let app = TestApp::builder()
        .plugin("weft_plugin_llm")
        .plugin("weft_plugin_http")
        .plugin("weft_plugin_transform")
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "anthropic", "secret": ANTHROPIC_KEY,
               "hosts": [format!("127.0.0.1:{}", llm.port())],
               "injection": {"type": "header", "name": "x-api-key"}}),
    )
    .await
    .expect(201);
    let wf: weft_model::Workflow = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/yaml",
            Some(patched.into_bytes()),
        )
        .await
        .typed(201);
    app.post(&format!("/v1/workflows/{}/activate", wf.id), json!(null))
        .await
        .expect(200);

    let ask = |q: &str| json!({"question": q});
    let resp = app
        .call_as(
            "",
            "POST",
            wf.hook_url(),
            Some(ask("Do I need an umbrella in Paris today?")),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["answer"], "Yes, take an umbrella.");
    assert_eq!(
        resp.body["tool_calls"],
        json!([{"id": "toolu_07", "name": "get_weather", "arguments": {"city": "Paris"}}])
    );
    assert_eq!(resp.body["tokens"], json!({"ask": 200, "answer": 200}));
    let city = weather_calls.only();
    assert!(city.uri.starts_with("/Paris?format="), "{}", city.uri);
    let sent = inbox.all();
    assert_eq!(sent.len(), 2);
    let second = sent[1].json();
    assert_eq!(second["tool_choice"], json!({"type": "none"}));
    assert_eq!(second["tools"][0]["name"], "get_weather");
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_07", "content": "Light rain +12°C"}]})
    );

    // No tool wanted: the condition skips the round, `reply` answers with `ask`'s text.
    let resp = app
        .call_as("", "POST", wf.hook_url(), Some(ask("Hi")))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["answer"], "Hello!");
    assert_eq!(resp.body["tool_calls"], json!([]));
    assert_eq!(resp.body["tokens"], json!({"ask": 200, "answer": null}));
    assert_eq!(inbox.len(), 3, "one more model call, no second round");
    assert_eq!(weather_calls.len(), 1);
}
