//! One task: begin a pending run, run an action step in the sandbox, wake a
//! wait, or check a sub-workflow's child.

use crate::{Error, Handle, Result, SlotGrant, now_ms};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use weft_engine::credentials;
use weft_engine::run::{Claim, Ran, TRIGGER, locate};
use weft_queue::{Delivery, Task};
use weft_sandbox::{Grants, Invocation, Namespace, StateGrant};
use weft_types::{
    Definition, ErrorKind, Failure, Manifest, Reason, Run, Status, StepContext, StepKind,
};

impl Handle {
    /// Does what `task` asks if it still applies; a stale or duplicate task is a no-op.
    ///
    /// # Errors
    /// Store failures (the caller hands the delivery back to the queue).
    pub async fn handle(&self, task: &Task) -> Result<()> {
        self.handle_held(task, &mut None).await
    }

    /// [`Handle::handle`] for a delivery still `held`: an action step acks it
    /// as soon as its claim commits (and takes it out of `held`).
    pub(crate) async fn handle_held(&self, task: &Task, held: &mut Option<Delivery>) -> Result<()> {
        // A suspended tenant's steps wait (docs/TENANCY.md, section 2): the
        // task is dropped and the step stays due in the store, where the
        // sweeper leaves it until the tenant is active again.
        if task.step_key != crate::runtime::CANCEL
            && let Some(t) = self.tenants().get(&task.tenant_id).await?
            && t.state.refusal().is_some()
        {
            self.0.metrics.suspended.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(tenant.id = %task.tenant_id, run.id = %task.run_id, step.id = %task.step_key, "tenant suspended; step left due");
            return Ok(());
        }
        let Some((state, handed)) = self.task_state(task).await? else {
            return Ok(());
        };
        if state.run.status.is_terminal() {
            return Ok(());
        }
        let def = match self
            .definition(&task.tenant_id, &state.run.workflow_id, state.run.version)
            .await
        {
            Ok(d) => d,
            Err(Error::NotFound(_) | Error::Invalid(_)) => {
                let why = format!(
                    "workflow {} (version {}) cannot be loaded",
                    state.run.workflow_id, state.run.version
                );
                return self.fail_unloadable(state, why).await;
            }
            Err(e) => return Err(e),
        };
        let key = task.step_key.as_str();
        if key == crate::runtime::CANCEL {
            self.decide(&task.tenant_id, &task.run_id, Some(state), |p| {
                p.cancel("the parent run ended")
            })
            .await?;
            return Ok(());
        }
        if key == TRIGGER {
            if let Some(failure) = refused_input(&def, &state.run) {
                return self.fail_pending(state, failure).await;
            }
            self.decide(&task.tenant_id, &task.run_id, Some(state), |p| p.begin())
                .await?;
            return Ok(());
        }
        let Some(step) = state.step(key).cloned() else {
            return Ok(());
        };
        let kind = locate(&def, key).map(|l| &l.def.kind);
        match (step.status, kind) {
            (Status::Pending | Status::Running, Some(StepKind::Action(_) | StepKind::Code(_))) => {
                self.run_action(task, state, handed, &def, held).await
            }
            (Status::Waiting, Some(StepKind::Wait(_))) => {
                self.decide(&task.tenant_id, &task.run_id, Some(state), |p| p.wake(key))
                    .await?;
                Ok(())
            }
            (Status::Waiting, Some(StepKind::Subworkflow(_))) => {
                let child = match &step.child_run_id {
                    Some(id) => self.store().get_run(&task.tenant_id, id).await?,
                    None => None,
                };
                let due = step.due_at.is_some_and(|d| d <= now_ms());
                match child {
                    Some(c) if c.status.is_terminal() => {
                        self.decide(&task.tenant_id, &task.run_id, Some(state), |p| {
                            p.child_done(key, &c)
                        })
                        .await?;
                    }
                    _ if due => {
                        self.decide(&task.tenant_id, &task.run_id, Some(state), |p| {
                            p.recheck(key)
                        })
                        .await?;
                    }
                    _ => {}
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The run as `task` finds it, and whether it was handed over
    /// ([`crate::handoff`]): the state the commit that published the task
    /// left, when that is a live run whose step `task` names is a pending
    /// action step (the claim on it is conditional, and a refused claim is
    /// decided again on the store's state); else read from the store, lean
    /// (a decision on it asks for the finished steps' data it reads).
    async fn task_state(&self, task: &Task) -> Result<Option<(weft_store::RunState, bool)>> {
        if let Some(state) = self.0.handoff.take(&task.run_id)
            && !state.run.status.is_terminal()
            && state
                .step(&task.step_key)
                .is_some_and(|s| s.status == Status::Pending)
            && let Ok(def) = self
                .definition(&task.tenant_id, &state.run.workflow_id, state.run.version)
                .await
            && matches!(
                locate(&def, &task.step_key).map(|l| &l.def.kind),
                Some(StepKind::Action(_) | StepKind::Code(_))
            )
        {
            return Ok(Some((state, true)));
        }
        Ok(self
            .store()
            .load_run_lean(&task.tenant_id, &task.run_id, &[])
            .await?
            .map(|state| (state, false)))
    }

    async fn run_action(
        &self,
        task: &Task,
        state: weft_store::RunState,
        handed: bool,
        def: &Definition,
        held: &mut Option<Delivery>,
    ) -> Result<()> {
        let key = task.step_key.as_str();
        // Capped, and saturating: the lease never wraps into a short one.
        let timeout = self
            .options()
            .step_timeout_ms(locate(def, key).and_then(|l| l.def.timeout_ms));
        let lease = timeout.saturating_add(self.options().lease_grace_ms);
        let slot = format!("{}:{key}:{}", task.run_id, task.attempt);
        let limit = self
            .tenants()
            .limits(&task.tenant_id)
            .await
            .max_running_steps
            .unwrap_or(self.options().max_running_steps);
        let slots = self.0.parts.slots.as_ref().filter(|_| limit > 0);
        if let Some(slots) = slots {
            let ttl = Duration::from_millis(lease);
            match slots.acquire(&task.tenant_id, &slot, limit, ttl).await {
                SlotGrant::Granted => {}
                // Another task for this step attempt holds the slot: this one
                // is a duplicate (the sweeper's, a redelivery). It must not
                // release what it does not own.
                SlotGrant::Held => {
                    self.0.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                // Parked until a slot of the tenant is given back or the wait
                // ends (a fresh task then; this delivery is done).
                SlotGrant::Full(wait) => {
                    let counter = if self.0.parked.park(task.clone(), wait) {
                        &self.0.metrics.deferred
                    } else {
                        &self.0.metrics.duplicates
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
        let result = self
            .run_claimed(task, state, handed, def, held, lease)
            .await;
        if let Some(slots) = slots {
            slots.release(&task.tenant_id, &slot).await;
            // The freed slot goes to the tenant's oldest parked step at once.
            if let Some(next) = self.0.parked.wake(&task.tenant_id)
                && let Err(e) = self.queue().publish(next.clone(), None).await
            {
                tracing::warn!(run.id = %next.run_id, step.id = %next.step_key, error = %e, "parked step not published; the sweeper publishes it");
            }
        }
        result
    }

    async fn run_claimed(
        &self,
        task: &Task,
        state: weft_store::RunState,
        handed: bool,
        def: &Definition,
        held: &mut Option<Delivery>,
        lease: u64,
    ) -> Result<()> {
        let key = task.step_key.as_str();
        let started = now_ms();
        let (claim, claimed) = self
            .decide_keep(&task.tenant_id, &task.run_id, Some(state), handed, |p| {
                p.claim(key, task.attempt, lease)
            })
            .await?;
        let Some(claim) = claim else {
            return Ok(());
        };
        // Claimed: the lease now guarantees the step is retried if this worker
        // dies, so the broker need not redeliver it (and a step longer than the
        // broker's ack timeout is not run twice).
        if let Some(d) = held.take()
            && let Err(e) = d.ack().await
        {
            tracing::debug!(error = %e, "early ack failed; a redelivery finds the lease held");
        }
        let t0 = Instant::now();
        // The lease as the claim set it, at the latest (the claim's clock
        // read `started` or later): the attempt is stopped before it ends.
        let lease_at = started.saturating_add(i64::try_from(lease).unwrap_or(i64::MAX));
        let (mut ran, cause) = {
            let registration = self.0.inflight.register(&task.run_id);
            let flight = registration.flight();
            let exec = self.execute(&claimed.run, key, &claim, def, flight.token().clone());
            tokio::pin!(exec);
            let ran = tokio::select! {
                e = &mut exec => e,
                () = self.watch(&task.tenant_id, &task.run_id, lease_at, flight) => exec.await,
            };
            (ran, flight.cause())
        };
        if let (Some(cause), Err(f)) = (cause, &mut ran.result) {
            *f = cause.failure();
        }
        self.0.metrics.attempts.fetch_add(1, Ordering::Relaxed);
        self.0.metrics.observe(t0.elapsed().as_secs_f64());
        if let Err(e) = &ran.result {
            self.0.metrics.failure(e.label());
        }
        // Usually nothing else touched the run meanwhile: decide on the state
        // the claim committed; a sibling's commit makes this a conflict, and
        // the retry reloads.
        let (applied, _) = self
            .decide(&task.tenant_id, &task.run_id, Some(claimed), |p| {
                p.complete(key, claim.attempt, started, ran.clone())
            })
            .await?;
        if !applied {
            // The step moved on while the plugin ran (its run ended): the
            // attempt's journal row still says `running`; close it.
            self.decide(&task.tenant_id, &task.run_id, None, |p| {
                p.abandon(key, claim.attempt, started, ran.clone())
            })
            .await?;
        }
        Ok(())
    }

    /// Runs a claimed attempt in the sandbox with the workflow's grants, on
    /// the component its connector resolves to for the run's tenant (refused
    /// when that is taken down or does not verify).
    async fn execute(
        &self,
        run: &Run,
        key: &str,
        claim: &Claim,
        def: &Definition,
        cancel: CancellationToken,
    ) -> Ran {
        let entry = match self.resolve(&run.tenant_id, &claim.connector).await {
            Ok(r) => r,
            Err(f) => return Ran::result(Err(f)),
        };
        // The step's `version` range: the tenant's connector may have been
        // upgraded (or the bundled one replaced) since the workflow was saved.
        if let Some(StepKind::Action(a)) = locate(def, key).map(|l| &l.def.kind)
            && !a.accepts(&entry.plugin.manifest().version)
        {
            let msg = format!(
                "connector `{}` is at {} ({}), outside this step's version `{}`",
                claim.connector,
                entry.plugin.manifest().version,
                entry.source,
                a.version.as_deref().unwrap_or_default()
            );
            return Ran::result(Err(Failure::of(Reason::UnknownConnector, msg)));
        }
        let digest = Some(entry.digest.clone());
        let failed = |f: Failure| Ran {
            digest: digest.clone(),
            ..Ran::result(Err(f))
        };
        // A code step reaches only the hosts it is granted itself (none by
        // default); an action step, the workflow's.
        let code_step = match locate(def, key).map(|l| &l.def.kind) {
            Some(StepKind::Code(c)) => Some(c),
            _ => None,
        };
        let mut grants = Grants {
            hosts: code_step.map_or_else(|| def.grants.hosts.clone(), |c| c.hosts.clone()),
            ..Grants::default()
        };
        let bound = match self
            .bindings(&run.tenant_id, def, key, entry.plugin.manifest())
            .await
        {
            Ok(b) => b,
            Err(f) => return failed(f),
        };
        if let Err(f) = self
            .grant_credentials(&run.tenant_id, bound, &mut grants, key)
            .await
        {
            return failed(f);
        }
        grants.state = Some(StateGrant {
            store: self.0.state.clone(),
            namespace: Namespace {
                tenant: run.tenant_id.clone(),
                plugin: entry.plugin.manifest().name.clone(),
            },
        });
        let mut limits = self.sandbox().options().limits;
        limits.timeout = Duration::from_millis(self.options().step_timeout_ms(claim.timeout_ms));
        let inv = Invocation {
            action: claim.action.clone(),
            input: claim.input.to_string(),
            config: if claim.config.is_null() {
                "{}".into()
            } else {
                claim.config.to_string()
            },
            context: StepContext {
                workflow_id: run.workflow_id.clone(),
                run_id: run.id.clone(),
                step_id: key.to_owned(),
                attempt: claim.attempt,
                idempotency_key: claim.idempotency_key.clone(),
            },
            grants,
            limits,
            cancel: Some(cancel),
        };
        // A code step's own credentials are slots of this invocation only,
        // limited to the step's hosts (the `code` connector declares none).
        let outcome = match code_step.filter(|c| !c.credentials.is_empty()) {
            Some(c) => {
                let slots = c
                    .credentials
                    .keys()
                    .map(|name| weft_types::CredentialSlot {
                        name: name.clone(),
                        description: format!("bound by code step `{key}`"),
                        hosts: c.hosts.clone(),
                        optional: false,
                    })
                    .collect();
                let plugin = entry.plugin.with_slots(slots);
                self.sandbox().invoke(&plugin, inv).await
            }
            None => self.sandbox().invoke(&entry.plugin, inv).await,
        };
        let mut result = outcome.result;
        // What a script throws (the connector's own permanent failure) is
        // named: the message has the script's line and column.
        if code_step.is_some()
            && let Err(f) = &mut result
            && f.reason.is_none()
            && f.kind == ErrorKind::Permanent
        {
            f.reason = Some(Reason::ScriptError);
        }
        Ran {
            result,
            usage: serde_json::to_value(outcome.usage).ok(),
            logs: outcome.logs,
            digest,
        }
    }
}

impl Handle {
    /// The (slot, credential name) pairs the action step `key` is granted: only
    /// bindings that name the step or its connector, for slots its connector
    /// declares ([`weft_engine::credentials::for_step`], the rule validation
    /// applies too, so a definition stored before it is held to it as well).
    ///
    /// # Errors
    /// A `credential_not_bound` failure naming the fix.
    async fn bindings<'d>(
        &self,
        tenant: &str,
        def: &'d Definition,
        key: &str,
        manifest: &Manifest,
    ) -> Result<Vec<(&'d str, &'d str)>, Failure> {
        let step = match locate(def, key).map(|l| &l.def.kind) {
            Some(StepKind::Action(step)) => step,
            // A code step binds on itself only: the names its script uses.
            Some(StepKind::Code(c)) => {
                return Ok(c
                    .credentials
                    .iter()
                    .map(|(name, credential)| (name.as_str(), credential.as_str()))
                    .collect());
            }
            _ => return Ok(Vec::new()),
        };
        // The catalogue is only read for a workflow-wide grant by slot name.
        let legacy = def.grants.credentials.keys().any(|k| !k.contains('/'));
        let catalog = if legacy {
            self.catalog(tenant).await.map_err(|e| {
                Failure::new(
                    ErrorKind::Transient,
                    format!("the connector catalogue cannot be read: {e}"),
                )
            })?
        } else {
            BTreeMap::new()
        };
        match credentials::for_step(def, step, manifest, &catalog) {
            Ok(bound) => Ok(bound.into_iter().map(|b| (b.slot, b.credential)).collect()),
            Err(refusal) => {
                tracing::warn!(step.id = %key, plugin.name = %manifest.name, reason = %refusal, "credential not bound");
                Err(Failure::of(
                    Reason::CredentialNotBound,
                    format!("step `{key}`: {refusal}"),
                ))
            }
        }
    }
}

/// Why a pending run may not begin with its input: a sub-workflow's input
/// (the parent step's rendered `input`, the child's trigger) whose `body`
/// does not match the workflow's `input_schema`. Runs started through the
/// API, a webhook or MCP were checked before they were created.
fn refused_input(def: &Definition, run: &Run) -> Option<Failure> {
    if run.trigger != weft_types::Trigger::Subworkflow || run.status != Status::Pending {
        return None;
    }
    let problems = weft_engine::input::check_trigger(def, &run.input).err()?;
    let mut message = weft_engine::input::summary(&problems);
    if run.input.get("body").is_none() {
        message.push_str(
            " (a subworkflow step's `input` is the child's whole trigger: put the body \
             under `input.body`)",
        );
    }
    Some(Failure::of(Reason::InputSchema, message))
}
