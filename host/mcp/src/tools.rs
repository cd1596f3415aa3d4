//! The management tools (`docs/MCP.md`, "Management tools"): each is one API
//! route's use case, with that route's least role and scope, so a key can do
//! over MCP exactly what it can do over HTTP. `tools/list` offers a caller
//! only the tools its role and scopes allow.

use crate::errors::{tool_error, tool_failure};
use crate::handler::Call;
use rmcp::model::{CallToolResult, ContentBlock, Tool, ToolAnnotations};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use weft_app::Actor;
use weft_engine::Format;
use weft_model as m;
use weft_store::{RunFilter, WorkflowFilter};
use weft_types::Role;
use weft_types::scope::{Resource, Verb};

/// One management tool: what it is called, says and takes, and who may call it.
pub struct Spec {
    /// The tool's name.
    pub name: &'static str,
    /// A short title for people.
    title: &'static str,
    /// What it does, for the assistant choosing it.
    description: &'static str,
    /// The least role (the API route's).
    role: Role,
    /// The scope a scoped key needs (the API route's).
    scope: (Resource, Verb),
    /// It changes nothing.
    read_only: bool,
    /// Its input schema's properties and required names.
    input: fn() -> (Value, &'static [&'static str]),
}

/// Every management tool, in the order `tools/list` shows them.
pub static SPECS: &[Spec] = &[
    Spec {
        name: "list_workflows",
        title: "List workflows",
        description: "Lists the tenant's workflows, newest first: id, name, version, whether \
                      active, and the newest run. Filter by a name fragment; page with `cursor`.",
        role: Role::Viewer,
        scope: (Resource::Workflows, Verb::Read),
        read_only: true,
        input: || {
            (
                json!({
                    "query": {"type": "string", "maxLength": 200, "description": "only workflows whose name contains this"},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    "cursor": {"type": "string", "description": "the `next` of the previous page"}
                }),
                &[],
            )
        },
    },
    Spec {
        name: "get_workflow",
        title: "Get a workflow",
        description: "One workflow: its current definition (steps, triggers, input_schema, mcp \
                      exposure), version, whether active, webhook URL, newest run.",
        role: Role::Viewer,
        scope: (Resource::Workflows, Verb::Read),
        read_only: true,
        input: || {
            (
                json!({"workflow_id": {"type": "string", "description": "wf_…"}}),
                &["workflow_id"],
            )
        },
    },
    Spec {
        name: "validate_workflow",
        title: "Validate a workflow definition",
        description: "Checks a draft definition against the workflow format and the tenant's \
                      connectors without saving it. Answers {valid: true, warnings} or {valid: \
                      false, problems: [{path, message}]} with every problem by its path, so a \
                      draft can be fixed in one pass. Read the resource weft://docs/workflows \
                      for the format.",
        role: Role::Viewer,
        scope: (Resource::Workflows, Verb::Read),
        read_only: true,
        input: || (definition_props(), &["definition"]),
    },
    Spec {
        name: "create_workflow",
        title: "Create a workflow",
        description: "Creates a workflow from a definition (as validate_workflow checks it). It \
                      is inactive until set_workflow_active; with `mcp: {expose: true}` it then \
                      becomes a tool of its own.",
        role: Role::Member,
        scope: (Resource::Workflows, Verb::Write),
        read_only: false,
        input: || (definition_props(), &["definition"]),
    },
    Spec {
        name: "update_workflow",
        title: "Update a workflow",
        description: "Saves a definition as the workflow's next version; runs in progress keep \
                      the version they started on.",
        role: Role::Member,
        scope: (Resource::Workflows, Verb::Write),
        read_only: false,
        input: || {
            let mut p = definition_props();
            p["workflow_id"] = json!({"type": "string", "description": "wf_…"});
            (p, &["workflow_id", "definition"])
        },
    },
    Spec {
        name: "set_workflow_active",
        title: "Activate or deactivate a workflow",
        description: "Activates a workflow (its webhook, schedule and MCP tool start runs) or \
                      deactivates it.",
        role: Role::Member,
        scope: (Resource::Workflows, Verb::Write),
        read_only: false,
        input: || {
            (
                json!({"workflow_id": {"type": "string", "description": "wf_…"}, "active": {"type": "boolean"}}),
                &["workflow_id", "active"],
            )
        },
    },
    Spec {
        name: "run_workflow",
        title: "Run a workflow",
        description: "Starts a run of any workflow (exposed or not) with `input` as the trigger \
                      body, and waits for its answer like a workflow tool; a run still going \
                      when the wait ends is returned by id (finish with get_run).",
        role: Role::Member,
        scope: (Resource::Runs, Verb::Start),
        read_only: false,
        input: || {
            (
                json!({
                    "workflow_id": {"type": "string", "description": "wf_…"},
                    "input": {"description": "the trigger body (checked against the workflow's input_schema)"}
                }),
                &["workflow_id"],
            )
        },
    },
    Spec {
        name: "get_run",
        title: "Get a run",
        description: "A run: its status, output or error, and each step's status, output and \
                      error. With wait_ms, waits (at most 60 s) for the run to end first.",
        role: Role::Viewer,
        scope: (Resource::Runs, Verb::Read),
        read_only: true,
        input: || {
            (
                json!({
                    "run_id": {"type": "string", "description": "run_…"},
                    "wait_ms": {"type": "integer", "minimum": 0, "maximum": 60000}
                }),
                &["run_id"],
            )
        },
    },
    Spec {
        name: "list_runs",
        title: "List runs",
        description: "The tenant's runs, newest first, by workflow and status; page with `cursor`.",
        role: Role::Viewer,
        scope: (Resource::Runs, Verb::Read),
        read_only: true,
        input: || {
            (
                json!({
                    "workflow_id": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "running", "waiting", "completed", "failed", "cancelled"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
                    "cursor": {"type": "string"}
                }),
                &[],
            )
        },
    },
    Spec {
        name: "cancel_run",
        title: "Cancel a run",
        description: "Cancels a run that has not ended; its steps in progress are stopped.",
        role: Role::Member,
        scope: (Resource::Runs, Verb::Cancel),
        read_only: false,
        input: || (json!({"run_id": {"type": "string"}}), &["run_id"]),
    },
    Spec {
        name: "list_connectors",
        title: "List connectors",
        description: "The connectors workflows of this tenant can use, each with its actions \
                      and their input JSON Schemas (what a step's `input` must look like), \
                      config schema and capabilities (hosts, credential slots).",
        role: Role::Viewer,
        scope: (Resource::Connectors, Verb::Read),
        read_only: true,
        input: || (json!({}), &[]),
    },
    Spec {
        name: "search_marketplace",
        title: "Search the marketplace",
        description: "Searches the registry's connectors and workflow templates by text, with \
                      what each may reach.",
        role: Role::Viewer,
        scope: (Resource::Registry, Verb::Read),
        read_only: true,
        input: || {
            (
                json!({
                    "query": {"type": "string", "maxLength": 200},
                    "kind": {"type": "string", "enum": ["connector", "template"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}
                }),
                &[],
            )
        },
    },
];

/// The `definition` argument: an object, or YAML/JSON text.
fn definition_props() -> Value {
    json!({
        "definition": {
            "description": "the workflow definition: a JSON object, or its YAML or JSON text \
                            (format: resource weft://docs/workflows)",
            "type": ["object", "string"]
        }
    })
}

/// The tools' descriptions, built once.
static TOOLS: LazyLock<Vec<Tool>> = LazyLock::new(|| SPECS.iter().map(tool).collect());

/// The MCP description of one management tool.
fn tool(spec: &Spec) -> Tool {
    let (props, required) = (spec.input)();
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), props);
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    let mut notes = ToolAnnotations::default();
    notes.title = Some(spec.title.to_owned());
    notes.read_only_hint = Some(spec.read_only);
    notes.destructive_hint = Some(spec.name == "cancel_run");
    notes.open_world_hint = Some(spec.name == "run_workflow");
    Tool::new(spec.name, spec.description, Arc::new(schema))
        .with_title(spec.title)
        .with_annotations(notes)
}

/// Whether the caller's role and scopes offer `spec` at all (a scope bound
/// to one id offers the tool; the call checks the id).
pub fn offered(actor: &Actor, spec: &Spec) -> bool {
    let (resource, verb) = spec.scope;
    actor.require(spec.role).is_ok()
        && actor.scopes.as_ref().is_none_or(|scopes| {
            scopes
                .iter()
                .any(|s| s.resource == resource && s.verb == verb)
        })
}

/// The management tools the caller may call.
pub fn listed(actor: &Actor) -> Vec<Tool> {
    SPECS
        .iter()
        .zip(TOOLS.iter())
        .filter(|(spec, _)| offered(actor, spec))
        .map(|(_, t)| t.clone())
        .collect()
}

/// The spec of a management tool by name.
pub fn find(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// A successful result: the value as `structuredContent` and as JSON text.
pub fn ok(value: Value) -> CallToolResult {
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    if value.is_object() {
        r.structured_content = Some(value);
    }
    r
}

/// The arguments as `T`, or a tool error naming the argument that is wrong.
fn args<T: DeserializeOwned>(tool: &str, args: &Map<String, Value>) -> Result<T, CallToolResult> {
    serde_json::from_value(Value::Object(args.clone())).map_err(|e| {
        tool_failure(
            "invalid_arguments",
            format!("the arguments of `{tool}` do not fit its input schema: {e}"),
            None,
        )
    })
}

/// A use case's result as a tool result.
fn done<T: serde::Serialize>(r: weft_app::Result<T>) -> CallToolResult {
    match r {
        Ok(v) => ok(serde_json::to_value(v).unwrap_or(Value::Null)),
        Err(e) => tool_error(e),
    }
}

/// A page's `limit`, within `max`.
fn limit(l: Option<u32>, default: u32, max: u32) -> Option<u32> {
    Some(l.unwrap_or(default).clamp(1, max))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListWorkflows {
    query: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Id {
    workflow_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    definition: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    workflow_id: String,
    definition: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Active {
    workflow_id: String,
    active: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunIt {
    workflow_id: String,
    #[serde(default)]
    input: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GetRun {
    run_id: String,
    wait_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListRuns {
    workflow_id: Option<String>,
    status: Option<weft_types::Status>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunId {
    run_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    query: Option<String>,
    kind: Option<m::registry::PackageKind>,
    limit: Option<u32>,
}

/// A definition argument as the bytes and format the use cases parse.
fn definition_bytes(v: &Value) -> (Vec<u8>, Format) {
    match v {
        Value::String(text) if text.trim_start().starts_with('{') => {
            (text.as_bytes().to_vec(), Format::Json)
        }
        Value::String(text) => (text.as_bytes().to_vec(), Format::Yaml),
        other => (other.to_string().into_bytes(), Format::Json),
    }
}

/// Runs the management tool `spec` for the call.
pub async fn call(spec: &Spec, call: &Call<'_>, raw: &Map<String, Value>) -> CallToolResult {
    match run(spec, call, raw).await {
        Ok(r) | Err(r) => r,
    }
}

/// The call, with `?` on argument and scope errors.
async fn run(
    spec: &Spec,
    c: &Call<'_>,
    raw: &Map<String, Value>,
) -> Result<CallToolResult, CallToolResult> {
    let app = c.app;
    let actor = c.actor;
    let base = c.base_url;
    let (resource, verb) = spec.scope;
    let scope = |id: Option<&str>| actor.require_scope(resource, verb, id).map_err(tool_error);
    actor.require(spec.role).map_err(tool_error)?;
    Ok(match spec.name {
        "list_workflows" => {
            let a: ListWorkflows = args(spec.name, raw)?;
            scope(None)?;
            let page = weft_app::page(a.cursor, limit(a.limit, 50, 200));
            let filter = WorkflowFilter { name: a.query };
            done(app.list_workflows(actor, &filter, &page).await.map(|l| {
                json!({
                    "items": l.items.into_iter().map(|(w, run)| {
                        m::Workflow::new(w, base, None).with_last_run(run.map(|r| m::LastRun {
                            id: r.id, status: r.status, created_at: r.created_at,
                        }))
                    }).collect::<Vec<_>>(),
                    "next": l.next,
                })
            }))
        }
        "get_workflow" => {
            let a: Id = args(spec.name, raw)?;
            scope(Some(&a.workflow_id))?;
            done(
                app.get_workflow(actor, &a.workflow_id)
                    .await
                    .map(|(w, def, run)| {
                        weft_api::wire::workflow(w, base, def).with_last_run(run.map(|r| {
                            m::LastRun {
                                id: r.id,
                                status: r.status,
                                created_at: r.created_at,
                            }
                        }))
                    }),
            )
        }
        "validate_workflow" => {
            let a: Draft = args(spec.name, raw)?;
            scope(None)?;
            let (bytes, format) = definition_bytes(&a.definition);
            match app.validate_workflow(actor, &bytes, format).await {
                Ok((def, warnings)) => ok(json!({
                    "valid": true, "name": def.name, "steps": def.steps.len(), "warnings": warnings,
                })),
                Err(weft_app::Error::InvalidWorkflow { problems, .. }) => ok(json!({
                    "valid": false, "problems": problems,
                })),
                Err(e) => tool_error(e),
            }
        }
        "create_workflow" => {
            let a: Draft = args(spec.name, raw)?;
            scope(None)?;
            let (bytes, format) = definition_bytes(&a.definition);
            done(
                app.create_workflow(actor, &bytes, format)
                    .await
                    .map(|(w, def)| weft_api::wire::workflow(w, base, Some(def))),
            )
        }
        "update_workflow" => {
            let a: Update = args(spec.name, raw)?;
            scope(Some(&a.workflow_id))?;
            let (bytes, format) = definition_bytes(&a.definition);
            done(
                app.update_workflow(actor, &a.workflow_id, &bytes, format)
                    .await
                    .map(|(w, def)| weft_api::wire::workflow(w, base, Some(def))),
            )
        }
        "set_workflow_active" => {
            let a: Active = args(spec.name, raw)?;
            scope(Some(&a.workflow_id))?;
            done(
                app.set_workflow_active(actor, &a.workflow_id, a.active)
                    .await
                    .map(|w| m::Workflow::new(w, base, None)),
            )
        }
        "run_workflow" => {
            let a: RunIt = args(spec.name, raw)?;
            scope(Some(&a.workflow_id))?;
            let (wf, _, _) = app
                .get_workflow(actor, &a.workflow_id)
                .await
                .map_err(tool_error)?;
            let def = app
                .handle()
                .definition(&actor.tenant_id, &wf.id, wf.version)
                .await
                .map_err(|e| tool_error(e.into()))?;
            crate::workflow_tools::start_and_wait(c, &wf, &def, a.input, false).await
        }
        "get_run" => {
            let a: GetRun = args(spec.name, raw)?;
            let wf = app
                .run_workflow_id(actor, &a.run_id)
                .await
                .map_err(tool_error)?;
            scope(wf.as_deref())?;
            if let Some(ms) = a.wait_ms.filter(|ms| *ms > 0) {
                app.wait_run(actor, &a.run_id, Duration::from_millis(ms))
                    .await
                    .map_err(tool_error)?;
            }
            done(crate::resources::run_json(app, actor, &a.run_id).await)
        }
        "list_runs" => {
            let a: ListRuns = args(spec.name, raw)?;
            scope(a.workflow_id.as_deref())?;
            let filter = RunFilter {
                workflow_id: a.workflow_id,
                status: a.status,
                ..RunFilter::default()
            };
            let page = weft_app::page(a.cursor, limit(a.limit, 20, 200));
            done(app.list_runs(actor, &filter, &page).await.map(|l| {
                json!({
                    "items": l.items.into_iter().map(m::Run::from).collect::<Vec<_>>(),
                    "next": l.next,
                })
            }))
        }
        "cancel_run" => {
            let a: RunId = args(spec.name, raw)?;
            let wf = app
                .run_workflow_id(actor, &a.run_id)
                .await
                .map_err(tool_error)?;
            scope(wf.as_deref())?;
            done(app.cancel_run(actor, &a.run_id).await.map(m::Run::from))
        }
        "list_connectors" => {
            let _: Map<String, Value> = args(spec.name, raw)?;
            scope(None)?;
            done(app.list_connectors(actor).map(|list| {
                json!({
                    "items": list.iter().map(weft_api::wire::connector).collect::<Vec<_>>(),
                })
            }))
        }
        "search_marketplace" => {
            let a: Search = args(spec.name, raw)?;
            scope(None)?;
            let query = weft_registry::SearchQuery {
                text: a.query.filter(|t| !t.trim().is_empty()),
                kind: a.kind.map(|k| match k {
                    m::registry::PackageKind::Connector => weft_registry::Kind::Connector,
                    m::registry::PackageKind::Template => weft_registry::Kind::Template,
                }),
                limit: a.limit.unwrap_or(20).clamp(1, 50),
                ..weft_registry::SearchQuery::default()
            };
            done(app.search_packages(actor, &query).await.map(|p| {
                json!({
                    "items": p.items.into_iter().map(weft_api::wire::package).collect::<Vec<_>>(),
                    "next": p.next,
                })
            }))
        }
        other => {
            return Err(tool_failure(
                "internal",
                format!("no handler for the tool `{other}`"),
                None,
            ));
        }
    })
}
