//! Committing a decision: the runs it starts, the tasks it makes due, the
//! waiters it wakes.

use crate::inflight::Cause;
use crate::runtime::CANCEL;
use crate::{Handle, Result, new_id, now_ms};
use std::time::Duration;
use weft_engine::run::{Decision, Plan, TRIGGER};
use weft_queue::Task;
use weft_store::{Commit, Delivery, OutboxEntry, RunState, ScheduleAdvance};
use weft_types::{ErrorKind, Failure, Run, Status, Step};

/// The longest delay a task is published with (a retry's backoff, a wait);
/// a queue computes its due time from it, so it stays far from overflowing.
pub(crate) const MAX_TASK_DELAY: Duration = Duration::from_secs(24 * 3_600);

impl Handle {
    /// Commits a decision (with the schedule tick or the webhook delivery it
    /// consumes), then publishes what it made due and wakes waiters.
    pub(crate) async fn apply(
        &self,
        tenant: &str,
        d: Decision,
        schedule: Option<ScheduleAdvance>,
        delivery: Option<Delivery>,
    ) -> Result<Run> {
        let now = now_ms();
        let mut commit = Commit {
            runs: vec![(d.run.clone(), d.expected_seq)],
            steps: d.steps,
            attempts: d.attempts,
            schedule,
            outbox: Vec::new(),
            delivery,
            poll: None,
        };
        let mut tasks: Vec<(Task, Option<Duration>)> = Vec::new();
        for s in &d.starts {
            let version = match self.store().get_workflow(tenant, &s.workflow_id).await? {
                Some(w) => w.version,
                None => 0,
            };
            let (run, trigger) = Plan::pending_run(s, tenant, version, now);
            commit.runs.push((run, None));
            commit.steps.push(trigger);
            tasks.push((Task::new(tenant, &s.run_id, TRIGGER, 0), None));
        }
        for due in &d.due {
            // A task due later than the cap is published at the cap: it finds
            // its step not yet due and is dropped, and the sweeper publishes
            // it again once it is (the store holds its `due_at`).
            let delay =
                (due.delay_ms > 0).then(|| Duration::from_millis(due.delay_ms).min(MAX_TASK_DELAY));
            tasks.push((Task::new(tenant, &d.run.id, &due.key, due.attempt), delay));
        }
        if d.finished
            && let Some(p) = d.run.parent.as_ref().filter(|p| !p.step_key.is_empty())
        {
            tasks.push((Task::new(tenant, &p.run_id, &p.step_key, 0), None));
        }
        for child in &d.cancel_children {
            tasks.push((Task::new(tenant, child, CANCEL, 0), None));
        }
        self.commit_and_dispatch(commit, tasks, now).await?;
        for f in &d.failures {
            self.0.metrics.failure(f.label());
        }
        if d.finished {
            self.0.metrics.finished(d.run.status.as_str());
            // Its live steps were cancelled with it: stop their plugins here.
            self.0.inflight.cancel_run(&d.run.id, Cause::RunEnded);
        }
        if d.responded || d.finished {
            self.0.waiters.answer(&d.run);
        }
        Ok(d.run)
    }

    /// A pending run whose workflow version cannot be loaded fails at once.
    pub(crate) async fn fail_unloadable(&self, state: RunState, why: String) -> Result<()> {
        self.fail_pending(state, Failure::new(ErrorKind::InvalidInput, why))
            .await
    }

    /// Fails a run before it begins (nothing of it ran), waking its parent
    /// step, if any, to see the failure.
    pub(crate) async fn fail_pending(&self, state: RunState, failure: Failure) -> Result<()> {
        let now = now_ms();
        let mut run = state.run;
        let expected = run.seq;
        run.status = Status::Failed;
        run.error = Some(failure.into());
        run.seq += 1;
        run.finished_at = Some(now);
        run.updated_at = now;
        let steps: Vec<Step> = state
            .steps
            .into_iter()
            .filter(|s| !s.status.is_terminal())
            .map(|mut s| {
                s.status = Status::Cancelled;
                s.due_at = None;
                s
            })
            .collect();
        let tenant = run.tenant_id.clone();
        let parent = run.parent.clone();
        let id = run.id.clone();
        let tasks = parent
            .filter(|p| !p.step_key.is_empty())
            .map(|p| (Task::new(&tenant, &p.run_id, &p.step_key, 0), None))
            .into_iter()
            .collect();
        let commit = Commit {
            runs: vec![(run, Some(expected))],
            steps,
            ..Commit::default()
        };
        self.commit_and_dispatch(commit, tasks, now).await?;
        self.0.inflight.cancel_run(&id, Cause::RunEnded);
        self.0.waiters.wake(&id);
        Ok(())
    }

    /// Commits, and gets `tasks` to the queue: with the outbox, as rows of the
    /// same commit, written claimed for this process and published by it
    /// right after the commit (then deleted; a relay takes them only if this
    /// process dies first); without it, published right after the commit (a
    /// lost publish is swept later: the store holds every step's `due_at`).
    pub(crate) async fn commit_and_dispatch(
        &self,
        mut commit: Commit,
        tasks: Vec<(Task, Option<Duration>)>,
        now: i64,
    ) -> Result<()> {
        if self.options().outbox {
            let claimed_until = now.saturating_add(crate::relay::CLAIM_MS);
            commit.outbox = tasks
                .into_iter()
                .map(|(t, delay)| OutboxEntry {
                    id: new_id("obx"),
                    tenant_id: t.tenant_id,
                    run_id: t.run_id,
                    step_key: t.step_key,
                    attempt: t.attempt,
                    due_at: now.saturating_add(
                        delay.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
                    ),
                    created_at: now,
                    claimed_until,
                })
                .collect();
            self.store().commit(&commit).await?;
            if !commit.outbox.is_empty() {
                // Not awaited: the caller (a webhook's start, a worker's
                // result) goes on while the confirms come back.
                let me = self.clone();
                tokio::spawn(async move { me.publish_own(commit.outbox).await });
            }
            return Ok(());
        }
        self.store().commit(&commit).await?;
        for (task, delay) in tasks {
            let run = task.run_id.clone();
            if let Err(e) = self.queue().publish(task, delay).await {
                tracing::warn!(run.id = %run, error = %e, "publish failed; the sweeper will re-enqueue");
            }
        }
        Ok(())
    }
}
