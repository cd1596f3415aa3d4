//! Workflows as tools (`docs/MCP.md`, "Workflows as tools"): every active
//! workflow that opts in with `mcp: {expose: true}` is a tool named after
//! it, typed by its `input_schema` and its respond step's `output_schema`. A
//! call is a run (trigger `mcp`) that the call waits for, telling progress
//! per finished step and cancelling the run when the call is cancelled.

use crate::errors::{tool_error, tool_failure};
use crate::handler::Call;
use crate::tools::{self, ok};
use rmcp::model::{
    CallToolResult, ContentBlock, JsonObject, ProgressNotificationParam, ProgressToken, Tool,
    ToolAnnotations,
};
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use weft_app::mcp::Exposed;
use weft_app::{Actor, App};
use weft_types::{Definition, Run, Status, StepDef, Workflow};

/// How often a call with a progress token looks at its run's steps.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// An exposed workflow and its tool.
pub struct ExposedTool {
    /// The MCP description.
    pub tool: Tool,
    /// The workflow.
    pub exposed: Exposed,
}

/// The workflow tools of the caller, named: a name taken by a management
/// tool or by an older workflow gets the workflow id's tail appended.
///
/// # Errors
/// Store failures.
pub async fn listed(app: &App, actor: &Actor) -> weft_app::Result<Vec<ExposedTool>> {
    let mut taken: HashSet<String> = tools::SPECS.iter().map(|s| s.name.to_owned()).collect();
    let mut out = Vec::new();
    for exposed in app.exposed_workflows(actor).await? {
        let mut name = weft_engine::input::tool_name(&exposed.definition)
            .unwrap_or_else(|| "workflow".to_owned());
        if taken.contains(&name) {
            let id = &exposed.workflow.id;
            let tail = &id[id.len().saturating_sub(6)..];
            let base = format!("{}_{tail}", &name[..name.len().min(57)]);
            name = base.clone();
            let mut n = 2;
            while taken.contains(&name) {
                name = format!("{}_{n}", &base[..base.len().min(60)]);
                n += 1;
            }
        }
        taken.insert(name.clone());
        out.push(ExposedTool {
            tool: describe(&name, &exposed),
            exposed,
        });
    }
    Ok(out)
}

/// The exposed workflow the caller knows as the tool `name`.
///
/// # Errors
/// Store failures.
pub async fn find(app: &App, actor: &Actor, name: &str) -> weft_app::Result<Option<Exposed>> {
    Ok(listed(app, actor)
        .await?
        .into_iter()
        .find(|t| t.tool.name == name)
        .map(|t| t.exposed))
}

/// The MCP description of an exposed workflow's tool.
fn describe(name: &str, exposed: &Exposed) -> Tool {
    let def = &exposed.definition;
    let mcp = def.mcp.as_ref();
    let description = mcp
        .and_then(|m| m.description.clone())
        .or_else(|| def.description.clone())
        .unwrap_or_else(|| format!("Runs the workflow \"{}\".", def.name));
    let input = match &def.input_schema {
        Some(Value::Object(schema)) => schema.clone(),
        _ => open_object(),
    };
    let mut tool =
        Tool::new(name.to_owned(), description, Arc::new(input)).with_title(def.name.clone());
    if let Some(Value::Object(out)) = output_schema(def) {
        tool = tool.with_raw_output_schema(Arc::new(out.clone()));
    }
    let mut notes = ToolAnnotations::default();
    notes.title = Some(def.name.clone());
    notes.read_only_hint = Some(false);
    notes.open_world_hint = Some(true);
    tool.with_annotations(notes)
}

/// An object schema that takes anything.
fn open_object() -> JsonObject {
    let mut o = Map::new();
    o.insert("type".into(), json!("object"));
    o
}

/// The respond step's `output_schema`: the first top-level respond step's
/// that declares one.
fn output_schema(def: &Definition) -> Option<&Value> {
    def.steps.iter().find_map(|s| match s {
        StepDef {
            kind: weft_types::StepKind::Respond(r),
            ..
        } => r.output_schema.as_ref(),
        _ => None,
    })
}

/// Calls an exposed workflow's tool: checks the arguments, starts the run
/// and waits for its answer.
pub async fn call(c: &Call<'_>, exposed: &Exposed, args: Map<String, Value>) -> CallToolResult {
    let typed = output_schema(&exposed.definition).is_some();
    start_and_wait(
        c,
        &exposed.workflow,
        &exposed.definition,
        Value::Object(args),
        typed,
    )
    .await
}

/// Starts a run of `workflow` with `input` and waits for it (the tool call's
/// bound), with progress and cancellation; `typed`: the tool promises an
/// output schema, so a run that has not answered is a tool error.
pub async fn start_and_wait(
    c: &Call<'_>,
    workflow: &Workflow,
    def: &Definition,
    input: Value,
    typed: bool,
) -> CallToolResult {
    let run = match c.app.start_tool_run(c.actor, workflow, input).await {
        Ok(run) => run,
        Err(e) => return tool_error(e),
    };
    let run = match wait(c, def, &run.id).await {
        Ok(Some(run)) => run,
        Ok(None) => {
            // The call was cancelled: so is the run.
            if let Err(e) = c.app.cancel_run(c.actor, &run.id).await {
                tracing::warn!(run = %run.id, error = %e, "cannot cancel the run of a cancelled tool call");
            }
            return tool_failure(
                "cancelled",
                format!("the call was cancelled, and so was its run {}", run.id),
                Some(json!({"run_id": run.id})),
            );
        }
        Err(e) => return tool_error(e),
    };
    answer(
        &run,
        typed,
        u64::try_from(c.options.call_wait().as_millis()).unwrap_or(u64::MAX),
    )
}

/// Waits for the run to answer or end, at most the call's bound, telling
/// progress when the client asked for it (one notification per finished
/// top-level step, in the definition's order, the last ones before the
/// answer); `None` when the call is cancelled.
async fn wait(c: &Call<'_>, def: &Definition, run_id: &str) -> weft_app::Result<Option<Run>> {
    let token = c.context.meta.get_progress_token();
    let deadline = tokio::time::Instant::now() + c.options.call_wait();
    let mut told: HashSet<String> = HashSet::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let slice = if token.is_some() {
            left.min(PROGRESS_EVERY)
        } else {
            left
        };
        let run = tokio::select! {
            () = c.context.ct.cancelled() => return Ok(None),
            run = c.app.wait_run(c.actor, run_id, slice) => run?,
        };
        if let Some(token) = &token {
            report(c, token, def, run_id, &mut told).await?;
        }
        if run.response.is_some() || run.status.is_terminal() || left.is_zero() {
            return Ok(Some(run));
        }
    }
}

/// Sends a progress notification for each top-level step that finished
/// since the last report.
async fn report(
    c: &Call<'_>,
    token: &ProgressToken,
    def: &Definition,
    run_id: &str,
    told: &mut HashSet<String>,
) -> weft_app::Result<()> {
    let steps = c.app.step_statuses(c.actor, run_id).await?;
    let finished: HashSet<&str> = steps
        .iter()
        .filter(|(_, status)| status.is_terminal())
        .map(|(key, _)| key.as_str())
        .collect();
    let total = def.steps.len();
    for step in &def.steps {
        if finished.contains(step.id.as_str()) && told.insert(step.id.clone()) {
            let n = told.len();
            let note = ProgressNotificationParam::new(token.clone(), n as f64)
                .with_total(total as f64)
                .with_message(format!("step `{}` finished ({n} of {total})", step.id));
            if let Err(e) = c.context.peer.notify_progress(note).await {
                tracing::debug!(error = %e, "progress notification not delivered");
            }
        }
    }
    Ok(())
}

/// A run as the tool's result.
fn answer(run: &Run, typed: bool, waited_ms: u64) -> CallToolResult {
    if let Some(resp) = &run.response {
        if resp.status >= 400 {
            return tool_failure(
                "workflow_error",
                format!("the workflow answered with status {}", resp.status),
                Some(json!({"run_id": run.id, "status": resp.status, "body": resp.body})),
            );
        }
        return output(&resp.body, typed, run);
    }
    match run.status {
        Status::Completed => output(run.output.as_ref().unwrap_or(&Value::Null), typed, run),
        Status::Failed => {
            let why = run
                .error
                .as_ref()
                .map(|f| match &f.step {
                    Some(step) => format!("step `{step}` failed: {}", f.failure.message),
                    None => f.failure.message.clone(),
                })
                .unwrap_or_else(|| "the run failed".to_owned());
            tool_failure(
                "run_failed",
                why,
                Some(json!({"run_id": run.id, "failure": run.error})),
            )
        }
        Status::Cancelled => tool_failure(
            "run_cancelled",
            format!("the run {} was cancelled", run.id),
            Some(json!({"run_id": run.id})),
        ),
        _ => still_running(run, typed, waited_ms),
    }
}

/// A run that has not answered within the call's wait.
fn still_running(run: &Run, typed: bool, waited_ms: u64) -> CallToolResult {
    let message = format!(
        "the run {} is still {} after {} s; call get_run with {{\"run_id\": \"{}\", \"wait_ms\": 30000}} for its result",
        run.id,
        run.status.as_str(),
        waited_ms / 1000,
        run.id
    );
    if typed {
        return tool_failure(
            "still_running",
            message,
            Some(json!({"run_id": run.id, "status": run.status})),
        );
    }
    let mut r = CallToolResult::success(vec![ContentBlock::text(message)]);
    r.structured_content = Some(json!({"run_id": run.id, "status": run.status}));
    r
}

/// A finished run's output as the result: structured when it is an object.
fn output(body: &Value, typed: bool, run: &Run) -> CallToolResult {
    if typed && !body.is_object() {
        return tool_failure(
            "invalid_output",
            "the workflow declares an output_schema but answered something that is not an object",
            Some(json!({"run_id": run.id, "body": body})),
        );
    }
    ok(body.clone())
}
