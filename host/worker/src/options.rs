//! Worker settings: plain data with defaults.

use serde::{Deserialize, Serialize};

/// How the worker runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Step attempts running at once in this process (also the queue prefetch).
    pub concurrency: u16,
    /// Attempt timeout when a step sets none, in milliseconds.
    pub default_step_timeout_ms: u64,
    /// Added to a step's timeout to form its lease, in milliseconds.
    pub lease_grace_ms: u64,
    /// How often the sweeper looks for due timers, lost tasks, overdue runs and
    /// schedules, in milliseconds.
    pub sweep_interval_ms: u64,
    /// A step due this long ago without progress is re-enqueued (its task was
    /// lost), in milliseconds. Timers (retries, waits) are re-enqueued at once.
    pub stale_after_ms: u64,
    /// Workflow definitions kept parsed in memory.
    pub definition_cache: usize,
    /// Write tasks to the store's outbox in the decision's transaction and let
    /// the relay publish them (distributed mode), instead of publishing after
    /// the commit (embedded mode).
    pub outbox: bool,
    /// At start, publish every step the store holds as due (the in-process
    /// queue forgets everything on exit; a durable broker does not).
    pub recover_on_start: bool,
    /// On shutdown, attempts in flight get this long to finish, in milliseconds.
    pub grace_ms: u64,
    /// Steps of one tenant running at once across all workers (needs
    /// [`Parts::slots`](crate::Parts::slots); 0: unlimited).
    pub max_running_steps: u32,
    /// Runs of one tenant not yet finished; starting one more is refused
    /// (0: unlimited). Counted in the store.
    pub max_active_runs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 64,
            default_step_timeout_ms: 30_000,
            lease_grace_ms: 5_000,
            sweep_interval_ms: 1_000,
            stale_after_ms: 10_000,
            definition_cache: 1_024,
            outbox: false,
            recover_on_start: true,
            grace_ms: 30_000,
            max_running_steps: 0,
            max_active_runs: 0,
        }
    }
}
