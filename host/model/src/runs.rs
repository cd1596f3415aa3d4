//! `/v1/runs` and manual starts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_types::{Status, Trigger};

/// A run; `steps` only in `GET /v1/runs/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    /// `run_…`.
    pub id: String,
    /// The workflow.
    pub workflow_id: String,
    /// The definition version it runs.
    pub version: u32,
    /// Where it is.
    pub status: Status,
    /// What started it.
    pub trigger: Trigger,
    /// The trigger payload (`$trigger`).
    pub input: Value,
    /// The output, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The failure, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::RunFailure>,
    /// What a `respond` step answered: `{status, headers, body}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<weft_types::Response>,
    /// The run whose `subworkflow` step started this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<String>,
    /// A test run: the top-level step it stops after (only it and the
    /// steps it depends on run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Its steps, with their attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<Step>>,
}

impl From<weft_types::Run> for Run {
    fn from(r: weft_types::Run) -> Self {
        Self {
            id: r.id,
            workflow_id: r.workflow_id,
            version: r.version,
            status: r.status,
            trigger: r.trigger,
            input: r.input,
            output: r.output,
            error: r.error,
            response: r.response,
            parent_run_id: r.parent.map(|p| p.run_id),
            until: r.until,
            created_at: r.created_at,
            finished_at: r.finished_at,
            steps: None,
        }
    }
}

impl Run {
    /// The step `key`, if the run carries its steps.
    pub fn step(&self, key: &str) -> Option<&Step> {
        self.steps.as_deref()?.iter().find(|s| s.key == key)
    }
}

/// A step of a run, with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// The step's key (its id; in a loop `id[i]`).
    pub key: String,
    /// Where it is.
    pub status: Status,
    /// The current attempt (1, 2, ...).
    pub attempt: u32,
    /// The rendered input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::Failure>,
    /// When a pending or waiting step is due (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// For `wait until: resume` steps: where to POST to resume (a credential:
    /// shown only to callers who may resume the step, members and up within
    /// their key's `runs:resume` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_url: Option<String>,
    /// The run a `subworkflow` step started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_run_id: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// The journal: one entry per attempt.
    pub attempts: Vec<Attempt>,
}

impl Step {
    /// The wire form of `s` with its `attempts`; `base_url` makes its resume URL.
    pub fn new(s: weft_types::Step, base_url: &str, attempts: Vec<Attempt>) -> Self {
        Self {
            resume_url: s.resume_token.map(|t| format!("{base_url}/resume/{t}")),
            key: s.key,
            status: s.status,
            attempt: s.attempt,
            input: s.input,
            output: s.output,
            error: s.error,
            due_at: s.due_at,
            child_run_id: s.child_run_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            attempts,
        }
    }
}

/// One journaled attempt of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// 1, 2, ...
    pub attempt: u32,
    /// How it ended (or `running`).
    pub status: Status,
    /// `run_id:step_key`, the same for every attempt.
    pub idempotency_key: String,
    /// The output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// The failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::Failure>,
    /// What it used (wall time, memory, egress).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    /// The plugin's log records, in order; past the step's budget the last
    /// record is a marker (`source: host`) saying what was dropped.
    #[serde(default)]
    pub logs: Vec<weft_types::LogRecord>,
    /// The component that ran it, `sha256:<64 hex>`: a bundled connector's
    /// or the tenant's installed version's artifact. Absent when none ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Unix milliseconds.
    pub started_at: i64,
    /// Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

impl From<weft_types::Attempt> for Attempt {
    fn from(a: weft_types::Attempt) -> Self {
        Self {
            attempt: a.attempt,
            status: a.status,
            idempotency_key: a.idempotency_key,
            output: a.output,
            error: a.error,
            usage: a.usage,
            logs: a.logs,
            digest: a.digest,
            started_at: a.started_at,
            finished_at: a.finished_at,
        }
    }
}

/// `POST /v1/workflows/{id}/runs`: the trigger payload, read as `trigger.body`.
/// An empty request body is `{"input": null}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// Read as `$trigger.body`.
    #[serde(default)]
    pub input: Value,
    /// A test run ("test step"): only this top-level step and the steps it
    /// depends on run; every other step is recorded `skipped`, and the run
    /// completes when this step ends, with its output. It starts no error
    /// workflow and notifies nobody. A step inside a loop body cannot be
    /// named (test its loop); an unknown one is 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// `POST /v1/runs/{id}/rerun`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rerun {
    /// The top-level step to start again from.
    pub from: String,
}

/// `POST /v1/runs/{id}/steps/{key}/resume`. An empty body is `{"payload": null}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// Becomes the step's `output.payload`.
    #[serde(default)]
    pub payload: Value,
}
