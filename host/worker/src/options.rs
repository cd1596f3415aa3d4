//! Worker settings: plain data with defaults. This struct is the `[worker]`
//! section of the binary's configuration file, as it is.

use serde::{Deserialize, Serialize};

/// How the worker runs (`[worker]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Step attempts running at once in this process (also the queue prefetch).
    /// Older name: the top-level `concurrency`.
    pub concurrency: u16,
    /// Attempt timeout when a step sets none, in milliseconds (at most
    /// `max_step_timeout_ms`).
    pub default_step_timeout_ms: u64,
    /// Longest `timeout_ms` a step may set (the deadline of one attempt), in
    /// milliseconds: a longer one is refused when a workflow is saved and
    /// clamped when an older version runs.
    pub max_step_timeout_ms: u64,
    /// Longest `timeout_ms` a workflow may set (the deadline of a run), in
    /// milliseconds; refused at save, clamped at run time, as above.
    pub max_run_timeout_ms: u64,
    /// Widest replay window a signed webhook may set
    /// (`triggers.webhook.signature.tolerance_ms`), in milliseconds; refused
    /// at save, clamped at run time.
    pub max_webhook_tolerance_ms: u64,
    /// Shortest interval a polling trigger may set
    /// (`triggers.poll.interval_ms`), in milliseconds (at least 1 000): a
    /// shorter one is refused at save and raised at run time.
    pub min_poll_interval_ms: u64,
    /// How long a webhook delivery id is remembered (a repeat within it
    /// starts no second run), in milliseconds; expired ids are pruned by the
    /// sweeper.
    pub webhook_delivery_retention_ms: u64,
    /// Queue-trigger consumers (`triggers.queue`) one tenant may run at
    /// once across all workers; its further ones wait for a place.
    pub max_queue_consumers_per_tenant: u32,
    /// Added to a step's timeout to form its lease, in milliseconds.
    pub lease_grace_ms: u64,
    /// How often a running attempt checks that its run has not ended in
    /// another process (cancelled through another API process, failed, timed
    /// out), to stop its plugin; in milliseconds (0: never; a run ended in
    /// this process stops its attempts at once).
    pub lease_check_ms: u64,
    /// How often the sweeper looks for due timers, lost tasks, overdue runs and
    /// schedules, in milliseconds.
    pub sweep_interval_ms: u64,
    /// A step due this long ago without progress is re-enqueued (its task was
    /// lost), in milliseconds. Timers (retries, waits) are re-enqueued at once.
    pub stale_after_ms: u64,
    /// Workflow definitions kept parsed in memory.
    pub definition_cache: usize,
    /// How often the worker re-reads the registry's takedowns (a taken-down
    /// digest is refused from then on), in milliseconds (0: only at start).
    /// A takedown made in this process applies at once.
    pub takedown_refresh_ms: u64,
    /// The most bytes a tenant may have uploaded to the registry that no
    /// published version uses (refused beyond: `quota_exceeded`).
    pub unpublished_quota_bytes: u64,
    /// Uploads no version uses are deleted this long after their last
    /// upload, in milliseconds (with the takedown re-read).
    pub unpublished_retention_ms: u64,
    /// Write tasks to the store's outbox in the decision's transaction and let
    /// the relay publish them (distributed mode), instead of publishing after
    /// the commit (embedded mode). Not configuration: the binary sets it from
    /// the queue it runs.
    #[serde(skip)]
    pub outbox: bool,
    /// At start, publish every step the store holds as due (the in-process
    /// queue forgets everything on exit; a durable broker does not). Not
    /// configuration: the binary sets it from the queue it runs.
    #[serde(skip)]
    pub recover_on_start: bool,
    /// On shutdown (SIGTERM), attempts in flight get this long to finish
    /// before they are handed back, in milliseconds. Older name:
    /// `shutdown.grace_ms`.
    pub shutdown_grace_ms: u64,
    /// Steps of one tenant running at once across all workers (needs
    /// [`Parts::slots`](crate::Parts::slots): in Redis, or in memory in
    /// embedded mode; 0: unlimited). Below `concurrency`, a flooding tenant
    /// always leaves workers to the others. Older name:
    /// `limits.max_running_steps`.
    pub max_running_steps: u32,
    /// Runs of one tenant not yet finished; starting one more is refused
    /// (0: unlimited). Counted in the store. Older name:
    /// `limits.max_active_runs`.
    pub max_active_runs: u64,
    /// How long a tenant's usage quotas and counters, and its count of
    /// unfinished runs (while under half of `max_active_runs`, with the runs
    /// admitted since added), are reused by the check at run start, in
    /// milliseconds (0 reads them at every start).
    pub quota_cache_ms: u64,
    /// How long a tenant's state and overrides (`limits`) are reused, per
    /// process, in milliseconds: an operator's change applies within this
    /// long everywhere (0: read at every use).
    pub tenant_cache_ms: u64,
    /// How long a deleted tenant can still be resumed before the sweeper
    /// erases its rows, in milliseconds (`docs/TENANCY.md`, section 2).
    pub tenant_erase_grace_ms: u64,
    /// Days an ended run is kept when its tenant sets no
    /// `limits.run_retention_days`; 0 keeps runs forever (section 7).
    pub run_retention_days: u32,
    /// How often the operator's sweeper erases deleted tenants and prunes old
    /// runs and audit rows, in milliseconds (0: never).
    pub ops_sweep_ms: u64,
    /// Rows erased, runs pruned or audit rows pruned per store call of the
    /// operator's sweeper (a round takes batches while they come back full,
    /// for up to 2 s).
    pub ops_sweep_batch: u32,
    /// `[worker.limits]`: what one decision of a run may render and copy
    /// (`render_bytes`, `render_nodes`); a step over it fails `render_limit`.
    pub limits: weft_engine::RunLimits,
    /// `[worker.notifications]`: delivery of notification webhooks
    /// (`docs/TENANCY.md`, section 6).
    pub notifications: crate::NotifyOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 64,
            default_step_timeout_ms: 30_000,
            max_step_timeout_ms: weft_engine::MAX_STEP_TIMEOUT_MS,
            max_run_timeout_ms: weft_engine::MAX_RUN_TIMEOUT_MS,
            max_webhook_tolerance_ms: weft_engine::MAX_WEBHOOK_TOLERANCE_MS,
            min_poll_interval_ms: weft_engine::validate::MIN_POLL_INTERVAL_MS,
            webhook_delivery_retention_ms: 24 * 3_600_000,
            max_queue_consumers_per_tenant: 10,
            lease_grace_ms: 5_000,
            lease_check_ms: 1_000,
            quota_cache_ms: 5_000,
            tenant_cache_ms: 5_000,
            sweep_interval_ms: 1_000,
            stale_after_ms: 10_000,
            definition_cache: 1_024,
            takedown_refresh_ms: 10_000,
            unpublished_quota_bytes: 256 * 1024 * 1024,
            unpublished_retention_ms: 24 * 3_600 * 1_000,
            outbox: false,
            recover_on_start: true,
            shutdown_grace_ms: 30_000,
            max_running_steps: 32,
            max_active_runs: 100_000,
            tenant_erase_grace_ms: 7 * 24 * 3_600_000,
            run_retention_days: 30,
            ops_sweep_ms: 60_000,
            ops_sweep_batch: 500,
            limits: weft_engine::RunLimits::default(),
            notifications: crate::NotifyOptions::default(),
        }
    }
}

impl Options {
    /// The definition limits with this deployment's time caps: what a saved
    /// workflow is validated against and a stored one clamped to.
    pub fn definition_limits(&self) -> weft_engine::DefinitionLimits {
        weft_engine::DefinitionLimits {
            max_step_timeout_ms: self.max_step_timeout_ms,
            max_run_timeout_ms: self.max_run_timeout_ms,
            max_webhook_tolerance_ms: self.max_webhook_tolerance_ms,
            min_poll_interval_ms: self.min_poll_interval_ms,
            ..weft_engine::DefinitionLimits::default()
        }
    }

    /// Refuses settings that would undo a promise of another: a delivery id
    /// must be remembered as long as a signed delivery can be replayed, which
    /// is twice `max_webhook_tolerance_ms` (the signed timestamp may be that far
    /// from the clock either way), or a replay inside the window starts a
    /// second run (L3; 0 would turn dedupe off).
    ///
    /// # Errors
    /// What is wrong, naming both options.
    pub fn check(&self) -> Result<(), String> {
        let window = self.max_webhook_tolerance_ms.saturating_mul(2).max(1);
        if self.webhook_delivery_retention_ms < window {
            return Err(format!(
                "worker.webhook_delivery_retention_ms ({}) must be at least twice \
                 worker.max_webhook_tolerance_ms ({}), i.e. {window}: a signed webhook \
                 delivery can be replayed for that long and its id must still be remembered",
                self.webhook_delivery_retention_ms, self.max_webhook_tolerance_ms
            ));
        }
        Ok(())
    }

    /// The timeout of an attempt whose step sets `step` (`None`: the
    /// default), capped at `max_step_timeout_ms`, in milliseconds.
    pub fn step_timeout_ms(&self, step: Option<u64>) -> u64 {
        step.unwrap_or(self.default_step_timeout_ms)
            .min(self.max_step_timeout_ms)
    }
}
