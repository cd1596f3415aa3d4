//! `QueueTriggerStore` in memory.

use super::{Memory, k2};
use crate::Result;
use crate::queue_trigger::{QueueConsumer, QueueReport, QueueTriggerStore};
use async_trait::async_trait;

#[async_trait]
impl QueueTriggerStore for Memory {
    async fn queue_arm(&self, tenant: &str, workflow: &str, armed: bool) -> Result<()> {
        let mut g = self.lock();
        let row = g
            .queue_consumers
            .entry(k2(tenant, workflow))
            .or_insert_with(|| QueueConsumer {
                tenant_id: tenant.to_owned(),
                workflow_id: workflow.to_owned(),
                armed: false,
                owner: None,
                lease_until: 0,
                report: QueueReport::default(),
            });
        row.armed = armed;
        if !armed {
            row.report.consuming = false;
        }
        Ok(())
    }

    async fn queue_consumer(&self, tenant: &str, workflow: &str) -> Result<Option<QueueConsumer>> {
        Ok(self
            .lock()
            .queue_consumers
            .get(&k2(tenant, workflow))
            .cloned())
    }

    async fn free_queue_consumers(&self, at: i64, limit: u32) -> Result<Vec<QueueConsumer>> {
        let g = self.lock();
        Ok(g.queue_consumers
            .values()
            .filter(|r| {
                r.armed
                    && (r.owner.is_none() || r.lease_until <= at)
                    && g.tenant_active(&r.tenant_id)
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn queue_lease(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        at: i64,
        until: i64,
        cap: u32,
    ) -> Result<bool> {
        let mut g = self.lock();
        let key = k2(tenant, workflow);
        let Some(row) = g.queue_consumers.get(&key) else {
            return Ok(false);
        };
        let live = |r: &QueueConsumer| r.owner.is_some() && r.lease_until > at;
        let mine = live(row) && row.owner.as_deref() == Some(owner);
        if !row.armed || (live(row) && !mine) {
            return Ok(false);
        }
        if !mine {
            let others = g
                .queue_consumers
                .iter()
                .filter(|(k, r)| **k != key && r.tenant_id == tenant && live(r))
                .count();
            if others >= cap as usize {
                return Ok(false);
            }
        }
        if let Some(row) = g.queue_consumers.get_mut(&key) {
            row.owner = Some(owner.to_owned());
            row.lease_until = until;
        }
        Ok(true)
    }

    async fn queue_report(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        report: &QueueReport,
    ) -> Result<bool> {
        let mut g = self.lock();
        match g.queue_consumers.get_mut(&k2(tenant, workflow)) {
            Some(r) if r.owner.as_deref() == Some(owner) => {
                r.report = report.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn queue_release(&self, tenant: &str, workflow: &str, owner: &str) -> Result<()> {
        let mut g = self.lock();
        if let Some(r) = g.queue_consumers.get_mut(&k2(tenant, workflow))
            && r.owner.as_deref() == Some(owner)
        {
            r.owner = None;
            r.lease_until = 0;
            r.report.consuming = false;
        }
        Ok(())
    }
}
