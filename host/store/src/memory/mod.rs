//! The in-memory adapter: one mutex over plain maps. For tests and `weft run`;
//! nothing survives the process.

use crate::{
    AuditEntry, Commit, Error, LastRun, OutboxEntry, Page, Result, RunFilter, RunState, Store,
    WorkflowFilter,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};
mod notifications;
mod oauth;
mod ops;
mod people;
mod polling;
mod queue_trigger;
mod runs;
mod usage;

use weft_types::{
    ApiKey, Attempt, CredentialRecord, Run, Schedule, Status, Step, Tenant, Workflow,
    WorkflowVersion,
};

type Key2 = (String, String);
type Key3 = (String, String, String);

#[derive(Default)]
struct Inner {
    tenants: BTreeMap<String, Tenant>,
    keys: BTreeMap<String, ApiKey>,
    workflows: BTreeMap<Key2, Workflow>,
    versions: BTreeMap<(String, String, u32), WorkflowVersion>,
    schedules: BTreeMap<Key2, Schedule>,
    runs: BTreeMap<Key2, Run>,
    steps: BTreeMap<Key3, Step>,
    attempts: BTreeMap<(String, String, String, u32), Attempt>,
    credentials: BTreeMap<Key2, CredentialRecord>,
    state: HashMap<Key3, Vec<u8>>,
    audit: Vec<AuditEntry>,
    /// By (created_at, id): entry and claimed-until.
    outbox: BTreeMap<(i64, String), (OutboxEntry, i64)>,
    /// Webhook deliveries by (tenant, workflow, delivery id).
    deliveries: BTreeMap<Key3, crate::Delivery>,
    /// Notification rules by (tenant, id).
    rules: BTreeMap<Key2, crate::notifications::NotificationRule>,
    /// Notification deliveries by id: the row and its claimed-until.
    notifications: BTreeMap<String, (crate::notifications::NotificationDelivery, i64)>,
    /// Operator keys by id.
    operator_keys: BTreeMap<String, weft_types::OperatorKey>,
    /// The operator audit log, in insertion order.
    operator_audit: Vec<AuditEntry>,
    /// Usage counters by (tenant, day, workflow, counter).
    usage: BTreeMap<(String, String, String, String), i64>,
    /// Users, memberships, links, sessions (`people.rs`).
    people: people::People,
    /// Pending authorizations, refresh leases (`oauth.rs`).
    oauth: oauth::OAuth,
    /// Polling rows and seen keys (`polling.rs`).
    polls: polling::Polls,
    /// Queue consumer rows (`queue_trigger.rs`).
    queue_consumers: BTreeMap<Key2, crate::queue_trigger::QueueConsumer>,
}

/// The in-memory store.
#[derive(Default)]
pub struct Memory {
    inner: Mutex<Inner>,
    /// Set while the operator's sweeper lock is taken.
    sweeper: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Memory {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn k2(a: &str, b: &str) -> Key2 {
    (a.to_owned(), b.to_owned())
}

fn page<T: Clone>(items: impl DoubleEndedIterator<Item = (String, T)>, page: &Page) -> Vec<T> {
    items
        .rev()
        .filter(|(id, _)| page.before.as_deref().is_none_or(|b| id.as_str() < b))
        .take(page.capped() as usize)
        .map(|(_, t)| t)
        .collect()
}

#[async_trait]
impl Store for Memory {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        let mut g = self.lock();
        if g.tenants.contains_key(&tenant.id) {
            return Err(Error::Duplicate(format!("tenant {} exists", tenant.id)));
        }
        g.tenants.insert(tenant.id.clone(), tenant.clone());
        Ok(())
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        Ok(self.lock().tenants.get(id).cloned())
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let mut v: Vec<Tenant> = self.lock().tenants.values().cloned().collect();
        v.sort_by_key(|t| (t.created_at, t.id.clone()));
        Ok(v)
    }

    async fn create_api_key(&self, key: &ApiKey) -> Result<()> {
        let mut g = self.lock();
        if g.keys
            .values()
            .any(|k| k.prefix == key.prefix || k.id == key.id)
        {
            return Err(Error::Duplicate("api key prefix is taken".into()));
        }
        g.keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>> {
        Ok(self
            .lock()
            .keys
            .values()
            .find(|k| k.prefix == prefix)
            .cloned())
    }

    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        let g = self.lock();
        let mut v: Vec<ApiKey> = g
            .keys
            .values()
            .filter(|k| k.tenant_id == tenant)
            .cloned()
            .collect();
        v.sort_by_key(|k| (k.created_at, k.id.clone()));
        Ok(v)
    }

    async fn revoke_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        match g.keys.get_mut(id) {
            Some(k) if k.tenant_id == tenant => {
                k.revoked_at.get_or_insert(at);
                Ok(())
            }
            _ => Err(Error::NotFound("api key")),
        }
    }

    async fn touch_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        let mut g = self.lock();
        if let Some(k) = g.keys.get_mut(id).filter(|k| k.tenant_id == tenant)
            && k.last_used_at
                .is_none_or(|t| t <= at.saturating_sub(crate::KEY_TOUCH_MS))
        {
            k.last_used_at = Some(at);
        }
        Ok(())
    }

    async fn create_workflow(&self, workflow: &Workflow, first: &WorkflowVersion) -> Result<()> {
        let mut g = self.lock();
        let key = k2(&workflow.tenant_id, &workflow.id);
        // A deleted workflow's versions are kept for its runs: its id is not reused.
        let lo = (workflow.tenant_id.clone(), workflow.id.clone(), 0);
        let hi = (workflow.tenant_id.clone(), workflow.id.clone(), u32::MAX);
        if g.workflows.contains_key(&key)
            || g.versions.range(lo..=hi).next().is_some()
            || g.workflows
                .values()
                .any(|w| w.webhook_token == workflow.webhook_token)
        {
            return Err(Error::Duplicate(format!("workflow {} exists", workflow.id)));
        }
        g.workflows.insert(key, workflow.clone());
        g.versions.insert(
            (
                first.tenant_id.clone(),
                first.workflow_id.clone(),
                first.version,
            ),
            first.clone(),
        );
        Ok(())
    }

    async fn add_version(&self, next: &WorkflowVersion, name: &str, at: i64) -> Result<Workflow> {
        let mut g = self.lock();
        let key = k2(&next.tenant_id, &next.workflow_id);
        let w = g
            .workflows
            .get_mut(&key)
            .ok_or(Error::NotFound("workflow"))?;
        if next.version != w.version + 1 {
            return Err(Error::Stale(format!(
                "workflow {} is at version {}: the next is {}, not {}",
                w.id,
                w.version,
                w.version.saturating_add(1),
                next.version
            )));
        }
        w.version = next.version;
        w.name = name.to_owned();
        w.updated_at = at;
        let out = w.clone();
        g.versions.insert(
            (
                next.tenant_id.clone(),
                next.workflow_id.clone(),
                next.version,
            ),
            next.clone(),
        );
        Ok(out)
    }

    async fn set_active(
        &self,
        tenant: &str,
        id: &str,
        active: bool,
        schedule: Option<&Schedule>,
        at: i64,
    ) -> Result<Workflow> {
        let mut g = self.lock();
        let key = k2(tenant, id);
        let w = g
            .workflows
            .get_mut(&key)
            .ok_or(Error::NotFound("workflow"))?;
        w.active = active;
        w.updated_at = at;
        let out = w.clone();
        match schedule {
            Some(s) => g.schedules.insert(
                key,
                Schedule {
                    tenant_id: tenant.to_owned(),
                    workflow_id: id.to_owned(),
                    ..s.clone()
                },
            ),
            None => g.schedules.remove(&key),
        };
        Ok(out)
    }

    async fn delete_workflow(&self, tenant: &str, id: &str) -> Result<()> {
        let mut g = self.lock();
        let key = k2(tenant, id);
        g.workflows
            .remove(&key)
            .ok_or(Error::NotFound("workflow"))?;
        g.schedules.remove(&key);
        Ok(())
    }

    async fn get_workflow(&self, tenant: &str, id: &str) -> Result<Option<Workflow>> {
        Ok(self.lock().workflows.get(&k2(tenant, id)).cloned())
    }

    async fn workflow_by_token(&self, token: &str) -> Result<Option<Workflow>> {
        let g = self.lock();
        Ok(g.workflows
            .values()
            .find(|w| w.webhook_token == token)
            .cloned())
    }

    async fn list_workflows(
        &self,
        tenant: &str,
        f: &WorkflowFilter,
        p: &Page,
    ) -> Result<Vec<Workflow>> {
        let g = self.lock();
        let it = g
            .workflows
            .iter()
            .filter(|((t, _), w)| t == tenant && f.accepts(&w.name))
            .map(|((_, id), w)| (id.clone(), w.clone()));
        Ok(page(it, p))
    }

    async fn last_runs(&self, tenant: &str, workflow_ids: &[String]) -> Result<Vec<LastRun>> {
        Ok(self.lock().last_runs(tenant, workflow_ids))
    }

    async fn get_version(
        &self,
        tenant: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<Option<WorkflowVersion>> {
        let g = self.lock();
        Ok(g.versions
            .get(&(tenant.to_owned(), workflow_id.to_owned(), version))
            .cloned())
    }

    async fn commit(&self, c: &Commit) -> Result<()> {
        self.lock().commit(c)
    }

    async fn load_run(&self, tenant: &str, id: &str) -> Result<Option<RunState>> {
        Ok(self.lock().load_run(tenant, id))
    }
    async fn load_run_lean(
        &self,
        tenant: &str,
        id: &str,
        full: &[String],
    ) -> Result<Option<RunState>> {
        Ok(self.lock().load_run_lean(tenant, id, full))
    }

    async fn get_run(&self, tenant: &str, id: &str) -> Result<Option<Run>> {
        Ok(self.lock().runs.get(&k2(tenant, id)).cloned())
    }

    async fn list_runs(&self, tenant: &str, f: &RunFilter, p: &Page) -> Result<Vec<Run>> {
        Ok(self.lock().list_runs(tenant, f, p))
    }

    async fn list_attempts(&self, tenant: &str, run_id: &str) -> Result<Vec<Attempt>> {
        let g = self.lock();
        Ok(g.attempts
            .iter()
            .filter(|((t, r, _, _), _)| t == tenant && r == run_id)
            .map(|(_, a)| a.clone())
            .collect())
    }

    async fn step_by_resume_token(&self, token: &str) -> Result<Option<Step>> {
        let g = self.lock();
        Ok(g.steps
            .values()
            .find(|s| s.resume_token.as_deref() == Some(token))
            .cloned())
    }

    async fn due_steps(&self, at: i64, limit: u32) -> Result<Vec<Step>> {
        Ok(self.lock().due_steps(at, limit))
    }

    async fn overdue_runs(&self, at: i64, limit: u32) -> Result<Vec<Run>> {
        Ok(self.lock().overdue_runs(at, limit))
    }

    async fn run_stats(
        &self,
        tenant: &str,
        window: &crate::stats::StatsWindow,
    ) -> Result<crate::stats::RunStats> {
        Ok(self.lock().run_stats(tenant, window))
    }

    async fn count_runs(&self) -> Result<Vec<(Status, u64)>> {
        Ok(self.lock().count_runs())
    }

    async fn active_runs(&self, tenant: &str) -> Result<u64> {
        let g = self.lock();
        Ok(g.runs
            .values()
            .filter(|r| r.tenant_id == tenant && !r.status.is_terminal())
            .count() as u64)
    }

    async fn outbox_claim(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        let mut g = self.lock();
        let mut out = Vec::new();
        for (entry, until) in g.outbox.values_mut() {
            if out.len() >= limit as usize {
                break;
            }
            if *until <= now {
                *until = now.saturating_add(lease_ms);
                out.push(OutboxEntry {
                    claimed_until: *until,
                    ..entry.clone()
                });
            }
        }
        Ok(out)
    }

    async fn outbox_delete(&self, ids: &[String]) -> Result<()> {
        let mut g = self.lock();
        g.outbox.retain(|(_, id), _| !ids.contains(id));
        Ok(())
    }

    async fn outbox_oldest(&self) -> Result<Option<i64>> {
        Ok(self.lock().outbox.keys().next().map(|(at, _)| *at))
    }

    async fn create_credential(&self, c: &CredentialRecord) -> Result<()> {
        let mut g = self.lock();
        if g.credentials.contains_key(&k2(&c.tenant_id, &c.id))
            || g.credentials
                .values()
                .any(|x| x.tenant_id == c.tenant_id && x.name == c.name)
        {
            return Err(Error::Duplicate(format!("credential `{}` exists", c.name)));
        }
        g.credentials.insert(k2(&c.tenant_id, &c.id), c.clone());
        Ok(())
    }

    async fn list_credentials(&self, tenant: &str) -> Result<Vec<CredentialRecord>> {
        let g = self.lock();
        let mut v: Vec<CredentialRecord> = g
            .credentials
            .values()
            .filter(|c| c.tenant_id == tenant)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    async fn credential_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<CredentialRecord>> {
        let g = self.lock();
        Ok(g.credentials
            .values()
            .find(|c| c.tenant_id == tenant && c.name == name)
            .cloned())
    }

    async fn delete_credential(&self, tenant: &str, id: &str) -> Result<()> {
        let mut g = self.lock();
        g.credentials
            .remove(&k2(tenant, id))
            .ok_or(Error::NotFound("credential"))?;
        g.oauth.forget(tenant, id);
        Ok(())
    }

    async fn reseal_credential(&self, c: &CredentialRecord, previous_nonce: &[u8]) -> Result<bool> {
        let mut g = self.lock();
        if g.credentials
            .values()
            .any(|x| x.tenant_id == c.tenant_id && x.name == c.name && x.id != c.id)
        {
            return Err(Error::Duplicate(format!("credential `{}` exists", c.name)));
        }
        match g.credentials.get_mut(&k2(&c.tenant_id, &c.id)) {
            Some(row) if row.nonce == previous_nonce => {
                *row = CredentialRecord {
                    created_at: row.created_at,
                    ..c.clone()
                };
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get_delivery(
        &self,
        tenant: &str,
        workflow_id: &str,
        delivery_id: &str,
        now: i64,
    ) -> Result<Option<crate::Delivery>> {
        let key = (
            tenant.to_owned(),
            workflow_id.to_owned(),
            delivery_id.to_owned(),
        );
        Ok(self
            .lock()
            .deliveries
            .get(&key)
            .filter(|d| d.expires_at > now)
            .cloned())
    }

    async fn prune_deliveries(&self, now: i64, limit: u32) -> Result<u64> {
        let mut g = self.lock();
        let expired: Vec<Key3> = g
            .deliveries
            .iter()
            .filter(|(_, d)| d.expires_at <= now)
            .take(limit as usize)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            g.deliveries.remove(k);
        }
        Ok(expired.len() as u64)
    }

    async fn due_schedules(&self, at: i64, limit: u32) -> Result<Vec<Schedule>> {
        let g = self.lock();
        let mut v: Vec<Schedule> = g
            .schedules
            .values()
            .filter(|s| s.next_fire_at <= at && g.tenant_active(&s.tenant_id))
            .cloned()
            .collect();
        v.sort_by_key(|s| s.next_fire_at);
        v.truncate(limit as usize);
        Ok(v)
    }

    async fn state_get(&self, tenant: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let k = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
        Ok(self.lock().state.get(&k).cloned())
    }

    async fn state_set(&self, tenant: &str, plugin: &str, key: &str, value: &[u8]) -> Result<()> {
        let k = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
        self.lock().state.insert(k, value.to_vec());
        Ok(())
    }

    async fn state_delete(&self, tenant: &str, plugin: &str, key: &str) -> Result<bool> {
        let k = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
        Ok(self.lock().state.remove(&k).is_some())
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        self.lock().audit.push(entry.clone());
        Ok(())
    }

    async fn list_audit(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>> {
        let g = self.lock();
        // Newest `at` first; among equal times, the later insertion first.
        let mut v: Vec<&AuditEntry> = g
            .audit
            .iter()
            .rev()
            .filter(|e| e.tenant_id == tenant)
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.at));
        Ok(v.into_iter().take(limit as usize).cloned().collect())
    }

    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}
