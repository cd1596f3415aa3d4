//! Resources (`docs/MCP.md`, "Resources"): the workflow format reference, so
//! an assistant writes correct definitions; and, under the caller's role and
//! scopes like the API routes that show them, workflow definitions, runs and
//! connector manifests.

use crate::errors::internal;
use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource as McpResource,
    ResourceContents, ResourceTemplate,
};
use serde_json::{Value, json};
use weft_app::{Actor, App};
use weft_model as m;
use weft_store::{Page, WorkflowFilter};
use weft_types::scope::{Resource, Verb};

/// The workflow format reference, as the repository has it.
const WORKFLOWS_MD: &str = include_str!("../../../docs/WORKFLOWS.md");

/// Its address.
const DOCS_URI: &str = "weft://docs/workflows";

/// At most this many workflows are listed as resources (the rest are read
/// by their address, from `list_workflows`).
const LISTED_WORKFLOWS: u32 = 100;

/// The resources a caller sees listed: the reference, its workflows
/// (newest first) and its connectors.
pub async fn list(app: &App, actor: &Actor) -> Result<ListResourcesResult, ErrorData> {
    let mut out = vec![
        McpResource::new(DOCS_URI, "Workflow format reference")
            .with_description("The workflow definition format: steps, templates, triggers, input_schema, mcp exposure.")
            .with_mime_type("text/markdown"),
    ];
    if actor.may(
        weft_types::Role::Viewer,
        Resource::Workflows,
        Verb::Read,
        None,
    ) {
        let page = Page::first(LISTED_WORKFLOWS);
        let items = app
            .list_workflows(actor, &WorkflowFilter::default(), &page)
            .await
            .map_err(|e| internal(&e.to_string()))?;
        out.extend(items.items.into_iter().map(|(w, _)| {
            McpResource::new(format!("weft://workflows/{}", w.id), w.name.clone())
                .with_description(format!(
                    "The definition of the workflow \"{}\" (version {}).",
                    w.name, w.version
                ))
                .with_mime_type("application/json")
        }));
    }
    if actor.may(
        weft_types::Role::Viewer,
        Resource::Connectors,
        Verb::Read,
        None,
    ) {
        let list = app
            .list_connectors(actor)
            .map_err(|e| internal(&e.to_string()))?;
        out.extend(list.iter().map(|e| {
            let manifest = e.plugin.manifest();
            McpResource::new(
                format!("weft://connectors/{}", manifest.name),
                format!("Connector {}", manifest.name),
            )
            .with_description(manifest.description.clone())
            .with_mime_type("application/json")
        }));
    }
    Ok(ListResourcesResult::with_all_items(out))
}

/// The resource templates: a workflow, a run, a connector by name.
pub fn templates() -> ListResourceTemplatesResult {
    let t = |uri: &str, name: &str, description: &str| {
        ResourceTemplate::new(uri, name)
            .with_description(description)
            .with_mime_type("application/json")
    };
    ListResourceTemplatesResult::with_all_items(vec![
        t(
            "weft://workflows/{id}",
            "Workflow",
            "A workflow's current definition, version and state.",
        ),
        t(
            "weft://runs/{id}",
            "Run",
            "A run with each step's status, output and error.",
        ),
        t(
            "weft://connectors/{name}",
            "Connector",
            "A connector's manifest: actions with input schemas, capabilities.",
        ),
    ])
}

/// Reads one resource; another tenant's ids are not found, as in the API.
pub async fn read(
    app: &App,
    actor: &Actor,
    base: &str,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    if uri == DOCS_URI {
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(WORKFLOWS_MD, uri).with_mime_type("text/markdown"),
        ]));
    }
    let value = match uri.strip_prefix("weft://").and_then(|r| r.split_once('/')) {
        Some(("workflows", id)) => {
            scoped(actor, Resource::Workflows, Verb::Read, Some(id))?;
            let (w, def, _) = app
                .get_workflow(actor, id)
                .await
                .map_err(|e| not_found(uri, e))?;
            serde_json::to_value(weft_api::wire::workflow(w, base, def)).unwrap_or(Value::Null)
        }
        Some(("runs", id)) => {
            let wf = app
                .run_workflow_id(actor, id)
                .await
                .map_err(|e| not_found(uri, e))?;
            scoped(actor, Resource::Runs, Verb::Read, wf.as_deref())?;
            run_json(app, actor, id)
                .await
                .map_err(|e| not_found(uri, e))?
        }
        Some(("connectors", name)) => {
            scoped(actor, Resource::Connectors, Verb::Read, None)?;
            let list = app.list_connectors(actor).map_err(|e| not_found(uri, e))?;
            let entry = list
                .iter()
                .find(|e| e.plugin.manifest().name == name)
                .ok_or_else(|| resource_not_found(uri))?;
            serde_json::to_value(weft_api::wire::connector(entry)).unwrap_or(Value::Null)
        }
        _ => return Err(resource_not_found(uri)),
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(
            serde_json::to_string_pretty(&value).unwrap_or_default(),
            uri,
        )
        .with_mime_type("application/json"),
    ]))
}

/// A run as an assistant reads it: the run and each step's status, output
/// and error (no attempts' journal; the API and the console have it).
///
/// # Errors
/// [`weft_app::Error::NotFound`]; store failures.
pub async fn run_json(app: &App, actor: &Actor, id: &str) -> weft_app::Result<Value> {
    let detail = app.get_run(actor, id).await?;
    let steps: Vec<Value> = detail
        .steps
        .iter()
        .map(|s| {
            json!({
                "key": s.step.key,
                "status": s.step.status,
                "attempt": s.step.attempt,
                "output": s.step.output,
                "error": s.step.error,
                "child_run_id": s.step.child_run_id,
            })
        })
        .collect();
    let mut run = serde_json::to_value(m::Run::from(detail.run)).unwrap_or(Value::Null);
    if let Some(obj) = run.as_object_mut() {
        obj.insert("steps".to_owned(), Value::Array(steps));
    }
    Ok(run)
}

/// Refuses a scoped key without the scope, as the API route would.
fn scoped(
    actor: &Actor,
    resource: Resource,
    verb: Verb,
    id: Option<&str>,
) -> Result<(), ErrorData> {
    actor
        .require(weft_types::Role::Viewer)
        .and_then(|()| actor.require_scope(resource, verb, id))
        .map_err(|e| ErrorData::invalid_params(e.to_string(), None))
}

/// A use case's refusal of a read.
fn not_found(uri: &str, e: weft_app::Error) -> ErrorData {
    match e {
        weft_app::Error::NotFound(_) => resource_not_found(uri),
        e => ErrorData::invalid_params(e.to_string(), None),
    }
}

/// The protocol's "resource not found".
fn resource_not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(format!("no resource `{uri}`"), Some(json!({ "uri": uri })))
}
