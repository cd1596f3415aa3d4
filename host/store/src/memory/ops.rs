//! [`OpsStore`] in memory.

use super::Memory;
use crate::ops::{OpsStore, SweepLock};
use crate::{AuditEntry, Error, Result};
use async_trait::async_trait;
use weft_types::{OperatorKey, TenantLimits, TenantState};

#[async_trait]
impl OpsStore for Memory {
    async fn create_operator_key(&self, key: &OperatorKey) -> Result<()> {
        let mut g = self.lock();
        if g.operator_keys.contains_key(&key.id)
            || g.operator_keys.values().any(|k| k.prefix == key.prefix)
        {
            return Err(Error::Duplicate(format!(
                "operator key {} or its prefix exists",
                key.id
            )));
        }
        g.operator_keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn operator_key_by_prefix(&self, prefix: &str) -> Result<Option<OperatorKey>> {
        let g = self.lock();
        Ok(g.operator_keys
            .values()
            .find(|k| k.prefix == prefix)
            .cloned())
    }

    async fn list_operator_keys(&self) -> Result<Vec<OperatorKey>> {
        let mut v: Vec<OperatorKey> = self.lock().operator_keys.values().cloned().collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }

    async fn revoke_operator_key(&self, id: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        let k = g
            .operator_keys
            .get_mut(id)
            .ok_or(Error::NotFound("operator key"))?;
        k.revoked_at.get_or_insert(at);
        Ok(())
    }

    async fn set_tenant_state(&self, id: &str, from: &TenantState, to: &TenantState) -> Result<()> {
        let mut g = self.lock();
        let t = g.tenants.get_mut(id).ok_or(Error::NotFound("tenant"))?;
        if t.state != *from {
            return Err(crate::ops::moved(id, &t.state));
        }
        t.state = to.clone();
        Ok(())
    }

    async fn update_tenant_settings(
        &self,
        id: &str,
        name: Option<&str>,
        limits: Option<&TenantLimits>,
    ) -> Result<()> {
        let mut g = self.lock();
        let t = g.tenants.get_mut(id).ok_or(Error::NotFound("tenant"))?;
        if matches!(t.state, TenantState::Erasing { .. }) {
            return Err(crate::ops::erasing(id));
        }
        if let Some(name) = name {
            name.clone_into(&mut t.name);
        }
        if let Some(limits) = limits {
            t.limits = limits.clone();
        }
        Ok(())
    }

    async fn lock_sweeper(&self) -> Result<Option<SweepLock>> {
        Ok(SweepLock::local(&self.sweeper))
    }

    async fn operator_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.lock().operator_audit.push(entry.clone());
        Ok(())
    }

    async fn list_operator_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let g = self.lock();
        let mut v: Vec<&AuditEntry> = g.operator_audit.iter().rev().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn erase_tenant(&self, tenant: &str, limit: u32) -> Result<u64> {
        let mut g = self.lock();
        let limit = limit.max(1) as usize;
        let gone = super::people::erase_members(&mut g, tenant, limit);
        if gone > 0 {
            return Ok(gone as u64);
        }
        macro_rules! batch {
            ($map:expr, $owner:expr) => {{
                let doomed: Vec<_> = $map
                    .iter()
                    .filter(|(k, v)| $owner(k, v) == tenant)
                    .take(limit)
                    .map(|(k, _)| k.clone())
                    .collect();
                if !doomed.is_empty() {
                    for k in &doomed {
                        $map.remove(k);
                    }
                    return Ok(doomed.len() as u64);
                }
            }};
        }
        batch!(g.keys, |_: &String, v: &weft_types::ApiKey| v
            .tenant_id
            .clone());
        batch!(g.schedules, |k: &(String, String), _| k.0.clone());
        batch!(g.attempts, |k: &(String, String, String, u32), _| k
            .0
            .clone());
        batch!(g.steps, |k: &(String, String, String), _| k.0.clone());
        batch!(g.runs, |k: &(String, String), _| k.0.clone());
        batch!(g.versions, |k: &(String, String, u32), _| k.0.clone());
        batch!(g.workflows, |k: &(String, String), _| k.0.clone());
        batch!(g.credentials, |k: &(String, String), _| k.0.clone());
        batch!(g.state, |k: &(String, String, String), _| k.0.clone());
        batch!(g.outbox, |_, v: &(crate::OutboxEntry, i64)| v
            .0
            .tenant_id
            .clone());
        batch!(g.deliveries, |k: &(String, String, String), _| k.0.clone());
        batch!(g.notifications, |_,
                                 v: &(
            crate::notifications::NotificationDelivery,
            i64
        )| v.0.tenant_id.clone());
        batch!(g.rules, |k: &(String, String), _| k.0.clone());
        batch!(g.usage, |k: &(String, String, String, String), _| k
            .0
            .clone());
        let before = g.audit.len();
        let mut dropped = 0;
        g.audit.retain(|e| {
            let go = e.tenant_id == tenant && dropped < limit;
            dropped += usize::from(go);
            !go
        });
        if g.audit.len() < before {
            return Ok((before - g.audit.len()) as u64);
        }
        g.tenants.remove(tenant);
        Ok(0)
    }

    async fn prune_runs(&self, tenant: &str, ended_before: i64, limit: u32) -> Result<u64> {
        let mut g = self.lock();
        let doomed: Vec<(String, String)> = g
            .runs
            .iter()
            .filter(|(k, r)| {
                k.0 == tenant
                    && r.status.is_terminal()
                    && r.finished_at.is_some_and(|f| f < ended_before)
            })
            .take(limit.max(1) as usize)
            .map(|(k, _)| k.clone())
            .collect();
        for (t, run) in &doomed {
            g.runs.remove(&(t.clone(), run.clone()));
            g.steps.retain(|k, _| !(k.0 == *t && k.1 == *run));
            g.attempts.retain(|k, _| !(k.0 == *t && k.1 == *run));
            g.notifications
                .retain(|_, (d, _)| !(d.tenant_id == *t && d.run_id == *run));
        }
        Ok(doomed.len() as u64)
    }

    async fn prune_audit(&self, before: i64, limit: u32) -> Result<u64> {
        let mut g = self.lock();
        let limit = limit.max(1) as usize;
        let mut dropped = 0;
        g.audit.retain(|e| {
            let go = e.at < before && dropped < limit;
            dropped += usize::from(go);
            !go
        });
        Ok(dropped as u64)
    }
}
