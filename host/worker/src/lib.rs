//! The worker: runs workflows on top of the engine's decisions.
//!
//! A [`Handle`] ties the ports together: the store (source of truth), the queue
//! (hints: "step S of run R may run now"), the sandbox and the loaded
//! [`Connectors`]. Everything that changes a run goes the same way:
//!
//! 1. load the run and its steps from the store;
//! 2. let [`weft_engine::run::Plan`] decide (start, claim, complete, wake, ...);
//! 3. commit the decision in one store transaction, conditional on the run's
//!    `seq` (a lost race is recomputed);
//! 4. publish the tasks it made due, wake webhook waiters.
//!
//! [`Handle::serve`] consumes the queue (`concurrency` attempts at once) and runs
//! the sweeper, which re-enqueues due timers and lost tasks, times runs out and
//! fires schedules. After a crash nothing is lost: every step that may run has
//! its `due_at` in the store, and the sweeper finds it.
//!
//! ```text
//! let handle = weft_worker::Handle::new(parts);
//! let run = handle.start(&tenant, &workflow, Trigger::Manual, input).await?;
//! tokio::spawn(handle.clone().serve(shutdown));
//! let done = handle.wait(&tenant, &run.id, Duration::from_secs(5)).await?;
//! ```

mod active;
mod apply;
mod connectors;
mod credentials;
mod dead;
mod exec;
mod feed;
mod handoff;
pub mod ids;
mod inflight;
pub mod metrics;
mod notifications;
mod notify;
pub mod oauth;
mod options;
mod parked;
pub mod poll;
pub mod queue_trigger;
mod quota;
mod relay;
mod resolve;
mod runtime;
pub mod schedule;
mod serve;
mod signing;
mod slots;
mod state;
mod tenants;

pub use connectors::{Connectors, Entry};
pub use credentials::{
    AcceptedBinding, NewCredential, Resealed, reseal_credentials, unresealed_credentials,
};
pub use ids::{RandomIds, new_id, new_token, now_ms};
pub use notifications::{
    NotifyOptions, check_url as check_notify_url, new_secret as new_notify_secret,
    seal_secret as seal_notify_secret, sign as sign_notification,
};
pub use options::Options;
pub use quota::{QuotaUse, quota_use};
pub use resolve::Resolved;
pub use runtime::{Handle, Parts};
pub use slots::{SlotGrant, Slots};
pub use state::StoreState;
pub use tenants::{Seen, TenantView};

/// Why a worker operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run, workflow, step or credential does not exist for this tenant.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request does not apply to the record's state (e.g. resuming a step that does not wait).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The run's body does not match its workflow's `input_schema`: every
    /// problem, at its JSON pointer inside the body; no run was created.
    #[error("{}", weft_engine::input::summary(.0))]
    InvalidInput(Vec<weft_types::Problem>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] weft_store::Error),
    /// The queue failed.
    #[error("queue unavailable: {0}")]
    Queue(String),
    /// A hard quota of the tenant is reached (runs not yet finished).
    #[error("quota exceeded: {0}")]
    Quota(String),
    /// The vault failed (a key cannot be unwrapped).
    #[error("vault: {0}")]
    Vault(String),
    /// A stored credential's metadata (name, hosts, injection) does not match
    /// its seal: the row was changed outside Weft; it is not opened.
    #[error("{0}")]
    Tampered(String),
    /// A credential cannot be used until the user acts: an OAuth2 credential
    /// not yet authorized, or whose refresh token the provider refused (the
    /// message says what to do). A step failing for it fails `auth`.
    #[error("{0}")]
    Auth(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
