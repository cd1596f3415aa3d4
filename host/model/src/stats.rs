//! `GET /v1/runs/stats`: the dashboard's run statistics.

use crate::query::Query;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::Status;

/// `GET /v1/runs/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunStatsQuery {
    /// The first instant counted (Unix milliseconds, included; default:
    /// 24 hours, or one bucket if longer, before `to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// The end (Unix milliseconds, excluded; default: now, rounded up to a
    /// whole bucket since the epoch, so hourly buckets fall on UTC hours).
    /// At most 90 days after `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The length of a bucket in milliseconds (default 3600000, at least
    /// 1000); at most 366 buckets in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_ms: Option<i64>,
}

/// The window's bounds (a bucket of at least a second, at most 366
/// buckets, at most 90 days) are checked by the application
/// (`weft_app::stats::window`), which knows the defaults.
impl Query for RunStatsQuery {
    const PARAMS: &'static [&'static str] = &["from", "to", "bucket_ms"];
}

/// Runs by status. Runs are never `skipped`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct StatusCounts {
    /// All of them.
    pub total: u64,
    /// Not started yet.
    pub pending: u64,
    /// Under way.
    pub running: u64,
    /// Paused on a wait, an approval or a sub-workflow.
    pub waiting: u64,
    /// Ended well.
    pub completed: u64,
    /// Ended with an error.
    pub failed: u64,
    /// Stopped.
    pub cancelled: u64,
}

impl StatusCounts {
    /// Adds `n` runs in `status`.
    pub fn add(&mut self, status: Status, n: u64) {
        let slot = match status {
            Status::Pending => &mut self.pending,
            Status::Running => &mut self.running,
            Status::Waiting => &mut self.waiting,
            Status::Completed => &mut self.completed,
            Status::Failed => &mut self.failed,
            // A run is never skipped; were one, it would count as stopped.
            Status::Cancelled | Status::Skipped => &mut self.cancelled,
        };
        *slot = slot.saturating_add(n);
        self.total = self.total.saturating_add(n);
    }
}

/// The runs created in one bucket, by their status now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunBucket {
    /// Where the bucket starts (Unix milliseconds); it ends at the next
    /// bucket's start, the last one at `to`.
    pub start: i64,
    /// Its runs by status.
    pub runs: StatusCounts,
}

/// One of the workflows with the most runs in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BusyWorkflow {
    /// The workflow.
    pub workflow_id: String,
    /// Its name; `null` once it is deleted.
    pub name: Option<String>,
    /// Its runs created in the window.
    pub runs: u64,
    /// How many of them failed.
    pub failed: u64,
}

/// The tenant's runs created in `from..to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunStats {
    /// The first instant counted (Unix milliseconds).
    pub from: i64,
    /// The end, excluded (Unix milliseconds).
    pub to: i64,
    /// The length of a bucket (milliseconds).
    pub bucket_ms: i64,
    /// Every bucket of the window, oldest first (empty ones too).
    pub buckets: Vec<RunBucket>,
    /// The whole window by status.
    pub total: StatusCounts,
    /// The ten workflows with the most runs in the window, most first
    /// (ties by id).
    pub busiest: Vec<BusyWorkflow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up() {
        let mut c = StatusCounts::default();
        c.add(Status::Failed, 2);
        c.add(Status::Completed, 3);
        assert_eq!((c.total, c.failed, c.completed), (5, 2, 3));
    }
}
