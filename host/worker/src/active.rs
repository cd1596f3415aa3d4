//! The `max_active_runs` check at run start without a count on most starts.
//!
//! Counting a tenant's unfinished runs is a store query; at every start it
//! was one more round trip on the webhook's path, and it costs as many index
//! entries as the tenant has runs in flight (10,000 waiting runs: 10,000 per
//! start). Here a count is reused for at most the quota cache's period
//! (`quota_cache_ms`), with the runs this process admitted since added to
//! it: runs that ended meanwhile only make that estimate high. While the
//! estimate is under **half** the quota a start is admitted without a query;
//! from there on every start counts again, exactly as before. So the limit
//! is as exact as it was where it matters (near it), and far from it the
//! only runs the estimate misses are those other processes started within
//! the period (distributed mode), which would have to number more than half
//! the quota to matter.

use crate::Result;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use weft_store::Store;

/// Tenants kept; past it the cache starts again.
const MAX_ENTRIES: usize = 10_000;

/// A count as read, and what this process admitted since.
struct Seen {
    at: Instant,
    counted: u64,
    admitted: u64,
}

/// Per-process counts of the tenants' unfinished runs.
#[derive(Default)]
pub(crate) struct ActiveRuns(Mutex<HashMap<String, Seen>>);

impl ActiveRuns {
    /// Whether `tenant` has `quota` unfinished runs or more; when it has not,
    /// the run about to start is counted.
    ///
    /// # Errors
    /// Store failures.
    pub(crate) async fn reached(
        &self,
        store: &dyn Store,
        tenant: &str,
        quota: u64,
        ttl: Duration,
    ) -> Result<bool> {
        if self.admit_estimated(tenant, quota, ttl) {
            return Ok(false);
        }
        let counted = store.active_runs(tenant).await?;
        let reached = counted >= quota;
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            tenant.to_owned(),
            Seen {
                at: Instant::now(),
                counted,
                admitted: u64::from(!reached),
            },
        );
        Ok(reached)
    }

    /// Admits (and counts) one more run when a fresh estimate is under half
    /// the quota.
    fn admit_estimated(&self, tenant: &str, quota: u64, ttl: Duration) -> bool {
        let mut map = self.lock();
        let Some(seen) = map.get_mut(tenant).filter(|s| s.at.elapsed() < ttl) else {
            return false;
        };
        let estimate = seen.counted.saturating_add(seen.admitted);
        if estimate.saturating_mul(2) >= quota {
            return false;
        }
        seen.admitted += 1;
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // No code path panics while holding the lock.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
