//! `discord`: send messages to a channel as a bot through the Discord HTTP API
//! (<https://discord.com/developers/docs/resources/message#create-message>).
//!
//! The bot token is a credential the host injects as a `header` credential:
//! `Authorization: Bot <token>` (the secret is stored as `Bot <token>`), bound
//! to `discord.com`. Webhook URLs are not used: their token sits in the URL
//! path, which the plugin would have to hold.
//!
//! Errors are Discord's `{"code", "message", "errors"}` bodies
//! (<https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>);
//! a 429 carries `retry_after` (seconds, fractional) in the body and
//! `Retry-After` in the headers (<https://discord.com/developers/docs/topics/rate-limits>).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Discord;

const TOKEN_SLOT: &str = "bot-token";
const DEFAULT_BASE_URL: &str = "https://discord.com/api/v10";
/// Discord's limit for `content`.
const MAX_CONTENT_CHARS: usize = 2000;
/// Discord's limit for `embeds`.
const MAX_EMBEDS: usize = 10;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    channel_id: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    embeds: Option<Vec<Value>>,
    /// Reply to this message id.
    #[serde(default)]
    reply_to: Option<String>,
    /// Which mentions notify; by default none (`{"parse": []}`), so text from a
    /// workflow's data cannot ping @everyone.
    #[serde(default)]
    allowed_mentions: Option<Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    embeds: Option<&'a [Value]>,
    allowed_mentions: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_reference: Option<Value>,
}

impl Connector for Discord {
    fn manifest() -> Manifest {
        Manifest::new("discord", env!("CARGO_PKG_VERSION"), "Send Discord messages as a bot.")
            .action(
                Action::new("send-message", "Post a message to a channel (POST /channels/{id}/messages).")
                    .input_schema(input_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["id", "channel_id"],
                        "properties": {"id": {"type": "string"}, "channel_id": {"type": "string"}}
                    })),
            )
            .host("discord.com")
            .credential(
                CredentialSlot::new(
                    TOKEN_SLOT,
                    "Discord bot token, stored as `Bot <token>` with a header injection of Authorization.",
                )
                .host("discord.com"),
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
    validate(input)?;
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let url = format!(
        "{}/channels/{}/messages",
        base.trim_end_matches('/'),
        input.channel_id
    );
    let body = Body {
        content: input.content.as_deref(),
        embeds: input.embeds.as_deref(),
        allowed_mentions: input
            .allowed_mentions
            .clone()
            .unwrap_or_else(|| json!({"parse": []})),
        message_reference: input
            .reply_to
            .as_ref()
            .map(|id| json!({"message_id": id, "fail_if_not_exists": false})),
    };
    let mut req = Request::post(&url)
        .header("user-agent", "DiscordBot (https://github.com/weft, 0.1)")
        .json(&body)
        .credential(TOKEN_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req.fetch()?.error_for_status_with(problem)?.json()
}

fn validate(input: &Input) -> Result<()> {
    let id = &input.channel_id;
    if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_input(format!(
            "input.channel_id: `{id}` is not a Discord channel id (a snowflake: digits only)"
        )));
    }
    let has_content = input.content.as_deref().is_some_and(|c| !c.is_empty());
    let has_embeds = input.embeds.as_ref().is_some_and(|e| !e.is_empty());
    if !has_content && !has_embeds {
        return Err(Error::invalid_input(
            "input: `content` or `embeds` is required",
        ));
    }
    if let Some(c) = &input.content {
        let n = c.chars().count();
        if n > MAX_CONTENT_CHARS {
            return Err(Error::invalid_input(format!(
                "input.content: {n} characters is over Discord's limit of {MAX_CONTENT_CHARS}"
            )));
        }
    }
    if let Some(e) = &input.embeds
        && e.len() > MAX_EMBEDS
    {
        return Err(Error::invalid_input(format!(
            "input.embeds: {} embeds is over Discord's limit of {MAX_EMBEDS}",
            e.len()
        )));
    }
    Ok(())
}

/// Read Discord's error answer (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let message = body["message"]
        .as_str()
        .map(|m| match body["code"].as_u64() {
            Some(code) if code != 0 => {
                format!("Discord error {code}: {m}{}", form_errors(&body["errors"]))
            }
            _ => m.to_owned(),
        });
    let retry_after_ms = body["retry_after"]
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).ceil() as u64);
    Problem {
        message,
        kind: None,
        retry_after_ms,
    }
}

/// The first field error of an `Invalid Form Body` answer, as ` (embeds.0.title: ...)`.
fn form_errors(errors: &Value) -> String {
    fn first(v: &Value, path: &mut Vec<String>) -> Option<String> {
        let obj = v.as_object()?;
        if let Some(list) = obj.get("_errors").and_then(Value::as_array) {
            let msg = list.first()?["message"].as_str()?;
            return Some(format!("{}: {msg}", path.join(".")));
        }
        for (k, child) in obj {
            path.push(k.clone());
            if let Some(found) = first(child, path) {
                return Some(found);
            }
            path.pop();
        }
        None
    }
    first(errors, &mut Vec::new()).map_or_else(String::new, |e| format!(" ({e})"))
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["channel_id"],
        "properties": {
            "channel_id": {"type": "string", "pattern": "^[0-9]{1,20}$", "description": "The channel's snowflake id."},
            "content": {"type": "string", "maxLength": MAX_CONTENT_CHARS},
            "embeds": {"type": "array", "maxItems": MAX_EMBEDS, "items": {"type": "object"}},
            "reply_to": {"type": "string", "description": "Message id to reply to."},
            "allowed_mentions": {"type": "object", "description": "Discord's allowed_mentions; default: no mention notifies."}
        },
        "anyOf": [{"required": ["content"]}, {"required": ["embeds"]}]
    })
}

weft_sdk::export!(Discord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_form_errors_are_named() {
        let errors = json!({"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}});
        assert_eq!(
            form_errors(&errors),
            " (embeds.0.title: Must be 256 or fewer in length.)"
        );
        assert_eq!(form_errors(&Value::Null), "");
    }
}
