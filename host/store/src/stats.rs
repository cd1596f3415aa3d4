//! Run statistics for the dashboard (`Store::run_stats`): the runs created
//! in a window, counted per time bucket and status, and the busiest
//! workflows. Each part is one `GROUP BY` in a database adapter; nothing is
//! done per run outside it.

use serde::{Deserialize, Serialize};
use weft_types::Status;

/// How many workflows [`RunStats::busiest`] names at most.
pub const BUSIEST: u32 = 10;

/// Run creation times `from..to` (`from` included), cut into buckets of
/// `bucket_ms` from `from` (the last one may be cut short by `to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsWindow {
    /// The first instant, included (Unix milliseconds).
    pub from: i64,
    /// The end, excluded (Unix milliseconds); after `from`.
    pub to: i64,
    /// The length of a bucket (milliseconds, at least 1).
    pub bucket_ms: i64,
}

impl StatsWindow {
    /// How many buckets cover the window.
    pub fn buckets(&self) -> i64 {
        let len = self.to.saturating_sub(self.from).max(0);
        let size = self.bucket_ms.max(1);
        len / size + i64::from(len % size != 0)
    }

    /// The bucket (from 0) of a creation time inside the window.
    pub fn bucket_of(&self, created_at: i64) -> i64 {
        (created_at - self.from) / self.bucket_ms.max(1)
    }

    /// Whether `created_at` is inside the window.
    pub fn contains(&self, created_at: i64) -> bool {
        created_at >= self.from && created_at < self.to
    }
}

/// The runs of one bucket in one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketCount {
    /// The bucket, from 0 (`from + bucket * bucket_ms`).
    pub bucket: i64,
    /// Their status now.
    pub status: Status,
    /// How many.
    pub runs: u64,
}

/// One of the workflows with the most runs in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyWorkflow {
    /// The workflow.
    pub workflow_id: String,
    /// Its name; `None` once it is deleted.
    pub name: Option<String>,
    /// Its runs created in the window.
    pub runs: u64,
    /// How many of them failed.
    pub failed: u64,
}

/// What [`crate::Store::run_stats`] counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunStats {
    /// Every (bucket, status) with at least one run, by bucket then status
    /// name.
    pub buckets: Vec<BucketCount>,
    /// At most [`BUSIEST`] workflows, by runs (most first), then id.
    pub busiest: Vec<BusyWorkflow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_window_and_the_last_may_be_short() {
        let w = |from, to, bucket_ms| StatsWindow {
            from,
            to,
            bucket_ms,
        };
        assert_eq!(w(0, 24, 1).buckets(), 24);
        assert_eq!(w(0, 25, 5).buckets(), 5);
        assert_eq!(w(0, 26, 5).buckets(), 6);
        assert_eq!(w(10, 10, 5).buckets(), 0);
        assert_eq!(w(100, 200, 30).bucket_of(100), 0);
        assert_eq!(w(100, 200, 30).bucket_of(199), 3);
        assert!(w(100, 200, 30).contains(100) && !w(100, 200, 30).contains(200));
    }
}
