//! `/v1/keys`, `/v1/audit` and `/v1/dead-letters`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::Role;

/// An API key's metadata (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Key {
    /// `key_…`.
    pub id: String,
    /// For humans.
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// What it may do.
    pub role: Role,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds; revoked keys are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    /// Scopes narrower than the role (`resource:verb[:id]`); absent: the
    /// whole role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Unix milliseconds; from then on the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Unix milliseconds: when it last authenticated a call (to the minute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
    /// The whole key: only in the answer to its creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<weft_types::ApiKey> for Key {
    fn from(k: weft_types::ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            role: k.role,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            scopes: k
                .scopes
                .map(|s| s.iter().map(ToString::to_string).collect()),
            expires_at: k.expires_at,
            last_used_at: k.last_used_at,
            secret: None,
        }
    }
}

/// `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// 1-100 characters.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Narrow the role to these (`resource:verb[:id]`, at most 32; for
    /// example `runs:start:wf_…` or `workflows:read`); absent: the whole role.
    /// Resources: workflows, runs, credentials, connectors, registry,
    /// installs, usage, audit, keys, members, notifications; verbs: read,
    /// write (runs: read, start, resume, cancel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Unix milliseconds; from then on the key is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// One entry of the tenant's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditEntry {
    /// The tenant.
    pub tenant_id: String,
    /// The API key id (or `system`).
    pub actor: String,
    /// `workflow.create`, `credential.delete`, ...
    pub action: String,
    /// The record's id.
    pub target: String,
    /// Unix milliseconds.
    pub at: i64,
}

/// A step task the queue gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetter {
    /// The message's id: pass it to redrive.
    pub id: String,
    /// The run.
    pub run_id: String,
    /// The step.
    pub step_key: String,
    /// The attempt the task was for.
    pub attempt: u32,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// Why it was dead-lettered.
    pub reason: DeadReason,
    /// Unix milliseconds.
    pub dead_lettered_at: u64,
}

/// Why a task was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadReason {
    /// A consumer rejected it.
    Rejected,
    /// Delivered the maximum number of times without an ack (a poison step).
    DeliveryLimit,
}

/// `POST /v1/dead-letters/{id}/redrive`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Redriven {
    /// The dead letter.
    pub id: String,
    /// Always `true`.
    pub redriven: bool,
    /// The new run, when the step had failed as poison.
    #[serde(default)]
    pub rerun_id: Option<String>,
}
