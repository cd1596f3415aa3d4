//! The caller's own tenant (`GET /v1/tenant`): its state, its overrides and
//! the limits and quotas in force for it, with what it has used of them, so
//! a console can show usage against quotas. The values are the ones the
//! server enforces: the tenant's overrides over the deployment's settings,
//! read the way each check reads them.

use crate::{Actor, App, Error, Result};
use weft_types::{Role, Tenant};
use weft_worker::{QuotaUse, now_ms, quota_use};

/// The caller's tenant and what applies to it.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnTenant {
    /// The tenant row: id, name, state and its overrides (`limits`).
    pub tenant: Tenant,
    /// Steps of the tenant running at once; 0: no limit.
    pub max_running_steps: u32,
    /// Runs of the tenant not yet ended; 0: no limit.
    pub max_active_runs: u64,
    /// Its runs not ended now.
    pub active_runs: u64,
    /// The largest component it may upload, publish or install (bytes).
    pub component_bytes: u64,
    /// Days an ended run is kept; 0: forever.
    pub run_retention_days: u32,
    /// What it used of its quotas (the quotas are `tenant.limits.quotas`).
    pub used: QuotaUse,
}

impl App {
    /// The caller's tenant with the limits and quotas in force for it and
    /// what it has used of them. Viewers and up. The tenant row and the
    /// counters are read from the store, not from a cache.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; store failures.
    pub async fn own_tenant(&self, actor: &Actor) -> Result<OwnTenant> {
        actor.require(Role::Viewer)?;
        let tenant = self
            .store()
            .get_tenant(&actor.tenant_id)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let worker = self.handle.options();
        let l = &tenant.limits;
        let deployment_bytes = self.handle.sandbox().options().engine.component_bytes as u64;
        let now = now_ms();
        Ok(OwnTenant {
            max_running_steps: l.max_running_steps.unwrap_or(worker.max_running_steps),
            max_active_runs: l.max_active_runs.unwrap_or(worker.max_active_runs),
            active_runs: self.store().active_runs(&actor.tenant_id).await?,
            // An override lowers the deployment's maximum, never raises it
            // (`check_component_size`).
            component_bytes: l
                .component_bytes
                .map_or(deployment_bytes, |b| b.min(deployment_bytes)),
            run_retention_days: l.run_retention_days.unwrap_or(worker.run_retention_days),
            used: quota_use(&**self.store(), &actor.tenant_id, now).await?,
            tenant,
        })
    }
}
