//! Tool errors in the API's words: a tool that fails answers a result with
//! `isError: true` whose text is the API's error envelope, with the same code
//! and message the HTTP API gives for the same failure (`docs/MCP.md`,
//! "Errors"). Protocol errors (`-32602`) are kept for requests that name no
//! tool of this caller or carry no argument object.

use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::Value;
use weft_api::ApiError;

/// A tool error from a use case's error.
pub fn tool_error(e: weft_app::Error) -> CallToolResult {
    from_api(ApiError::from(e))
}

/// A tool error from an API error.
pub fn from_api(e: ApiError) -> CallToolResult {
    let body = e.into_body();
    let text = serde_json::to_string(&body).unwrap_or_else(|_| body.error.message.clone());
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// A tool error with `code` and `message` (`details` in the envelope when
/// given), for failures that are not a use case's: bad arguments, a run that
/// failed or did not answer in time.
pub fn tool_failure(
    code: &'static str,
    message: impl Into<String>,
    extra: Option<Value>,
) -> CallToolResult {
    let mut error = serde_json::json!({"code": code, "message": message.into()});
    if let (Some(Value::Object(extra)), Some(obj)) = (extra, error.as_object_mut()) {
        obj.extend(extra);
    }
    let text = serde_json::json!({ "error": error }).to_string();
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The protocol error of a tool this caller does not have: an unknown name,
/// another tenant's workflow, or a tool the caller's role or scopes do not
/// offer look the same.
pub fn unknown_tool(name: &str) -> ErrorData {
    let shown: String = name.chars().take(100).collect();
    let more = if shown.len() < name.len() { "…" } else { "" };
    ErrorData::invalid_params(
        format!("unknown tool `{shown}{more}`: tools/list shows the tools this API key can call"),
        None,
    )
}

/// A server-side failure outside any tool (the caller's identity missing).
pub fn internal(message: &str) -> ErrorData {
    ErrorData::internal_error(message.to_owned(), None)
}
