//! Polling triggers (`triggers.poll`, `docs/WORKFLOWS.md`): per workflow, the
//! connector's cursor, when the next poll is due, what the last one did, and a
//! bounded table of the item keys already started.
//!
//! A poll is taken with [`PollingStore::poll_claim`], a compare-and-set on the
//! row's `seq` that also moves `next_poll_at` past the poll's deadline (a
//! lease: of N workers that see the row due, one claims it; a claimer that
//! dies leaves it due again at the lease's end). What the poll found is
//! written by [`Commit::poll`](crate::Commit::poll) — a [`PollAdvance`] — in
//! the same transaction as the runs it starts: the new cursor, the keys, the
//! runs, or none of them. A crash before that commit leaves the old cursor,
//! so the next poll finds the same items and the seen keys drop the ones
//! already started.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// How many seen keys a workflow keeps; older ones are forgotten (an item
/// that reappears after that many newer ones starts again).
pub const SEEN_KEYS_KEPT: usize = 10_000;

/// One workflow's polling row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollState {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// Whether the workflow is active with a `triggers.poll` (polls are due).
    pub armed: bool,
    /// What the last successful poll returned for the next one.
    pub cursor: Option<String>,
    /// When the next poll is due (ms since the epoch); while a poll runs,
    /// the end of its claim.
    pub next_poll_at: i64,
    /// Bumped by every claim, advance and failure (compare-and-set).
    pub seq: i64,
    /// When the last poll ended, either way.
    pub last_poll_at: Option<i64>,
    /// When the last poll succeeded.
    pub last_success_at: Option<i64>,
    /// Why the last poll failed; `None` after a success.
    pub last_error: Option<String>,
    /// Polls failed in a row (the backoff grows with it).
    pub failures: u32,
}

/// What a successful poll writes, inside [`Commit`](crate::Commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollAdvance {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// The `seq` the claim left; another value: `Stale`, nothing written.
    pub expected_seq: i64,
    /// The cursor from now on.
    pub cursor: Option<String>,
    /// Keys of the items this commit starts runs for (recorded as seen).
    pub keys: Vec<String>,
    /// When the poll ended.
    pub polled_at: i64,
    /// When the next poll is due.
    pub next_poll_at: i64,
}

/// The polling rows.
#[async_trait]
pub trait PollingStore: Send + Sync {
    /// Creates the workflow's row if missing and arms (due at `at` unless
    /// already armed) or disarms it; the cursor and the seen keys stay.
    async fn poll_arm(&self, tenant: &str, workflow: &str, armed: bool, at: i64) -> Result<()>;
    /// The workflow's row.
    async fn poll_state(&self, tenant: &str, workflow: &str) -> Result<Option<PollState>>;
    /// Armed rows due at `at` (any tenant whose state is active), earliest first.
    async fn due_polls(&self, at: i64, limit: u32) -> Result<Vec<PollState>>;
    /// Takes a due poll: `seq` + 1 and `next_poll_at` = `until`, if `seq` is
    /// still `expected_seq`. # Errors: `Stale` when another worker took it,
    /// `NotFound`.
    async fn poll_claim(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        until: i64,
    ) -> Result<PollState>;
    /// Which of `keys` the workflow has seen.
    async fn poll_seen(&self, tenant: &str, workflow: &str, keys: &[String])
    -> Result<Vec<String>>;
    /// Records a failed poll: the error, one more failure, the next attempt.
    /// # Errors: `Stale` when `seq` moved on.
    async fn poll_failed(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        at: i64,
        error: &str,
        next_poll_at: i64,
    ) -> Result<()>;
}
