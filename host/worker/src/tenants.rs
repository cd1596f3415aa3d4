//! What a process knows of its tenants' state and overrides
//! (`docs/TENANCY.md`, section 2): one read of the tenant row at most every
//! `tenant_cache_ms` (5 s) per tenant and process, so that an operator's
//! `PATCH` or suspend applies within that long on every process, at the cost
//! of one indexed read per tenant and period.
//!
//! The worker reads it at claim (a suspended tenant's steps are not run), for
//! `max_running_steps` and `max_active_runs`; the rate limiters
//! (`weft_limits`) read the API and webhook rates through it.

use crate::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use weft_store::Store;
use weft_types::{TenantLimits, TenantState};

/// Most tenants kept; past it the cache starts again (each entry is re-read
/// at most once per period anyway).
const MAX_ENTRIES: usize = 10_000;

/// Tenant id -> when it was read, and what (`None`: no such tenant).
type Entries = HashMap<String, (Instant, Option<Arc<Seen>>)>;

/// A tenant as last read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seen {
    /// Its state.
    pub state: TenantState,
    /// Its overrides (a field left out: the deployment's value).
    pub limits: TenantLimits,
}

/// Tenants' states and overrides, read at most every `ttl` per tenant.
/// Cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct TenantView {
    store: Arc<dyn Store>,
    ttl: Duration,
    map: Arc<Mutex<Entries>>,
}

impl std::fmt::Debug for TenantView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantView")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl TenantView {
    /// A view over `store`, re-reading a tenant once its read is `ttl` old
    /// (0: at every use).
    pub fn new(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            map: Arc::default(),
        }
    }

    /// The tenant as read at most `ttl` ago; `None` when it does not exist.
    ///
    /// # Errors
    /// Store failures.
    pub async fn get(&self, tenant: &str) -> Result<Option<Arc<Seen>>> {
        if let Some((at, seen)) = self.lock().get(tenant)
            && at.elapsed() < self.ttl
        {
            return Ok(seen.clone());
        }
        let seen = self.store.get_tenant(tenant).await?.map(|t| {
            Arc::new(Seen {
                state: t.state,
                limits: t.limits,
            })
        });
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(tenant.to_owned(), (Instant::now(), seen.clone()));
        Ok(seen)
    }

    /// The tenant's overrides; none (the deployment's values) for a tenant
    /// that does not exist or when the store cannot be read (logged: a limit
    /// is not a reason to stop serving).
    pub async fn limits(&self, tenant: &str) -> TenantLimits {
        match self.get(tenant).await {
            Ok(Some(seen)) => seen.limits.clone(),
            Ok(None) => TenantLimits::default(),
            Err(e) => {
                tracing::warn!(tenant.id = tenant, error = %e, "tenant overrides not read; the deployment's limits apply");
                TenantLimits::default()
            }
        }
    }

    /// Forgets what was read of `tenant` (the process that changed it).
    pub fn forget(&self, tenant: &str) {
        self.lock().remove(tenant);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // No code path panics while holding the lock.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
