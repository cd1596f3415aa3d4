//! What travels through the queue: a [`Task`] naming one step attempt, and the
//! [`MessageId`] the queue gives it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// "Step `step_key` of run `run_id` (tenant `tenant_id`), attempt `attempt`, may run now."
///
/// A task is a *hint*, not the step itself: the database holds the step's input and
/// state, and a worker that receives a task re-reads the step and takes its lease
/// before running it (see `docs/ENGINE.md`, "Delivery and leases"). The payload is
/// for small routing facts only (at most [`Task::MAX_PAYLOAD_BYTES`]); it must
/// never carry a secret, since dead letters are shown to operators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// The tenant that owns the run.
    pub tenant_id: String,
    /// The run the step belongs to.
    pub run_id: String,
    /// The step within the run (node id plus loop index path).
    pub step_key: String,
    /// The attempt this task asks for; 1 for the first.
    pub attempt: u32,
    /// Opaque bytes for the consumer, at most [`Task::MAX_PAYLOAD_BYTES`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payload: Vec<u8>,
}

impl Task {
    /// The largest payload [`Queue::publish`](crate::Queue::publish) accepts.
    pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024;

    /// A task with an empty payload.
    pub fn new(
        tenant_id: impl Into<String>,
        run_id: impl Into<String>,
        step_key: impl Into<String>,
        attempt: u32,
    ) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            run_id: run_id.into(),
            step_key: step_key.into(),
            attempt,
            payload: Vec::new(),
        }
    }

    /// The same task carrying `payload`.
    #[must_use]
    pub fn with_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.payload = payload.into();
        self
    }

    /// Refuses a payload over [`Task::MAX_PAYLOAD_BYTES`]. Adapters call this in
    /// `publish` before anything is enqueued.
    ///
    /// # Errors
    ///
    /// [`Error::PayloadTooLarge`](crate::Error::PayloadTooLarge).
    pub fn check(&self) -> crate::Result<()> {
        if self.payload.len() > Self::MAX_PAYLOAD_BYTES {
            return Err(crate::Error::PayloadTooLarge {
                size: self.payload.len(),
                limit: Self::MAX_PAYLOAD_BYTES,
            });
        }
        Ok(())
    }
}

/// The queue's name for one published message. It stays the same across
/// redeliveries and across a dead-letter [`redrive`](crate::Queue::redrive), so
/// it can be logged and used to pick a dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// Wraps an adapter's id (a broker `message-id`, a counter, ...).
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
