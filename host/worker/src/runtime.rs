//! The handle: start, decide, commit, publish.

use crate::notify::Waiters;
use crate::{Connectors, Error, Options, RandomIds, Result, metrics::Metrics, now_ms};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use weft_engine::run::Plan;
use weft_queue::Queue;
use weft_sandbox::Sandbox;
use weft_store::{RunState, ScheduleAdvance, Store};
use weft_types::{Definition, Run, Status, Trigger, Workflow};
use weft_vault::Keyring;

/// The pseudo step key of a task that cancels its run (its parent ended).
pub(crate) const CANCEL: &str = "$cancel";

/// How often [`Handle::wait`] reads the run while the run feed is up (each
/// answer wakes it; this only bounds a lost notification).
const FEED_POLL: Duration = Duration::from_millis(500);

/// Commits retried after losing a race, before giving up.
const MAX_CONFLICTS: usize = 64;

/// The longest [`Handle::wait`] (its callers ask for a few minutes at most):
/// a bound, so that no deadline computed from a timeout overflows.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3_600);

/// What a [`Handle`] is built from.
pub struct Parts {
    /// The source of truth.
    pub store: Arc<dyn Store>,
    /// Where tasks go.
    pub queue: Arc<dyn Queue>,
    /// Where steps run.
    pub sandbox: Sandbox,
    /// What can run.
    pub connectors: Arc<Connectors>,
    /// Unseals credentials.
    pub keyring: Arc<Keyring>,
    /// Settings.
    pub options: Options,
    /// Per-tenant running-step slots (in Redis or in memory), when configured.
    pub slots: Option<Arc<dyn crate::Slots>>,
    /// The registry's records: tenants' installs, versions, publishers' keys
    /// and takedowns. Without it only bundled connectors run.
    pub registry: Option<Arc<dyn weft_registry::RegistryStore>>,
    /// Installed artifacts by digest (fetched on first use and verified).
    pub blobs: Option<Arc<dyn weft_registry::Blobs>>,
}

pub(crate) struct Inner {
    pub(crate) parts: Parts,
    defs: Mutex<HashMap<(String, String, u32), Arc<Definition>>>,
    pub(crate) waiters: Arc<Waiters>,
    pub(crate) metrics: Metrics,
    pub(crate) state: Arc<crate::StoreState>,
    /// Wakes the outbox relay after this process published its own rows.
    pub(crate) relay_wake: tokio::sync::Notify,
    /// This process's published outbox rows, for the relay to delete.
    pub(crate) confirmed: crate::relay::Confirmed,
    /// The store's run feed, started by the first wait (`None`: it has none).
    pub(crate) feed: std::sync::OnceLock<Option<crate::feed::Feed>>,
    /// The attempts running in this process, to stop them.
    pub(crate) inflight: crate::inflight::InFlight,
    /// Steps waiting for a running-step slot of their tenant.
    pub(crate) parked: crate::parked::Parked,
    /// The tenants' usage quotas and counters, read every few seconds.
    quota: crate::quota::QuotaCache,
    /// The tenants' unfinished runs, counted every few seconds.
    active: crate::active::ActiveRuns,
    /// Run states handed from a commit to the task it published.
    pub(crate) handoff: crate::handoff::Handoff,
    /// The tenants' states and overrides, read every few seconds.
    pub(crate) tenants: crate::TenantView,
}

/// A cheap, cloneable handle to the worker.
#[derive(Clone)]
pub struct Handle(pub(crate) Arc<Inner>);

impl Handle {
    /// A handle over `parts`; nothing runs until [`Handle::serve`].
    pub fn new(parts: Parts) -> Self {
        let ttl = std::time::Duration::from_millis(parts.options.tenant_cache_ms);
        let view = crate::TenantView::new(parts.store.clone(), ttl);
        Self::with_tenants(parts, view)
    }

    /// [`Handle::new`] reading tenants through `view` (shared with the rate
    /// limiter, so that one read serves both).
    pub fn with_tenants(parts: Parts, view: crate::TenantView) -> Self {
        let state = Arc::new(crate::StoreState(parts.store.clone()));
        // Tasks through the in-process queue are this process's own.
        let handoff = crate::handoff::Handoff::new(!parts.options.outbox);
        Self(Arc::new(Inner {
            parts,
            defs: Mutex::default(),
            waiters: Arc::default(),
            metrics: Metrics::default(),
            state,
            relay_wake: tokio::sync::Notify::new(),
            confirmed: crate::relay::Confirmed::default(),
            feed: std::sync::OnceLock::new(),
            inflight: crate::inflight::InFlight::default(),
            parked: crate::parked::Parked::default(),
            quota: crate::quota::QuotaCache::default(),
            active: crate::active::ActiveRuns::default(),
            handoff,
            tenants: view,
        }))
    }

    /// The tenants' states and overrides as this process last read them.
    pub fn tenants(&self) -> &crate::TenantView {
        &self.0.tenants
    }

    fn quota_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.options().quota_cache_ms)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.parts.store
    }

    /// The queue.
    pub fn queue(&self) -> &Arc<dyn Queue> {
        &self.0.parts.queue
    }

    /// The sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        &self.0.parts.sandbox
    }

    /// The loaded connectors.
    pub fn connectors(&self) -> &Arc<Connectors> {
        &self.0.parts.connectors
    }

    /// The keyring.
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.0.parts.keyring
    }

    /// The counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The settings.
    pub fn options(&self) -> &Options {
        &self.0.parts.options
    }

    /// A workflow version's definition, parsed once and cached (versions never
    /// change), with its time limits clamped to this deployment's caps (a
    /// version stored before a cap was lowered runs within it).
    ///
    /// # Errors
    /// `NotFound` when the version does not exist; `Invalid` when it does not parse.
    pub async fn definition(
        &self,
        tenant: &str,
        wf: &str,
        version: u32,
    ) -> Result<Arc<Definition>> {
        let key = (tenant.to_owned(), wf.to_owned(), version);
        if let Some(d) = self
            .0
            .defs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(d.clone());
        }
        let v = self
            .store()
            .get_version(tenant, wf, version)
            .await?
            .ok_or(Error::NotFound("workflow version"))?;
        let mut def: Definition = serde_json::from_value(v.definition)
            .map_err(|e| Error::Invalid(format!("stored definition does not parse: {e}")))?;
        self.options().definition_limits().clamp(&mut def);
        let def = Arc::new(def);
        let mut cache = self.0.defs.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= self.options().definition_cache {
            cache.clear();
        }
        cache.insert(key, def.clone());
        Ok(def)
    }

    /// Starts a run of `workflow`'s current version and returns it as committed
    /// (its first steps already created; control steps already done).
    ///
    /// A trigger that carries a caller's body (see
    /// [`Trigger::carries_input`]) is checked against the workflow's
    /// `input_schema` first; nothing is stored when it does not match.
    ///
    /// # Errors
    /// `InvalidInput` with every problem of the body; `Quota`; store or
    /// queue failures; `NotFound` when the version is gone.
    pub async fn start(
        &self,
        tenant: &str,
        workflow: &Workflow,
        trigger: Trigger,
        input: Value,
    ) -> Result<Run> {
        self.start_with(tenant, workflow, trigger, input, None, None)
            .await
    }

    /// Starts a test run of `workflow`'s current version by hand, up to the
    /// top-level step `until`: only it and the steps it depends on run, the
    /// rest is skipped, and the run completes when `until` ends
    /// (`weft_engine::run::check_until`).
    ///
    /// # Errors
    /// `Invalid` naming `until` when it is not a top-level step (unknown, or
    /// inside a loop); as [`Handle::start`].
    pub async fn start_test(
        &self,
        tenant: &str,
        workflow: &Workflow,
        input: Value,
        until: &str,
    ) -> Result<Run> {
        let def = self
            .definition(tenant, &workflow.id, workflow.version)
            .await?;
        weft_engine::run::check_until(&def, until).map_err(Error::Invalid)?;
        weft_engine::input::check_trigger(&def, &input).map_err(Error::InvalidInput)?;
        let now = now_ms();
        self.admit(tenant, now).await?;
        let mut run = new_run(tenant, workflow, Trigger::Manual, input, now);
        run.until = Some(until.to_owned());
        let decision = Plan::start(&def, &RandomIds, self.options().limits, now, run).finish();
        self.0
            .metrics
            .runs_started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.apply(tenant, decision, None, None).await
    }

    /// Starts a run like [`Handle::start`], recording the webhook `delivery`
    /// (its `run_id` set to the new run's) in the same commit, so that two
    /// deliveries with one id never both start a run.
    ///
    /// # Errors
    /// Store `Duplicate` when an unexpired delivery with this id exists (no
    /// run is started); as [`Handle::start`].
    pub async fn start_delivery(
        &self,
        tenant: &str,
        workflow: &Workflow,
        input: Value,
        delivery: weft_store::Delivery,
    ) -> Result<Run> {
        self.start_with(
            tenant,
            workflow,
            Trigger::Webhook,
            input,
            None,
            Some(delivery),
        )
        .await
    }

    /// Whether the tenant may start one more run: under its
    /// `max_active_runs` and every usage quota. Every way a run starts
    /// (manual, webhook, schedule, rerun, retry) goes through here.
    ///
    /// # Errors
    /// `Quota` naming what is reached.
    pub(crate) async fn admit(&self, tenant: &str, now: i64) -> Result<()> {
        match self.refusal(tenant, now).await? {
            Some(r) => Err(r.into()),
            None => Ok(()),
        }
    }

    /// What refuses one more run of the tenant, if anything (see `admit`).
    pub(crate) async fn refusal(
        &self,
        tenant: &str,
        now: i64,
    ) -> Result<Option<crate::quota::Refusal>> {
        let quota = self
            .tenants()
            .limits(tenant)
            .await
            .max_active_runs
            .unwrap_or(self.options().max_active_runs);
        if quota > 0
            && self
                .0
                .active
                .reached(&**self.store(), tenant, quota, self.quota_ttl())
                .await?
        {
            return Ok(Some(crate::quota::Refusal {
                quota: "max_active_runs",
                message: format!(
                    "the tenant has {quota} runs not yet finished, its quota \
                     (max_active_runs); wait for some to end"
                ),
            }));
        }
        self.0
            .quota
            .check(&**self.store(), tenant, now, self.quota_ttl())
            .await
    }

    pub(crate) async fn start_with(
        &self,
        tenant: &str,
        workflow: &Workflow,
        trigger: Trigger,
        input: Value,
        schedule: Option<ScheduleAdvance>,
        delivery: Option<weft_store::Delivery>,
    ) -> Result<Run> {
        let now = now_ms();
        self.admit(tenant, now).await?;
        self.start_admitted(tenant, workflow, trigger, input, schedule, delivery, now)
            .await
    }

    /// `start_with` once the tenant was admitted at `now`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn start_admitted(
        &self,
        tenant: &str,
        workflow: &Workflow,
        trigger: Trigger,
        input: Value,
        schedule: Option<ScheduleAdvance>,
        delivery: Option<weft_store::Delivery>,
        now: i64,
    ) -> Result<Run> {
        let (def, run) = self.new_run(tenant, workflow, trigger, input, now).await?;
        self.commit_start(&def, run, schedule, delivery, now).await
    }

    /// Starts a run like [`Handle::start`], then waits up to `timeout` for it
    /// to respond or end like [`Handle::wait`] (a synchronous webhook, a
    /// start that waits). Its waiter is registered before the run's first
    /// commit, so an answer this process commits wakes it with the run as
    /// committed: the store is not read, neither after the start nor after
    /// the answer.
    ///
    /// # Errors
    /// As [`Handle::start`] and [`Handle::wait`].
    pub async fn start_and_wait(
        &self,
        tenant: &str,
        workflow: &Workflow,
        trigger: Trigger,
        input: Value,
        timeout: Duration,
    ) -> Result<Run> {
        let now = now_ms();
        self.admit(tenant, now).await?;
        let (def, run) = self.new_run(tenant, workflow, trigger, input, now).await?;
        let guard = self.0.waiters.register(&run.id);
        let run = self.commit_start(&def, run, None, None, now).await?;
        self.wait_on(&guard, tenant, timeout, Some(run)).await
    }

    /// The definition of `workflow`'s current version and a new run of it,
    /// its `input` checked against the `input_schema` when the trigger
    /// carries a caller's body.
    async fn new_run(
        &self,
        tenant: &str,
        workflow: &Workflow,
        trigger: Trigger,
        input: Value,
        now: i64,
    ) -> Result<(Arc<Definition>, Run)> {
        let def = self
            .definition(tenant, &workflow.id, workflow.version)
            .await?;
        if trigger.carries_input() {
            weft_engine::input::check_trigger(&def, &input).map_err(Error::InvalidInput)?;
        }
        Ok((def, new_run(tenant, workflow, trigger, input, now)))
    }

    /// Commits a new run's start (with the schedule tick or the webhook
    /// delivery it consumes) and publishes its first tasks.
    async fn commit_start(
        &self,
        def: &Definition,
        run: Run,
        schedule: Option<ScheduleAdvance>,
        delivery: Option<weft_store::Delivery>,
        now: i64,
    ) -> Result<Run> {
        let tenant = run.tenant_id.clone();
        let delivery = delivery.map(|d| weft_store::Delivery {
            run_id: run.id.clone(),
            ..d
        });
        let limits = self.options().limits;
        let plan = Plan::start(def, &RandomIds, limits, now, run);
        let decision = if self.0.handoff.is_on() {
            let (decision, rows) = plan.finish_keep();
            self.hand_off(&decision, rows);
            decision
        } else {
            plan.finish()
        };
        self.0
            .metrics
            .runs_started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (id, seq) = (decision.run.id.clone(), decision.run.seq);
        let applied = self.apply(&tenant, decision, schedule, delivery).await;
        if applied.is_err() {
            self.0.handoff.forget(&id, seq);
        }
        applied
    }

    /// Keeps the rows a decision leaves (every row of its run) for the task
    /// it publishes now for its own run ([`crate::handoff`]): not when the
    /// run ended nor when its next task is due later (a backoff, a timer).
    fn hand_off(&self, d: &weft_engine::run::Decision, rows: Vec<weft_types::Step>) {
        if d.finished || d.run.status.is_terminal() || !d.due.iter().any(|t| t.delay_ms == 0) {
            return;
        }
        self.0.handoff.put(RunState {
            run: d.run.clone(),
            steps: rows,
        });
    }

    /// Starts a new run of `run_id`'s workflow version with the same input,
    /// reusing the results upstream of `from` (or, with `None`, everything that
    /// completed: a retry of what failed).
    ///
    /// # Errors
    /// `NotFound`; `Invalid` when `from` is not a top-level step.
    pub async fn rerun(&self, tenant: &str, run_id: &str, from: Option<&str>) -> Result<Run> {
        let old = self
            .store()
            .load_run(tenant, run_id)
            .await?
            .ok_or(Error::NotFound("run"))?;
        if from.is_none() && !old.run.status.is_terminal() {
            return Err(Error::Conflict(format!(
                "run {run_id} is {}; only a finished run can be retried",
                old.run.status
            )));
        }
        let def = self
            .definition(tenant, &old.run.workflow_id, old.run.version)
            .await?;
        let now = now_ms();
        self.admit(tenant, now).await?;
        let mut run = old.run.clone();
        run.id = crate::new_id("run");
        run.status = Status::Pending;
        run.trigger = Trigger::Manual;
        (
            run.output,
            run.error,
            run.response,
            run.finished_at,
            run.deadline_at,
        ) = (None, None, None, None, None);
        (run.seq, run.created_at, run.updated_at) = (0, now, now);
        let plan = Plan::rerun(
            &def,
            &RandomIds,
            self.options().limits,
            now,
            run,
            &old.steps,
            from,
        )
        .map_err(Error::Invalid)?;
        self.apply(tenant, plan.finish(), None, None).await
    }

    /// Cancels a run (and its sub-workflow runs).
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when it already ended.
    pub async fn cancel(&self, tenant: &str, run_id: &str) -> Result<Run> {
        let (done, run) = self
            .decide(tenant, run_id, None, |p| {
                p.cancel("cancelled through the API")
            })
            .await?;
        if done {
            Ok(run)
        } else {
            Err(Error::Conflict(format!(
                "run {run_id} already ended ({})",
                run.status
            )))
        }
    }

    /// Resumes the waiting step `key` of a run with `payload`.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when the step does not wait for a resume.
    pub async fn resume(
        &self,
        tenant: &str,
        run_id: &str,
        key: &str,
        payload: Value,
    ) -> Result<Run> {
        let (done, run) = self
            .decide(tenant, run_id, None, |p| p.resume(key, payload.clone()))
            .await?;
        if done {
            Ok(run)
        } else {
            Err(Error::Conflict(format!(
                "step `{key}` of run {run_id} is not waiting to be resumed"
            )))
        }
    }

    /// Resumes the step a resume token belongs to.
    ///
    /// # Errors
    /// `NotFound` for an unknown token.
    pub async fn resume_token(&self, token: &str, payload: Value) -> Result<Run> {
        let step = self
            .store()
            .step_by_resume_token(token)
            .await?
            .ok_or(Error::NotFound("resume token"))?;
        self.resume(&step.tenant_id, &step.run_id, &step.key, payload)
            .await
    }

    /// Waits up to `timeout` for the run to respond or end; the run as it then
    /// stands (check `response` and `status`).
    ///
    /// Woken by this process's own commits, and by the store's run feed for
    /// commits of other processes (`crate::feed`); while the feed is up the
    /// store is read again only every [`FEED_POLL`] (a safety net). Without a
    /// feed, or while it is down, a run decided in another process is seen
    /// by polling, quickly at first (1, 2, 4, ... ms up to 250 ms).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn wait(&self, tenant: &str, run_id: &str, timeout: Duration) -> Result<Run> {
        let guard = self.0.waiters.register(run_id);
        self.wait_on(&guard, tenant, timeout, None).await
    }

    /// [`Handle::wait`] on a registered `guard`; `known`: the run as this
    /// process committed it after `guard` was registered (not read again).
    /// A wake-up that hands over the answer is not read again either.
    async fn wait_on(
        &self,
        guard: &crate::notify::Guard,
        tenant: &str,
        timeout: Duration,
        mut known: Option<Run>,
    ) -> Result<Run> {
        let run_id = guard.run_id();
        let deadline = tokio::time::Instant::now() + timeout.min(MAX_WAIT);
        let mut poll_ms = if self.options().outbox { 1 } else { 250 };
        loop {
            let run = match known.take() {
                Some(run) => run,
                None => self
                    .store()
                    .get_run(tenant, run_id)
                    .await?
                    .ok_or(Error::NotFound("run"))?,
            };
            if run.response.is_some() || run.status.is_terminal() {
                return Ok(run);
            }
            let poll = if self.feed_up() {
                FEED_POLL
            } else {
                let ms = poll_ms;
                poll_ms = (poll_ms * 2).min(250);
                Duration::from_millis(ms)
            };
            tokio::select! {
                () = guard.notified() => known = guard.answer(),
                () = tokio::time::sleep(poll) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(run),
            }
        }
    }

    /// Loads the run, lets `f` decide, commits if anything changed (recomputing
    /// after a lost race), publishes. Returns `f`'s answer and the run as stored.
    /// The run is loaded lean (`Store::load_run_lean`, `Plan::lean`): the
    /// finished steps' data only when the decision reads it, so a step's
    /// cost does not grow with the outputs its run has made.
    pub(crate) async fn decide<R>(
        &self,
        tenant: &str,
        run_id: &str,
        preloaded: Option<RunState>,
        f: impl FnMut(&mut Plan<'_>) -> R,
    ) -> Result<(R, Run)> {
        let (answer, state) = self
            .decide_inner(tenant, run_id, preloaded, f, false, false)
            .await?;
        Ok((answer, state.run))
    }

    /// [`Handle::decide`], also returning every step as committed, so that the
    /// next decision on the same run (an attempt's result) need not reload it.
    /// `handed`: `preloaded` came from the hand-off ([`crate::handoff`]), so
    /// a decision on it that changes nothing is made again on the store's.
    pub(crate) async fn decide_keep<R>(
        &self,
        tenant: &str,
        run_id: &str,
        preloaded: Option<RunState>,
        handed: bool,
        f: impl FnMut(&mut Plan<'_>) -> R,
    ) -> Result<(R, RunState)> {
        self.decide_inner(tenant, run_id, preloaded, f, true, handed)
            .await
    }

    async fn decide_inner<R>(
        &self,
        tenant: &str,
        run_id: &str,
        mut preloaded: Option<RunState>,
        mut f: impl FnMut(&mut Plan<'_>) -> R,
        keep: bool,
        mut handed: bool,
    ) -> Result<(R, RunState)> {
        // The run is loaded lean (finished steps without their data) and
        // again with the rows a decision says it needed whole: each such
        // round adds rows, so it ends; conflicts are counted apart.
        let mut full: Vec<String> = Vec::new();
        let mut conflicts = 0;
        while conflicts < MAX_CONFLICTS {
            let state = match preloaded.take() {
                Some(s) => s,
                None => {
                    handed = false;
                    self.store()
                        .load_run_lean(tenant, run_id, &full)
                        .await?
                        .ok_or(Error::NotFound("run"))?
                }
            };
            let def = self
                .definition(tenant, &state.run.workflow_id, state.run.version)
                .await?;
            let limits = self.options().limits;
            let mut plan = Plan::load(&def, &RandomIds, limits, now_ms(), state.run, state.steps)
                .lean(full.iter().cloned().collect());
            let answer = f(&mut plan);
            let missing = plan.missing();
            if !missing.is_empty() {
                full.extend(missing);
                continue;
            }
            if !plan.is_changed() {
                if handed {
                    // Nothing to do, on a handed state: confirmed on the store's.
                    continue;
                }
                let run = plan.run().clone();
                let steps = if keep { plan.into_rows() } else { Vec::new() };
                return Ok((answer, RunState { run, steps }));
            }
            // The rows are moved out of the plan, not copied.
            let (decision, steps) = if keep {
                plan.finish_keep()
            } else if self.0.handoff.is_on() {
                let (decision, rows) = plan.finish_keep();
                self.hand_off(&decision, rows);
                (decision, Vec::new())
            } else {
                (plan.finish(), Vec::new())
            };
            let seq = decision.run.seq;
            let applied = self.apply(tenant, decision, None, None).await;
            if applied.is_err() {
                self.0.handoff.forget(run_id, seq);
            }
            match applied {
                Ok(run) => return Ok((answer, RunState { run, steps })),
                Err(Error::Store(weft_store::Error::Stale(_))) => {
                    conflicts += 1;
                    self.0
                        .metrics
                        .conflicts
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Conflict(format!(
            "run {run_id} is changing too fast; try again"
        )))
    }
}

fn new_run(tenant: &str, wf: &Workflow, trigger: Trigger, input: Value, now: i64) -> Run {
    Run {
        tenant_id: tenant.to_owned(),
        id: crate::new_id("run"),
        workflow_id: wf.id.clone(),
        version: wf.version,
        status: Status::Pending,
        trigger,
        input,
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq: 0,
        created_at: now,
        updated_at: now,
        finished_at: None,
        until: None,
    }
}
