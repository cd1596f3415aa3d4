//! Running one poll of a connector's trigger (`weft:plugin/trigger.poll`):
//! the same fresh instance, limits, deadline, cancellation, egress policy and
//! credentials by reference as [`Sandbox::invoke`]; what it returns is checked
//! (size, JSON, keys) and scrubbed of the granted secrets like an output.

use crate::{Plugin, Sandbox, StepLimits, grants::Grants, host::Phase};
use serde::Serialize;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use weft_types::{ErrorKind, Failure, LogRecord, Reason, StepContext};

/// The longest dedupe key a poll item may have, in bytes.
pub const MAX_POLL_KEY: usize = 512;
/// The most items one poll may return.
pub const MAX_POLL_ITEMS: usize = 1_000;
/// The longest cursor a poll may return, in bytes.
pub const MAX_POLL_CURSOR: usize = 16 * 1024;

/// One poll to run.
#[derive(Debug, Clone)]
pub struct PollCall {
    /// The trigger (one of the plugin's `describe-triggers`).
    pub trigger: String,
    /// Config, as JSON text.
    pub config: String,
    /// The cursor the previous poll returned.
    pub cursor: Option<String>,
    /// The workflow (`run_id` and `step_id` name the poll, not a run).
    pub context: StepContext,
    /// What the tenant grants the workflow's trigger.
    pub grants: Grants,
    /// The limits of this poll.
    pub limits: StepLimits,
    /// Cancelling this stops the plugin promptly.
    pub cancel: Option<CancellationToken>,
}

/// What a poll found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Polled {
    /// `(key, payload)`, in the connector's order (oldest first).
    pub items: Vec<(String, serde_json::Value)>,
    /// The next cursor; `None` keeps the current one.
    pub next_cursor: Option<String>,
}

/// What came of a poll: the items, or why there are none; usage and logs.
#[derive(Debug, Clone, Serialize)]
pub struct PollOutcome {
    /// The items and the next cursor, or why there are none.
    pub result: Result<Polled, Failure>,
    /// Resources used.
    pub usage: crate::Usage,
    /// Log records, bounded.
    pub logs: Vec<LogRecord>,
}

impl Sandbox {
    /// Runs one poll of `call.trigger` in a fresh instance of `plugin`.
    ///
    /// Never fails as a Rust error: every failure is in [`PollOutcome::result`].
    pub async fn poll(&self, plugin: &Plugin, call: PollCall) -> PollOutcome {
        let started = Instant::now();
        let PollCall {
            trigger,
            config,
            cursor,
            context,
            grants,
            limits,
            cancel,
        } = call;
        let early = |failure: Failure| PollOutcome {
            result: Err(failure),
            usage: crate::Usage::default(),
            logs: Vec::new(),
        };
        let Some(indices) = plugin.trigger.as_ref() else {
            return early(Failure::new(
                ErrorKind::InvalidInput,
                format!(
                    "connector `{}` offers no triggers (it does not export weft:plugin/trigger)",
                    plugin.manifest.name
                ),
            ));
        };
        if plugin.manifest.trigger(&trigger).is_none() {
            let offered: Vec<&str> = plugin
                .manifest
                .triggers
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            return early(Failure::new(
                ErrorKind::InvalidInput,
                format!(
                    "connector `{}` has no trigger `{trigger}` (it offers: {})",
                    plugin.manifest.name,
                    offered.join(", ")
                ),
            ));
        }
        let size = config.len() + cursor.as_ref().map_or(0, String::len);
        if size > limits.input_bytes {
            return early(Failure::of(
                Reason::InputTooLarge,
                format!(
                    "config and cursor are {size} bytes; the limit is {}",
                    limits.input_bytes
                ),
            ));
        }
        let limits = StepLimits {
            memory_bytes: limits
                .memory_bytes
                .min(self.inner.options.engine.max_memory_bytes),
            ..limits
        };
        let mut store =
            self.new_store(Some(plugin.manifest.clone()), Phase::Invoke, grants, limits);
        let deadline = store.data().deadline;
        let wit_ctx = weft_world::context_to_wit(&context, crate::invoke::unix_ms(deadline));
        let run = async {
            let instance = plugin
                .pre
                .instance_pre()
                .instantiate_async(&mut store)
                .await?;
            let guest = indices.load(&mut store, &instance)?;
            let r = guest
                .call_poll(&mut store, &wit_ctx, &trigger, &config, cursor.as_deref())
                .await?;
            // As JSON text, so the output's checks (size, JSON, secrets) apply.
            Ok(r.map(|found| as_json_text(&found)))
        };
        let raw = crate::invoke::bounded(run, deadline, cancel.as_ref()).await;
        let result = self
            .classify(raw, &mut store, limits)
            .and_then(|value| polled(value, &plugin.manifest.name));
        let state = store.data_mut();
        let (logs, log_bytes) = state.logs.finish();
        let mut usage = state.usage;
        usage.log_bytes = log_bytes;
        usage.wall_time_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        PollOutcome {
            result,
            usage,
            logs,
        }
    }
}

/// `{"items": [{"key": …, "payload": <payload text>}], "next_cursor": …}`;
/// a payload that is not JSON makes the whole text fail to parse, which the
/// output check reports.
fn as_json_text(r: &weft_world::wit_trigger::PollResult) -> String {
    let mut out = String::from("{\"items\":[");
    for (i, item) in r.items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        out.push_str(&serde_json::Value::from(item.key.as_str()).to_string());
        out.push_str(",\"payload\":");
        out.push_str(if item.payload.trim().is_empty() {
            "null"
        } else {
            &item.payload
        });
        out.push('}');
    }
    out.push_str("],\"next_cursor\":");
    out.push_str(
        &r.next_cursor
            .as_deref()
            .map_or(serde_json::Value::Null, serde_json::Value::from)
            .to_string(),
    );
    out.push('}');
    out
}

fn polled(v: serde_json::Value, connector: &str) -> Result<Polled, Failure> {
    let bad = |m: String| Failure::of(Reason::InvalidOutput, m);
    let next_cursor = v
        .get("next_cursor")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    if next_cursor
        .as_ref()
        .is_some_and(|c| c.len() > MAX_POLL_CURSOR)
    {
        return Err(bad(format!(
            "connector `{connector}` returned a cursor over {MAX_POLL_CURSOR} bytes"
        )));
    }
    let list = v
        .get("items")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.len() > MAX_POLL_ITEMS {
        return Err(bad(format!(
            "connector `{connector}` returned {} items in one poll; the limit is {MAX_POLL_ITEMS}",
            list.len()
        )));
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, item) in list.into_iter().enumerate() {
        let key = item
            .get("key")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if key.is_empty() || key.len() > MAX_POLL_KEY {
            return Err(bad(format!(
                "connector `{connector}`: item {i} has a key of {} bytes (1 to {MAX_POLL_KEY})",
                key.len()
            )));
        }
        let payload = item.get("payload").cloned().unwrap_or_default();
        items.push((key, payload));
    }
    Ok(Polled { items, next_cursor })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn results_become_json_and_back() {
        let r = weft_world::wit_trigger::PollResult {
            items: vec![weft_world::wit_trigger::PollItem {
                key: "a\"b".into(),
                payload: "{\"x\":1}".into(),
            }],
            next_cursor: Some("c".into()),
        };
        let v: serde_json::Value = serde_json::from_str(&as_json_text(&r)).unwrap();
        let p = polled(v, "t").unwrap();
        assert_eq!(p.items, vec![("a\"b".into(), serde_json::json!({"x": 1}))]);
        assert_eq!(p.next_cursor.as_deref(), Some("c"));
    }

    #[test]
    fn an_empty_key_is_refused() {
        let v = serde_json::json!({"items": [{"key": "", "payload": 1}], "next_cursor": null});
        let e = polled(v, "t").unwrap_err();
        assert_eq!(e.reason, Some(Reason::InvalidOutput));
        assert!(e.message.contains("item 0"), "{}", e.message);
    }
}
