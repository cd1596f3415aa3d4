//! The OpenAI chat completions API, and every endpoint that speaks it
//! (https://platform.openai.com/docs/api-reference/chat/create).
//!
//! Request: `messages[]` of `{role, content}`; an assistant turn's calls as
//! `tool_calls: [{id, type: "function", function: {name, arguments}}]` where
//! `arguments` is a STRING of JSON; a tool result as `{role: "tool",
//! tool_call_id, content}`; `tools: [{type: "function", function: {name,
//! description, parameters}}]`; `tool_choice: "auto" | "none" | "required" |
//! {type: "function", function: {name}}`.
//! Answer: `choices[0].message.{content, refusal, tool_calls}`,
//! `choices[0].finish_reason` (`stop`, `length`, `tool_calls`,
//! `content_filter`, the older `function_call`), `usage.{prompt_tokens,
//! completion_tokens, total_tokens, prompt_tokens_details.cached_tokens}`.

use super::{Args, Chat, Message, RawCall, Reply, ToolChoice, Usage, call_arguments};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_sdk::http::{Response, redact_url};
use weft_sdk::{Error, Result};

pub(crate) const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The request body.
pub(crate) fn body(chat: &Chat<'_>) -> Value {
    let messages: Vec<Value> = chat.input.messages.iter().map(message).collect();
    let mut body = json!({"model": chat.model, "messages": messages});
    if let Some(t) = chat.input.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(n) = chat.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if chat.input.json_mode {
        body["response_format"] = json!({"type": "json_object"});
    }
    if !chat.input.tools.is_empty() {
        let tools: Vec<Value> = chat
            .input
            .tools
            .iter()
            .map(|t| {
                let mut function = json!({"name": t.name, "parameters": t.parameters()});
                if let Some(d) = &t.description {
                    function["description"] = json!(d);
                }
                json!({"type": "function", "function": function})
            })
            .collect();
        body["tools"] = json!(tools);
    }
    if let Some(choice) = &chat.tool_choice {
        body["tool_choice"] = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
        };
    }
    body
}

/// One message: a plain `{role, content}` stays exactly that.
fn message(m: &Message) -> Value {
    let mut out = Map::new();
    out.insert("role".into(), json!(m.role));
    out.insert("content".into(), json!(m.text()));
    if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
        let calls: Vec<Value> = calls
            .iter()
            .map(|c| {
                // Checked by validate_messages: an object.
                let arguments = call_arguments(c).unwrap_or_default();
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": arguments.to_string()}})
            })
            .collect();
        out.insert("tool_calls".into(), json!(calls));
    }
    if let Some(id) = &m.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(out)
}

#[derive(Debug, Deserialize)]
struct Completion {
    model: Option<String>,
    choices: Vec<Choice>,
    usage: Option<OpenAiUsage>,
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
    #[serde(default)]
    tool_calls: Option<Vec<WireCall>>,
}

#[derive(Debug, Deserialize)]
struct WireCall {
    id: String,
    function: WireFunction,
}

#[derive(Debug, Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Debug, Deserialize, Default)]
struct OpenAiUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Deserialize, Default)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

/// The answer, normalised.
pub(crate) fn reply(response: &Response) -> Result<Reply> {
    let parsed: Completion = response.json()?;
    let usage = parsed.usage.unwrap_or_default();
    let usage = Usage {
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        total_tokens: if usage.total_tokens > 0 {
            usage.total_tokens
        } else {
            usage.prompt_tokens + usage.completion_tokens
        },
        cache_read_tokens: usage.prompt_tokens_details.and_then(|d| d.cached_tokens),
        cache_write_tokens: None,
    };
    let choice = parsed.choices.into_iter().next().ok_or_else(|| {
        Error::permanent(format!(
            "{}: the response has no choices",
            redact_url(response.url())
        ))
    })?;
    let tool_calls: Vec<RawCall> = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|c| RawCall {
            id: c.id,
            name: c.function.name,
            arguments: Args::Text(c.function.arguments),
        })
        .collect();
    let stop = choice.finish_reason.as_deref().map(|raw| match raw {
        // Some compatible servers (Ollama) answer `stop` with tool calls.
        "stop" if !tool_calls.is_empty() => "tool_calls",
        "stop" => "stop",
        "length" => "length",
        "tool_calls" | "function_call" => "tool_calls",
        "content_filter" => "content_filter",
        _ => "other",
    });
    Ok(Reply {
        model: parsed.model,
        text: choice.message.content,
        refusal: choice.message.refusal,
        tool_calls,
        raw_stop: choice.finish_reason,
        stop,
        usage,
    })
}
