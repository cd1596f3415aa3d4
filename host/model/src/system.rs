//! `/healthz` and `/readyz`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `/healthz`: the process answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// `/readyz`: each dependency's state (`ok` or the error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Ready {
    /// The whole.
    pub status: Readiness,
    /// The store: `ok` or why not.
    pub store: String,
    /// The queue: `ok` or why not.
    pub queue: String,
    /// Redis, when the limits are kept there: `ok` or why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<String>,
    /// Where per-tenant rate limits and running-step slots are kept; absent:
    /// no limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsBackend>,
}

/// Where per-tenant limits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitsBackend {
    /// In the server's memory (`weft serve` without Redis): per process.
    Memory,
    /// In Redis, shared by every process of the deployment.
    Redis,
}

/// Whether the server takes work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Everything answers.
    Ready,
    /// The store answers, the queue or Redis does not (runs are still accepted).
    Degraded,
    /// The store does not answer (503).
    Unavailable,
}
