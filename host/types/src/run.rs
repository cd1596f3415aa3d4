//! Runs, steps and the attempt journal, as the engine and the store see them.
//!
//! Times are Unix milliseconds (`i64`); ids are prefixed strings (`run_…`). Every
//! record carries its tenant.

use crate::failure::{Failure, RunFailure};
use crate::log::LogRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The life cycle of a run or a step.
///
/// `Skipped` is for steps only: a branch that was not taken, or a step whose
/// every dependency was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, not started (a step may be due later: a retry).
    Pending,
    /// Executing (a step: leased by a worker).
    Running,
    /// Paused: a wait step, or a sub-workflow in progress.
    Waiting,
    /// Finished with an output.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped on request, or because the run failed or timed out.
    Cancelled,
    /// Not executed: its branch was not taken.
    Skipped,
}

impl Status {
    /// Every status, in life-cycle order.
    pub const ALL: [Status; 7] = [
        Self::Pending,
        Self::Running,
        Self::Waiting,
        Self::Completed,
        Self::Failed,
        Self::Cancelled,
        Self::Skipped,
    ];

    /// Whether nothing more will happen to it.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Cancelled | Self::Skipped
        )
    }

    /// The stable snake_case name stored in databases and shown on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`"))
    }
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The API or the CLI.
    Manual,
    /// A call to the workflow's webhook URL.
    Webhook,
    /// A cron schedule.
    Schedule,
    /// A `subworkflow` step of another run.
    Subworkflow,
    /// Another run failed and this is its workflow's error workflow.
    Error,
    /// An AI assistant called the workflow's tool over MCP (`docs/MCP.md`).
    Mcp,
    /// A connector's polling trigger found a new item (`triggers.poll`).
    Poll,
    /// A message on the tenant's queue (`triggers.queue`).
    Queue,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: [Trigger; 8] = [
        Self::Manual,
        Self::Webhook,
        Self::Schedule,
        Self::Subworkflow,
        Self::Error,
        Self::Mcp,
        Self::Poll,
        Self::Queue,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Webhook => "webhook",
            Self::Schedule => "schedule",
            Self::Subworkflow => "subworkflow",
            Self::Error => "error",
            Self::Mcp => "mcp",
            Self::Poll => "poll",
            Self::Queue => "queue",
        }
    }

    /// Whether a run started this way carries a body written by a caller,
    /// checked against the workflow's `input_schema` before the run starts:
    /// not a schedule (its body is the server's `{scheduled_at, fired_at}`,
    /// checked against the schema when the workflow is saved) nor an error
    /// workflow (its body is the failed run's summary), nor a poll (its
    /// body is an item of the connector's trigger, shaped by its item schema).
    /// A queue message's body is written by whoever published it, but a run
    /// per message is not refused on its shape (it would be dead-lettered):
    /// the workflow checks what it needs.
    pub fn carries_input(self) -> bool {
        !matches!(
            self,
            Self::Schedule | Self::Error | Self::Poll | Self::Queue
        )
    }
}

impl FromStr for Trigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown trigger `{s}`"))
    }
}

/// One execution of a workflow version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The owner.
    pub tenant_id: String,
    /// `run_…`, sortable by creation time.
    pub id: String,
    /// The workflow and the version that runs.
    pub workflow_id: String,
    /// The workflow version (1, 2, ...).
    pub version: u32,
    /// Where it stands.
    pub status: Status,
    /// What started it.
    pub trigger: Trigger,
    /// The trigger payload (`trigger` in templates).
    pub input: Value,
    /// The result: the last completed top-level step's output.
    pub output: Option<Value>,
    /// Why it failed or was cancelled.
    pub error: Option<RunFailure>,
    /// What a `respond` step answered, for the webhook that started the run.
    pub response: Option<Response>,
    /// The run and step that started this one (sub-workflow), or the failed run
    /// (error workflow).
    pub parent: Option<Parent>,
    /// Nesting depth of sub-workflows (0 for a top-level run).
    pub depth: u32,
    /// When the run times out, if it has a timeout.
    pub deadline_at: Option<i64>,
    /// Optimistic-concurrency counter: every commit bumps it.
    pub seq: i64,
    /// Timestamps.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When it became terminal.
    pub finished_at: Option<i64>,
    /// A test run: only this top-level step and the steps it depends on
    /// run; every other step is skipped (`weft_engine::run::check_until`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// What a `respond` step answers to the webhook that started the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Response headers, rendered.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body, rendered.
    #[serde(default)]
    pub body: Value,
}

/// Where a child run reports back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    /// The parent run.
    pub run_id: String,
    /// The parent's step waiting for this run (empty for an error workflow).
    pub step_key: String,
}

/// One step of one run: a node of the graph, per loop iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The owner.
    pub tenant_id: String,
    /// The run.
    pub run_id: String,
    /// Node id plus loop path: `fetch`, `each[2].fetch`.
    pub key: String,
    /// Where it stands.
    pub status: Status,
    /// The current (or last) attempt, from 1; 0 for steps that run no attempt.
    pub attempt: u32,
    /// The rendered input (actions), the items (loops).
    pub input: Option<Value>,
    /// The output, once completed (or the error, when failed with `continue_on_fail`).
    pub output: Option<Value>,
    /// The classified error of the last failed attempt.
    pub error: Option<Failure>,
    /// When something is due: a pending step may start, a waiting step wakes,
    /// a running step's lease expires. `None`: nothing is due.
    pub due_at: Option<i64>,
    /// Unguessable token that resumes a `wait until: resume` step.
    pub resume_token: Option<String>,
    /// A sub-workflow step's child run.
    pub child_run_id: Option<String>,
    /// Timestamps.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// One attempt of one step: the journal. Written when the attempt starts,
/// completed with its result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// The owner.
    pub tenant_id: String,
    /// The run.
    pub run_id: String,
    /// The step.
    pub step_key: String,
    /// From 1.
    pub attempt: u32,
    /// Handed to the plugin; stable across attempts: `run_id:step_key`.
    pub idempotency_key: String,
    /// Where it stands: running, completed or failed.
    pub status: Status,
    /// The rendered input.
    pub input: Option<Value>,
    /// The output, on success.
    pub output: Option<Value>,
    /// The classified error, on failure.
    pub error: Option<Failure>,
    /// What the sandbox measured (wall time, peak memory, egress, logs).
    pub usage: Option<Value>,
    /// What the plugin logged during the attempt, bounded per step
    /// ([`crate::log::bound`]), ending with a marker when records were dropped.
    #[serde(default)]
    pub logs: Vec<LogRecord>,
    /// The component that ran it, `sha256:<64 hex>` (a bundled connector's
    /// or an installed version's artifact); `None` when no component ran
    /// (the connector did not resolve, or the worker was lost before it said).
    #[serde(default)]
    pub digest: Option<String>,
    /// Timestamps.
    pub started_at: i64,
    /// When it ended.
    pub finished_at: Option<i64>,
}

impl Step {
    /// A fresh row for `key` of `run` in `status`.
    pub fn new(run: &Run, key: impl Into<String>, status: Status, now: i64) -> Self {
        Self {
            tenant_id: run.tenant_id.clone(),
            run_id: run.id.clone(),
            key: key.into(),
            status,
            attempt: 0,
            input: None,
            output: None,
            error: None,
            due_at: None,
            resume_token: None,
            child_run_id: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_by_name() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("done".parse::<Status>().is_err());
        assert!(Status::Skipped.is_terminal());
        assert!(!Status::Waiting.is_terminal());
        assert_eq!("error".parse::<Trigger>(), Ok(Trigger::Error));
    }

    #[test]
    fn triggers_round_trip_by_name() {
        for t in Trigger::ALL {
            assert_eq!(t.as_str().parse::<Trigger>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!("mcp".parse::<Trigger>(), Ok(Trigger::Mcp));
        assert!("cron".parse::<Trigger>().is_err());
        assert!(Trigger::Mcp.carries_input() && Trigger::Subworkflow.carries_input());
        assert!(!Trigger::Schedule.carries_input() && !Trigger::Error.carries_input());
    }

    /// A response stored before the type existed reads back, and writes the same JSON.
    #[test]
    fn stored_responses_keep_their_shape() {
        let old = serde_json::json!({"status": 201, "headers": {"x-a": "1"}, "body": {"ok": true}});
        let r: Response = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.headers["x-a"], "1");
        assert_eq!(serde_json::to_value(&r).unwrap(), old);
    }
}
