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
/// How long one sweeper round keeps taking batches (of erased rows, pruned
/// runs, pruned audit rows) while they come back full; past it, each tenant
/// still gets one batch and the rest waits for the next round.
pub const SWEEP_BUDGET: Duration = Duration::from_secs(2);
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
    /// Dead sessions, spent or expired links, day-old login failures pruned.
    pub people_pruned: u64,
    /// Another process held the sweeper lock: this round did nothing.
    pub skipped: bool,
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
        let bad = || {
            Error::BadCredentials(
                "Authorization: not a valid operator key (Bearer weft_op_...): malformed, unknown or revoked"
                    .into(),
            )
        };
        let prefix = weft_vault::apikey::parse_operator_prefix(secret).ok_or_else(bad)?;
        let key = self
            .store()
            .operator_key_by_prefix(prefix)
            .await?
            .ok_or_else(bad)?;
        if key.revoked_at.is_some() || !weft_vault::apikey::verify_operator(secret, &key.hash) {
            return Err(bad());
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
            self.store()
                .update_tenant_settings(&tenant.id, None, Some(&l))
                .await?;
            tenant.limits = l;
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
    /// whole object; `{}` clears every override). Its state is never
    /// written here, so a suspension made meanwhile stands.
    ///
    /// # Errors
    /// [`Error::Invalid`]; [`Error::NotFound`]; [`Error::Conflict`] on a
    /// tenant being erased.
    pub async fn op_update_tenant(
        &self,
        op: &Operator,
        id: &str,
        name: Option<&str>,
        limits: Option<TenantLimits>,
    ) -> Result<Tenant> {
        refuse_erasing(&self.op_get_tenant(op, id).await?)?;
        if let Some(name) = name {
            crate::tenants::check_name("name", name)?;
        }
        if let Some(l) = &limits {
            l.validate()
                .map_err(|m| Error::Invalid(format!("request body at {m}")))?;
        }
        self.store()
            .update_tenant_settings(id, name, limits.as_ref())
            .await?;
        self.cache().forget(id);
        self.op_audit(op, "tenant.update", id, id).await?;
        self.op_get_tenant(op, id).await
    }

    /// Moves the tenant to `next(current state)`, compare-and-set: when its
    /// state moved between the read and the write, nothing is written (409).
    async fn set_state(
        &self,
        op: &Operator,
        id: &str,
        action: &str,
        next: impl FnOnce(&Tenant) -> Result<TenantState>,
    ) -> Result<Tenant> {
        let mut t = self.op_get_tenant(op, id).await?;
        refuse_erasing(&t)?;
        let state = next(&t)?;
        self.store().set_tenant_state(id, &t.state, &state).await?;
        t.state = state;
        self.cache().forget(id);
        self.op_audit(op, action, id, id).await?;
        Ok(t)
    }

    /// Suspends a tenant: its callers are refused with `reason`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty reason; [`Error::NotFound`];
    /// [`Error::Conflict`] when it is being deleted (resume it first) or
    /// erased, or its state moved meanwhile.
    pub async fn suspend(&self, op: &Operator, id: &str, reason: &str) -> Result<Tenant> {
        check_reason(reason)?;
        self.set_state(op, id, "tenant.suspend", |t| {
            if matches!(t.state, TenantState::Deleting { .. }) {
                return Err(Error::Conflict(format!(
                    "tenant {id} is deleting: resume it first to cancel the delete"
                )));
            }
            Ok(TenantState::Suspended {
                reason: reason.to_owned(),
                at: now_ms(),
            })
        })
        .await
    }

    /// Makes a suspended tenant active again, or cancels a delete in its
    /// grace period.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] once the erase has started,
    /// or when its state moved meanwhile.
    pub async fn resume(&self, op: &Operator, id: &str) -> Result<Tenant> {
        self.set_state(op, id, "tenant.resume", |_| Ok(TenantState::Active))
            .await
    }

    /// Deletes a tenant: refused at once like a suspended one, erased by the
    /// sweeper once `grace_ms` has passed unless resumed before (deleting
    /// again sets a new grace period).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Conflict`] once the erase has started,
    /// or when its state moved meanwhile.
    pub async fn delete(&self, op: &Operator, id: &str, grace_ms: u64) -> Result<Tenant> {
        let at = now_ms();
        let grace = i64::try_from(grace_ms).unwrap_or(i64::MAX);
        self.set_state(op, id, "tenant.delete", |_| {
            Ok(TenantState::Deleting {
                reason: "the tenant is being deleted".to_owned(),
                at,
                erase_after: at.saturating_add(grace),
            })
        })
        .await
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

    /// One round of the operator's sweeper at `now`, under the store's
    /// sweeper lock (a round another process is running is skipped): moves
    /// each deleted tenant past its grace to erasing (compare-and-set, so a
    /// resume made meanwhile wins) and erases erasing tenants (audited at
    /// start and end); prunes ended runs of each tenant older than its
    /// retention (`options.run_retention_days` when it sets none; 0 keeps
    /// them) and audit rows older than [`AUDIT_RETENTION_DAYS`]. Work goes in
    /// batches of `options.ops_sweep_batch`: at least one per tenant, more
    /// while they come back full, within [`SWEEP_BUDGET`] (and as much again
    /// for the audit log).
    ///
    /// # Errors
    /// Store failures.
    pub async fn sweep(&self, now: i64, options: &weft_worker::Options) -> Result<Swept> {
        let Some(lock) = self.store().lock_sweeper().await? else {
            return Ok(Swept {
                skipped: true,
                ..Swept::default()
            });
        };
        let done = self.sweep_round(now, options).await;
        lock.release().await;
        done
    }

    async fn sweep_round(&self, now: i64, options: &weft_worker::Options) -> Result<Swept> {
        let mut done = Swept::default();
        let batch = options.ops_sweep_batch.max(1);
        let until = Instant::now() + SWEEP_BUDGET;
        for t in self.store().list_tenants().await? {
            match &t.state {
                TenantState::Deleting {
                    erase_after,
                    reason,
                    ..
                } if *erase_after <= now => {
                    let erasing = TenantState::Erasing {
                        reason: reason.clone(),
                        at: now,
                    };
                    match self
                        .store()
                        .set_tenant_state(&t.id, &t.state, &erasing)
                        .await
                    {
                        Ok(()) => {}
                        // Resumed, deleted again or gone since the list was read.
                        Err(weft_store::Error::Stale(_) | weft_store::Error::NotFound(_)) => {
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    self.cache().forget(&t.id);
                    self.op_audit(&sweeper(), "tenant.erase.start", &t.id, &t.id)
                        .await?;
                    self.erase(&t.id, batch, until, &mut done).await?;
                }
                TenantState::Erasing { .. } => {
                    self.erase(&t.id, batch, until, &mut done).await?;
                }
                TenantState::Deleting { .. } => {}
                TenantState::Active | TenantState::Suspended { .. } => {
                    let days = t
                        .limits
                        .run_retention_days
                        .unwrap_or(options.run_retention_days);
                    if days > 0 {
                        let cut = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
                        loop {
                            let n = self.store().prune_runs(&t.id, cut, batch).await?;
                            done.runs_pruned += n;
                            if n < u64::from(batch) || Instant::now() >= until {
                                break;
                            }
                        }
                    }
                }
            }
        }
        let cut = now.saturating_sub(AUDIT_RETENTION_DAYS * DAY_MS);
        let until = Instant::now() + SWEEP_BUDGET;
        loop {
            let n = self.store().prune_audit(cut, batch).await?;
            done.audit_pruned += n;
            if n < u64::from(batch) || Instant::now() >= until {
                break;
            }
        }
        // People's rows no request can use any more (sessions, links, login
        // failures, `docs/TENANCY.md` section 3), in bounded batches.
        loop {
            let n = self.store().prune_people(now, batch).await?;
            done.people_pruned += n;
            if n < u64::from(batch) || Instant::now() >= until {
                break;
            }
        }
        Ok(done)
    }

    /// Erases batches of an erasing tenant until none is left (audited) or
    /// `until` has passed (after one batch at least).
    async fn erase(&self, id: &str, batch: u32, until: Instant, done: &mut Swept) -> Result<()> {
        loop {
            let n = self.store().erase_tenant(id, batch).await?;
            done.erased_rows += n;
            if n == 0 {
                done.erased_tenants += 1;
                self.cache().forget(id);
                return self.op_audit(&sweeper(), "tenant.erase.end", id, id).await;
            }
            if Instant::now() >= until {
                return Ok(());
            }
        }
    }
}

/// The sweeper, as the operator audit log names it (`op:sweeper`).
fn sweeper() -> Operator {
    Operator {
        id: "sweeper".to_owned(),
    }
}

/// 409 on a tenant being erased: erasing is final.
pub(crate) fn refuse_erasing(t: &Tenant) -> Result<()> {
    if matches!(t.state, TenantState::Erasing { .. }) {
        return Err(Error::Conflict(format!(
            "tenant {} is erasing: its grace period has passed and erasing is final",
            t.id
        )));
    }
    Ok(())
}

fn check_reason(reason: &str) -> Result<()> {
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(Error::Invalid(
            "request body at `reason`: must be 1-500 characters".to_owned(),
        ));
    }
    Ok(())
}
