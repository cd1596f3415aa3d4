//! The operator's use cases (`docs/TENANCY.md`, sections 1, 2 and 7): the
//! operator credential, tenants as the operator manages them (create, list,
//! rename, overrides, suspend, resume, delete with a grace period), the
//! operator audit log, the gate every tenant caller passes, and the sweeper's
//! erase and retention rounds.
//!
//! An operator acts on no tenant's data through the tenant use cases: it has
//! no [`crate::Actor`]. What it does is written to the operator audit log
//! (actor `op:<key id>`, the tenant acted on), which survives the tenant.

use crate::{Error, Result, Tenants};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use weft_store::{AuditEntry, Store};
use weft_types::{OperatorKey, Tenant, TenantLimits, TenantState};
use weft_worker::{new_id, now_ms};

/// How long a tenant's state and limits are reused by a process: a change
/// applies within this on every process.
pub const TENANT_TTL: Duration = Duration::from_secs(5);
/// Rows erased, or runs pruned, per store call of the sweeper.
pub const BATCH: u32 = 500;
/// Audit rows are kept this many days.
pub const AUDIT_RETENTION_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;

/// Whether `secret` has the shape of an operator key (`weft_op_…`).
pub fn is_operator_key(secret: &str) -> bool {
    weft_vault::apikey::parse_operator_prefix(secret).is_some()
}

/// Whether `secret` has the shape of a tenant's API key (`weft_…`).
pub fn is_api_key(secret: &str) -> bool {
    weft_vault::apikey::parse_prefix(secret).is_some()
}

/// The authenticated operator: the key's id (audited as `op:<id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `opk_…`.
    pub id: String,
}

impl Operator {
    /// The operator named in the audit log.
    pub fn actor(&self) -> String {
        format!("op:{}", self.id)
    }
}

/// Tenant id -> when it was read, and what (`None`: no such tenant).
type Cached = HashMap<String, (Instant, Option<Tenant>)>;

/// A tenant's state and limits as last read, per process; a change made
/// here is forgotten at once in the worker's view too (its rates, slots and
/// parking), when there is one.
#[derive(Clone, Default)]
pub struct TenantCache(
    Arc<Mutex<Cached>>,
    pub(crate) Option<weft_worker::TenantView>,
);

impl TenantCache {
    async fn get(&self, store: &dyn Store, id: &str) -> Result<Option<Tenant>> {
        if let Some((at, t)) = self.lock().get(id)
            && at.elapsed() < TENANT_TTL
        {
            return Ok(t.clone());
        }
        let t = store.get_tenant(id).await?;
        let mut map = self.lock();
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(id.to_owned(), (Instant::now(), t.clone()));
        Ok(t)
    }

    fn forget(&self, id: &str) {
        self.lock().remove(id);
        if let Some(view) = &self.1 {
            view.forget(id);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Option<Tenant>)>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the operator's sweeper did in one round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rows of deleted tenants erased.
    pub erased_rows: u64,
    /// Tenants erased whole.
    pub erased_tenants: u64,
    /// Ended runs pruned.
    pub runs_pruned: u64,
    /// Audit rows pruned.
    pub audit_pruned: u64,
}

impl Tenants {
    /// On a store with no operator key: one named `bootstrap`, whose secret
    /// is returned once. Otherwise `None`.
    ///
    /// # Errors
    /// Store or vault failures.
    pub async fn bootstrap_operator(&self) -> Result<Option<String>> {
        if !self.store().list_operator_keys().await?.is_empty() {
            return Ok(None);
        }
        let (_, secret) = self.issue_operator_key("bootstrap").await?;
        Ok(Some(secret))
    }

    async fn issue_operator_key(&self, name: &str) -> Result<(OperatorKey, String)> {
        crate::tenants::check_name("name", name)?;
        let generated = weft_vault::apikey::generate_operator()?;
        let key = OperatorKey {
            id: new_id("opk"),
            prefix: generated.prefix.clone(),
            hash: generated.hash.clone(),
            name: name.to_owned(),
            created_at: now_ms(),
            revoked_at: None,
        };
        self.store().create_operator_key(&key).await?;
        Ok((key, generated.secret.to_string()))
    }

    /// The operator an operator key secret (`weft_op_…`) stands for.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for a malformed, unknown or revoked key.
    pub async fn authenticate_operator(&self, secret: &str) -> Result<Operator> {
        let prefix =
            weft_vault::apikey::parse_operator_prefix(secret).ok_or(Error::Unauthenticated)?;
        let key = self
            .store()
            .operator_key_by_prefix(prefix)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if key.revoked_at.is_some() || !weft_vault::apikey::verify_operator(secret, &key.hash) {
            return Err(Error::Unauthenticated);
        }
        Ok(Operator { id: key.id })
    }

    /// Refuses the callers of a tenant that is not active (403
    /// `tenant_suspended`, with the operator's reason), from a state at most
    /// [`TENANT_TTL`] old. Every tenant caller passes here: API keys,
    /// sessions, webhooks.
    ///
    /// # Errors
    /// [`Error::TenantSuspended`]; [`Error::Unauthenticated`] for a tenant
    /// that is gone; store failures.
    pub async fn gate(&self, tenant: &str) -> Result<()> {
        match self.cache().get(self.store().as_ref(), tenant).await? {
            None => Err(Error::Unauthenticated),
            Some(t) => match t.state.refusal() {
                None => Ok(()),
                Some(reason) => Err(Error::TenantSuspended(reason.to_owned())),
            },
        }
    }

    /// The tenant's overrides, from a read at most [`TENANT_TTL`] old
    /// (defaults for a tenant that is gone).
    ///
    /// # Errors
    /// Store failures.
    pub async fn limits_of(&self, tenant: &str) -> Result<TenantLimits> {
        Ok(self
            .cache()
            .get(self.store().as_ref(), tenant)
            .await?
            .map(|t| t.limits)
            .unwrap_or_default())
    }

    /// Appends one entry to the operator audit log.
    pub(crate) async fn op_audit(
        &self,
        op: &Operator,
        action: &str,
        tenant: &str,
        target: &str,
    ) -> Result<()> {
        let entry = AuditEntry {
            tenant_id: tenant.to_owned(),
            actor: op.actor(),
            action: action.to_owned(),
            target: target.to_owned(),
            at: now_ms(),
        };
        Ok(self.store().operator_audit(&entry).await?)
    }

    /// Creates an operator key; the secret is in this answer only.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad name; store failures.
    pub async fn create_operator_key(
        &self,
        op: &Operator,
        name: &str,
    ) -> Result<(OperatorKey, String)> {
        let (key, secret) = self.issue_operator_key(name).await?;
        self.op_audit(op, "operator_key.create", "", &key.id)
            .await?;
        Ok((key, secret))
    }

    /// Every operator key (prefixes and metadata).
    ///
    /// # Errors
    /// Store failures.
    pub async fn list_operator_keys(&self, _op: &Operator) -> Result<Vec<OperatorKey>> {
        Ok(self.store().list_operator_keys().await?)
    }

    /// Revokes an operator key at once; the last live key cannot be revoked
    /// (409), so the deployment never loses its operator.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] for the last live key.
    pub async fn revoke_operator_key(&self, op: &Operator, id: &str) -> Result<()> {
        let keys = self.store().list_operator_keys().await?;
        let live: Vec<&OperatorKey> = keys.iter().filter(|k| k.revoked_at.is_none()).collect();
        if !keys.iter().any(|k| k.id == id) {
            return Err(Error::NotFound("operator key"));
        }
        if live.len() == 1 && live[0].id == id {
            return Err(Error::Conflict(format!(
                "operator key {id} is the last one not revoked: create another first"
            )));
        }
        self.store().revoke_operator_key(id, now_ms()).await?;
        self.op_audit(op, "operator_key.revoke", "", id).await
    }

    /// Creates a tenant with an owner key (the secret, shown once).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad name or limits; store or vault failures.
    pub async fn op_create_tenant(
        &self,
        op: &Operator,
        name: &str,
        limits: Option<TenantLimits>,
    ) -> Result<(Tenant, String)> {
        if let Some(l) = &limits {
            l.validate()
                .map_err(|m| Error::Invalid(format!("request body at {m}")))?;
        }
        let (mut tenant, secret) = self.create(name).await?;
        if let Some(l) = limits {
            tenant.limits = l;
            self.store().update_tenant(&tenant).await?;
        }
        self.op_audit(op, "tenant.create", &tenant.id, &tenant.id)
            .await?;
        Ok((tenant, secret))
    }

    /// Every tenant, oldest first.
    ///
    /// # Errors
    /// Store failures.
    pub async fn op_list_tenants(&self, _op: &Operator) -> Result<Vec<Tenant>> {
        Ok(self.store().list_tenants().await?)
    }

    /// One tenant.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn op_get_tenant(&self, _op: &Operator, id: &str) -> Result<Tenant> {
        self.store()
            .get_tenant(id)
            .await?
            .ok_or(Error::NotFound("tenant"))
    }

    /// Renames a tenant and/or replaces its limits (`limits` replaces the
    /// whole object; `{}` clears every override).
    ///
    /// # Errors
    /// [`Error::Invalid`]; [`Error::NotFound`].
    pub async fn op_update_tenant(
        &self,
        op: &Operator,
        id: &str,
        name: Option<&str>,
        limits: Option<TenantLimits>,
    ) -> Result<Tenant> {
        let mut t = self.op_get_tenant(op, id).await?;
        if let Some(name) = name {
            crate::tenants::check_name("name", name)?;
            name.clone_into(&mut t.name);
        }
        if let Some(l) = limits {
            l.validate()
                .map_err(|m| Error::Invalid(format!("request body at {m}")))?;
            t.limits = l;
        }
        self.store().update_tenant(&t).await?;
        self.cache().forget(id);
        self.op_audit(op, "tenant.update", id, id).await?;
        Ok(t)
    }

    async fn set_state(
        &self,
        op: &Operator,
        id: &str,
        action: &str,
        state: TenantState,
    ) -> Result<Tenant> {
        let mut t = self.op_get_tenant(op, id).await?;
        t.state = state;
        self.store().update_tenant(&t).await?;
        self.cache().forget(id);
        self.op_audit(op, action, id, id).await?;
        Ok(t)
    }

    /// Suspends a tenant: its callers are refused with `reason`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty reason; [`Error::NotFound`];
    /// [`Error::Conflict`] when it is being deleted (resume it first).
    pub async fn suspend(&self, op: &Operator, id: &str, reason: &str) -> Result<Tenant> {
        check_reason(reason)?;
        if matches!(
            self.op_get_tenant(op, id).await?.state,
            TenantState::Deleting { .. }
        ) {
            return Err(Error::Conflict(format!(
                "tenant {id} is being deleted: resume it first to cancel the delete"
            )));
        }
        let state = TenantState::Suspended {
            reason: reason.to_owned(),
            at: now_ms(),
        };
        self.set_state(op, id, "tenant.suspend", state).await
    }

    /// Makes a suspended tenant active again, or cancels a delete in its
    /// grace period.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] once the erase has started.
    pub async fn resume(&self, op: &Operator, id: &str) -> Result<Tenant> {
        if matches!(
            self.op_get_tenant(op, id).await?.state,
            TenantState::Erasing { .. }
        ) {
            return Err(Error::Conflict(format!(
                "tenant {id} is being erased: its grace period has passed"
            )));
        }
        self.set_state(op, id, "tenant.resume", TenantState::Active)
            .await
    }

    /// Deletes a tenant: refused at once like a suspended one, erased by the
    /// sweeper once `grace_ms` has passed unless resumed before.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete(&self, op: &Operator, id: &str, grace_ms: u64) -> Result<Tenant> {
        let at = now_ms();
        let grace = i64::try_from(grace_ms).unwrap_or(i64::MAX);
        let state = TenantState::Deleting {
            reason: "the tenant is being deleted".to_owned(),
            at,
            erase_after: at.saturating_add(grace),
        };
        self.set_state(op, id, "tenant.delete", state).await
    }

    /// The operator audit log, newest first; at most 1,000.
    ///
    /// # Errors
    /// Store failures.
    pub async fn op_audit_log(
        &self,
        _op: &Operator,
        limit: Option<u32>,
    ) -> Result<Vec<AuditEntry>> {
        let limit = limit.unwrap_or(100).clamp(1, 1000);
        Ok(self.store().list_operator_audit(limit).await?)
    }

    /// One round of the operator's sweeper at `now`: erases one batch of each
    /// deleted tenant past its grace (audited at start and end), prunes up to
    /// [`BATCH`] ended runs of each tenant older than its retention
    /// (`default_retention_days` when it sets none; 0 keeps them), and audit
    /// rows older than [`AUDIT_RETENTION_DAYS`].
    ///
    /// # Errors
    /// Store failures.
    pub async fn sweep(&self, now: i64, default_retention_days: u32) -> Result<Swept> {
        let mut done = Swept::default();
        let system = Operator {
            id: "sweeper".to_owned(),
        };
        for t in self.store().list_tenants().await? {
            match &t.state {
                TenantState::Deleting {
                    erase_after,
                    reason,
                    ..
                } if *erase_after <= now => {
                    let mut erasing = t.clone();
                    erasing.state = TenantState::Erasing {
                        reason: reason.clone(),
                        at: now,
                    };
                    self.store().update_tenant(&erasing).await?;
                    self.cache().forget(&t.id);
                    self.op_audit(&system, "tenant.erase.start", &t.id, &t.id)
                        .await?;
                    continue;
                }
                TenantState::Erasing { .. } => {
                    let n = self.store().erase_tenant(&t.id, BATCH).await?;
                    done.erased_rows += n;
                    if n == 0 {
                        done.erased_tenants += 1;
                        self.cache().forget(&t.id);
                        self.op_audit(&system, "tenant.erase.end", &t.id, &t.id)
                            .await?;
                    }
                    continue;
                }
                TenantState::Deleting { .. } => continue,
                TenantState::Active | TenantState::Suspended { .. } => {}
            }
            let days = t
                .limits
                .run_retention_days
                .unwrap_or(default_retention_days);
            if days > 0 {
                let cut = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
                done.runs_pruned += self.store().prune_runs(&t.id, cut, BATCH).await?;
            }
        }
        done.audit_pruned = self
            .store()
            .prune_audit(now.saturating_sub(AUDIT_RETENTION_DAYS * DAY_MS), BATCH)
            .await?;
        Ok(done)
    }
}

fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(Error::Invalid(
            "request body at `reason`: must be 1-500 characters".to_owned(),
        ));
    }
    Ok(())
}
