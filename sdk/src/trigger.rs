//! Polling triggers: a connector that finds new items (feed entries, issues,
//! records) for the host to start runs from (`interface trigger` in
//! `wit/plugin.wit`).
//!
//! Implement [`Trigger`] next to [`Connector`](crate::Connector) and export
//! both with `weft_sdk::export!(MyConnector, trigger)`. The host calls
//! [`Trigger::poll`] on each workflow's interval with the cursor the previous
//! poll returned, under the same limits, egress policy and credentials by
//! reference as an action; it starts one run per item whose [`PollItem::key`]
//! the workflow has not seen, and stores the next cursor in the same commit.
//! Return items oldest first; returning an item again is harmless (its key
//! is seen), missing one is not, so when unsure, return it.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::call::parse_json_text;
use crate::{Context, Error, Result};

/// One trigger a connector offers.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerDef {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) config_schema: Value,
    pub(crate) item_schema: Value,
}

impl TriggerDef {
    /// A trigger named `name` (what workflows write in `triggers.poll.trigger`).
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            config_schema: serde_json::json!({"type": "object"}),
            item_schema: serde_json::json!({}),
        }
    }

    /// JSON Schema of the trigger's config (default: any object).
    pub fn config_schema(mut self, schema: Value) -> Self {
        self.config_schema = schema;
        self
    }

    /// JSON Schema of one item's payload (the run's `trigger.body`).
    pub fn item_schema(mut self, schema: Value) -> Self {
        self.item_schema = schema;
        self
    }

    /// The trigger's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// One poll, handed to [`Trigger::poll`].
#[derive(Debug, Clone)]
pub struct Poll {
    context: Context,
    trigger: String,
    config: Value,
    cursor: Option<String>,
}

impl Poll {
    /// Build a poll by hand, e.g. to unit-test a trigger natively.
    pub fn new(
        context: Context,
        trigger: impl Into<String>,
        config: Value,
        cursor: Option<String>,
    ) -> Self {
        Self {
            context,
            trigger: trigger.into(),
            config,
            cursor,
        }
    }

    /// The trigger's name.
    pub fn trigger(&self) -> &str {
        &self.trigger
    }

    /// The cursor the previous poll returned (`None` on a workflow's first poll).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The config, deserialized; an error names the field.
    ///
    /// # Errors
    /// `invalid-input` naming the field that does not fit `T`.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T> {
        serde_path_to_error::deserialize(&self.config)
            .map_err(|e| Error::invalid_input(format!("config.{}: {}", e.path(), e.inner())))
    }

    /// The config as JSON.
    pub fn config_value(&self) -> &Value {
        &self.config
    }

    /// Facts about the poll (workflow id, deadline). `run_id` is empty.
    pub fn context(&self) -> &Context {
        &self.context
    }
}

/// One new item.
#[derive(Debug, Clone, PartialEq)]
pub struct PollItem {
    /// The dedupe key (a feed entry's guid, an issue's id): stable for the item.
    pub key: String,
    /// The run's `trigger.body`.
    pub payload: Value,
}

impl PollItem {
    /// An item with dedupe `key` and `payload`.
    pub fn new(key: impl Into<String>, payload: Value) -> Self {
        Self {
            key: key.into(),
            payload,
        }
    }
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PollResult {
    /// New items, oldest first.
    pub items: Vec<PollItem>,
    /// Where the next poll starts; `None` keeps the current cursor.
    pub next_cursor: Option<String>,
}

/// A connector's polling triggers.
pub trait Trigger: crate::Connector {
    /// The triggers offered. Must not use any host import.
    fn triggers() -> Vec<TriggerDef>;

    /// Look for new items of `poll.trigger()`.
    ///
    /// # Errors
    /// A classified [`Error`]: the host backs off and shows it on the workflow.
    /// Return [`Error::invalid_input`] for a trigger the connector does not offer.
    fn poll(poll: Poll) -> Result<PollResult>;
}

pub(crate) fn run_poll<C: Trigger>(
    context: Context,
    name: String,
    config: &str,
    cursor: Option<String>,
) -> Result<PollResult> {
    let config = parse_json_text("config", config)?;
    C::poll(Poll::new(context, name, config, cursor))
}
