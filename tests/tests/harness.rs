//! The plugin-author harness (`weft-harness`) driving the real `slack` and `llm`
//! components: scripted replies, the injected credential visible in the recorded
//! requests, and clear failures for what the script does not cover. The harness
//! runs its own runtime, so these are plain `#[test]`s.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use weft_harness::{Error, Harness, Reply};
use weft_sandbox::Failure;
use weft_types::{ErrorKind, StepContext};

const POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";
const COMPLETIONS: &str = "https://api.openai.com/v1/chat/completions";

fn load(name: &str) -> Harness {
    let path = weft_tests::wasm_dir().join(format!("{name}.wasm"));
    Harness::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn failed(result: Result<serde_json::Value, Error>) -> Failure {
    match result {
        Err(Error::Failed(f)) => f,
        other => panic!("expected a classified failure, got {other:?}"),
    }
}

#[test]
fn slack_posts_with_the_injected_token() {
    let h = load("weft_plugin_slack")
        .credential("bot-token", "xoxb-harness-secret", &["slack.com"])
        .reply(
            "POST",
            POST_MESSAGE,
            Reply::json(
                200,
                json!({"ok": true, "channel": "C1", "ts": "1.5", "message": {"text": "hi"}}),
            ),
        );
    assert_eq!(h.manifest().name, "slack");

    let out = h
        .invoke("post-message", json!({"channel": "C1", "text": "hi"}))
        .unwrap();
    assert_eq!(
        out,
        json!({"ok": true, "channel": "C1", "ts": "1.5", "message": {"text": "hi"}})
    );
    let sent = h.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].method.as_str(), sent[0].url.as_str()),
        ("POST", POST_MESSAGE)
    );
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer xoxb-harness-secret"),
        "the host injected the token"
    );
    assert_eq!(sent[0].json(), json!({"channel": "C1", "text": "hi"}));
}

#[test]
fn scripted_replies_are_used_in_order_and_the_last_repeats() {
    let h = load("weft_plugin_slack")
        .credential("bot-token", "xoxb-harness-secret", &["slack.com"])
        .reply(
            "POST",
            POST_MESSAGE,
            Reply::text(429, "").header("Retry-After", "3"),
        )
        .reply(
            "POST",
            POST_MESSAGE,
            Reply::json(200, json!({"ok": false, "error": "channel_not_found"})),
        );
    let input = json!({"channel": "C404", "text": "hi"});

    let f = failed(h.invoke("post-message", input.clone()));
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(3_000))
    );
    let f = failed(h.invoke("post-message", input.clone()));
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.ends_with("Slack error `channel_not_found`"),
        "{}",
        f.message
    );
    assert_eq!(
        failed(h.invoke("post-message", input)).kind,
        ErrorKind::InvalidInput,
        "the last reply repeats"
    );
    assert_eq!(h.requests().len(), 3);
}

#[test]
fn an_unscripted_url_fails_clearly() {
    let h = load("weft_plugin_slack")
        .credential("bot-token", "xoxb-harness-secret", &["slack.com"])
        .config(json!({"base_url": "https://slack.com/api/v2"}))
        .reply("POST", POST_MESSAGE, Reply::json(200, json!({"ok": true})));
    let f = failed(h.invoke("post-message", json!({"channel": "C1", "text": "hi"})));
    assert_eq!((f.kind, f.reason), (ErrorKind::Transient, None));
    assert!(
        f.message
            .contains("no scripted reply for POST https://slack.com/api/v2/chat.postMessage"),
        "the failure names the unscripted request: {}",
        f.message
    );
    assert_eq!(
        h.requests()[0].url,
        "https://slack.com/api/v2/chat.postMessage",
        "the attempt is still recorded"
    );
}

#[test]
fn the_egress_policy_still_applies_under_the_harness() {
    let h = load("weft_plugin_slack")
        .credential("bot-token", "xoxb-harness-secret", &["slack.com"])
        .config(json!({"base_url": "https://evil.example/api"}))
        .reply(
            "POST",
            "https://evil.example/*",
            Reply::json(200, json!({"ok": true})),
        );
    let f = failed(h.invoke("post-message", json!({"channel": "C1", "text": "hi"})));
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(
        f.message
            .contains("did not declare host `evil.example:443`"),
        "{}",
        f.message
    );
    assert!(
        h.requests().is_empty(),
        "nothing reached the transport, so no token left"
    );
}

#[test]
fn llm_sends_key_and_idempotency_key_and_counts_cost() {
    let context = StepContext {
        workflow_id: "wf".into(),
        run_id: "run-7".into(),
        step_id: "ask".into(),
        attempt: 3,
        idempotency_key: "run-7:ask".into(),
    };
    let h = load("weft_plugin_llm")
        .credential("api-key", "sk-harness-key", &["api.openai.com"])
        .config(json!({"default_model": "gpt-x", "prompt_price_per_1k": 2.0, "completion_price_per_1k": 4.0}))
        .context(context)
        .reply(
            "POST",
            COMPLETIONS,
            Reply::json(200, json!({
                "model": "gpt-x-1",
                "choices": [{"message": {"role": "assistant", "content": "42"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 500, "completion_tokens": 250, "total_tokens": 750}
            })),
        );
    let out = h
        .invoke(
            "chat",
            json!({"messages": [{"role": "user", "content": "answer?"}]}),
        )
        .unwrap();
    assert_eq!(out["content"], "42");
    assert_eq!(
        out["cost"],
        json!(2.0),
        "0.5k prompt at 2.0 + 0.25k completion at 4.0"
    );
    let sent = &h.requests()[0];
    assert_eq!(sent.header("authorization"), Some("Bearer sk-harness-key"));
    assert_eq!(sent.header("idempotency-key"), Some("run-7:ask"));
    assert_eq!(sent.json()["model"], "gpt-x");
}

#[test]
fn llm_timeouts_and_missing_credentials_are_classified() {
    let h = load("weft_plugin_llm")
        .config(json!({"default_model": "gpt-x"}))
        .reply("POST", COMPLETIONS, Reply::timeout());
    let input = json!({"messages": [{"role": "user", "content": "hi"}]});
    let f = failed(h.invoke("chat", input.clone()));
    assert_eq!(f.kind, ErrorKind::Auth, "no key bound: {}", f.message);
    assert!(h.requests().is_empty());

    let h = h.credential("api-key", "sk-harness-key", &["api.openai.com"]);
    let f = failed(h.invoke("chat", input));
    assert_eq!(f.kind, ErrorKind::Transient);
    assert!(f.message.contains("request timed out"), "{}", f.message);
    assert_eq!(h.requests().len(), 1);
}

#[test]
fn component_path_explains_how_to_build_a_missing_component() {
    let err =
        weft_harness::component_path(env!("CARGO_MANIFEST_DIR"), "no-such-connector").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::NotBuilt(_)), "{text}");
    assert!(text.contains("no_such_connector.wasm"), "{text}");
    assert!(
        text.contains("cargo build --release --target wasm32-wasip2"),
        "{text}"
    );
}
