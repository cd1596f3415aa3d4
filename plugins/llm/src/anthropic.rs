//! Anthropic's Messages API (https://docs.anthropic.com/en/api/messages,
//! tool use: https://docs.anthropic.com/en/docs/build-with-claude/tool-use).
//!
//! Request: `POST /v1/messages` with `anthropic-version: 2023-06-01`;
//! `system` is a top-level field, not a message; `max_tokens` is required;
//! `messages[]` alternate `user` and `assistant` turns whose `content` is a
//! string or content blocks: an assistant's calls are `{type: "tool_use", id,
//! name, input}` blocks (`input` an object), their results `{type:
//! "tool_result", tool_use_id, content, is_error}` blocks in the next USER
//! turn; `tools: [{name, description, input_schema}]`; `tool_choice: {type:
//! "auto" | "any" | "tool" | "none", name}`.
//! Answer: `content[]` of `text` and `tool_use` blocks, `stop_reason`
//! (`end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`,
//! `refusal`), `usage.{input_tokens, output_tokens,
//! cache_creation_input_tokens, cache_read_input_tokens}` (input_tokens
//! counts only the tokens after the last cache breakpoint).

use super::{Args, Chat, Message, RawCall, Reply, ToolChoice, Usage, call_arguments};
use serde::Deserialize;
use serde_json::{Value, json};
use weft_sdk::http::Response;
use weft_sdk::{Error, Result};

pub(crate) const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The API version this connector speaks (the `anthropic-version` header).
pub(crate) const VERSION: &str = "2023-06-01";
/// `max_tokens` when neither the input nor the config sets it: what every
/// current model can produce.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;

/// A turn's content: a plain string until something needs blocks.
#[derive(Debug)]
enum Content {
    Text(String),
    Blocks(Vec<Value>),
}

impl Content {
    fn into_blocks(self) -> Vec<Value> {
        match self {
            Self::Text(text) => vec![json!({"type": "text", "text": text})],
            Self::Blocks(blocks) => blocks,
        }
    }

    fn into_value(self) -> Value {
        match self {
            Self::Text(text) => json!(text),
            Self::Blocks(blocks) => json!(blocks),
        }
    }
}

/// The request body. `system` and `developer` messages become the top-level
/// `system` (joined by a blank line, in order); `tool` messages become
/// `tool_result` blocks of a user turn; consecutive turns of one role are
/// merged into one (the results of parallel calls must share a turn).
pub(crate) fn body(chat: &Chat<'_>) -> Result<Value> {
    let mut system: Vec<String> = Vec::new();
    let mut turns: Vec<(&'static str, Content)> = Vec::new();
    for m in &chat.input.messages {
        let (role, content) = match m.role.as_str() {
            "system" | "developer" => {
                system.push(m.text().unwrap_or_default());
                continue;
            }
            "assistant" => ("assistant", assistant(m)),
            "tool" => {
                let mut block = json!({
                    "type": "tool_result",
                    "tool_use_id": m.tool_call_id,
                    "content": m.text().unwrap_or_default(),
                });
                if let Some(is_error) = m.is_error {
                    block["is_error"] = json!(is_error);
                }
                ("user", Content::Blocks(vec![block]))
            }
            _ => ("user", Content::Text(m.text().unwrap_or_default())),
        };
        match turns.last_mut() {
            Some((last, previous)) if *last == role => {
                let mut blocks =
                    std::mem::replace(previous, Content::Blocks(Vec::new())).into_blocks();
                blocks.extend(content.into_blocks());
                *previous = Content::Blocks(blocks);
            }
            _ => turns.push((role, content)),
        }
    }
    if turns.is_empty() {
        return Err(Error::invalid_input(
            "input.messages: the anthropic API needs a `user` message besides the system ones",
        ));
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content.into_value()}))
        .collect();
    let mut body = json!({
        "model": chat.model,
        "max_tokens": chat.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages,
    });
    if !system.is_empty() {
        body["system"] = json!(system.join("\n\n"));
    }
    if let Some(t) = chat.input.temperature {
        body["temperature"] = json!(t);
    }
    if !chat.input.tools.is_empty() {
        let tools: Vec<Value> = chat
            .input
            .tools
            .iter()
            .map(|t| {
                let mut tool = json!({"name": t.name, "input_schema": t.parameters()});
                if let Some(d) = &t.description {
                    tool["description"] = json!(d);
                }
                tool
            })
            .collect();
        body["tools"] = json!(tools);
    }
    if let Some(choice) = &chat.tool_choice {
        body["tool_choice"] = match choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
        };
    }
    Ok(body)
}

/// An assistant turn: its text, then a `tool_use` block per call.
fn assistant(m: &Message) -> Content {
    let calls = m.tool_calls.as_deref().unwrap_or_default();
    let text = m.text().filter(|t| !t.is_empty());
    if calls.is_empty() {
        return Content::Text(text.unwrap_or_default());
    }
    let mut blocks: Vec<Value> = text
        .map(|t| json!({"type": "text", "text": t}))
        .into_iter()
        .collect();
    for call in calls {
        // Checked by validate_messages: an object.
        let input = call_arguments(call).unwrap_or_default();
        blocks.push(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}));
    }
    Content::Blocks(blocks)
}

#[derive(Debug, Deserialize)]
struct Answer {
    model: Option<String>,
    #[serde(default)]
    content: Vec<Value>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: AnthropicUsage,
}

#[derive(Debug, Deserialize, Default)]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

/// The answer, normalised: text blocks joined, `tool_use` blocks as calls,
/// other blocks (thinking, server tools) left out.
pub(crate) fn reply(response: &Response) -> Result<Reply> {
    let answer: Answer = response.json()?;
    let u = &answer.usage;
    let write = u.cache_creation_input_tokens.unwrap_or(0);
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let prompt_tokens = u.input_tokens + write + read;
    let usage = Usage {
        prompt_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: prompt_tokens + u.output_tokens,
        cache_read_tokens: u.cache_read_input_tokens,
        cache_write_tokens: u.cache_creation_input_tokens,
    };
    let mut text: Option<String> = None;
    let mut tool_calls = Vec::new();
    for block in answer.content {
        match block["type"].as_str() {
            Some("text") => {
                text.get_or_insert_with(String::new)
                    .push_str(block["text"].as_str().unwrap_or_default());
            }
            Some("tool_use") => tool_calls.push(RawCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                name: block["name"].as_str().unwrap_or_default().to_owned(),
                arguments: Args::Value(block["input"].clone()),
            }),
            _ => {}
        }
    }
    let stop = answer.stop_reason.as_deref().map(|raw| match raw {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "other",
    });
    Ok(Reply {
        model: answer.model,
        text,
        refusal: None,
        tool_calls,
        raw_stop: answer.stop_reason,
        stop,
        usage,
    })
}
