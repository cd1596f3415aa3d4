//! Wire types: what the API returns. Built from domain types, never the other
//! way; secrets and hashes have no field here.

use serde::Serialize;
use serde_json::Value;
use weft_types::{ApiKey, Attempt, CredentialRecord, Run, Status, Step, Workflow};

/// A workflow.
#[derive(Debug, Serialize)]
pub struct WorkflowDto {
    pub id: String,
    pub name: String,
    pub version: u32,
    pub active: bool,
    /// Where to POST to start a run (works while active).
    pub webhook_url: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The current version's definition (single-workflow responses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
}

impl WorkflowDto {
    pub fn new(w: Workflow, base_url: &str, definition: Option<Value>) -> Self {
        Self {
            webhook_url: format!("{base_url}/hooks/{}", w.webhook_token),
            id: w.id,
            name: w.name,
            version: w.version,
            active: w.active,
            created_at: w.created_at,
            updated_at: w.updated_at,
            definition,
        }
    }
}

/// A run.
#[derive(Debug, Serialize)]
pub struct RunDto {
    pub id: String,
    pub workflow_id: String,
    pub version: u32,
    pub status: Status,
    pub trigger: weft_types::Trigger,
    pub input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::RunFailure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<weft_types::Response>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<String>,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepDto>>,
}

impl From<Run> for RunDto {
    fn from(r: Run) -> Self {
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
            created_at: r.created_at,
            finished_at: r.finished_at,
            steps: None,
        }
    }
}

/// A step of a run, with its attempts.
#[derive(Debug, Serialize)]
pub struct StepDto {
    pub key: String,
    pub status: Status,
    pub attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::Failure>,
    /// When a pending or waiting step is due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
    /// For `wait until: resume` steps: where to POST to resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_run_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub attempts: Vec<AttemptDto>,
}

impl StepDto {
    pub fn new(s: Step, base_url: &str, attempts: Vec<AttemptDto>) -> Self {
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

/// One journaled attempt.
#[derive(Debug, Serialize)]
pub struct AttemptDto {
    pub attempt: u32,
    pub status: Status,
    pub idempotency_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<weft_types::Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    pub started_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
}

impl From<Attempt> for AttemptDto {
    fn from(a: Attempt) -> Self {
        Self {
            attempt: a.attempt,
            status: a.status,
            idempotency_key: a.idempotency_key,
            output: a.output,
            error: a.error,
            usage: a.usage,
            started_at: a.started_at,
            finished_at: a.finished_at,
        }
    }
}

/// A credential's metadata (never its secret).
#[derive(Debug, Serialize)]
pub struct CredentialDto {
    pub id: String,
    pub name: String,
    pub hosts: Vec<String>,
    pub injection: Value,
    pub created_at: i64,
}

impl From<CredentialRecord> for CredentialDto {
    fn from(c: CredentialRecord) -> Self {
        Self {
            id: c.id,
            name: c.name,
            hosts: c.hosts,
            injection: c.injection,
            created_at: c.created_at,
        }
    }
}

/// An API key's metadata (never its secret or hash).
#[derive(Debug, Serialize)]
pub struct KeyDto {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub role: weft_types::Role,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// The whole key: only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<ApiKey> for KeyDto {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: k.role,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            secret: None,
        }
    }
}

/// A page of items and the cursor of the next one.
#[derive(Debug, Serialize)]
pub struct PageDto<T> {
    pub items: Vec<T>,
    /// Pass as `before` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
