//! Polling triggers (`triggers.poll`): the sweeper polls each armed workflow
//! when due and starts a run per new item (or one per batch).
//!
//! One poll, on any number of workers sharing a store:
//!
//! 1. **claim**: a compare-and-set on the workflow's poll row moves its
//!    `next_poll_at` past the poll's deadline, so no other worker takes it
//!    (one whose claim loses moves on; a claimer that dies leaves the row due
//!    again when the claim lapses);
//! 2. **poll**: the connector's `poll` runs in the sandbox (fresh instance,
//!    the step limits, the workflow's hosts, the trigger's credentials by
//!    reference) from the stored cursor;
//! 3. **dedupe**: items whose key the workflow has seen are dropped;
//! 4. **commit**: the new runs (pending, each with its trigger task), the
//!    seen keys, the new cursor and the next due time, in one store commit
//!    that holds only if the row's `seq` is still the claim's.
//!
//! A crash between 2 and 4 loses nothing (the cursor did not move: the next
//! poll returns the same items) and repeats nothing (what a commit started,
//! its keys say). A failed poll is recorded on the row (error, count, next
//! attempt after an exponential backoff) and logged, and shown on the
//! workflow (`GET /v1/workflows/{id}`, `poll`).

use crate::{Handle, Result, new_id};
use serde_json::{Value, json};
use std::time::Duration;
use weft_engine::run::TRIGGER;
use weft_queue::Task;
use weft_sandbox::{Grants, Namespace, PollCall, StateGrant};
use weft_store::Commit;
use weft_store::polling::{PollAdvance, PollState};
use weft_types::{
    Failure, PollMode, PollTrigger, Run, Status, Step, StepContext, Trigger, Workflow,
};

/// Polls started per sweep, at most.
const POLL_BATCH: u32 = 100;
/// The longest a failing poll waits before its next attempt (unless its
/// interval is longer).
pub const MAX_POLL_BACKOFF_MS: u64 = 3_600_000;
/// Past the poll's deadline, how long its claim lasts.
const CLAIM_MARGIN_MS: i64 = 10_000;

/// When a poll that failed `failures` times in a row (this one included) is
/// attempted again: the interval doubled per failure after the first, at
/// most [`MAX_POLL_BACKOFF_MS`] (or the interval, if longer), and never
/// before what the connector asked (`retry_after_ms`).
pub fn backoff_ms(interval_ms: u64, failures: u32, retry_after_ms: Option<u64>) -> u64 {
    let shift = failures.saturating_sub(1).min(20);
    let grown = interval_ms.saturating_mul(1_u64 << shift);
    grown
        .min(MAX_POLL_BACKOFF_MS.max(interval_ms))
        .max(retry_after_ms.unwrap_or(0))
}

impl Handle {
    /// Starts the due polls (each on its own task, so a slow feed holds up
    /// neither the sweep nor another workflow's poll).
    pub(crate) async fn fire_polls(&self, now: i64) -> Result<()> {
        for row in self.store().due_polls(now, POLL_BATCH).await? {
            let me = self.clone();
            tokio::spawn(async move {
                let (tenant, wf) = (row.tenant_id.clone(), row.workflow_id.clone());
                if let Err(e) = me.poll_once(row, now).await {
                    tracing::debug!(tenant.id = %tenant, workflow.id = %wf, error = %e, "poll not taken");
                }
            });
        }
        Ok(())
    }

    /// Claims, runs and commits one due poll.
    async fn poll_once(&self, row: PollState, now: i64) -> Result<()> {
        let (tenant, wf_id) = (row.tenant_id.as_str(), row.workflow_id.as_str());
        let workflow = self.store().get_workflow(tenant, wf_id).await?;
        let (wf, def) = match workflow {
            Some(wf) if wf.active => {
                let def = self.definition(tenant, wf_id, wf.version).await?;
                (wf, def)
            }
            _ => return self.disarm(&row, now).await,
        };
        let Some(trigger) = def.triggers.poll.clone() else {
            return self.disarm(&row, now).await;
        };
        let limits = self.sandbox().options().limits;
        let timeout_ms = self.options().step_timeout_ms(None);
        let until = now
            .saturating_add(i64::try_from(timeout_ms).unwrap_or(i64::MAX))
            .saturating_add(CLAIM_MARGIN_MS);
        // Another worker's claim wins: nothing to do.
        let claimed = self
            .store()
            .poll_claim(tenant, wf_id, row.seq, until)
            .await?;
        // The definition was clamped to the deployment's minimum.
        let interval = trigger
            .interval_ms()
            .max(self.options().definition_limits().min_poll_interval());
        if let Some(r) = self.refusal(tenant, now).await? {
            let why = format!("quota `{}` refused the poll: {}", r.quota, r.message);
            return self
                .poll_failed(&claimed, &trigger, interval, &why, None)
                .await;
        }
        let found = match self
            .run_poll(&wf, &claimed, &trigger, limits, timeout_ms)
            .await
        {
            Ok(found) => found,
            Err(f) => {
                let why = match f.reason {
                    Some(r) => format!("{r}: {}", f.message),
                    None => format!("{}: {}", f.kind, f.message),
                };
                return self
                    .poll_failed(&claimed, &trigger, interval, &why, f.retry_after_ms)
                    .await;
            }
        };
        if !found.items.is_empty() {
            fault_pause().await;
        }
        let polled_at = crate::now_ms();
        // Dedupe: within the poll, then against what the workflow has seen.
        let mut items: Vec<(String, Value)> = Vec::with_capacity(found.items.len());
        for (k, v) in found.items {
            if !items.iter().any(|(seen, _)| *seen == k) {
                items.push((k, v));
            }
        }
        let keys: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
        let seen = self.store().poll_seen(tenant, wf_id, &keys).await?;
        items.retain(|(k, _)| !seen.contains(k));
        let bodies: Vec<Value> = match trigger.mode {
            PollMode::PerItem => items.iter().map(|(_, v)| v.clone()).collect(),
            PollMode::Batch if items.is_empty() => Vec::new(),
            PollMode::Batch => vec![json!({
                "items": items.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()
            })],
        };
        let mut commit = Commit {
            poll: Some(PollAdvance {
                tenant_id: tenant.to_owned(),
                workflow_id: wf_id.to_owned(),
                expected_seq: claimed.seq,
                cursor: found.next_cursor.or(claimed.cursor.clone()),
                keys: items.iter().map(|(k, _)| k.clone()).collect(),
                polled_at,
                next_poll_at: polled_at.saturating_add(i64::try_from(interval).unwrap_or(i64::MAX)),
            }),
            ..Commit::default()
        };
        let mut tasks = Vec::with_capacity(bodies.len());
        for body in bodies {
            let (run, step) = pending_run(tenant, &wf, json!({ "body": body }), polled_at);
            tasks.push((Task::new(tenant, &run.id, TRIGGER, 0), None::<Duration>));
            commit.runs.push((run, None));
            commit.steps.push(step);
        }
        let started = tasks.len();
        self.commit_and_dispatch(commit, tasks, polled_at).await?;
        self.0
            .metrics
            .runs_started
            .fetch_add(started as u64, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(
            tenant.id = %tenant,
            workflow.id = %wf_id,
            runs = started,
            dropped_as_seen = seen.len(),
            "poll committed"
        );
        Ok(())
    }

    /// Runs the connector's `poll` for the claimed row.
    async fn run_poll(
        &self,
        wf: &Workflow,
        row: &PollState,
        trigger: &PollTrigger,
        mut limits: weft_sandbox::StepLimits,
        timeout_ms: u64,
    ) -> std::result::Result<weft_sandbox::Polled, Failure> {
        let tenant = &row.tenant_id;
        let entry = self.resolve(tenant, &trigger.connector).await?;
        let manifest = entry.plugin.manifest();
        if let Some(range) = &trigger.version
            && !trigger.accepts(&manifest.version)
        {
            return Err(Failure::of(
                weft_types::Reason::UnknownConnector,
                format!(
                    "connector `{}` is at {} ({}), outside the trigger's version `{range}`",
                    trigger.connector, manifest.version, entry.source
                ),
            ));
        }
        let def = self
            .definition(tenant, &wf.id, wf.version)
            .await
            .map_err(|e| Failure::new(weft_types::ErrorKind::Transient, e.to_string()))?;
        let mut grants = Grants {
            hosts: def.grants.hosts.clone(),
            ..Grants::default()
        };
        // The trigger's own bindings first, then the workflow's for this
        // connector (`grants.credentials` keyed `connector/slot`), for the
        // slots the connector declares.
        let workflow_wide = manifest.capabilities.credentials.iter().filter_map(|slot| {
            let slot = slot.name.as_str();
            if trigger.credentials.contains_key(slot) {
                return None;
            }
            def.grants
                .credentials
                .get(&format!("{}/{slot}", trigger.connector))
                .map(|name| (slot, name.as_str()))
        });
        let bound = trigger
            .credentials
            .iter()
            .map(|(slot, name)| (slot.as_str(), name.as_str()))
            .chain(workflow_wide)
            .collect::<Vec<_>>();
        self.grant_credentials(tenant, bound, &mut grants, "poll")
            .await?;
        grants.state = Some(StateGrant {
            store: self.0.state.clone(),
            namespace: Namespace {
                tenant: tenant.clone(),
                plugin: manifest.name.clone(),
            },
        });
        limits.timeout = Duration::from_millis(timeout_ms);
        let call = PollCall {
            trigger: trigger.trigger.clone(),
            config: if trigger.config.is_null() {
                "{}".into()
            } else {
                trigger.config.to_string()
            },
            cursor: row.cursor.clone(),
            context: StepContext {
                workflow_id: wf.id.clone(),
                run_id: String::new(),
                step_id: "$poll".into(),
                attempt: 1,
                idempotency_key: format!("{}:poll:{}", wf.id, row.seq),
            },
            grants,
            limits,
            cancel: None,
        };
        let outcome = self.sandbox().poll(&entry.plugin, call).await;
        for log in &outcome.logs {
            tracing::debug!(workflow.id = %wf.id, plugin.log = %log.message, "poll log");
        }
        outcome.result
    }

    /// Records a failed poll with its backoff, and says so in the log.
    async fn poll_failed(
        &self,
        row: &PollState,
        trigger: &PollTrigger,
        interval: u64,
        why: &str,
        retry_after_ms: Option<u64>,
    ) -> Result<()> {
        let failures = row.failures.saturating_add(1);
        let wait = backoff_ms(interval, failures, retry_after_ms);
        let at = crate::now_ms();
        let next = at.saturating_add(i64::try_from(wait).unwrap_or(i64::MAX));
        tracing::warn!(
            tenant.id = %row.tenant_id,
            workflow.id = %row.workflow_id,
            connector = %trigger.connector,
            trigger = %trigger.trigger,
            failures,
            retry_in_ms = wait,
            error = %why,
            "poll failed"
        );
        self.store()
            .poll_failed(&row.tenant_id, &row.workflow_id, row.seq, at, why, next)
            .await?;
        Ok(())
    }

    /// A row whose workflow is gone, inactive or without a poll trigger.
    async fn disarm(&self, row: &PollState, now: i64) -> Result<()> {
        self.store()
            .poll_arm(&row.tenant_id, &row.workflow_id, false, now)
            .await?;
        Ok(())
    }
}

/// A new pending run of `wf` and its trigger step, begun by its trigger task
/// (as a sub-workflow's child run is).
fn pending_run(tenant: &str, wf: &Workflow, input: Value, now: i64) -> (Run, Step) {
    let run = Run {
        tenant_id: tenant.to_owned(),
        id: new_id("run"),
        workflow_id: wf.id.clone(),
        version: wf.version,
        status: Status::Pending,
        trigger: Trigger::Poll,
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
    };
    let mut step = Step::new(&run, TRIGGER, Status::Pending, now);
    step.due_at = Some(now);
    (run, step)
}

/// Fault injection for the crash test (`host/cli/tests/poll_crash.rs`), in
/// debug builds only: with `WEFTFAULT_POLL_PAUSE_MS` set, a poll that found
/// items waits that long between the poll and its commit, after logging
/// `poll paused before commit`, so the test can kill the process in that
/// window. A release build never reads the variable. (Not `WEFT_…`: those
/// are settings, and `weft serve` refuses one it does not know.)
async fn fault_pause() {
    if !cfg!(debug_assertions) {
        return;
    }
    let Some(ms) = std::env::var("WEFTFAULT_POLL_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    tracing::warn!(pause_ms = ms, "poll paused before commit");
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1_000, 1, None), 1_000);
        assert_eq!(backoff_ms(1_000, 2, None), 2_000);
        assert_eq!(backoff_ms(1_000, 4, None), 8_000);
        assert_eq!(backoff_ms(1_000, 40, None), MAX_POLL_BACKOFF_MS);
        // A daily poll waits a day, not less.
        assert_eq!(backoff_ms(86_400_000, 3, None), 86_400_000);
        // The connector's retry-after wins when longer.
        assert_eq!(backoff_ms(1_000, 1, Some(5_000)), 5_000);
    }
}
