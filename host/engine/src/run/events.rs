//! The events a run reacts to. Each is a no-op (returns `false` / `None`) when
//! it no longer applies: a duplicate delivery, a stale attempt, a run that ended.

use super::advance::clamp;
use super::context::{Reads, locate};
use super::render::template_error;
use super::{Claim, Due, Ids, POISON_AFTER, Plan, Ran, Start, TRIGGER};
use crate::retry::Policy;
use crate::{RunLimits, template};
use serde_json::{Value, json};
use weft_types::{
    Attempt, CodeStep, Definition, ErrorKind, Failure, Reason, Run, Status, Step, StepKind,
    WaitUntil,
};

impl<'a> Plan<'a> {
    /// Starts a new run at once: its trigger step completes with `run.input`
    /// and the first steps are created. `run` comes in `pending` with `seq` 0.
    pub fn start(
        def: &'a Definition,
        ids: &'a dyn Ids,
        limits: RunLimits,
        now: i64,
        run: Run,
    ) -> Self {
        let mut plan = Self::load(def, ids, limits, now, run, Vec::new());
        plan.expected_seq = None;
        plan.put(Step::new(&plan.run, TRIGGER, Status::Pending, now));
        plan.begin();
        plan
    }

    /// A run created `pending` for a [`Start`] (a child or an error workflow),
    /// with its trigger step due now; a worker begins it with [`Plan::begin`].
    pub fn pending_run(start: &Start, tenant: &str, version: u32, now: i64) -> (Run, Step) {
        let run = Run {
            tenant_id: tenant.to_owned(),
            id: start.run_id.clone(),
            workflow_id: start.workflow_id.clone(),
            version,
            status: Status::Pending,
            trigger: start.trigger,
            input: start.input.clone(),
            output: None,
            error: None,
            response: None,
            parent: Some(start.parent.clone()),
            depth: start.depth,
            deadline_at: None,
            seq: 0,
            created_at: now,
            updated_at: now,
            finished_at: None,
            until: None,
        };
        let mut trigger = Step::new(&run, TRIGGER, Status::Pending, now);
        trigger.due_at = Some(now);
        (run, trigger)
    }

    /// Begins a pending run: the trigger step completes, the deadline is set,
    /// the first steps are created.
    pub fn begin(&mut self) -> bool {
        if self.run.status != Status::Pending {
            return false;
        }
        self.run.status = Status::Running;
        if let Some(t) = self.def.timeout_ms {
            self.run.deadline_at = Some(self.now.saturating_add(clamp(t)));
        }
        let input = self.run.input.clone();
        self.update(TRIGGER, |s| {
            s.status = Status::Completed;
            s.output = Some(input);
            s.due_at = None;
        });
        self.advance();
        true
    }

    /// Takes attempt `attempt` of an action step for `lease_ms`: the step becomes
    /// `running`, the attempt is journaled, and the caller gets what to run.
    /// A step whose lease expired (its worker died) counts as a failed attempt.
    pub fn claim(&mut self, key: &str, attempt: u32, lease_ms: u64) -> Option<Claim> {
        if !self.live() {
            return None;
        }
        let row = self.steps.get(key)?;
        let due = row.due_at.is_some_and(|d| d <= self.now);
        if row.attempt != attempt || !due {
            return None;
        }
        let located = locate(self.def, key)?;
        // A code step runs on the bundled `code` connector's `run` action.
        let (connector, action, config_tree) = match &located.def.kind {
            StepKind::Action(a) => (a.connector.as_str(), a.action.as_str(), &a.config),
            StepKind::Code(_) => (CodeStep::CONNECTOR, CodeStep::ACTION, &Value::Null),
            _ => return None,
        };
        match row.status {
            Status::Pending => {}
            Status::Running => {
                // The lost attempt's journal row ends as failed (it was left
                // `running` by the worker that died).
                let lost_attempt = Attempt {
                    tenant_id: self.run.tenant_id.clone(),
                    run_id: self.run.id.clone(),
                    step_key: key.to_owned(),
                    attempt: row.attempt,
                    idempotency_key: format!("{}:{key}", self.run.id),
                    status: Status::Failed,
                    input: row.input.clone(),
                    output: None,
                    error: None,
                    usage: None,
                    logs: Vec::new(),
                    digest: None,
                    started_at: row.updated_at,
                    finished_at: Some(self.now),
                };
                // How many attempts in a row lost their worker, this one included.
                let lost = row.error.as_ref().map_or(0, Failure::lost_streak) + 1;
                if lost >= POISON_AFTER {
                    let e = Failure::of(
                        Reason::Poison,
                        format!(
                            "the worker running this step was lost {lost} times in a row; \
                             the step is treated as poison and not retried"
                        ),
                    );
                    self.attempts.push(Attempt {
                        error: Some(e.clone()),
                        ..lost_attempt
                    });
                    self.fail_step(key, located.def, e);
                    self.advance();
                    return None;
                }
                let e = Failure::of(
                    Reason::LeaseExpired,
                    "the worker running this attempt was lost (lease expired)",
                );
                self.attempts.push(Attempt {
                    error: Some(e.clone()),
                    ..lost_attempt
                });
                self.attempt_failed(key, e);
                self.update(key, |s| {
                    if let (Status::Pending, Some(err)) = (s.status, s.error.as_mut()) {
                        err.lost = Some(lost);
                    }
                });
                return None;
            }
            _ => return None,
        }
        let ctx = self.context(&located, &Reads::of_config(located.def));
        let config = match template::render_in(config_tree, &ctx, &mut self.budget) {
            Ok(c) => c,
            Err(e) => {
                let err = template_error("config", e);
                self.failures.push(err.clone());
                self.fail_step(key, located.def, err);
                self.advance();
                return None;
            }
        };
        let input = row.input.clone().unwrap_or(Value::Null);
        let now = self.now;
        let lease = now.saturating_add(clamp(lease_ms));
        self.update(key, |s| {
            s.status = Status::Running;
            s.due_at = Some(lease);
        });
        let idempotency_key = format!("{}:{key}", self.run.id);
        self.attempts.push(Attempt {
            tenant_id: self.run.tenant_id.clone(),
            run_id: self.run.id.clone(),
            step_key: key.to_owned(),
            attempt,
            idempotency_key: idempotency_key.clone(),
            status: Status::Running,
            input: Some(input.clone()),
            output: None,
            error: None,
            usage: None,
            logs: Vec::new(),
            digest: None,
            started_at: now,
            finished_at: None,
        });
        Some(Claim {
            connector: connector.to_owned(),
            action: action.to_owned(),
            input,
            config,
            timeout_ms: located.def.timeout_ms,
            idempotency_key,
            attempt,
        })
    }

    /// The queue gave up on this step's task (dead-lettered after its delivery
    /// limit, or rejected): a step that is still pending or running fails with
    /// reason `poison` and is not retried.
    pub fn poison(&mut self, key: &str, why: &str) -> bool {
        if !self.live() {
            return false;
        }
        let Some(row) = self.steps.get(key) else {
            return false;
        };
        if !matches!(row.status, Status::Pending | Status::Running) {
            return false;
        }
        let Some(located) = locate(self.def, key) else {
            return false;
        };
        let e = Failure::of(Reason::Poison, why);
        self.fail_step(key, located.def, e);
        self.advance();
        true
    }

    /// Records the result of a claimed attempt; then retries, continues or fails.
    /// `started_at` is when the attempt was claimed; the plugin's log records
    /// are journaled bounded by [`weft_types::log::bound`], with the digest of
    /// the component that ran.
    pub fn complete(&mut self, key: &str, attempt: u32, started_at: i64, ran: Ran) -> bool {
        let Some(row) = self.steps.get(key) else {
            return false;
        };
        if !self.live() || row.status != Status::Running || row.attempt != attempt {
            return false;
        }
        let mut journal = Attempt {
            tenant_id: self.run.tenant_id.clone(),
            run_id: self.run.id.clone(),
            step_key: key.to_owned(),
            attempt,
            idempotency_key: format!("{}:{key}", self.run.id),
            status: Status::Completed,
            input: row.input.clone(),
            output: None,
            error: None,
            usage: ran.usage,
            logs: weft_types::log::bound(ran.logs, attempt),
            digest: ran.digest,
            started_at,
            finished_at: Some(self.now),
        };
        match ran.result {
            Ok(output) => {
                journal.output = Some(output.clone());
                self.attempts.push(journal);
                self.update(key, |s| {
                    s.status = Status::Completed;
                    s.output = Some(output);
                    s.error = None;
                    s.due_at = None;
                });
                self.advance();
            }
            Err(e) => {
                journal.status = Status::Failed;
                journal.error = Some(e.clone());
                self.attempts.push(journal);
                self.attempt_failed(key, e);
            }
        }
        true
    }

    /// An attempt failed: schedule the next one, or fail the step for good.
    fn attempt_failed(&mut self, key: &str, e: Failure) {
        let Some(located) = locate(self.def, key) else {
            return;
        };
        let Some(row) = self.steps.get(key) else {
            return;
        };
        let policy = located
            .def
            .retry
            .as_ref()
            .and_then(|r| Policy::from_spec(r).ok())
            .unwrap_or_default();
        let elapsed = u64::try_from(self.now - row.created_at).unwrap_or(0);
        let attempt = row.attempt;
        let ids = self.ids;
        let delay = policy.next_delay(attempt, e.kind, e.retry_after_ms, elapsed, || ids.unit());
        match delay {
            Some(ms) => {
                let due = self.now.saturating_add(clamp(ms));
                let err = e;
                self.update(key, |s| {
                    s.status = Status::Pending;
                    s.attempt = attempt + 1;
                    s.error = Some(err);
                    s.due_at = Some(due);
                });
                self.due.push(Due {
                    key: key.to_owned(),
                    attempt: attempt + 1,
                    delay_ms: ms,
                });
            }
            None => {
                self.fail_step(key, located.def, e);
                self.advance();
            }
        }
    }

    /// A waiting step's time came: a `wait` for a duration completes; a `wait
    /// until: resume` past its timeout fails.
    pub fn wake(&mut self, key: &str) -> bool {
        let Some(row) = self.steps.get(key) else {
            return false;
        };
        let due = row.due_at.is_some_and(|d| d <= self.now);
        if !self.live() || row.status != Status::Waiting || !due {
            return false;
        }
        let Some(located) = locate(self.def, key) else {
            return false;
        };
        let StepKind::Wait(w) = &located.def.kind else {
            return false;
        };
        if let Some(ms) = w.duration_ms {
            self.update(key, |s| {
                s.status = Status::Completed;
                s.output = Some(json!({"waited_ms": ms}));
                s.due_at = None;
            });
        } else {
            let e = Failure::of(
                Reason::Timeout,
                format!(
                    "not resumed within {} ms",
                    located.def.timeout_ms.unwrap_or(0)
                ),
            );
            self.fail_step(key, located.def, e);
        }
        self.advance();
        true
    }

    /// Resumes a `wait until: resume` step with `payload` (its output).
    pub fn resume(&mut self, key: &str, payload: Value) -> bool {
        let Some(row) = self.steps.get(key) else {
            return false;
        };
        if !self.live() || row.status != Status::Waiting {
            return false;
        }
        let is_resumable = locate(self.def, key).is_some_and(
            |l| matches!(&l.def.kind, StepKind::Wait(w) if w.until == Some(WaitUntil::Resume)),
        );
        if !is_resumable {
            return false;
        }
        let now = self.now;
        self.update(key, |s| {
            s.status = Status::Completed;
            s.output = Some(json!({"resumed_at": now, "payload": payload}));
            s.due_at = None;
            s.resume_token = None;
        });
        self.advance();
        true
    }

    /// A sub-workflow step's child run ended: the step takes its output or error.
    pub fn child_done(&mut self, key: &str, child: &Run) -> bool {
        let Some(row) = self.steps.get(key) else {
            return false;
        };
        if !self.live()
            || row.status != Status::Waiting
            || row.child_run_id.as_deref() != Some(child.id.as_str())
            || !child.status.is_terminal()
        {
            return false;
        }
        let Some(located) = locate(self.def, key) else {
            return false;
        };
        if child.status == Status::Completed {
            let out = child.output.clone().unwrap_or(Value::Null);
            self.update(key, |s| {
                s.status = Status::Completed;
                s.output = Some(out);
                s.due_at = None;
            });
        } else {
            let msg = child
                .error
                .as_ref()
                .map_or("the sub-workflow did not complete", |e| {
                    e.failure.message.as_str()
                });
            // The step's own input was refused by the child's input_schema:
            // an input error of this step, not a failure inside the child.
            let refused = child
                .error
                .as_ref()
                .is_some_and(|e| e.failure.is(Reason::InputSchema) && e.step.is_none());
            let reason = if refused {
                Reason::InputSchema
            } else {
                Reason::SubworkflowFailed
            };
            let e = Failure::of(
                reason,
                format!("sub-workflow run {} {}: {msg}", child.id, child.status),
            );
            self.fail_step(key, located.def, e);
        }
        self.advance();
        true
    }

    /// Pushes a waiting sub-workflow step's next check later (its child still runs).
    pub fn recheck(&mut self, key: &str) {
        let due = self.now.saturating_add(super::CHILD_RECHECK_MS);
        self.update(key, |s| s.due_at = Some(due));
    }

    /// Cancels the run (and, through the decision, its children).
    pub fn cancel(&mut self, why: &str) -> bool {
        if self.run.status.is_terminal() {
            return false;
        }
        self.end(
            Status::Cancelled,
            Failure::new(ErrorKind::Cancelled, why).into(),
        );
        true
    }

    /// Fails the run if its deadline passed.
    pub fn time_out(&mut self) -> bool {
        let overdue = self.run.deadline_at.is_some_and(|d| d <= self.now);
        if self.run.status.is_terminal() || !overdue {
            return false;
        }
        let ms = self.def.timeout_ms.unwrap_or(0);
        self.fail_run(
            Failure::of(
                Reason::RunTimeout,
                format!("the run did not finish within {ms} ms"),
            )
            .into(),
        );
        true
    }
}
