//! `llm`: chat completions against any OpenAI-compatible endpoint, with token
//! and cost accounting.
//!
//! Action `chat` POSTs `{base_url}/chat/completions` with the `api-key`
//! credential (the host injects it as the tenant configured, typically
//! `Authorization: Bearer …`) and the step's idempotency key as `Idempotency-Key`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_sdk::http::{Request, Response, redact_url};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result, snippet};

struct Llm;

const API_KEY_SLOT: &str = "api-key";
const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    default_model: Option<String>,
    prompt_price_per_1k: Option<f64>,
    completion_price_per_1k: Option<f64>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    model: Option<String>,
    messages: Vec<Message>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    #[serde(default)]
    json_mode: bool,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Message {
    role: String,
    content: String,
}

#[derive(Debug, Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChatResponse {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ChoiceMessage,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChoiceMessage {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, Default, Clone, Copy)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
}

impl Connector for Llm {
    fn manifest() -> Manifest {
        Manifest::new("llm", env!("CARGO_PKG_VERSION"), "Chat with an OpenAI-compatible model.")
            .action(
                Action::new("chat", "Send a chat conversation and return the model's reply, token usage and cost.")
                    .input_schema(input_schema())
                    .output_schema(output_schema()),
            )
            .host("*")
            .credential(
                CredentialSlot::new(API_KEY_SLOT, "API key of the OpenAI-compatible endpoint (sent as a bearer token).")
                    .host("*"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL, "description": "API root; `/chat/completions` is appended."},
                    "default_model": {"type": "string", "description": "Used when the input has no `model`."},
                    "prompt_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 prompt tokens."},
                    "completion_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 completion tokens."},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "chat" => chat(&call),
            other => Err(Error::unknown_action(other)),
        }
    }
}

fn chat(call: &Call) -> Result<Value> {
    let config: Config = call.config()?;
    let input: Input = call.input()?;
    let model = input
        .model
        .as_deref()
        .or(config.default_model.as_deref())
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid_input("input.model: required (or set config.default_model)")
        })?;
    validate_messages(&input.messages)?;
    if let Some(t) = input.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(Error::invalid_input(format!(
            "input.temperature: {t} is outside 0..=2"
        )));
    }

    let base_url = config
        .base_url
        .as_deref()
        .unwrap_or(DEFAULT_BASE_URL)
        .trim_end_matches('/');
    let url = format!("{base_url}/chat/completions");
    let body = ChatRequest {
        model,
        messages: &input.messages,
        temperature: input.temperature,
        max_tokens: input.max_tokens,
        response_format: input.json_mode.then(|| json!({"type": "json_object"})),
    };
    let mut request = Request::post(&url)
        .json(&body)
        .header("accept", "application/json")
        .credential(API_KEY_SLOT);
    let key = &call.context().idempotency_key;
    if !key.is_empty() {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(ms) = config.timeout_ms {
        request = request.timeout_ms(ms);
    }
    let where_ = format!("POST {}", redact_url(&url));
    let response = request
        .send()
        .map_err(|e| Error::from(e).context(&where_))?;
    if !response.is_success() {
        return Err(api_error(&response).context(&where_));
    }

    let parsed: ChatResponse = response.json()?;
    let choice = parsed
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| Error::permanent(format!("{where_}: the response has no choices")))?;
    let usage = parsed.usage.unwrap_or_default();
    // Counted in the tenant's usage whatever happens next: the tokens were
    // spent even when the reply is refused or is not the JSON asked for.
    weft_sdk::usage::report(&reported(&config, usage));
    let content = match (choice.message.content, choice.message.refusal) {
        (Some(content), _) => Some(content),
        (None, Some(refusal)) => {
            return Err(Error::permanent(format!(
                "the model refused: {}",
                snippet(&refusal, 300)
            )));
        }
        (None, None) => None,
    };
    let reply_json = if input.json_mode {
        let text = content.as_deref().unwrap_or("");
        Some(serde_json::from_str::<Value>(text).map_err(|e| {
            Error::permanent(format!(
                "json_mode: the model's reply is not valid JSON ({e}): {}",
                snippet(text, 200)
            ))
        })?)
    } else {
        None
    };
    let mut output = json!({
        "content": content,
        "finish_reason": choice.finish_reason,
        "model": parsed.model.as_deref().unwrap_or(model),
        "usage": usage,
        "cost": cost(&config, usage),
    });
    if let Some(value) = reply_json {
        output["json"] = value;
    }
    Ok(output)
}

fn validate_messages(messages: &[Message]) -> Result<()> {
    if messages.is_empty() {
        return Err(Error::invalid_input(
            "input.messages: at least one message is required",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        if !ROLES.contains(&m.role.as_str()) {
            return Err(Error::invalid_input(format!(
                "input.messages[{i}].role: `{}` is not one of {}",
                m.role,
                ROLES.join(", ")
            )));
        }
    }
    Ok(())
}

/// Cost of the call, when any price is configured (a missing price counts as 0).
fn cost(config: &Config, usage: Usage) -> Option<f64> {
    if config.prompt_price_per_1k.is_none() && config.completion_price_per_1k.is_none() {
        return None;
    }
    let prompt = config.prompt_price_per_1k.unwrap_or(0.0) * usage.prompt_tokens as f64 / 1000.0;
    let completion =
        config.completion_price_per_1k.unwrap_or(0.0) * usage.completion_tokens as f64 / 1000.0;
    // Round to 1e-9 to hide float noise in execution history.
    Some(((prompt + completion) * 1e9).round() / 1e9)
}

/// The most one call reports as its cost in micros: 2^48, the cap the host
/// puts on a `weft.usage` value (`weft_sandbox`'s `USAGE_CAP`).
const MAX_COST_MICROS: f64 = 281_474_976_710_656.0;

/// What the call used, for the tenant's usage: the tokens, and the cost in
/// millionths of the prices' currency when a price is configured.
fn reported(config: &Config, usage: Usage) -> weft_sdk::usage::Usage {
    let tokens = weft_sdk::usage::Usage::llm(usage.prompt_tokens, usage.completion_tokens);
    match cost(config, usage) {
        // Clamped to 0..=2^48 (the host's cap on a reported value): an
        // absurd configured price reports the cap, never u64::MAX.
        Some(cost) => tokens.cost_micros((cost * 1e6).round().clamp(0.0, MAX_COST_MICROS) as u64),
        None => tokens,
    }
}

/// Classify a non-2xx answer, quoting the API's `error.message` when it has one.
fn api_error(response: &Response) -> Error {
    let status = response.status();
    let body: Option<Value> = serde_json::from_slice(response.body()).ok();
    let api_message = body
        .as_ref()
        .and_then(|b| b["error"]["message"].as_str())
        .map(str::to_owned);
    let api_code = body
        .as_ref()
        .and_then(|b| b["error"]["code"].as_str())
        .unwrap_or("");
    let detail = api_message.unwrap_or_else(|| snippet(&response.text(), 300));
    let message = if detail.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {detail}")
    };
    match status {
        // Out of credit is not something waiting fixes.
        429 if api_code == "insufficient_quota" => Error::permanent(message),
        429 => Error::rate_limited(message, response.retry_after_ms()),
        401 | 403 => Error::auth(message),
        408 | 500..=599 => Error::transient(message).with_retry_after_ms(response.retry_after_ms()),
        400..=499 => Error::invalid_input(message),
        _ => Error::permanent(message),
    }
}

fn input_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["messages"],
        "properties": {
            "model": {"type": "string", "description": "Model id; defaults to config.default_model."},
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["role", "content"],
                    "properties": {
                        "role": {"enum": ROLES},
                        "content": {"type": "string"}
                    }
                }
            },
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "max_tokens": {"type": "integer", "minimum": 1},
            "json_mode": {"type": "boolean", "default": false, "description": "Ask for a JSON object reply and parse it into `json`."}
        }
    })
}

fn output_schema() -> Value {
    json!({
        "type": "object",
        "required": ["content", "finish_reason", "model", "usage", "cost"],
        "properties": {
            "content": {"type": ["string", "null"]},
            "finish_reason": {"type": ["string", "null"]},
            "model": {"type": "string"},
            "usage": {
                "type": "object",
                "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
                "properties": {
                    "prompt_tokens": {"type": "integer"},
                    "completion_tokens": {"type": "integer"},
                    "total_tokens": {"type": "integer"}
                }
            },
            "cost": {"type": ["number", "null"], "description": "From the configured prices; null when none are set."},
            "json": {"description": "With json_mode: the reply parsed as JSON."}
        }
    })
}

weft_sdk::export!(Llm);

#[cfg(test)]
mod tests {
    use super::*;
    use weft_sdk::ErrorKind;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let headers = headers
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Response::new(
            status,
            headers,
            body.as_bytes().to_vec(),
            "http://127.0.0.1:1/v1/chat/completions",
        )
    }

    #[test]
    fn errors_are_classified() {
        let e = api_error(&resp(
            429,
            &[("retry-after-ms", "1500"), ("retry-after", "9")],
            "{}",
        ));
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(1500))
        );
        let e = api_error(&resp(429, &[("retry-after", "2")], "{}"));
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(2000))
        );
        let quota =
            r#"{"error":{"message":"You exceeded your quota","code":"insufficient_quota"}}"#;
        assert_eq!(api_error(&resp(429, &[], quota)).kind, ErrorKind::Permanent);
        assert_eq!(api_error(&resp(401, &[], "{}")).kind, ErrorKind::Auth);
        assert_eq!(
            api_error(&resp(503, &[], "down")).kind,
            ErrorKind::Transient
        );
        assert_eq!(api_error(&resp(408, &[], "")).kind, ErrorKind::Transient);
        let e = api_error(&resp(
            400,
            &[],
            r#"{"error":{"message":"model `x` does not exist"}}"#,
        ));
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.message, "HTTP 400: model `x` does not exist");
    }

    #[test]
    fn cost_uses_configured_prices() {
        let usage = Usage {
            prompt_tokens: 1000,
            completion_tokens: 500,
            total_tokens: 1500,
        };
        assert_eq!(cost(&Config::default(), usage), None);
        let config = Config {
            prompt_price_per_1k: Some(0.5),
            completion_price_per_1k: Some(1.5),
            ..Config::default()
        };
        assert_eq!(cost(&config, usage), Some(1.25));
        assert_eq!(
            reported(&config, usage),
            weft_sdk::usage::Usage::llm(1000, 500).cost_micros(1_250_000)
        );
        assert_eq!(
            reported(&Config::default(), usage),
            weft_sdk::usage::Usage::llm(1000, 500),
            "no price: tokens only"
        );
        let absurd = Config {
            prompt_price_per_1k: Some(1e20),
            ..Config::default()
        };
        assert_eq!(
            reported(&absurd, usage),
            weft_sdk::usage::Usage::llm(1000, 500).cost_micros(1 << 48),
            "an absurd price reports the cap, not u64::MAX"
        );
    }

    #[test]
    fn messages_are_checked() {
        assert!(validate_messages(&[]).is_err());
        let bad = [Message {
            role: "robot".into(),
            content: "x".into(),
        }];
        assert!(
            validate_messages(&bad)
                .unwrap_err()
                .message
                .starts_with("input.messages[0].role")
        );
    }
}
