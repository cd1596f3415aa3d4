//! `slack`: post messages with a Slack bot token.
//!
//! Action `post-message` POSTs `{base_url}/chat.postMessage` with the
//! `bot-token` credential, which the host injects (bearer) for `slack.com`.
//! Slack answers HTTP 200 with `{"ok": false, "error": "..."}` for most
//! failures; those codes are classified below.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_sdk::http::{Request, Response, redact_url};
use weft_sdk::{
    Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Result, snippet,
};

struct Slack;

const BOT_TOKEN_SLOT: &str = "bot-token";
const DEFAULT_BASE_URL: &str = "https://slack.com/api";
/// Slack's own limit for `text`.
const MAX_TEXT_CHARS: usize = 40_000;
/// Slack's own limit for `blocks`.
const MAX_BLOCKS: usize = 50;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Input {
    channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unfurl_links: Option<bool>,
}

impl Connector for Slack {
    fn manifest() -> Manifest {
        Manifest::new("slack", env!("CARGO_PKG_VERSION"), "Post messages to Slack.")
            .action(
                Action::new("post-message", "Post a message to a channel, DM or thread (chat.postMessage).")
                    .input_schema(input_schema())
                    .output_schema(output_schema()),
            )
            .host("slack.com")
            .credential(
                CredentialSlot::new(BOT_TOKEN_SLOT, "Slack bot token (xoxb-…) with the chat:write scope.")
                    .host("slack.com"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL, "description": "Slack Web API root."},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "post-message" => post_message(&call.config()?, &call.input()?),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn post_message(config: &Config, input: &Input) -> Result<Value> {
    validate(input)?;
    let base_url = config
        .base_url
        .as_deref()
        .unwrap_or(DEFAULT_BASE_URL)
        .trim_end_matches('/');
    let url = format!("{base_url}/chat.postMessage");
    let mut request = Request::post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .json(input)
        .credential(BOT_TOKEN_SLOT);
    if let Some(ms) = config.timeout_ms {
        request = request.timeout_ms(ms);
    }
    let where_ = format!("POST {}", redact_url(&url));
    let response = request
        .send()
        .map_err(|e| Error::from(e).context(&where_))?;
    interpret(&response).map_err(|e| e.context(&where_))
}

fn validate(input: &Input) -> Result<()> {
    if input.channel.trim().is_empty() {
        return Err(Error::invalid_input("input.channel: must not be empty"));
    }
    let has_text = input.text.as_deref().is_some_and(|t| !t.is_empty());
    let has_blocks = input.blocks.as_ref().is_some_and(|b| !b.is_empty());
    if !has_text && !has_blocks {
        return Err(Error::invalid_input(
            "input: `text` or `blocks` is required",
        ));
    }
    if let Some(text) = &input.text {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(Error::invalid_input(format!(
                "input.text: {chars} characters is over Slack's limit of {MAX_TEXT_CHARS}"
            )));
        }
    }
    if let Some(blocks) = &input.blocks
        && blocks.len() > MAX_BLOCKS
    {
        return Err(Error::invalid_input(format!(
            "input.blocks: {} blocks is over Slack's limit of {MAX_BLOCKS}",
            blocks.len()
        )));
    }
    Ok(())
}

/// Turn Slack's answer into the output or a classified error.
fn interpret(response: &Response) -> Result<Value> {
    let status = response.status();
    if status == 429 {
        return Err(Error::rate_limited(
            "Slack rate limit (HTTP 429)",
            response.retry_after_ms(),
        ));
    }
    if status >= 500 {
        return Err(Error::transient(format!(
            "Slack answered HTTP {status}: {}",
            snippet(&response.text(), 200)
        ))
        .with_retry_after_ms(response.retry_after_ms()));
    }
    if !response.is_success() {
        return Err(Error::from_status(status, &response.text())
            .with_retry_after_ms(response.retry_after_ms()));
    }
    let body: Value = response.json()?;
    if body["ok"].as_bool() == Some(true) {
        return Ok(json!({
            "ok": true,
            "channel": body["channel"],
            "ts": body["ts"],
            "message": body["message"],
        }));
    }
    let code = body["error"].as_str().unwrap_or("unknown_error");
    let mut message = format!("Slack error `{code}`");
    if let Some(detail) = error_detail(&body) {
        message.push_str(": ");
        message.push_str(&detail);
    }
    Err(match classify(code) {
        ErrorKind::RateLimited => Error::rate_limited(message, response.retry_after_ms()),
        kind => Error::new(kind, message),
    })
}

/// Slack's `response_metadata.messages` explain `invalid_blocks` and friends.
fn error_detail(body: &Value) -> Option<String> {
    let messages = body["response_metadata"]["messages"].as_array()?;
    let joined: Vec<&str> = messages.iter().filter_map(Value::as_str).collect();
    (!joined.is_empty()).then(|| snippet(&joined.join("; "), 300))
}

fn classify(code: &str) -> ErrorKind {
    match code {
        "invalid_auth"
        | "not_authed"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "missing_scope"
        | "not_allowed_token_type"
        | "no_permission" => ErrorKind::Auth,
        "channel_not_found"
        | "not_in_channel"
        | "invalid_blocks"
        | "invalid_blocks_format"
        | "msg_too_long"
        | "no_text"
        | "too_many_attachments"
        | "is_archived"
        | "invalid_arguments"
        | "thread_not_found"
        | "invalid_thread_ts" => ErrorKind::InvalidInput,
        "ratelimited" | "rate_limited" => ErrorKind::RateLimited,
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            ErrorKind::Transient
        }
        _ => ErrorKind::Permanent,
    }
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["channel"],
        "properties": {
            "channel": {"type": "string", "minLength": 1, "description": "Channel id (C…), DM id or #name."},
            "text": {"type": "string", "maxLength": MAX_TEXT_CHARS, "description": "Message text (mrkdwn); the fallback when blocks are given."},
            "blocks": {"type": "array", "maxItems": MAX_BLOCKS, "items": {"type": "object"}, "description": "Block Kit blocks."},
            "thread_ts": {"type": "string", "description": "Reply in this thread."},
            "unfurl_links": {"type": "boolean"}
        },
        "anyOf": [{"required": ["text"]}, {"required": ["blocks"]}]
    })
}

fn output_schema() -> Value {
    json!({
        "type": "object",
        "required": ["ok", "channel", "ts", "message"],
        "properties": {
            "ok": {"const": true},
            "channel": {"type": "string"},
            "ts": {"type": "string", "description": "The message's timestamp id (use as thread_ts to reply)."},
            "message": {"type": "object"}
        }
    })
}

weft_sdk::export!(Slack);

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let headers = headers
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Response::new(
            status,
            headers,
            body.as_bytes().to_vec(),
            "http://127.0.0.1:1/api/chat.postMessage",
        )
    }

    #[test]
    fn ok_answers_become_output() {
        let out = interpret(&resp(
            200,
            &[],
            r#"{"ok":true,"channel":"C1","ts":"1.2","message":{"text":"hi"}}"#,
        ))
        .unwrap();
        assert_eq!(
            out,
            json!({"ok": true, "channel": "C1", "ts": "1.2", "message": {"text": "hi"}})
        );
    }

    #[test]
    fn slack_errors_are_classified() {
        let kind = |body: &str| interpret(&resp(200, &[], body)).unwrap_err().kind;
        assert_eq!(
            kind(r#"{"ok":false,"error":"invalid_auth"}"#),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(r#"{"ok":false,"error":"token_revoked"}"#),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(r#"{"ok":false,"error":"channel_not_found"}"#),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(r#"{"ok":false,"error":"msg_too_long"}"#),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(r#"{"ok":false,"error":"something_new"}"#),
            ErrorKind::Permanent
        );
        let e = interpret(&resp(
            200,
            &[],
            r#"{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] missing required field: text [json-pointer:/blocks/0/text]"]}}"#,
        ))
        .unwrap_err();
        assert_eq!(
            e.message,
            "Slack error `invalid_blocks`: [ERROR] missing required field: text [json-pointer:/blocks/0/text]"
        );
    }

    #[test]
    fn http_failures_are_classified() {
        let e = interpret(&resp(429, &[("Retry-After", "30")], "")).unwrap_err();
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(30_000))
        );
        assert_eq!(
            interpret(&resp(502, &[], "bad gateway")).unwrap_err().kind,
            ErrorKind::Transient
        );
        assert_eq!(
            interpret(&resp(404, &[], "")).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            interpret(&resp(200, &[], "<html>")).unwrap_err().kind,
            ErrorKind::Permanent
        );
    }

    #[test]
    fn input_is_checked_before_sending() {
        let input = |text: Option<&str>, blocks: Option<Vec<Value>>| Input {
            channel: "C1".into(),
            text: text.map(str::to_owned),
            blocks,
            thread_ts: None,
            unfurl_links: None,
        };
        assert!(validate(&input(Some("hi"), None)).is_ok());
        assert!(validate(&input(None, Some(vec![json!({"type": "divider"})]))).is_ok());
        assert_eq!(
            validate(&input(None, None)).unwrap_err().message,
            "input: `text` or `blocks` is required"
        );
        let body = serde_json::to_value(input(Some("hi"), None)).unwrap();
        assert_eq!(body, json!({"channel": "C1", "text": "hi"}));
    }
}
