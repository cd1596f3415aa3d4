//! Runs: start by hand, list, read with steps and the attempt journal, cancel,
//! retry what failed, re-run from a step, resume a waiting step.

use crate::{Actor, App, Listing, Result};
use serde_json::{Value, json};
use std::time::Duration;
use weft_store::{Page, RunFilter};
use weft_types::scope::{Resource, Verb};
use weft_types::{Attempt, Role, Run, Step, Trigger};

/// Longest a caller may wait for a run it started.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A run with its steps, each with its attempts, in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDetail {
    /// The run.
    pub run: Run,
    /// Its steps.
    pub steps: Vec<StepDetail>,
}

/// A step and its journaled attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDetail {
    /// The step.
    pub step: Step,
    /// Its attempts, first to last.
    pub attempts: Vec<Attempt>,
}

impl App {
    /// Starts a run of the workflow's current version with `input` as the
    /// trigger's `body`; with `until`, a test run up to that top-level step
    /// (it and what it depends on run, the rest is skipped); with `wait`,
    /// waits (at most [`MAX_WAIT`]) for it to respond or end.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`], [`crate::Error::Quota`], [`crate::Error::Forbidden`]
    /// below member; [`crate::Error::Invalid`] naming an `until` that is not
    /// a top-level step; [`crate::Error::InvalidInput`] when `input` does not
    /// match the workflow's `input_schema` (no run is created); queue or
    /// store failures.
    pub async fn start_run(
        &self,
        actor: &Actor,
        workflow_id: &str,
        input: Value,
        until: Option<&str>,
        wait: Option<Duration>,
    ) -> Result<Run> {
        actor.require(Role::Member)?;
        let wf = self.load_workflow(actor, workflow_id).await?;
        let input = json!({"body": input});
        let wait = wait.filter(|w| !w.is_zero()).map(|w| w.min(MAX_WAIT));
        let tenant = actor.tenant_id.as_str();
        let run = match (until, wait) {
            (Some(step), wait) => {
                let run = self.handle.start_test(tenant, &wf, input, step).await?;
                match wait {
                    Some(wait) => self.handle.wait(tenant, &run.id, wait).await?,
                    None => run,
                }
            }
            // Registered as the run's waiter before its first commit.
            (None, Some(wait)) => {
                self.handle
                    .start_and_wait(tenant, &wf, Trigger::Manual, input, wait)
                    .await?
            }
            (None, None) => {
                self.handle
                    .start(tenant, &wf, Trigger::Manual, input)
                    .await?
            }
        };
        self.audit(actor, "run.start", &run.id).await?;
        Ok(run)
    }

    /// The tenant's runs, newest first.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`]; store failures.
    pub async fn list_runs(
        &self,
        actor: &Actor,
        filter: &RunFilter,
        page: &Page,
    ) -> Result<Listing<Run>> {
        actor.require(Role::Viewer)?;
        let runs = self
            .store()
            .list_runs(&actor.tenant_id, filter, page)
            .await?;
        Ok(Listing::of(runs, page, |r| &r.id))
    }

    /// The workflow a run of the caller's tenant belongs to (what a run
    /// scope is bound to); `None` for an unknown run.
    ///
    /// # Errors
    /// Store failures.
    pub async fn run_workflow_id(&self, actor: &Actor, run_id: &str) -> Result<Option<String>> {
        Ok(self
            .store()
            .get_run(&actor.tenant_id, run_id)
            .await?
            .map(|r| r.workflow_id))
    }

    /// A run with its steps and their attempts.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`].
    pub async fn get_run(&self, actor: &Actor, id: &str) -> Result<RunDetail> {
        actor.require(Role::Viewer)?;
        let loaded = self
            .store()
            .load_run(&actor.tenant_id, id)
            .await?
            .ok_or(crate::Error::NotFound("run"))?;
        let mut attempts = self.store().list_attempts(&actor.tenant_id, id).await?;
        let mut steps = loaded.steps;
        // A resume token is the credential of `/resume/{token}`: only a caller
        // who could resume the step through the API sees it (a viewer, or a key
        // without `runs:resume` on this workflow, must not approve by URL).
        if !actor.may(
            Role::Member,
            Resource::Runs,
            Verb::Resume,
            Some(&loaded.run.workflow_id),
        ) {
            for s in &mut steps {
                s.resume_token = None;
            }
        }
        steps.sort_by(|a, b| (a.created_at, &a.key).cmp(&(b.created_at, &b.key)));
        let steps = steps
            .into_iter()
            .map(|step| {
                let (mine, rest): (Vec<_>, Vec<_>) =
                    attempts.drain(..).partition(|a| a.step_key == step.key);
                attempts = rest;
                StepDetail {
                    step,
                    attempts: mine,
                }
            })
            .collect();
        Ok(RunDetail {
            run: loaded.run,
            steps,
        })
    }

    /// Cancels a run and its sub-workflow runs.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; [`crate::Error::Conflict`] when it already ended.
    pub async fn cancel_run(&self, actor: &Actor, id: &str) -> Result<Run> {
        actor.require(Role::Member)?;
        let run = self.handle.cancel(&actor.tenant_id, id).await?;
        self.audit(actor, "run.cancel", id).await?;
        Ok(run)
    }

    /// A new run reusing every result of a finished run; what failed runs again.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; [`crate::Error::Conflict`] while it still runs.
    pub async fn retry_run(&self, actor: &Actor, id: &str) -> Result<Run> {
        actor.require(Role::Member)?;
        let run = self.handle.rerun(&actor.tenant_id, id, None).await?;
        self.audit(actor, "run.retry", id).await?;
        Ok(run)
    }

    /// A new run from the top-level step `from`; upstream results are reused.
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; [`crate::Error::Invalid`] for an unknown step.
    pub async fn rerun_from(&self, actor: &Actor, id: &str, from: &str) -> Result<Run> {
        actor.require(Role::Member)?;
        let run = self.handle.rerun(&actor.tenant_id, id, Some(from)).await?;
        self.audit(actor, "run.rerun", id).await?;
        Ok(run)
    }

    /// Resumes the waiting step `key` with `payload` (its `output.payload`).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`]; [`crate::Error::Conflict`] when it does not wait.
    pub async fn resume_step(
        &self,
        actor: &Actor,
        id: &str,
        key: &str,
        payload: Value,
    ) -> Result<Run> {
        actor.require(Role::Member)?;
        let run = self
            .handle
            .resume(&actor.tenant_id, id, key, payload)
            .await?;
        self.audit(actor, "run.resume", id).await?;
        Ok(run)
    }
}
