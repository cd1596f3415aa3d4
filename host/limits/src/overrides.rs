//! Per-tenant rates (`docs/TENANCY.md`, section 2): where an adapter reads a
//! tenant's overrides of the deployment's [`Rates`] at each check. The
//! binary hands both adapters the worker's [`TenantView`] (the tenant row,
//! re-read every `worker.tenant_cache_ms`), so an operator's `PATCH` of
//! `limits.api_rate` applies within that long on every process. The buckets'
//! algorithm and the Redis scripts do not change: the rate and burst they are
//! given are the tenant's.

use crate::Rates;
use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use weft_worker::TenantView;

/// Where a tenant's rates come from.
#[async_trait::async_trait]
pub trait Overrides: Send + Sync {
    /// `tenant`'s rates: `deployment` with the tenant's overrides applied.
    async fn rates(&self, tenant: &str, deployment: Rates) -> Rates;
}

#[async_trait::async_trait]
impl Overrides for TenantView {
    async fn rates(&self, tenant: &str, deployment: Rates) -> Rates {
        let l = self.limits(tenant).await;
        Rates {
            api_rate: l.api_rate.unwrap_or(deployment.api_rate),
            api_burst: l.api_burst.unwrap_or(deployment.api_burst),
            webhook_rate: l.webhook_rate.unwrap_or(deployment.webhook_rate),
            webhook_burst: l.webhook_burst.unwrap_or(deployment.webhook_burst),
        }
    }
}

/// A table of tenants' whole rates (a tenant not in it: the deployment's),
/// which can be changed while in use.
#[async_trait::async_trait]
impl Overrides for RwLock<HashMap<String, Rates>> {
    async fn rates(&self, tenant: &str, deployment: Rates) -> Rates {
        self.read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .copied()
            .unwrap_or(deployment)
    }
}
