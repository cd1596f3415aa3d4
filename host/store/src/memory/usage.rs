//! Usage counters in memory: counted in `commit`, read by the reports.

use super::{Inner, Memory, k2};
use crate::usage::{Increments, UsageRow, UsageStore, merge};
use crate::{Commit, Result};
use async_trait::async_trait;

impl Inner {
    /// What `c` counts, read before its rows are written (an attempt counts
    /// only if it was not stored finished already).
    pub(super) fn usage_of(&self, c: &Commit) -> Increments {
        let mut inc = Increments::runs(c);
        for a in &c.attempts {
            if a.finished_at.is_none() {
                continue;
            }
            let key = (
                a.tenant_id.clone(),
                a.run_id.clone(),
                a.step_key.clone(),
                a.attempt,
            );
            if self
                .attempts
                .get(&key)
                .is_some_and(|old| old.finished_at.is_some())
            {
                continue;
            }
            let workflow = Increments::workflow_in(c, &a.tenant_id, &a.run_id)
                .map(str::to_owned)
                .or_else(|| {
                    self.runs
                        .get(&k2(&a.tenant_id, &a.run_id))
                        .map(|r| r.workflow_id.clone())
                })
                .unwrap_or_default();
            inc.attempt(a, &workflow);
        }
        inc
    }

    /// Adds the increments to the counters.
    pub(super) fn count(&mut self, inc: Increments) {
        for (key, value) in inc.0 {
            let slot = self.usage.entry(key.clone()).or_insert(0);
            *slot = merge(&key.3, *slot, value);
        }
    }

    fn usage_rows(&self, tenant: Option<&str>, from: &str, to: &str) -> Vec<UsageRow> {
        let mut rows: Vec<UsageRow> = self
            .usage
            .iter()
            .filter(|((t, d, _, _), _)| {
                tenant.is_none_or(|x| x == t) && d.as_str() >= from && d.as_str() <= to
            })
            .map(|((t, d, w, c), v)| UsageRow {
                tenant_id: t.clone(),
                day: d.clone(),
                workflow_id: w.clone(),
                counter: c.clone(),
                value: *v,
            })
            .collect();
        rows.sort_by(|a, b| {
            (&a.tenant_id, &a.day, &a.workflow_id, &a.counter).cmp(&(
                &b.tenant_id,
                &b.day,
                &b.workflow_id,
                &b.counter,
            ))
        });
        rows
    }
}

#[async_trait]
impl UsageStore for Memory {
    async fn usage(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        Ok(self.lock().usage_rows(Some(tenant), from, to))
    }

    async fn usage_all(&self, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        Ok(self.lock().usage_rows(None, from, to))
    }
}
