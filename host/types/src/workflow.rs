//! Workflow definitions: what a tenant writes (JSON or YAML), as plain data.
//!
//! Parsing with limits, validation, templating and the step graph live in the
//! `weft-engine` crate; this module only holds the shapes. The format is
//! documented in `docs/WORKFLOWS.md`.

use crate::{ErrorKind, HostPattern};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// A whole workflow definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Human name of the workflow.
    pub name: String,
    /// Author-chosen version number of the definition, informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// One paragraph for humans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Constants readable from templates as `vars.<name>` (not templated themselves).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    /// Deadline for the whole run, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Workflow started with the failed run's summary when a run fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_workflow: Option<String>,
    /// What the tenant grants this workflow's connectors.
    #[serde(default, skip_serializing_if = "Grants::is_empty")]
    pub grants: Grants,
    /// How webhooks answer and when a schedule starts runs.
    #[serde(default, skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Triggers,
    /// A JSON Schema (draft 2020-12) of `trigger.body`: checked on every start
    /// that carries a body (by hand, webhook, MCP, sub-workflow) before the
    /// run is created, and the input schema of the workflow's MCP tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// Whether and how the workflow is offered as a tool over MCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpExposure>,
    /// The steps, in document order.
    pub steps: Vec<StepDef>,
}

/// Outbound hosts and credentials granted to the workflow's connectors.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Hosts connectors may reach (still intersected with what each declares).
    #[serde(default)]
    pub hosts: Vec<HostPattern>,
    /// Credentials granted to every step of one connector, keyed
    /// `connector/slot` (e.g. `slack/bot-token`) -> name of a stored credential
    /// of the tenant. A bare `slot` key is the older workflow-wide form: it is
    /// honoured only while exactly one connector of the workflow declares that
    /// slot (see `weft_engine::credentials`); a step's own
    /// [`ActionStep::credentials`] come first.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
}

impl Grants {
    /// Whether nothing is granted.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.credentials.is_empty()
    }
}

/// The workflow's triggers besides manual runs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// How the webhook answers (every active workflow has a webhook URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookTrigger>,
    /// A cron schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleTrigger>,
    /// A connector's polling trigger (`docs/WORKFLOWS.md`, "Polling").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollTrigger>,
    /// Messages on the tenant's own RabbitMQ queue (`docs/WORKFLOWS.md`,
    /// "Queue").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueTrigger>,
}

impl Triggers {
    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.webhook.is_none()
            && self.schedule.is_none()
            && self.poll.is_none()
            && self.queue.is_none()
    }
}

/// The default [`QueueTrigger::prefetch`].
pub const DEFAULT_QUEUE_PREFETCH: u16 = 10;
/// The largest [`QueueTrigger::prefetch`].
pub const MAX_QUEUE_PREFETCH: u16 = 1_000;
/// The default [`QueueTrigger::max_attempts`].
pub const DEFAULT_QUEUE_MAX_ATTEMPTS: u32 = 5;
/// The largest [`QueueTrigger::max_attempts`].
pub const MAX_QUEUE_MAX_ATTEMPTS: u32 = 100;

/// `triggers.queue`: one run per message on a queue of the tenant's own
/// RabbitMQ (not Weft's internal broker), acknowledged once the run is
/// durably accepted; a message that cannot become a run is retried up to
/// `max_attempts` deliveries, then rejected to the queue's dead-letter
/// exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueTrigger {
    /// The tenant's credential of type `amqp`: the broker's URL (without
    /// the password) and, sealed, the password.
    pub credential: String,
    /// The queue to consume (it must exist: Weft declares nothing on the
    /// tenant's broker).
    pub queue: String,
    /// How many unacknowledged messages the broker hands over at once
    /// (default 10, at most 1 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<u16>,
    /// Deliveries of one message before it is rejected to the dead-letter
    /// exchange (default 5, at most 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
}

impl QueueTrigger {
    /// The prefetch, defaulted.
    pub fn prefetch(&self) -> u16 {
        self.prefetch.unwrap_or(DEFAULT_QUEUE_PREFETCH)
    }

    /// The retry budget, defaulted.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts.unwrap_or(DEFAULT_QUEUE_MAX_ATTEMPTS)
    }
}

/// The default [`PollTrigger::interval_ms`]: one minute.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 60_000;
/// The longest [`PollTrigger::interval_ms`]: one day.
pub const MAX_POLL_INTERVAL_MS: u64 = 24 * 3_600 * 1_000;

/// `triggers.poll`: the host polls a connector's trigger on an interval and
/// starts a run per new item (or one per batch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollTrigger {
    /// The connector that offers the trigger, e.g. `rss`.
    pub connector: String,
    /// The trigger, one the connector declares, e.g. `new-entries`.
    pub trigger: String,
    /// The trigger's config (checked against its config schema).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub config: Value,
    /// Milliseconds between polls (default 60 000; at least the
    /// deployment's minimum, at most a day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// Credential slots of the connector -> names of stored credentials of
    /// the tenant, used by reference in the poll's requests.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, String>,
    /// A semver range the connector's version must be in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `per_item` (default): one run per new item, `trigger.body` the item;
    /// `batch`: one run per poll that found items, `trigger.body` `{items: [..]}`.
    #[serde(default)]
    pub mode: PollMode,
}

impl PollTrigger {
    /// The interval, defaulted.
    pub fn interval_ms(&self) -> u64 {
        self.interval_ms.unwrap_or(DEFAULT_POLL_INTERVAL_MS)
    }

    /// Whether `version` (the connector's) is in the trigger's range; true
    /// without one, false when either does not parse.
    pub fn accepts(&self, version: &str) -> bool {
        let Some(range) = &self.version else {
            return true;
        };
        match (
            semver::VersionReq::parse(range),
            semver::Version::parse(version),
        ) {
            (Ok(req), Ok(v)) => req.matches(&v),
            _ => false,
        }
    }
}

/// How a poll's new items start runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollMode {
    /// One run per item.
    #[default]
    PerItem,
    /// One run per poll that found items.
    Batch,
}

/// `mcp`: how a workflow is offered as a tool to AI assistants over MCP
/// (`docs/MCP.md`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpExposure {
    /// Whether the workflow is a tool (default false: opting in is explicit).
    #[serde(default)]
    pub expose: bool,
    /// The tool's name (`^[A-Za-z0-9_-]{1,64}$`); absent: the workflow's
    /// name in snake case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the tool does and when to use it, for the assistant (at most
    /// 1,000 characters); absent: the workflow's `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `triggers.webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// `sync` (default): answer with the run's response; `async`: 202 with the run id.
    #[serde(default)]
    pub mode: WebhookMode,
    /// How long a synchronous webhook waits for the response, in milliseconds
    /// (default 30 000); after that it answers 202 with the run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Calls must be signed (HMAC-SHA256) with a tenant credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::WebhookSignature>,
    /// A repeated delivery id starts one run and gets the first answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<crate::WebhookDedupe>,
}

/// How a webhook answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookMode {
    /// With what the run responds (a `respond` step, else its output).
    #[default]
    Sync,
    /// At once, 202 with the run id.
    Async,
}

/// `triggers.schedule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// Cron expression: 5 fields, or 6 with seconds first.
    pub cron: String,
    /// IANA time zone (default `UTC`).
    #[serde(default = "utc")]
    pub timezone: String,
    /// What to do with ticks missed while the server was down (default `skip`).
    #[serde(default)]
    pub missed: crate::Missed,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// One step (node) of the workflow graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDef {
    /// Identifier, unique in the whole definition: `[A-Za-z_][A-Za-z0-9_]*`, at most 64.
    pub id: String,
    /// Steps this one waits for. Absent: the previous step in the same list (or,
    /// for a branch target, the branching step); `[]`: none (a root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<String>>,
    /// Retry policy; absent: the engine's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// Deadline of one attempt (for `wait ... until resume`: of the wait), in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// When the step finally fails, record the error as its output and go on.
    #[serde(default, skip_serializing_if = "is_false")]
    pub continue_on_fail: bool,
    /// What the step does.
    #[serde(flatten)]
    pub kind: StepKind,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn one() -> u32 {
    1
}

/// The kinds of step, tagged by `"kind"`; each kind's fields are its own type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    /// Run a connector action in the sandbox.
    Action(ActionStep),
    /// Route on a boolean expression.
    Condition(ConditionStep),
    /// Route on the value of an expression.
    Switch(SwitchStep),
    /// Run a nested list of steps once per item.
    Loop(LoopStep),
    /// Wait for every step in `after`.
    Merge,
    /// Start another workflow and wait for its result.
    Subworkflow(SubworkflowStep),
    /// Pause the run.
    Wait(WaitStep),
    /// Answer the webhook that triggered the run.
    Respond(RespondStep),
    /// Run a script (JavaScript) on items, in the sandbox (the bundled
    /// connector `code`).
    Code(CodeStep),
}

/// `kind: action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionStep {
    /// Connector name, e.g. `http`.
    pub connector: String,
    /// Action name, e.g. `request`.
    pub action: String,
    /// Input handed to the action (templated).
    #[serde(default)]
    pub input: Value,
    /// Connector config (templated).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub config: Value,
    /// Credentials bound to this step: slot name (one the connector declares)
    /// -> name of a stored credential of the tenant. Only this step gets them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, String>,
    /// The versions of the connector this step accepts, a semver range
    /// (`^1`, `=1.2.3`, `>=0.3, <0.5`): checked against the tenant's
    /// connector when the workflow is saved and when the step runs, and an
    /// upgrade of an install to a version outside it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl ActionStep {
    /// Whether `version` (a connector's manifest version) is in this step's
    /// range; true without a range. A range or a version that does not parse
    /// is outside (validation reports the range).
    pub fn accepts(&self, version: &str) -> bool {
        let Some(range) = &self.version else {
            return true;
        };
        match (
            semver::VersionReq::parse(range),
            semver::Version::parse(version),
        ) {
            (Ok(req), Ok(v)) => req.matches(&v),
            _ => false,
        }
    }
}

/// `kind: code`: the script runs in the bundled `code` connector's sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeStep {
    /// The script: the body of a function of `items`, `item`, `index`,
    /// `trigger`, `steps`, `vars`; its `return` value is the output.
    pub code: String,
    /// `javascript` (the default and, for now, the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Expression giving the items (with or without `{{ }}`). Absent: the
    /// output of the step this one runs after (the trigger's body for a
    /// root step), an array as it is, anything else as one item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    /// Hosts the script may reach with `http.send` (still within the
    /// workflow's `grants.hosts` and the egress policy). Empty: no network.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<HostPattern>,
    /// Credentials the script may name in `http.send({credential})` /
    /// `fetch(url, {credential})`: the name the script uses -> a stored
    /// credential of the tenant. The host injects it, only on requests to
    /// the credential's hosts that are also in `hosts`; the script never
    /// sees the secret.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credentials: BTreeMap<String, String>,
}

impl CodeStep {
    /// The bundled connector a code step runs on.
    pub const CONNECTOR: &'static str = "code";
    /// Its action that runs a script.
    pub const ACTION: &'static str = "run";
    /// Its action that checks a script's syntax.
    pub const CHECK: &'static str = "check";
    /// The only language for now.
    pub const JAVASCRIPT: &'static str = "javascript";
}

/// `kind: condition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionStep {
    /// The expression (`if`), with or without `{{ }}`.
    #[serde(rename = "if")]
    pub condition: String,
    /// Steps that run when the expression is truthy.
    #[serde(default)]
    pub then: Vec<String>,
    /// Steps that run otherwise (`else`).
    #[serde(default, rename = "else")]
    pub otherwise: Vec<String>,
}

/// `kind: switch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwitchStep {
    /// The expression, with or without `{{ }}`.
    pub value: String,
    /// Checked in order; the first equal case wins.
    #[serde(default)]
    pub cases: Vec<SwitchCase>,
    /// Steps that run when no case matches.
    #[serde(default)]
    pub default: Vec<String>,
}

/// `kind: loop`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopStep {
    /// Expression giving an array, with or without `{{ }}`.
    pub items: String,
    /// Iterations running at once (1..=64).
    #[serde(default = "one")]
    pub parallelism: u32,
    /// The steps of one iteration; they see `item` and `index`.
    pub body: Vec<StepDef>,
}

/// `kind: subworkflow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubworkflowStep {
    /// Id of the workflow to run.
    pub workflow: String,
    /// Its trigger payload (templated).
    #[serde(default)]
    pub input: Value,
}

/// `kind: wait`: exactly one of the two fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitStep {
    /// Resume after this many milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Resume when called back (approval, webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<WaitUntil>,
}

/// `kind: respond`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RespondStep {
    /// HTTP status, default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response headers (values templated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Response body (templated).
    #[serde(default)]
    pub body: Value,
    /// A JSON Schema (draft 2020-12) of `body` as rendered: documentation of
    /// the answer, and the `outputSchema` of the workflow's MCP tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

impl RespondStep {
    /// Response headers a workflow may not set: a webhook answers on the
    /// server's own origin, so cookies, transport security and the message
    /// framing stay the server's (compared lower-case).
    pub const RESERVED_HEADERS: &'static [&'static str] = &[
        "set-cookie",
        "set-cookie2",
        "strict-transport-security",
        "content-security-policy",
        "content-security-policy-report-only",
        "x-content-type-options",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "content-encoding",
        "te",
        "trailer",
        "upgrade",
        // The answer comes from the console's origin: a workflow must not
        // wipe a visitor's cookies and storage there, nor widen a service
        // worker's scope over it (found while building the console).
        "clear-site-data",
        "service-worker-allowed",
    ];

    /// Whether a workflow may set the response header `name`.
    pub fn header_allowed(name: &str) -> bool {
        !Self::RESERVED_HEADERS
            .iter()
            .any(|r| r.eq_ignore_ascii_case(name))
    }
}

impl StepKind {
    /// The `kind` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Action(_) => "action",
            Self::Condition(_) => "condition",
            Self::Switch(_) => "switch",
            Self::Loop(_) => "loop",
            Self::Merge => "merge",
            Self::Subworkflow(_) => "subworkflow",
            Self::Wait(_) => "wait",
            Self::Respond(_) => "respond",
            Self::Code(_) => "code",
        }
    }

    /// The step ids this step routes to (`then`, `else`, cases, `default`).
    pub fn branch_targets(&self) -> Vec<&str> {
        match self {
            Self::Condition(c) => c
                .then
                .iter()
                .chain(&c.otherwise)
                .map(String::as_str)
                .collect(),
            Self::Switch(s) => s
                .cases
                .iter()
                .flat_map(|c| &c.next)
                .chain(&s.default)
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One case of a switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchCase {
    /// The value to compare with (JSON equality; numbers by value).
    pub equals: Value,
    /// Steps that run when it matches.
    pub next: Vec<String>,
}

/// What a wait step waits for, besides a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitUntil {
    /// A call to the run's resume URL or the resume API.
    Resume,
}

/// A step's retry policy as written; unset fields take the engine's defaults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Attempts in total, including the first (no upper clamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Delay before the second attempt, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_interval_ms: Option<u64>,
    /// Factor applied to the delay after each attempt (>= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_coefficient: Option<f64>,
    /// Upper bound of one delay, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval_ms: Option<u64>,
    /// No attempt starts later than this after the first one, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_ms: Option<u64>,
    /// Error kinds never retried (replaces the default list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_retryable: Option<Vec<ErrorKind>>,
}

/// One thing wrong with a definition, located by a JSON pointer into it
/// (e.g. `/steps/3/after/0`; `""` is the whole document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    /// JSON pointer to the offending value.
    pub path: String,
    /// What is wrong, for humans.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_are_tagged_by_kind_and_round_trip() {
        let v = json!({
            "name": "w",
            "steps": [
                {"id": "a", "kind": "action", "connector": "http", "action": "get",
                 "input": {"url": "{{ vars.u }}"}, "retry": {"max_attempts": 10}},
                {"id": "c", "kind": "condition", "if": "steps.a.output.ok", "then": ["r"]},
                {"id": "l", "kind": "loop", "items": "trigger.body", "body": [
                    {"id": "w", "kind": "wait", "duration_ms": 5}
                ]},
                {"id": "m", "kind": "merge", "after": ["c", "l"]},
                {"id": "r", "kind": "respond", "body": {"ok": true}}
            ]
        });
        let d: Definition = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(d.steps.len(), 5);
        assert_eq!(d.steps[1].kind.branch_targets(), vec!["r"]);
        match &d.steps[2].kind {
            StepKind::Loop(l) => {
                assert_eq!(l.parallelism, 1);
                assert_eq!(l.body[0].kind.name(), "wait");
            }
            other => panic!("not a loop: {other:?}"),
        }
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(serde_json::from_value::<Definition>(back).unwrap(), d);
    }

    #[test]
    fn schemas_and_mcp_exposure_round_trip_and_stay_strict() {
        let v = json!({
            "name": "refund lookup",
            "input_schema": {"type": "object", "required": ["order_id"]},
            "mcp": {"expose": true, "name": "lookup_refund", "description": "Looks up a refund."},
            "steps": [{"id": "r", "kind": "respond", "body": {"status": "ok"},
                       "output_schema": {"type": "object"}}]
        });
        let d: Definition = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(d.mcp.as_ref().map(|m| m.expose), Some(true));
        match &d.steps[0].kind {
            StepKind::Respond(r) => assert_eq!(r.output_schema, Some(json!({"type": "object"}))),
            other => panic!("not a respond step: {other:?}"),
        }
        assert_eq!(serde_json::to_value(&d).unwrap(), v);
        let plain: Definition =
            serde_json::from_value(json!({"name": "w", "mcp": {}, "steps": []})).unwrap();
        assert_eq!(plain.mcp, Some(McpExposure::default()));
        let typo = json!({"name": "w", "mcp": {"expose": true, "nmae": "x"}, "steps": []});
        let e = serde_json::from_value::<Definition>(typo).unwrap_err();
        assert!(e.to_string().contains("unknown field `nmae`"), "{e}");
        let bare: Definition = serde_json::from_value(json!({"name": "w", "steps": []})).unwrap();
        let out = serde_json::to_value(&bare).unwrap();
        assert!(out.get("input_schema").is_none() && out.get("mcp").is_none());
    }

    #[test]
    fn problems_display_with_their_path() {
        assert_eq!(
            Problem::new("/steps/0/id", "bad").to_string(),
            "/steps/0/id: bad"
        );
        assert_eq!(Problem::new("", "bad").to_string(), "bad");
    }
}
