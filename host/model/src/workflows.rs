//! `/v1/workflows`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A workflow definition (docs/WORKFLOWS.md): sent as JSON, or as YAML with
/// `content-type: application/yaml`; answered as JSON.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Definition(pub Map<String, Value>);

/// A workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Workflow {
    /// `wf_…`.
    pub id: String,
    /// The current definition's name.
    pub name: String,
    /// The current version (1, 2, ...).
    pub version: u32,
    /// Whether the webhook and the schedule start runs.
    pub active: bool,
    /// Where to POST to start a run (works while active).
    pub webhook_url: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// The current version's definition (single-workflow answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
}

impl Workflow {
    /// The wire form of `w`; `base_url` makes its webhook URL.
    pub fn new(w: weft_types::Workflow, base_url: &str, definition: Option<Value>) -> Self {
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

/// One version of a workflow's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkflowVersion {
    /// The workflow.
    pub workflow_id: String,
    /// The version.
    pub version: u32,
    /// Its definition.
    pub definition: Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<weft_types::WorkflowVersion> for WorkflowVersion {
    fn from(v: weft_types::WorkflowVersion) -> Self {
        Self {
            workflow_id: v.workflow_id,
            version: v.version,
            definition: v.definition,
            created_at: v.created_at,
        }
    }
}

/// A valid definition (an invalid one is a 400 `invalid_workflow`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Validation {
    /// Always `true`.
    pub valid: bool,
    /// The definition's name.
    pub name: String,
    /// How many top-level steps it has.
    pub steps: usize,
    /// What is allowed but worth changing (e.g. a workflow-wide credential
    /// grant by slot name), each located by its JSON pointer; empty when none.
    #[serde(default)]
    pub warnings: Vec<crate::Problem>,
}
