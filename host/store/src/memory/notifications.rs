//! The in-memory [`NotificationStore`].

use super::{Inner, Memory, k2};
use crate::notifications::{
    DeliveryFilter, DeliveryOutcome, DeliveryStatus, MAX_ANCESTORS, NotificationDelivery,
    NotificationRule, NotificationStore, NotifyOn, events, started_by_notification,
};
use crate::{Commit, Error, Page, Result};
use async_trait::async_trait;
use weft_types::Status;

impl Inner {
    /// Inserts the deliveries `c` makes (called by `commit` once it holds).
    pub(super) fn notify(&mut self, c: &Commit) {
        for e in events(c) {
            if self.below_notification(&e.tenant_id, e.parent.as_deref()) {
                continue;
            }
            if e.on == NotifyOn::RunRecovered
                && !self.previous_failed(&e.tenant_id, &e.workflow_id, &e.run_id, e.at)
            {
                continue;
            }
            let rules: Vec<String> = self
                .rules
                .values()
                .filter(|r| {
                    r.tenant_id == e.tenant_id
                        && r.enabled
                        && r.on == e.on
                        && r.workflow_id.as_ref().is_none_or(|w| *w == e.workflow_id)
                })
                .map(|r| r.id.clone())
                .collect();
            for rule in rules {
                let taken = self
                    .notifications
                    .values()
                    .any(|(d, _)| d.rule_id == rule && d.event_key == e.key);
                if !taken {
                    let d = e.delivery(&rule);
                    self.notifications.insert(d.id.clone(), (d, i64::MIN));
                }
            }
        }
    }

    /// Whether `parent` or one of its ancestors was started by a notification.
    fn below_notification<'a>(&'a self, tenant: &str, mut parent: Option<&'a str>) -> bool {
        for _ in 0..MAX_ANCESTORS {
            let Some(r) = parent.and_then(|p| self.runs.get(&k2(tenant, p))) else {
                return false;
            };
            if started_by_notification(r.trigger, &r.input) {
                return true;
            }
            parent = r.parent.as_ref().map(|p| p.run_id.as_str());
        }
        false
    }

    /// Whether the workflow's last run finished at or before `at` (other than
    /// `run`, completed or failed, not a test run) failed.
    fn previous_failed(&self, tenant: &str, workflow: &str, run: &str, at: i64) -> bool {
        self.runs
            .values()
            .filter(|r| {
                r.tenant_id == tenant
                    && r.workflow_id == workflow
                    && r.id != run
                    && matches!(r.status, Status::Completed | Status::Failed)
                    && r.until.is_none()
                    && r.finished_at.is_some_and(|f| f <= at)
            })
            .max_by(|a, b| (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id)))
            .is_some_and(|r| r.status == Status::Failed)
    }
}

#[async_trait]
impl NotificationStore for Memory {
    async fn create_rule(&self, rule: &NotificationRule) -> Result<()> {
        let mut g = self.lock();
        let key = k2(&rule.tenant_id, &rule.id);
        if g.rules.values().any(|r| r.id == rule.id) {
            return Err(Error::Duplicate(format!("rule {} exists", rule.id)));
        }
        g.rules.insert(key, rule.clone());
        Ok(())
    }

    async fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<NotificationRule>> {
        Ok(self.lock().rules.get(&k2(tenant, id)).cloned())
    }

    async fn list_rules(&self, tenant: &str) -> Result<Vec<NotificationRule>> {
        let g = self.lock();
        let mut out: Vec<_> = g
            .rules
            .values()
            .filter(|r| r.tenant_id == tenant)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn update_rule(&self, rule: &NotificationRule) -> Result<()> {
        let mut g = self.lock();
        let Some(r) = g.rules.get_mut(&k2(&rule.tenant_id, &rule.id)) else {
            return Err(Error::NotFound("notification rule"));
        };
        *r = NotificationRule {
            created_at: r.created_at,
            ..rule.clone()
        };
        Ok(())
    }

    async fn delete_rule(&self, tenant: &str, id: &str) -> Result<()> {
        match self.lock().rules.remove(&k2(tenant, id)) {
            Some(_) => Ok(()),
            None => Err(Error::NotFound("notification rule")),
        }
    }

    async fn list_notifications(
        &self,
        tenant: &str,
        f: &DeliveryFilter,
        p: &Page,
    ) -> Result<Vec<NotificationDelivery>> {
        let g = self.lock();
        Ok(g.notifications
            .values()
            .rev()
            .map(|(d, _)| d)
            .filter(|d| d.tenant_id == tenant)
            .filter(|d| f.rule_id.as_ref().is_none_or(|r| *r == d.rule_id))
            .filter(|d| f.status.is_none_or(|s| s == d.status))
            .filter(|d| p.before.as_ref().is_none_or(|b| d.id < *b))
            .take(p.capped() as usize)
            .cloned()
            .collect())
    }

    async fn claim_notifications(
        &self,
        now: i64,
        lease_ms: i64,
        limit: u32,
        per_tenant: u32,
    ) -> Result<Vec<NotificationDelivery>> {
        let mut g = self.lock();
        let mut due: Vec<(i64, String, String)> = g
            .notifications
            .values()
            .filter(|(d, until)| {
                d.status == DeliveryStatus::Pending
                    && d.next_at.is_some_and(|n| n <= now)
                    && *until <= now
            })
            .map(|(d, _)| {
                let next = d.next_at.unwrap_or(i64::MIN);
                (next, d.id.clone(), d.tenant_id.clone())
            })
            .collect();
        due.sort();
        // Each tenant's earliest, as many as it has fewer than `per_tenant`
        // claims live (rows being sent).
        let mut taken: std::collections::HashMap<String, u32> = Default::default();
        for (d, until) in g.notifications.values() {
            if d.status == DeliveryStatus::Pending && *until > now {
                *taken.entry(d.tenant_id.clone()).or_default() += 1;
            }
        }
        due.retain(|(_, _, t)| {
            let n = taken.entry(t.clone()).or_default();
            *n += 1;
            *n <= per_tenant
        });
        due.truncate(limit as usize);
        let mut out = Vec::new();
        for (_, id, _) in due {
            if let Some((d, until)) = g.notifications.get_mut(&id) {
                *until = now.saturating_add(lease_ms);
                out.push(d.clone());
            }
        }
        Ok(out)
    }

    async fn record_notification(
        &self,
        tenant: &str,
        id: &str,
        o: &DeliveryOutcome,
        at: i64,
    ) -> Result<bool> {
        let mut g = self.lock();
        let Some((d, until)) = g.notifications.get_mut(id) else {
            return Ok(false);
        };
        if d.tenant_id != tenant || d.status != DeliveryStatus::Pending {
            return Ok(false);
        }
        d.attempts.push(o.attempt.clone());
        d.status = o.status;
        d.next_at = o.next_at;
        d.updated_at = at;
        *until = i64::MIN;
        Ok(true)
    }

    async fn defer_notification(
        &self,
        tenant: &str,
        id: &str,
        next_at: i64,
        at: i64,
    ) -> Result<bool> {
        let mut g = self.lock();
        let Some((d, until)) = g.notifications.get_mut(id) else {
            return Ok(false);
        };
        if d.tenant_id != tenant || d.status != DeliveryStatus::Pending {
            return Ok(false);
        }
        d.next_at = Some(next_at);
        d.updated_at = at;
        *until = i64::MIN;
        Ok(true)
    }
}
