//! `llm`: chat with a model on an OpenAI-compatible endpoint or Anthropic's
//! Messages API, with tool calls and token and cost accounting.
//!
//! Action `chat` POSTs `{base_url}/chat/completions` (`provider: openai`, the
//! default: OpenAI, Azure-style gateways, Ollama, vLLM, OpenRouter...) or
//! `{base_url}/v1/messages` (`provider: anthropic`) with the `api-key`
//! credential, which the host injects as the tenant configured it (a bearer
//! token for OpenAI, the `x-api-key` header for Anthropic): the plugin never
//! sees the key. The step's idempotency key goes as `Idempotency-Key`.
//!
//! The input is one shape for both providers (messages, optional tools and
//! tool choice); [`openai`] and [`anthropic`] map it to each API and map the
//! answer back to one output: `text`, `tool_calls` (arguments parsed into
//! objects), a normalised `stop_reason`, `usage`, `cost`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_sdk::http::{Problem, Request, Response, redact_url};
use weft_sdk::{
    Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Result, snippet,
};

mod anthropic;
mod openai;

struct Llm;

const API_KEY_SLOT: &str = "api-key";
const ROLES: [&str; 5] = ["system", "developer", "user", "assistant", "tool"];

/// Which API the endpoint speaks.
#[derive(Debug, Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Provider {
    /// `POST {base_url}/chat/completions`.
    #[default]
    Openai,
    /// `POST {base_url}/v1/messages`.
    Anthropic,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    provider: Provider,
    base_url: Option<String>,
    default_model: Option<String>,
    /// `max_tokens` when the input has none (Anthropic requires one:
    /// [`anthropic::DEFAULT_MAX_TOKENS`] without this).
    default_max_tokens: Option<u32>,
    prompt_price_per_1k: Option<f64>,
    completion_price_per_1k: Option<f64>,
    /// Price of prompt tokens read from the provider's prompt cache (default:
    /// `prompt_price_per_1k`).
    cache_read_price_per_1k: Option<f64>,
    /// Price of prompt tokens written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`; default: `prompt_price_per_1k`).
    cache_write_price_per_1k: Option<f64>,
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
    #[serde(default)]
    tools: Vec<Tool>,
    tool_choice: Option<Value>,
}

/// One message of the conversation. `content` is a string, except for a
/// `tool` message (any JSON: what is not a string is sent as JSON text) and
/// an `assistant` message with `tool_calls` (may be absent or null).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<Value>,
    /// On an `assistant` message: the calls the model asked for, as this
    /// connector's output gives them (`{id, name, arguments}`).
    #[serde(default)]
    tool_calls: Option<Vec<ToolCall>>,
    /// On a `tool` message: the `id` of the call it answers.
    #[serde(default)]
    tool_call_id: Option<String>,
    /// On a `tool` message: the tool failed (Anthropic's `is_error`; OpenAI has
    /// no such flag, the content has to say it).
    #[serde(default)]
    is_error: Option<bool>,
}

impl Message {
    /// The content as text: a string as it is, other JSON as compact JSON,
    /// absent or null as `None`.
    fn text(&self) -> Option<String> {
        match &self.content {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        }
    }
}

/// A tool call, in the output and in an assistant message passed back.
#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct ToolCall {
    id: String,
    name: String,
    /// An object (a JSON string holding one is accepted too).
    arguments: Value,
}

/// A tool the model may call.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Tool {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// A JSON Schema of the arguments (an object); default: no arguments.
    #[serde(default)]
    parameters: Option<Value>,
}

impl Tool {
    fn parameters(&self) -> Value {
        self.parameters
            .clone()
            .unwrap_or_else(|| json!({"type": "object", "properties": {}}))
    }
}

/// `tool_choice`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ToolChoice {
    Auto,
    None,
    Required,
    Tool(String),
}

/// What a provider answered, before the tool calls' arguments are checked.
#[derive(Debug, Default)]
struct Reply {
    model: Option<String>,
    text: Option<String>,
    /// OpenAI's `refusal`, when the model refused instead of answering.
    refusal: Option<String>,
    tool_calls: Vec<RawCall>,
    raw_stop: Option<String>,
    /// The normalised stop reason: `stop`, `length`, `tool_calls`,
    /// `content_filter` or `other`.
    stop: Option<&'static str>,
    usage: Usage,
}

#[derive(Debug)]
struct RawCall {
    id: String,
    name: String,
    arguments: Args,
}

/// A tool call's arguments as the provider gave them.
#[derive(Debug)]
enum Args {
    /// OpenAI: a string of JSON, which the model wrote and may have got wrong.
    Text(String),
    /// Anthropic: already an object.
    Value(Value),
}

/// Tokens, the same for both providers. `prompt_tokens` counts every prompt
/// token, cached ones included; the `cache_*` fields (when the provider
/// reported them) say how many of those were read from or written to its
/// prompt cache.
#[derive(Debug, Serialize, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_read_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_write_tokens: Option<u64>,
}

impl Connector for Llm {
    fn manifest() -> Manifest {
        Manifest::new(
            "llm",
            env!("CARGO_PKG_VERSION"),
            "Chat with a model on an OpenAI-compatible endpoint or Anthropic's Messages API, with tool calls.",
        )
        .action(
            Action::new(
                "chat",
                "Send a conversation (and the tools the model may call) and return the model's reply, its tool calls, token usage and cost.",
            )
            .input_schema(input_schema())
            .output_schema(output_schema()),
        )
        // Any host: the endpoint is the tenant's choice (`config.base_url`),
        // and the workflow's `grants.hosts` says which one it may reach
        // (api.openai.com, api.anthropic.com, a gateway, a local Ollama).
        .host("*")
        .credential(
            CredentialSlot::new(
                API_KEY_SLOT,
                "API key: for OpenAI-compatible endpoints injected as a bearer token (`--injection bearer`), for Anthropic as the `x-api-key` header (`--injection header:x-api-key`).",
            )
            .host("*"),
        )
        .config_schema(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "provider": {"enum": ["openai", "anthropic"], "default": "openai", "description": "`openai`: any OpenAI-compatible chat completions API; `anthropic`: Anthropic's Messages API."},
                "base_url": {"type": "string", "description": "API root. openai (default https://api.openai.com/v1): `/chat/completions` is appended; anthropic (default https://api.anthropic.com): `/v1/messages` is appended."},
                "default_model": {"type": "string", "description": "Used when the input has no `model`."},
                "default_max_tokens": {"type": "integer", "minimum": 1, "description": "Used when the input has no `max_tokens` (anthropic requires one: 4096 without this)."},
                "prompt_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 prompt tokens."},
                "completion_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 completion tokens."},
                "cache_read_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 prompt tokens read from the prompt cache (default: prompt_price_per_1k)."},
                "cache_write_price_per_1k": {"type": "number", "minimum": 0, "description": "Price per 1,000 prompt tokens written to the prompt cache (default: prompt_price_per_1k)."},
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

/// A checked request, provider-neutral.
struct Chat<'a> {
    model: &'a str,
    input: &'a Input,
    tool_choice: Option<ToolChoice>,
    max_tokens: Option<u32>,
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
    validate_tools(&input.tools)?;
    let tool_choice = tool_choice(input.tool_choice.as_ref(), &input.tools)?;
    let max_temperature = match config.provider {
        Provider::Openai => 2.0,
        Provider::Anthropic => 1.0,
    };
    if let Some(t) = input.temperature
        && !(0.0..=max_temperature).contains(&t)
    {
        return Err(Error::invalid_input(format!(
            "input.temperature: {t} is outside 0..={max_temperature}"
        )));
    }
    if input.json_mode && config.provider == Provider::Anthropic {
        return Err(Error::invalid_input(
            "input.json_mode: not available with provider `anthropic` (its API has no JSON mode): \
             ask for JSON in the prompt, or give one tool whose `parameters` are the schema you \
             want and set `tool_choice: {name: ...}` to it; the reply's `tool_calls[0].arguments` \
             is then that object",
        ));
    }
    let request = Chat {
        model,
        input: &input,
        tool_choice,
        max_tokens: input.max_tokens.or(config.default_max_tokens),
    };

    let base_url = config.base_url.as_deref().map(|u| u.trim_end_matches('/'));
    let (url, body, mut http) = match config.provider {
        Provider::Openai => {
            let url = format!(
                "{}/chat/completions",
                base_url.unwrap_or(openai::DEFAULT_BASE_URL)
            );
            let http = Request::post(&url);
            (url, openai::body(&request), http)
        }
        Provider::Anthropic => {
            let url = format!(
                "{}/v1/messages",
                base_url.unwrap_or(anthropic::DEFAULT_BASE_URL)
            );
            let http = Request::post(&url).header("anthropic-version", anthropic::VERSION);
            (url, anthropic::body(&request)?, http)
        }
    };
    http = http
        .json(&body)
        .header("accept", "application/json")
        .credential(API_KEY_SLOT);
    let key = &call.context().idempotency_key;
    if !key.is_empty() {
        http = http.header("Idempotency-Key", key);
    }
    if let Some(ms) = config.timeout_ms {
        http = http.timeout_ms(ms);
    }
    let response = http.fetch()?.error_for_status_with(problem)?;
    let reply = match config.provider {
        Provider::Openai => openai::reply(&response)?,
        Provider::Anthropic => anthropic::reply(&response)?,
    };
    // Counted in the tenant's usage whatever happens next: the tokens were
    // spent even when the reply is refused, is not the JSON asked for or
    // holds a tool call whose arguments are not JSON.
    weft_sdk::usage::report(&reported(&config, reply.usage));
    output(&config, &input, model, &url, reply)
}

/// The step's output from a provider's reply.
fn output(config: &Config, input: &Input, model: &str, url: &str, reply: Reply) -> Result<Value> {
    if let (None, Some(refusal)) = (&reply.text, &reply.refusal) {
        return Err(Error::permanent(format!(
            "the model refused: {}",
            snippet(refusal, 300)
        )));
    }
    let tool_calls = reply
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(i, call)| parse_call(i, call, url))
        .collect::<Result<Vec<_>>>()?;
    let reply_json = if input.json_mode {
        let text = reply.text.as_deref().unwrap_or("");
        Some(serde_json::from_str::<Value>(text).map_err(|e| {
            Error::permanent(format!(
                "json_mode: the model's reply is not valid JSON ({e}): {}",
                snippet(text, 200)
            ))
        })?)
    } else {
        None
    };
    let mut message = json!({"role": "assistant", "content": reply.text});
    if !tool_calls.is_empty() {
        message["tool_calls"] = json!(tool_calls);
    }
    let mut output = json!({
        "text": reply.text,
        "tool_calls": tool_calls,
        "stop_reason": reply.stop,
        "stop_reason_raw": reply.raw_stop,
        "message": message,
        "model": reply.model.as_deref().unwrap_or(model),
        "provider": config.provider.name(),
        "usage": reply.usage,
        "cost": cost(config, reply.usage),
        // The names of the first version, kept for the workflows that read them.
        "content": reply.text,
        "finish_reason": reply.raw_stop,
    });
    if let Some(value) = reply_json {
        output["json"] = value;
    }
    Ok(output)
}

/// A tool call with its arguments as an object, or an error naming the call.
fn parse_call(i: usize, call: RawCall, url: &str) -> Result<ToolCall> {
    let named = || {
        format!(
            "{}: the model's tool call {i} (`{}`, id `{}`)",
            redact_url(url),
            call.name,
            call.id
        )
    };
    let arguments = match call.arguments {
        // Some OpenAI-compatible servers send "" for a call without arguments.
        Args::Text(text) if text.trim().is_empty() => json!({}),
        Args::Text(text) => serde_json::from_str::<Value>(&text).map_err(|e| {
            Error::permanent(format!(
                "{} has arguments that are not valid JSON ({e}): {}",
                named(),
                snippet(&text, 200)
            ))
        })?,
        Args::Value(value) => value,
    };
    if !arguments.is_object() {
        return Err(Error::permanent(format!(
            "{} has arguments that are not a JSON object: {}",
            named(),
            snippet(&arguments.to_string(), 200)
        )));
    }
    Ok(ToolCall {
        id: call.id,
        name: call.name,
        arguments,
    })
}

fn validate_messages(messages: &[Message]) -> Result<()> {
    if messages.is_empty() {
        return Err(Error::invalid_input(
            "input.messages: at least one message is required",
        ));
    }
    let mut call_ids: Vec<&str> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("input.messages[{i}]");
        let role = m.role.as_str();
        if !ROLES.contains(&role) {
            return Err(Error::invalid_input(format!(
                "{at}.role: `{role}` is not one of {}",
                ROLES.join(", ")
            )));
        }
        if m.tool_calls.is_some() && role != "assistant" {
            return Err(Error::invalid_input(format!(
                "{at}.tool_calls: only an `assistant` message carries tool calls (this one is `{role}`)"
            )));
        }
        if m.tool_call_id.is_some() && role != "tool" {
            return Err(Error::invalid_input(format!(
                "{at}.tool_call_id: only a `tool` message answers a tool call (this one is `{role}`)"
            )));
        }
        if m.is_error.is_some() && role != "tool" {
            return Err(Error::invalid_input(format!(
                "{at}.is_error: only a `tool` message has it (this one is `{role}`)"
            )));
        }
        match role {
            "assistant" => {
                let calls = m.tool_calls.as_deref().unwrap_or_default();
                if !matches!(m.content, None | Some(Value::Null | Value::String(_))) {
                    return Err(Error::invalid_input(format!(
                        "{at}.content: must be a string (or null with tool_calls)"
                    )));
                }
                if m.text().is_none() && calls.is_empty() {
                    return Err(Error::invalid_input(format!(
                        "{at}: an `assistant` message needs `content` or `tool_calls`"
                    )));
                }
                for (j, call) in calls.iter().enumerate() {
                    call_arguments(call).map_err(|why| {
                        Error::invalid_input(format!("{at}.tool_calls[{j}].arguments: {why}"))
                    })?;
                    call_ids.push(&call.id);
                }
            }
            "tool" => {
                let Some(id) = m.tool_call_id.as_deref() else {
                    return Err(Error::invalid_input(format!(
                        "{at}.tool_call_id: required on a `tool` message (the `id` of the call it answers)"
                    )));
                };
                if !call_ids.contains(&id) {
                    return Err(Error::invalid_input(format!(
                        "{at}.tool_call_id: `{id}` answers no tool call of an earlier `assistant` message"
                    )));
                }
                if m.text().is_none() {
                    return Err(Error::invalid_input(format!(
                        "{at}.content: required on a `tool` message (the tool's result)"
                    )));
                }
            }
            _ => {
                if !matches!(m.content, Some(Value::String(_))) {
                    let what = if m.content.is_none() {
                        "required"
                    } else {
                        "must be a string"
                    };
                    return Err(Error::invalid_input(format!(
                        "{at}.content: {what} on a `{role}` message"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A passed-back tool call's arguments as an object (a string of JSON is read).
fn call_arguments(call: &ToolCall) -> std::result::Result<Value, String> {
    let value = match &call.arguments {
        Value::String(text) => serde_json::from_str::<Value>(text)
            .map_err(|e| format!("a string that is not JSON ({e})"))?,
        other => other.clone(),
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(format!(
            "must be an object, not {}",
            snippet(&value.to_string(), 80)
        ))
    }
}

/// Both providers accept `^[a-zA-Z0-9_-]{1,64}$` as a tool name.
fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn validate_tools(tools: &[Tool]) -> Result<()> {
    for (i, tool) in tools.iter().enumerate() {
        if !valid_tool_name(&tool.name) {
            return Err(Error::invalid_input(format!(
                "input.tools[{i}].name: `{}` is not 1-64 letters, digits, `_` or `-`",
                tool.name
            )));
        }
        if tools[..i].iter().any(|t| t.name == tool.name) {
            return Err(Error::invalid_input(format!(
                "input.tools[{i}].name: `{}` is declared twice",
                tool.name
            )));
        }
        if let Some(p) = &tool.parameters
            && !p.is_object()
        {
            return Err(Error::invalid_input(format!(
                "input.tools[{i}].parameters: must be a JSON Schema object"
            )));
        }
    }
    Ok(())
}

fn tool_choice(choice: Option<&Value>, tools: &[Tool]) -> Result<Option<ToolChoice>> {
    let Some(choice) = choice.filter(|c| !c.is_null()) else {
        return Ok(None);
    };
    let parsed = match choice {
        Value::String(s) if s == "auto" => ToolChoice::Auto,
        Value::String(s) if s == "none" => ToolChoice::None,
        Value::String(s) if s == "required" => ToolChoice::Required,
        Value::Object(o) if o.len() == 1 && o.get("name").is_some_and(Value::is_string) => {
            let name = o["name"].as_str().unwrap_or_default();
            if !tools.iter().any(|t| t.name == name) {
                return Err(Error::invalid_input(format!(
                    "input.tool_choice.name: `{name}` is not one of input.tools"
                )));
            }
            ToolChoice::Tool(name.to_owned())
        }
        other => {
            return Err(Error::invalid_input(format!(
                "input.tool_choice: {} is not `auto`, `none`, `required` or {{name: TOOL}}",
                snippet(&other.to_string(), 80)
            )));
        }
    };
    if tools.is_empty() {
        return Err(Error::invalid_input(
            "input.tool_choice: set without input.tools",
        ));
    }
    Ok(Some(parsed))
}

/// Reads an error answer of either provider: OpenAI's
/// `{"error": {"message", "type", "code"}}`, Anthropic's
/// `{"type": "error", "error": {"type", "message"}}`. The status classifies
/// (429 rate limited with its `retry-after`, 401/403 auth, other 4xx invalid
/// input, 5xx and Anthropic's 529 transient) except for what the body says
/// better.
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let error = &body["error"];
    let message = error["message"].as_str().filter(|m| !m.trim().is_empty());
    let kind = error["type"].as_str();
    let code = error["code"].as_str();
    let label = code.or(kind);
    let mut problem = Problem {
        message: message.map(|m| match label {
            Some(label) => format!("{m} ({label})"),
            None => m.to_owned(),
        }),
        ..Problem::default()
    };
    problem.kind = match (code, kind) {
        // Out of credit is not something waiting fixes.
        (Some("insufficient_quota"), _) | (_, Some("billing_error")) => Some(ErrorKind::Permanent),
        (_, Some("rate_limit_error")) => Some(ErrorKind::RateLimited),
        (_, Some("overloaded_error")) => Some(ErrorKind::Transient),
        _ => None,
    };
    problem
}

/// Cost of the call, when any price is configured (a missing price counts as
/// 0; a missing cache price as the prompt price).
fn cost(config: &Config, usage: Usage) -> Option<f64> {
    if config.prompt_price_per_1k.is_none()
        && config.completion_price_per_1k.is_none()
        && config.cache_read_price_per_1k.is_none()
        && config.cache_write_price_per_1k.is_none()
    {
        return None;
    }
    let price = config.prompt_price_per_1k.unwrap_or(0.0);
    let read = usage.cache_read_tokens.unwrap_or(0);
    let write = usage.cache_write_tokens.unwrap_or(0);
    let plain = usage
        .prompt_tokens
        .saturating_sub(read.saturating_add(write));
    let prompt = price * plain as f64
        + config.cache_read_price_per_1k.unwrap_or(price) * read as f64
        + config.cache_write_price_per_1k.unwrap_or(price) * write as f64;
    let completion = config.completion_price_per_1k.unwrap_or(0.0) * usage.completion_tokens as f64;
    // Round to 1e-9 to hide float noise in execution history.
    Some(((prompt + completion) / 1000.0 * 1e9).round() / 1e9)
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

fn input_schema() -> Value {
    let tool_call = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "name", "arguments"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "arguments": {"type": ["object", "string"], "description": "An object (or a string of JSON holding one)."}
        }
    });
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
                    "required": ["role"],
                    "properties": {
                        "role": {"enum": ROLES},
                        "content": {"description": "A string; for a `tool` message any JSON (sent as JSON text); null on an `assistant` message with tool_calls."},
                        "tool_calls": {"type": "array", "items": tool_call, "description": "On an `assistant` message: the calls it asked for (the output's `tool_calls`)."},
                        "tool_call_id": {"type": "string", "description": "On a `tool` message: the id of the call it answers."},
                        "is_error": {"type": "boolean", "description": "On a `tool` message: the tool failed (sent to Anthropic; OpenAI has no such flag)."}
                    }
                }
            },
            "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "0-2 (openai), 0-1 (anthropic)."},
            "max_tokens": {"type": "integer", "minimum": 1, "description": "Default: config.default_max_tokens; anthropic needs one (4096 when neither is set)."},
            "json_mode": {"type": "boolean", "default": false, "description": "openai only: ask for a JSON object reply and parse it into `json`."},
            "tools": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"},
                        "description": {"type": "string"},
                        "parameters": {"type": "object", "description": "JSON Schema of the arguments."}
                    }
                }
            },
            "tool_choice": {
                "description": "`auto` (the default when tools are given), `none`, `required` (some tool), or {name} (that tool).",
                "oneOf": [
                    {"enum": ["auto", "none", "required"]},
                    {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}
                ]
            }
        }
    })
}

fn output_schema() -> Value {
    let tool_call = json!({
        "type": "object",
        "required": ["id", "name", "arguments"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "arguments": {"type": "object"}
        }
    });
    json!({
        "type": "object",
        "required": ["text", "tool_calls", "stop_reason", "stop_reason_raw", "message", "model", "provider", "usage", "cost", "content", "finish_reason"],
        "properties": {
            "text": {"type": ["string", "null"], "description": "The reply's text (null when the model only called tools)."},
            "tool_calls": {"type": "array", "items": tool_call, "description": "The tools the model asks to call, arguments parsed."},
            "stop_reason": {"enum": ["stop", "length", "tool_calls", "content_filter", "other", null], "description": "Why the model stopped, the same for both providers."},
            "stop_reason_raw": {"type": ["string", "null"], "description": "The provider's own finish_reason / stop_reason."},
            "message": {"type": "object", "description": "The reply as an assistant message, to append to `messages` for the next turn."},
            "model": {"type": "string"},
            "provider": {"enum": ["openai", "anthropic"]},
            "usage": {
                "type": "object",
                "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
                "properties": {
                    "prompt_tokens": {"type": "integer", "description": "Every prompt token, cached ones included."},
                    "completion_tokens": {"type": "integer"},
                    "total_tokens": {"type": "integer"},
                    "cache_read_tokens": {"type": "integer", "description": "Of prompt_tokens, read from the prompt cache (when reported)."},
                    "cache_write_tokens": {"type": "integer", "description": "Of prompt_tokens, written to the prompt cache (when reported)."}
                }
            },
            "cost": {"type": ["number", "null"], "description": "From the configured prices; null when none are set."},
            "content": {"type": ["string", "null"], "description": "Same as `text` (the first version's name)."},
            "finish_reason": {"type": ["string", "null"], "description": "Same as `stop_reason_raw` (the first version's name)."},
            "json": {"description": "With json_mode: the reply parsed as JSON."}
        }
    })
}

weft_sdk::export!(Llm);

#[cfg(test)]
mod tests;
