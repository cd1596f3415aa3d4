//! `telegram`: send messages through the Telegram Bot API
//! (<https://core.telegram.org/bots/api#sendmessage>).
//!
//! The bot token is part of the URL path (`/bot<token>/sendMessage`). The
//! plugin never holds it: it requests `/bot` + [`PLACEHOLDER`] + `/sendMessage`
//! and the host, for a `path` credential whose placeholder is
//! `TELEGRAM_BOT_TOKEN` bound to `api.telegram.org`, puts the token there.
//!
//! Answers are `{"ok": true, "result": …}` or `{"ok": false, "error_code",
//! "description", "parameters": {"retry_after"}}`
//! (<https://core.telegram.org/bots/api#making-requests>,
//! <https://core.telegram.org/bots/api#responseparameters>).

use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Telegram;

const TOKEN_SLOT: &str = "bot-token";
/// What the host replaces with the bot token (the credential's `path` injection).
const PLACEHOLDER: &str = "TELEGRAM_BOT_TOKEN";
const DEFAULT_BASE_URL: &str = "https://api.telegram.org";
/// Telegram's limit for `text`.
const MAX_TEXT_CHARS: usize = 4096;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    /// A numeric chat id or `@channelusername`.
    chat_id: Value,
    text: String,
    #[serde(default)]
    parse_mode: Option<String>,
    #[serde(default)]
    disable_notification: Option<bool>,
    #[serde(default)]
    reply_to_message_id: Option<i64>,
}

impl Connector for Telegram {
    fn manifest() -> Manifest {
        Manifest::new("telegram", env!("CARGO_PKG_VERSION"), "Send Telegram messages as a bot.")
            .action(
                Action::new("send-message", "Send a text message (sendMessage).")
                    .input_schema(input_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["message_id", "chat"],
                        "properties": {"message_id": {"type": "integer"}, "chat": {"type": "object"}}
                    })),
            )
            .host("api.telegram.org")
            .credential(
                CredentialSlot::new(
                    TOKEN_SLOT,
                    "Telegram bot token from @BotFather, as a `path` credential with the placeholder TELEGRAM_BOT_TOKEN.",
                )
                .host("api.telegram.org"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "send-message" => send_message(&call.config()?, &call.input()?),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn send_message(config: &Config, input: &Input) -> Result<Value> {
    let chat_ok = match &input.chat_id {
        Value::Number(n) => n.is_i64(),
        Value::String(s) => {
            s.parse::<i64>().is_ok()
                || s.strip_prefix('@').is_some_and(|u| {
                    !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                })
        }
        _ => false,
    };
    if !chat_ok {
        return Err(Error::invalid_input(format!(
            "input.chat_id: {} is not a chat id (a number) or @channelusername",
            input.chat_id
        )));
    }
    let chars = input.text.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(Error::invalid_input(format!(
            "input.text: {chars} characters; Telegram takes 1 to {MAX_TEXT_CHARS}"
        )));
    }
    if let Some(mode) = &input.parse_mode
        && !["MarkdownV2", "HTML", "Markdown"].contains(&mode.as_str())
    {
        return Err(Error::invalid_input(format!(
            "input.parse_mode: `{mode}` is not one of MarkdownV2, HTML, Markdown"
        )));
    }
    let mut body = json!({"chat_id": input.chat_id, "text": input.text});
    if let Some(m) = &input.parse_mode {
        body["parse_mode"] = json!(m);
    }
    if let Some(d) = input.disable_notification {
        body["disable_notification"] = json!(d);
    }
    if let Some(id) = input.reply_to_message_id {
        body["reply_parameters"] = json!({"message_id": id, "allow_sending_without_reply": true});
    }
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req = Request::post(format!(
        "{}/bot{PLACEHOLDER}/sendMessage",
        base.trim_end_matches('/')
    ))
    .json(&body)
    .credential(TOKEN_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    let response = req.fetch()?.error_for_status_with(problem)?;
    let answer: Value = response.json()?;
    if answer["ok"].as_bool() != Some(true) {
        return Err(response.problem_error(problem(&response)));
    }
    Ok(answer["result"].clone())
}

/// Read Telegram's error answer (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    Problem {
        message: body["description"]
            .as_str()
            .map(|d| format!("Telegram: {d}")),
        kind: None,
        retry_after_ms: body["parameters"]["retry_after"]
            .as_u64()
            .map(|s| s.saturating_mul(1000)),
    }
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["chat_id", "text"],
        "properties": {
            "chat_id": {"type": ["integer", "string"], "description": "Chat id, or @channelusername."},
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS},
            "parse_mode": {"enum": ["MarkdownV2", "HTML", "Markdown"]},
            "disable_notification": {"type": "boolean"},
            "reply_to_message_id": {"type": "integer"}
        }
    })
}

weft_sdk::export!(Telegram);
