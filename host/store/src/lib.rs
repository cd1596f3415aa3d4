//! The store port: where runs, their steps and the attempt journal, workflows and
//! their versions, tenants and API keys, sealed credentials, schedules and plugin
//! state live. The database is the source of truth; the queue only carries hints.
//!
//! Every method takes the tenant (except the few lookups by an unguessable token
//! or for the background sweeper), and another tenant's id reads as missing.
//!
//! A run changes only through [`Store::commit`], which applies a [`Commit`]
//! atomically and only if the run's `seq` is still the one the change was computed
//! from (optimistic concurrency): a step's result and the scheduling of its
//! successors land together or not at all.
//!
//! Adapters: [`memory`] (tests, `weft run`), `weft-store-sqlite` (embedded default),
//! `weft-store-postgres` (planned). Each runs the suite in [`conformance`]
//! (feature `conformance`) unchanged:
//!
//! ```text
//! weft_store::conformance_tests!(#[tokio::test] fresh_store);
//! async fn fresh_store() -> std::sync::Arc<dyn weft_store::Store> { ... }
//! ```

#[cfg(feature = "conformance")]
pub mod conformance;
mod feed;
pub mod memory;
pub mod notifications;
pub mod oauth;
pub mod ops;
pub mod people;
pub mod polling;
mod port;
pub mod queue_trigger;
pub mod stats;
pub mod usage;

/// How stale a key's `last_used_at` may be before a call writes it again.
pub const KEY_TOUCH_MS: i64 = 60_000;

pub use feed::{RunEvent, RunFeed};
pub use port::{
    AuditEntry, Commit, Delivery, LastRun, OutboxEntry, Page, RunFilter, RunState, ScheduleAdvance,
    Store, WorkflowFilter,
};

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The record does not exist (or belongs to another tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change lost a race: what it was computed from moved on since it was
    /// read (the run's `seq`, a schedule tick, a workflow's version). The
    /// caller reloads and decides again.
    #[error("stale: {0}")]
    Stale(String),
    /// A unique value is taken (an id, a name, a token, a key prefix); the
    /// message names it for the user.
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// The backend failed (connection, I/O, corrupt row); the message has no secret.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An argument no record can have (a malformed digest); the message
    /// names it and says what is wrong. Checked before any I/O.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Stored bytes do not match the digest they are stored under (changed
    /// outside Weft, or torn); the message names the digest. Never retried:
    /// reading again returns the same bytes.
    #[error("corrupt: {0}")]
    Corrupt(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
