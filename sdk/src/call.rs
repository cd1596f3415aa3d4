//! One invocation of an action: its input, config and context.

use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, Result};

/// Facts about the step attempt being executed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    /// The workflow the step belongs to.
    pub workflow_id: String,
    /// The run being executed.
    pub run_id: String,
    /// The step within the workflow.
    pub step_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Stable across retries of the same step: pass it to remote APIs that
    /// support idempotency so a retried effect happens once.
    pub idempotency_key: String,
    /// Wall-clock deadline of this attempt, in milliseconds since the Unix epoch.
    pub deadline_unix_ms: u64,
}

impl Context {
    /// Milliseconds left until the deadline (0 when it has passed), measured
    /// with the guest's wall clock.
    pub fn remaining_ms(&self) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.deadline_unix_ms.saturating_sub(now)
    }
}

/// One call of an action, handed to [`Connector::invoke`](crate::Connector::invoke).
#[derive(Debug, Clone)]
pub struct Call {
    context: Context,
    action: String,
    input: Value,
    config: Value,
}

impl Call {
    /// Build a call by hand, e.g. to unit-test a connector natively.
    /// The export glue builds it from the host's arguments.
    pub fn new(context: Context, action: impl Into<String>, input: Value, config: Value) -> Self {
        Self {
            context,
            action: action.into(),
            input,
            config,
        }
    }

    /// The requested action's name.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// Facts about this step attempt.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The input as a JSON value (`null` when the host sent none).
    pub fn input_value(&self) -> &Value {
        &self.input
    }

    /// The config as a JSON value (`null` when the connector has none).
    pub fn config_value(&self) -> &Value {
        &self.config
    }

    /// Deserialize the input.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the
    /// offending field, e.g. ``input.messages[0]: missing field `role` ``.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T> {
        from_value("input", &self.input)
    }

    /// Deserialize the config. A missing (`null`) config is read as `{}`, so a
    /// config struct whose fields all have defaults works without any config.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the
    /// offending field, e.g. ``config.base_url: invalid type: integer `1`, expected a string``.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        if self.config.is_null() {
            return from_value("config", &Value::Object(Default::default()));
        }
        from_value("config", &self.config)
    }
}

/// Deserialize `value`, reporting the failing field as `{root}.{path}`.
pub(crate) fn from_value<T: DeserializeOwned>(root: &str, value: &Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Error::invalid_input(format!("{root}: {inner}"))
        } else {
            Error::invalid_input(format!("{root}.{path}: {inner}"))
        }
    })
}

/// Parse the JSON text the host passed for `what` (`input` or `config`).
/// Empty text means `null`.
pub(crate) fn parse_json_text(what: &str, text: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text)
        .map_err(|e| Error::invalid_input(format!("{what} is not valid JSON: {e}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde::Deserialize;
    use serde_json::json;

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    struct Msg {
        role: String,
        content: String,
    }

    #[allow(dead_code)]
    #[derive(Deserialize, Debug)]
    struct Input {
        messages: Vec<Msg>,
    }

    #[derive(Deserialize, Debug, Default)]
    #[serde(default)]
    struct Config {
        base_url: Option<String>,
    }

    fn call(input: Value, config: Value) -> Call {
        Call::new(Context::default(), "chat", input, config)
    }

    #[test]
    fn input_error_names_field_path() {
        let c = call(json!({"messages": [{"content": "hi"}]}), Value::Null);
        let e = c.input::<Input>().unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(e.message, "input.messages[0]: missing field `role`");

        let c = call(
            json!({"messages": [{"role": 1, "content": "hi"}]}),
            Value::Null,
        );
        let e = c.input::<Input>().unwrap_err();
        assert!(
            e.message
                .starts_with("input.messages[0].role: invalid type: integer `1`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn root_errors_say_input() {
        let e = call(json!(3), Value::Null).input::<Input>().unwrap_err();
        assert!(
            e.message.starts_with("input: invalid type: integer `3`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn null_config_reads_as_empty_object() {
        let c = call(json!({}), Value::Null);
        assert_eq!(c.config::<Config>().unwrap().base_url, None);
        let c = call(json!({}), json!({"base_url": 1}));
        let e = c.config::<Config>().unwrap_err();
        assert!(
            e.message.starts_with("config.base_url: invalid type"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bad_json_text_is_invalid_input() {
        let e = parse_json_text("input", "{nope").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(
            e.message
                .starts_with("input is not valid JSON: key must be a string at line 1 column 2"),
            "{}",
            e.message
        );
        assert_eq!(parse_json_text("config", "  ").unwrap(), Value::Null);
    }
}
