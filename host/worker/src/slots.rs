//! Per-tenant running-step slots: the port the worker takes a slot through
//! before it claims a step, so that one tenant cannot fill every worker. The
//! adapters (Redis, in-process) live in `weft-limits`; the composition root
//! wires one in. A step whose tenant is full is put back on the queue with a
//! delay (`weft_steps_deferred_total`), so the worker takes another tenant's.

use std::time::Duration;

/// Whether a slot was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotGrant {
    /// Run the step; release the slot when its attempt is committed.
    Granted,
    /// Another delivery of the same step attempt holds the slot (a duplicate
    /// task: the sweeper's, a redelivery): drop this one. It owns nothing, so
    /// it neither runs the step nor releases the slot; were the holder dead,
    /// the slot expires with its lease and the sweeper's next task takes it.
    Held,
    /// The tenant is at its limit: try again after this long.
    Full(Duration),
}

/// Slots of running steps, shared by every worker.
#[async_trait::async_trait]
pub trait Slots: Send + Sync {
    /// Takes slot `slot` of `tenant` for `ttl` (the step's lease: a crashed
    /// worker's slot comes back by itself) if fewer than `limit` are taken.
    /// Taking a slot already held answers [`SlotGrant::Held`]. A backend that cannot
    /// answer grants (fails open) and says so in its own metrics.
    async fn acquire(&self, tenant: &str, slot: &str, limit: u32, ttl: Duration) -> SlotGrant;
    /// Gives the slot back.
    async fn release(&self, tenant: &str, slot: &str);
}
