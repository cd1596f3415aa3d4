//! `/v1/workflows`.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use weft_types::Status;

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
    /// Where to POST to start a run (works while active). A credential:
    /// shown only to callers who may start a run of this workflow (members
    /// and up, within their key's `runs:start` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
    /// The current version's definition (single-workflow answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<Value>,
    /// The name of its MCP tool when the definition exposes it
    /// (`mcp.expose`; answers that carry the definition). Another tool of
    /// the same name makes the MCP server append the id's last characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_tool: Option<String>,
    /// Its newest run, or `null` when it has none: in the list and in
    /// `GET /v1/workflows/{id}` (absent from the answers of changes).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Option<LastRun>")]
    pub last_run: Option<Option<LastRun>>,
    /// Its polling trigger's state (`triggers.poll`), in
    /// `GET /v1/workflows/{id}` once it has been armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollStatus>,
    /// Its queue trigger's consumer (`triggers.queue`), in
    /// `GET /v1/workflows/{id}` once it has been armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueStatus>,
}

/// Where a workflow's queue consumer stands: a broker that is down or
/// refuses the login, or a message that cannot become a run, shows here
/// (and in the server's log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QueueStatus {
    /// Whether a consumer should run (the workflow is active with
    /// `triggers.queue`).
    pub armed: bool,
    /// Whether a worker is subscribed to the queue now.
    pub consuming: bool,
    /// When the last message arrived (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<i64>,
    /// The last failure: connecting to the broker, or a message that did
    /// not become a run; absent once connected / after a run was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Failures in a row (connection attempts back off, doubling up to a
    /// minute).
    pub consecutive_failures: u32,
}

/// Where a workflow's polling trigger stands: a failing poll shows here
/// (and in the server's log), never only in silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PollStatus {
    /// Whether polls are due (the workflow is active with `triggers.poll`).
    pub polling: bool,
    /// When the next poll is due (Unix milliseconds); while one runs, the
    /// end of its claim.
    pub next_poll_at: i64,
    /// When the last poll ended, either way (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_poll_at: Option<i64>,
    /// When the last poll succeeded (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<i64>,
    /// Why the last poll failed; absent after a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Polls failed in a row; the next waits the interval doubled per
    /// failure after the first (at most an hour, or the interval if longer).
    pub consecutive_failures: u32,
}

/// A field that is there, `null` or not: `Some(None)` for `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A workflow's newest run, as its list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LastRun {
    /// `run_…`.
    pub id: String,
    /// Where it is.
    pub status: Status,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Workflow {
    /// The wire form of `w`; `base_url` makes its webhook URL.
    pub fn new(w: weft_types::Workflow, base_url: &str, definition: Option<Value>) -> Self {
        Self {
            webhook_url: (!w.webhook_token.is_empty())
                .then(|| format!("{base_url}/hooks/{}", w.webhook_token)),
            id: w.id,
            name: w.name,
            version: w.version,
            active: w.active,
            created_at: w.created_at,
            updated_at: w.updated_at,
            definition,
            mcp_tool: None,
            last_run: None,
            poll: None,
            queue: None,
        }
    }

    /// Its webhook URL; `""` when the caller was not given it.
    pub fn hook_url(&self) -> &str {
        self.webhook_url.as_deref().unwrap_or_default()
    }

    /// The same workflow carrying its polling trigger's state.
    #[must_use]
    pub fn with_poll(mut self, poll: Option<PollStatus>) -> Self {
        self.poll = poll;
        self
    }

    /// The same workflow carrying its queue consumer's state.
    #[must_use]
    pub fn with_queue(mut self, queue: Option<QueueStatus>) -> Self {
        self.queue = queue;
        self
    }

    /// The same workflow carrying its newest run (`None`: it has none).
    #[must_use]
    pub fn with_last_run(mut self, last: Option<LastRun>) -> Self {
        self.last_run = Some(last);
        self
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

/// `POST /v1/workflows/import/n8n`: an n8n workflow export to turn into a
/// definition (docs/IMPORT.md). Nothing is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportN8n {
    /// The export, as the n8n editor's "Download" or `n8n export:workflow` writes it.
    pub export: Value,
    /// n8n workflow id -> Weft workflow id, for Execute Workflow nodes whose
    /// sub-workflow was imported first.
    #[serde(default)]
    pub workflows: std::collections::BTreeMap<String, String>,
}

/// What an import made: a definition to validate and save
/// (`POST /v1/workflows`), and what was not mapped or differs, node by node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Imported {
    /// The Weft definition.
    pub definition: Value,
    /// What to know before saving it.
    pub notes: Vec<ImportNote>,
}

/// One note of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImportNote {
    /// The n8n node's name (empty: the workflow as a whole).
    pub node: String,
    /// What was not mapped or differs, and what to do.
    pub message: String,
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
