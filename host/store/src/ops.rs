//! The operator's store methods (`docs/TENANCY.md`, sections 1, 2 and 7):
//! operator keys, a tenant's name, state and overrides, the operator audit
//! log, erasing a deleted tenant and pruning old runs and audit rows, each in
//! bounded batches so no call holds the database for long.

use crate::{AuditEntry, Error, Result};
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use weft_types::{OperatorKey, TenantLimits, TenantState};

/// The tables `erase_tenant` leaves alone: the registry's publishers, their
/// keys and published packages stay, since other tenants' installs pin them
/// (`docs/TENANCY.md`, section 2, "Deleting"). Everything else with a
/// `tenant_id` is erased.
pub const KEPT_ON_ERASE: &[&str] = &["registry_publishers", "operator_audit"];

/// The operator's methods; every adapter implements them, and the conformance
/// suite runs them on each.
#[async_trait]
pub trait OpsStore: Send + Sync {
    /// Stores an operator key. # Errors: `Duplicate` when the id or prefix is taken.
    async fn create_operator_key(&self, key: &OperatorKey) -> Result<()>;
    /// Finds an operator key by its public prefix.
    async fn operator_key_by_prefix(&self, prefix: &str) -> Result<Option<OperatorKey>>;
    /// Every operator key, oldest first.
    async fn list_operator_keys(&self) -> Result<Vec<OperatorKey>>;
    /// Revokes an operator key at `at` (a revoked key stays revoked at its
    /// first time). # Errors: `NotFound`.
    async fn revoke_operator_key(&self, id: &str, at: i64) -> Result<()>;

    /// Moves a tenant from state `from` to `to`, only while its state is
    /// still exactly `from` (compare-and-set: a change computed from a stale
    /// read never lands). Which moves are allowed is the caller's rule.
    /// # Errors: `NotFound`; `Stale` naming the state it is in when that is
    /// no longer `from`.
    async fn set_tenant_state(&self, id: &str, from: &TenantState, to: &TenantState) -> Result<()>;

    /// Writes a tenant's name and/or limits (`None`: left as is), never its
    /// state. # Errors: `NotFound`; `Stale` when the tenant is being erased.
    async fn update_tenant_settings(
        &self,
        id: &str,
        name: Option<&str>,
        limits: Option<&TenantLimits>,
    ) -> Result<()>;

    /// Takes the operator's sweeper lock, held until the answer is released
    /// or dropped, or answers `None` when another holder has it: one sweeper
    /// round at a time per deployment (PostgreSQL: a session advisory lock,
    /// released with its connection even when the process dies; memory and
    /// SQLite: per store, one process).
    async fn lock_sweeper(&self) -> Result<Option<SweepLock>>;

    /// Appends to the operator audit log (`tenant_id`: the tenant acted on,
    /// or empty).
    async fn operator_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The operator audit log, newest first.
    async fn list_operator_audit(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Deletes up to `limit` rows of the tenant from one table (the first, in
    /// a fixed order, that still has some), except [`KEPT_ON_ERASE`]; how
    /// many. First come the tenant's members who belong to no other tenant:
    /// up to `limit` users with their sessions, links and login failures (a
    /// member of another tenant keeps the account; only the membership goes
    /// with the tenant's rows). When none is left, deletes the tenant row
    /// itself and answers 0.
    async fn erase_tenant(&self, tenant: &str, limit: u32) -> Result<u64>;

    /// Deletes up to `limit` of the tenant's runs that ended (finished) before
    /// `ended_before`, with their steps and attempts (and the attempts' logs)
    /// and their notification deliveries; how many runs.
    async fn prune_runs(&self, tenant: &str, ended_before: i64, limit: u32) -> Result<u64>;

    /// Deletes up to `limit` audit rows (any tenant) written before `before`;
    /// how many.
    async fn prune_audit(&self, before: i64, limit: u32) -> Result<u64>;
}

/// What an adapter holds while the sweeper lock is taken.
#[async_trait]
pub trait Held: Send + Sync {
    /// Gives the lock back.
    async fn release(self: Box<Self>);
}

/// The operator's sweeper lock ([`OpsStore::lock_sweeper`]): released by
/// [`SweepLock::release`], or when dropped.
pub struct SweepLock(Box<dyn Held>);

impl SweepLock {
    /// Wraps what the adapter holds.
    pub fn new(held: impl Held + 'static) -> Self {
        Self(Box::new(held))
    }

    /// A lock held in this process: `flag` set while taken; `None` when it
    /// already is.
    pub fn local(flag: &Arc<AtomicBool>) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Self::new(Local(Arc::clone(flag))))
    }

    /// Gives the lock back.
    pub async fn release(self) {
        self.0.release().await;
    }
}

impl std::fmt::Debug for SweepLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SweepLock")
    }
}

struct Local(Arc<AtomicBool>);

impl Drop for Local {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[async_trait]
impl Held for Local {
    async fn release(self: Box<Self>) {}
}

/// The `Stale` answer of [`OpsStore::set_tenant_state`] when the tenant is in
/// `current`, not the state the change was computed from.
pub fn moved(id: &str, current: &TenantState) -> Error {
    Error::Stale(format!(
        "tenant {id} is {} now: read it again and retry",
        current.name()
    ))
}

/// The `Stale` answer of [`OpsStore::update_tenant_settings`] on a tenant
/// being erased.
pub fn erasing(id: &str) -> Error {
    Error::Stale(format!("tenant {id} is erasing: it cannot be changed"))
}
