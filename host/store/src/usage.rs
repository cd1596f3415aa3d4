//! Usage metering (`docs/TENANCY.md`, section 5): counters per tenant, UTC
//! day and workflow, written by [`crate::Store::commit`] in the same
//! transaction as the journal rows they are derived from.
//!
//! What a commit counts is derived here, once, for every adapter:
//! - a run row inserted (`expected_seq: None`) counts `runs` on the day it was
//!   created;
//! - an attempt row whose `finished_at` is first recorded (absent before, or
//!   stored without `finished_at`) counts `steps` and what the sandbox
//!   measured (its `usage`) on the day it finished.
//!
//! A commit retried after a lost race was rolled back whole, and one retried
//! after it landed finds the attempt already finished: either way nothing is
//! counted twice. `peak_memory_bytes` keeps the maximum, the others add up.

use crate::{Commit, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use weft_types::Attempt;

/// Every counter, in the order reports list them.
pub const COUNTERS: [&str; 10] = [
    RUNS,
    STEPS,
    "wall_ms",
    PEAK_MEMORY,
    "egress_requests",
    "egress_bytes",
    "llm_input_tokens",
    "llm_output_tokens",
    "llm_cost_micros",
    "log_bytes",
];

/// The most one attempt adds to a counter (2^48), whatever its stored
/// `usage` says: the sandbox caps what plugins report at the same figure
/// (`weft_sandbox`'s `USAGE_CAP`); this holds for attempts written by
/// anything else. The stored sums saturate at `i64::MAX` in every adapter
/// ([`saturating_add_sql`]), so no commit fails on an overflow.
pub const ATTEMPT_CAP: i64 = 1 << 48;

/// The SQL (SQLite and PostgreSQL) that adds the excluded (new, never
/// negative) value to the stored one of `table`, saturating at `i64::MAX`.
pub fn saturating_add_sql(table: &str) -> String {
    format!(
        "CASE WHEN {table}.value > 9223372036854775807 - excluded.value \
         THEN 9223372036854775807 ELSE {table}.value + excluded.value END"
    )
}

/// Runs created.
pub const RUNS: &str = "runs";
/// Step attempts finished (each retry counts).
pub const STEPS: &str = "steps";
/// The one counter that keeps the maximum instead of the sum.
pub const PEAK_MEMORY: &str = "peak_memory_bytes";

/// One stored counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The tenant.
    pub tenant_id: String,
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The workflow whose runs used it.
    pub workflow_id: String,
    /// One of [`COUNTERS`].
    pub counter: String,
    /// The sum (the maximum for [`PEAK_MEMORY`]).
    pub value: i64,
}

/// The usage counters: read by the tenant's and the operator's reports and by
/// the quota check; written only by [`crate::Store::commit`].
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The tenant's rows for the days `from..=to` (`YYYY-MM-DD`), ordered by
    /// day, workflow and counter.
    async fn usage(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<UsageRow>>;

    /// Every tenant's rows for the days `from..=to`, ordered by tenant, day,
    /// workflow and counter. For the operator.
    async fn usage_all(&self, from: &str, to: &str) -> Result<Vec<UsageRow>>;
}

/// The counter increments of one commit, by (tenant, day, workflow, counter).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Increments(pub BTreeMap<(String, String, String, String), i64>);

impl Increments {
    /// The runs a commit inserts. Attempts are added by the adapter with
    /// [`Increments::attempt`], for those it finds not finished before.
    pub fn runs(c: &Commit) -> Self {
        let mut inc = Self::default();
        for (run, expected) in &c.runs {
            if expected.is_none() {
                inc.add(&run.tenant_id, run.created_at, &run.workflow_id, RUNS, 1);
            }
        }
        inc
    }

    /// The workflow of `run_id` if the commit writes that run.
    pub fn workflow_in<'c>(c: &'c Commit, tenant: &str, run_id: &str) -> Option<&'c str> {
        c.runs
            .iter()
            .find(|(r, _)| r.tenant_id == tenant && r.id == run_id)
            .map(|(r, _)| r.workflow_id.as_str())
    }

    /// Counts `a` as finished in `workflow_id` (the caller checked it was not
    /// finished before). Does nothing for an attempt without `finished_at`.
    pub fn attempt(&mut self, a: &Attempt, workflow_id: &str) {
        let Some(at) = a.finished_at else { return };
        let t = &a.tenant_id;
        self.add(t, at, workflow_id, STEPS, 1);
        let Some(u) = a.usage.as_ref() else { return };
        let n = |k: &str| {
            u.get(k)
                .and_then(serde_json::Value::as_u64)
                .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX).min(ATTEMPT_CAP))
        };
        self.add(t, at, workflow_id, "wall_ms", n("wall_time_us") / 1000);
        self.add(t, at, workflow_id, PEAK_MEMORY, n("peak_memory_bytes"));
        self.add(t, at, workflow_id, "egress_requests", n("egress_requests"));
        let bytes = n("egress_bytes_in").saturating_add(n("egress_bytes_out"));
        self.add(t, at, workflow_id, "egress_bytes", bytes);
        for k in [
            "llm_input_tokens",
            "llm_output_tokens",
            "llm_cost_micros",
            "log_bytes",
        ] {
            self.add(t, at, workflow_id, k, n(k));
        }
    }

    /// Adds (or keeps the maximum of) `value`; zero values are not stored,
    /// except `runs` and `steps`, which are always positive.
    pub fn add(&mut self, tenant: &str, at_ms: i64, workflow: &str, counter: &str, value: i64) {
        if value == 0 {
            return;
        }
        let key = (
            tenant.to_owned(),
            day(at_ms),
            workflow.to_owned(),
            counter.to_owned(),
        );
        let slot = self.0.entry(key).or_insert(0);
        *slot = merge(counter, *slot, value);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rows to upsert.
    pub fn rows(&self) -> impl Iterator<Item = UsageRow> + '_ {
        self.0.iter().map(|((t, d, w, c), v)| UsageRow {
            tenant_id: t.clone(),
            day: d.clone(),
            workflow_id: w.clone(),
            counter: c.clone(),
            value: *v,
        })
    }
}

/// How a stored value and an increment combine.
pub fn merge(counter: &str, stored: i64, value: i64) -> i64 {
    if counter == PEAK_MEMORY {
        stored.max(value)
    } else {
        stored.saturating_add(value)
    }
}

/// The UTC day of `ms` since the epoch, `YYYY-MM-DD`.
pub fn day(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since the epoch to (year, month, day) (H. Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) to days since the epoch.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(-1), "1969-12-31");
        assert_eq!(day(951_782_400_000), "2000-02-29");
        for d in [-800_000, -1, 0, 59, 11_016, 20_000, 2_932_896] {
            let (y, m, dd) = civil(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn peak_memory_keeps_the_maximum() {
        let mut inc = Increments::default();
        inc.add("t", 0, "w", PEAK_MEMORY, 5);
        inc.add("t", 0, "w", PEAK_MEMORY, 3);
        inc.add("t", 0, "w", STEPS, 1);
        inc.add("t", 0, "w", STEPS, 1);
        let rows: Vec<_> = inc.rows().map(|r| (r.counter, r.value)).collect();
        assert_eq!(rows, [("peak_memory_bytes".into(), 5), ("steps".into(), 2)]);
    }
}
