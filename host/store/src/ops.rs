//! The operator's store methods (`docs/TENANCY.md`, sections 1, 2 and 7):
//! operator keys, a tenant's name, state and overrides, the operator audit
//! log, erasing a deleted tenant and pruning old runs and audit rows, each in
//! bounded batches so no call holds the database for long.

use crate::{AuditEntry, Result};
use async_trait::async_trait;
use weft_types::{OperatorKey, Tenant};

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

    /// Writes a tenant's name, state and limits (the id, key and creation
    /// time never change). # Errors: `NotFound`.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<()>;

    /// Appends to the operator audit log (`tenant_id`: the tenant acted on,
    /// or empty).
    async fn operator_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The operator audit log, newest first.
    async fn list_operator_audit(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Deletes up to `limit` rows of the tenant from one table (the first, in
    /// a fixed order, that still has some), except [`KEPT_ON_ERASE`]; how
    /// many. When none is left, deletes the tenant row itself and answers 0.
    async fn erase_tenant(&self, tenant: &str, limit: u32) -> Result<u64>;

    /// Deletes up to `limit` of the tenant's runs that ended (finished) before
    /// `ended_before`, with their steps and attempts (and the attempts' logs)
    /// and their notification deliveries; how many runs.
    async fn prune_runs(&self, tenant: &str, ended_before: i64, limit: u32) -> Result<u64>;

    /// Deletes up to `limit` audit rows (any tenant) written before `before`;
    /// how many.
    async fn prune_audit(&self, before: i64, limit: u32) -> Result<u64>;
}
