//! Queue triggers (`triggers.queue`, `docs/WORKFLOWS.md`, "Queue"): per
//! workflow, whether its consumer should run, which worker holds it (a
//! lease), and what the consumer last saw.
//!
//! A consumer is taken with [`QueueTriggerStore::queue_lease`]: a row is
//! held by one worker at a time (its `owner`) until `lease_until`, renewed
//! while the consumer runs; a worker that dies leaves the row free when the
//! lease lapses and another takes it. A tenant holds at most `cap` live
//! leases at once (the deployment's per-tenant consumer cap), checked in the
//! same write that takes the lease. The runs a message starts are written
//! by the ordinary [`Commit`](crate::Commit) (its `delivery` dedupes a
//! message id), not here.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One workflow's queue consumer row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueConsumer {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// Whether the workflow is active with a `triggers.queue` (a consumer
    /// should run).
    pub armed: bool,
    /// The worker holding the consumer; `None` when free.
    pub owner: Option<String>,
    /// Until when the owner holds it (ms since the epoch).
    pub lease_until: i64,
    /// What the consumer last reported.
    #[serde(flatten)]
    pub report: QueueReport,
}

/// What a consumer says about itself (the workflow's API answer shows it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueReport {
    /// Whether it is subscribed to the queue now.
    pub consuming: bool,
    /// When the last message arrived (ms since the epoch).
    pub last_message_at: Option<i64>,
    /// The last failure (connecting, or a message that could not become a
    /// run); `None` once connected again / after a run was accepted.
    pub last_error: Option<String>,
    /// Failures in a row (connects or messages).
    pub failures: u32,
}

/// The queue consumer rows.
#[async_trait]
pub trait QueueTriggerStore: Send + Sync {
    /// Creates the workflow's row if missing and arms or disarms it
    /// (disarming also marks it not consuming; its owner notices at its
    /// next renewal and stops).
    async fn queue_arm(&self, tenant: &str, workflow: &str, armed: bool) -> Result<()>;
    /// The workflow's row.
    async fn queue_consumer(&self, tenant: &str, workflow: &str) -> Result<Option<QueueConsumer>>;
    /// Armed rows nobody holds at `at` (no owner, or the lease lapsed) of
    /// tenants whose state is active.
    async fn free_queue_consumers(&self, at: i64, limit: u32) -> Result<Vec<QueueConsumer>>;
    /// Takes the row for `owner` until `until`, or renews it: `true` when
    /// `owner` holds it now; `false` when it is disarmed, another owner's
    /// lease is live at `at`, or (when `owner` does not already hold a live
    /// lease on it) the tenant's other rows hold `cap` live leases.
    async fn queue_lease(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        at: i64,
        until: i64,
        cap: u32,
    ) -> Result<bool>;
    /// Writes the consumer's report if `owner` still holds the row; `false`
    /// otherwise (nothing written).
    async fn queue_report(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        report: &QueueReport,
    ) -> Result<bool>;
    /// Lets go of the row if `owner` holds it (not consuming, free at once).
    async fn queue_release(&self, tenant: &str, workflow: &str, owner: &str) -> Result<()>;
}
