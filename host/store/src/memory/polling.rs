//! `PollingStore` in memory.

use super::{Key2, Memory, k2};
use crate::polling::{PollAdvance, PollState, PollingStore, SEEN_KEYS_KEPT};
use crate::{Error, Result};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// One workflow's seen keys, oldest first, and their set.
#[derive(Default)]
struct Seen {
    order: VecDeque<String>,
    set: std::collections::HashSet<String>,
}

#[derive(Default)]
pub(super) struct Polls {
    rows: BTreeMap<Key2, PollState>,
    seen: HashMap<Key2, Seen>,
}

impl Polls {
    /// `Stale` unless the row's `seq` is the advance's.
    pub(super) fn check(&self, p: &PollAdvance) -> Result<()> {
        match self.rows.get(&k2(&p.tenant_id, &p.workflow_id)) {
            Some(r) if r.seq == p.expected_seq => Ok(()),
            Some(_) => Err(Error::Stale(format!(
                "the poll of workflow {} moved on",
                p.workflow_id
            ))),
            None => Err(Error::NotFound("poll")),
        }
    }

    /// Writes a checked advance.
    pub(super) fn advance(&mut self, p: &PollAdvance) {
        let key = k2(&p.tenant_id, &p.workflow_id);
        if let Some(r) = self.rows.get_mut(&key) {
            r.seq += 1;
            r.cursor.clone_from(&p.cursor);
            r.next_poll_at = p.next_poll_at;
            r.last_poll_at = Some(p.polled_at);
            r.last_success_at = Some(p.polled_at);
            r.last_error = None;
            r.failures = 0;
        }
        let seen = self.seen.entry(key).or_default();
        for k in &p.keys {
            if seen.set.insert(k.clone()) {
                seen.order.push_back(k.clone());
            }
        }
        while seen.order.len() > SEEN_KEYS_KEPT {
            if let Some(old) = seen.order.pop_front() {
                seen.set.remove(&old);
            }
        }
    }
}

#[async_trait]
impl PollingStore for Memory {
    async fn poll_arm(&self, tenant: &str, workflow: &str, armed: bool, at: i64) -> Result<()> {
        let mut g = self.lock();
        let row = g
            .polls
            .rows
            .entry(k2(tenant, workflow))
            .or_insert_with(|| PollState {
                tenant_id: tenant.to_owned(),
                workflow_id: workflow.to_owned(),
                armed: false,
                cursor: None,
                next_poll_at: at,
                seq: 0,
                last_poll_at: None,
                last_success_at: None,
                last_error: None,
                failures: 0,
            });
        if armed && !row.armed {
            row.next_poll_at = at;
        }
        if row.armed != armed {
            row.armed = armed;
            row.seq += 1;
        }
        Ok(())
    }

    async fn poll_state(&self, tenant: &str, workflow: &str) -> Result<Option<PollState>> {
        Ok(self.lock().polls.rows.get(&k2(tenant, workflow)).cloned())
    }

    async fn due_polls(&self, at: i64, limit: u32) -> Result<Vec<PollState>> {
        let g = self.lock();
        let mut v: Vec<PollState> = g
            .polls
            .rows
            .values()
            .filter(|r| r.armed && r.next_poll_at <= at && g.tenant_active(&r.tenant_id))
            .cloned()
            .collect();
        v.sort_by_key(|r| r.next_poll_at);
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn poll_claim(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        until: i64,
    ) -> Result<PollState> {
        let mut g = self.lock();
        let row = g
            .polls
            .rows
            .get_mut(&k2(tenant, workflow))
            .ok_or(Error::NotFound("poll"))?;
        if row.seq != expected_seq || !row.armed {
            return Err(Error::Stale(format!(
                "the poll of workflow {workflow} was taken"
            )));
        }
        row.seq += 1;
        row.next_poll_at = until;
        Ok(row.clone())
    }

    async fn poll_seen(
        &self,
        tenant: &str,
        workflow: &str,
        keys: &[String],
    ) -> Result<Vec<String>> {
        let g = self.lock();
        let Some(seen) = g.polls.seen.get(&k2(tenant, workflow)) else {
            return Ok(Vec::new());
        };
        Ok(keys
            .iter()
            .filter(|k| seen.set.contains(*k))
            .cloned()
            .collect())
    }

    async fn poll_failed(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        at: i64,
        error: &str,
        next_poll_at: i64,
    ) -> Result<()> {
        let mut g = self.lock();
        let row = g
            .polls
            .rows
            .get_mut(&k2(tenant, workflow))
            .ok_or(Error::NotFound("poll"))?;
        if row.seq != expected_seq {
            return Err(Error::Stale(format!(
                "the poll of workflow {workflow} moved on"
            )));
        }
        row.seq += 1;
        row.last_poll_at = Some(at);
        row.last_error = Some(error.to_owned());
        row.failures = row.failures.saturating_add(1);
        row.next_poll_at = next_poll_at;
        Ok(())
    }
}
