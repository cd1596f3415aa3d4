//! The facts about one step attempt that a plugin receives.

use serde::{Deserialize, Serialize};

/// Identifies a step attempt to the plugin. The idempotency key is stable across
/// retries of the same step, so a retried remote effect can be applied once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StepContext {
    /// The workflow the step belongs to.
    pub workflow_id: String,
    /// The run being executed.
    pub run_id: String,
    /// The step within the run.
    pub step_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Stable across attempts of the same step.
    pub idempotency_key: String,
}

impl StepContext {
    /// A context for a one-off invocation (CLI, tests): fresh ids, attempt 1.
    pub fn adhoc(run_id: impl Into<String>) -> Self {
        let run_id = run_id.into();
        Self {
            workflow_id: "adhoc".into(),
            step_id: "step".into(),
            attempt: 1,
            idempotency_key: format!("{run_id}:step"),
            run_id,
        }
    }
}
