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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;
    use weft_store::Commit;
    use weft_store::memory::Memory;
    use weft_types::{Run, Status, Trigger};

    const HOUR: Duration = Duration::from_secs(3_600);

    /// `n` unfinished runs of tenant `t` in `store`, as another process
    /// would start them.
    async fn started_elsewhere(store: &Memory, from: usize, n: usize) {
        for i in from..from + n {
            let run = Run {
                tenant_id: "t".into(),
                id: format!("run_{i}"),
                workflow_id: "wf".into(),
                version: 1,
                status: Status::Running,
                trigger: Trigger::Manual,
                input: json!(null),
                output: None,
                error: None,
                response: None,
                parent: None,
                depth: 0,
                deadline_at: None,
                seq: 1,
                created_at: 0,
                updated_at: 0,
                finished_at: None,
                until: None,
            };
            let commit = Commit {
                runs: vec![(run, None)],
                ..Commit::default()
            };
            store.commit(&commit).await.unwrap();
        }
    }

    /// Under half the quota a start is admitted on the estimate (the runs
    /// others started meanwhile unseen); from half on every start counts,
    /// so the quota itself is never passed on a stale count.
    #[tokio::test]
    async fn counts_again_from_half_the_quota_and_refuses_at_it() {
        let store = Memory::new();
        let active = ActiveRuns::default();
        assert!(!active.reached(&store, "t", 10, HOUR).await.unwrap());
        started_elsewhere(&store, 0, 8).await;
        // Estimates 1, 2, 3, 4 (under 5): admitted without counting.
        for _ in 0..4 {
            assert!(!active.reached(&store, "t", 10, HOUR).await.unwrap());
        }
        // Estimate 5: counted (8 unfinished), admitted.
        assert!(!active.reached(&store, "t", 10, HOUR).await.unwrap());
        started_elsewhere(&store, 8, 2).await;
        // 8 + 1 >= 5: counted again, 10 unfinished: refused.
        assert!(active.reached(&store, "t", 10, HOUR).await.unwrap());
        assert!(active.reached(&store, "t", 10, HOUR).await.unwrap());
    }

    /// With no reuse period every start counts.
    #[tokio::test]
    async fn a_zero_period_counts_at_every_start() {
        let store = Memory::new();
        let active = ActiveRuns::default();
        assert!(
            !active
                .reached(&store, "t", 10, Duration::ZERO)
                .await
                .unwrap()
        );
        started_elsewhere(&store, 0, 10).await;
        assert!(
            active
                .reached(&store, "t", 10, Duration::ZERO)
                .await
                .unwrap()
        );
    }
}
