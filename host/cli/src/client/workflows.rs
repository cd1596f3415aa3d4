//! `weft workflows ...`: create, validate, update, list, get, activate,
//! deactivate, delete.

use super::ServerArgs;
use super::http::{Body, Client};
use super::output::{Table, cut, i, out, s, time};
use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `weft workflows ...`.
#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// Create a workflow from a definition file (JSON, or YAML by extension).
    ///
    /// YAML is sent for `.yaml`/`.yml` files, JSON otherwise. The workflow starts
    /// inactive: `weft workflows activate ID` turns on its webhook and schedule.
    Create {
        /// The definition.
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Check a definition file against the server's connectors without storing it.
    Validate {
        /// The definition.
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Store a new version of a workflow's definition (running runs keep theirs).
    Update {
        /// The workflow's id.
        id: String,
        /// The new definition.
        file: PathBuf,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List workflows, newest first.
    List {
        /// At most this many (1-500).
        #[arg(long)]
        limit: Option<u32>,
        /// The page after this workflow id (the `next` of the previous page).
        #[arg(long)]
        before: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a workflow: its webhook URL, state and current definition.
    Get {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Let the webhook and the schedule start runs.
    Activate {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop the webhook and the schedule (manual runs still work).
    Deactivate {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a workflow (its runs stay readable).
    Delete {
        /// The workflow's id.
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Runs one `weft workflows` subcommand.
///
/// # Errors
/// [`super::http::ApiError`] for refusals; unreadable files, unreachable servers.
pub async fn run(cmd: WorkflowsCommand) -> anyhow::Result<()> {
    match cmd {
        WorkflowsCommand::Create { file, server } => {
            let c = Client::new(&server)?;
            let v = c.post(&["v1", "workflows"], definition(&file)?).await?;
            if !c.raw(&v)? {
                out!(
                    "created workflow {} `{}` (version {}, inactive)",
                    s(&v, "id"),
                    s(&v, "name"),
                    i(&v, "version").unwrap_or(1)
                );
                out!("webhook: {}", s(&v, "webhook_url"));
                out!(
                    "start it by hand with `weft runs start {}`, or turn on its webhook and schedule with `weft workflows activate {}`",
                    s(&v, "id"),
                    s(&v, "id")
                );
            }
        }
        WorkflowsCommand::Validate { file, server } => {
            let c = Client::new(&server)?;
            let url = c.url(&["v1", "workflows", "validate"], &[])?;
            let v = c.send(Method::POST, url, definition(&file)?).await?;
            if !c.raw(&v)? {
                out!(
                    "{}: valid: `{}`, {} top-level step(s)",
                    file.display(),
                    s(&v, "name"),
                    i(&v, "steps").unwrap_or(0)
                );
            }
        }
        WorkflowsCommand::Update { id, file, server } => {
            let c = Client::new(&server)?;
            let url = c.url(&["v1", "workflows", &id], &[])?;
            let v = c.send(Method::PUT, url, definition(&file)?).await?;
            if !c.raw(&v)? {
                out!(
                    "updated workflow {} `{}` to version {} ({})",
                    s(&v, "id"),
                    s(&v, "name"),
                    i(&v, "version").unwrap_or(0),
                    state(&v)
                );
            }
        }
        WorkflowsCommand::List {
            limit,
            before,
            server,
        } => {
            let c = Client::new(&server)?;
            let query = [("limit", limit.map(|l| l.to_string())), ("before", before)];
            let v = c.get(&["v1", "workflows"], &query).await?;
            if !c.raw(&v)? {
                list(&v);
            }
        }
        WorkflowsCommand::Get { id, server } => {
            let c = Client::new(&server)?;
            let v = c.get(&["v1", "workflows", &id], &[]).await?;
            if !c.raw(&v)? {
                show(&v);
            }
        }
        WorkflowsCommand::Activate { id, server } => {
            let c = Client::new(&server)?;
            let v = c
                .post(&["v1", "workflows", &id, "activate"], Body::None)
                .await?;
            if !c.raw(&v)? {
                out!("workflow {} is active", s(&v, "id"));
                out!("webhook: {}", s(&v, "webhook_url"));
            }
        }
        WorkflowsCommand::Deactivate { id, server } => {
            let c = Client::new(&server)?;
            let v = c
                .post(&["v1", "workflows", &id, "deactivate"], Body::None)
                .await?;
            if !c.raw(&v)? {
                out!(
                    "workflow {} is inactive (its webhook answers 404, its schedule is off)",
                    s(&v, "id")
                );
            }
        }
        WorkflowsCommand::Delete { id, server } => {
            let c = Client::new(&server)?;
            c.delete(&["v1", "workflows", &id]).await?;
            if !c.raw(&serde_json::json!({"deleted": id}))? {
                out!("deleted workflow {id}");
            }
        }
    }
    Ok(())
}

/// The file as a request body: YAML by extension, JSON otherwise.
fn definition(file: &Path) -> anyhow::Result<Body> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let yaml = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let content_type = if yaml {
        "application/yaml"
    } else {
        "application/json"
    };
    Ok(Body::Raw(bytes, content_type))
}

fn state(v: &Value) -> &'static str {
    if v.get("active").and_then(Value::as_bool).unwrap_or(false) {
        "active"
    } else {
        "inactive"
    }
}

fn list(v: &Value) {
    let mut t = Table::new(&["ID", "NAME", "VERSION", "STATE", "UPDATED (UTC)"]);
    for w in v
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        t.row(vec![
            s(w, "id").to_owned(),
            cut(s(w, "name"), 40),
            i(w, "version").unwrap_or(0).to_string(),
            state(w).to_owned(),
            time(i(w, "updated_at")),
        ]);
    }
    if t.is_empty() {
        out!("no workflows");
    } else {
        t.print();
    }
    if let Some(next) = v.get("next").and_then(Value::as_str) {
        out!("more: --before {next}");
    }
}

fn show(v: &Value) {
    out!("workflow {}  `{}`", s(v, "id"), s(v, "name"));
    out!("version:  {}", i(v, "version").unwrap_or(0));
    out!("state:    {}", state(v));
    out!("webhook:  {}", s(v, "webhook_url"));
    out!("created:  {} UTC", time(i(v, "created_at")));
    out!("updated:  {} UTC", time(i(v, "updated_at")));
    let Some(def) = v.get("definition") else {
        return;
    };
    if let Some(d) = def.get("description").and_then(Value::as_str) {
        out!("about:    {}", cut(d, 100));
    }
    if let Some(t) = def.get("triggers") {
        if let Some(w) = t.get("webhook") {
            let mode = w.get("mode").and_then(Value::as_str).unwrap_or("sync");
            match i(w, "timeout_ms") {
                Some(ms) => out!("webhook mode: {mode}, timeout {ms} ms"),
                None => out!("webhook mode: {mode}"),
            }
        }
        if let Some(sc) = t.get("schedule") {
            out!(
                "schedule: `{}` in {} (missed ticks: {})",
                s(sc, "cron"),
                s(sc, "timezone"),
                sc.get("missed").and_then(Value::as_str).unwrap_or("skip")
            );
        }
    }
    out!();
    let mut t = Table::new(&["STEP", "KIND", "AFTER", "DETAIL"]);
    steps(def.get("steps"), "", &mut t);
    t.print();
    out!("\n(the whole definition: --json)");
}

fn steps(list: Option<&Value>, indent: &str, t: &mut Table) {
    for st in list.and_then(Value::as_array).into_iter().flatten() {
        let kind = s(st, "kind");
        let after = match st.get("after").and_then(Value::as_array) {
            Some(a) if a.is_empty() => "(root)".to_owned(),
            Some(a) => a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            None => "-".to_owned(),
        };
        let detail = match kind {
            "action" => format!("{}.{}", s(st, "connector"), s(st, "action")),
            "condition" => format!("if {}", s(st, "if")),
            "switch" => format!("on {}", s(st, "value")),
            "loop" => format!(
                "over {} ({} at once)",
                s(st, "items"),
                i(st, "parallelism").unwrap_or(1)
            ),
            "subworkflow" => format!("workflow {}", s(st, "workflow")),
            "wait" => match i(st, "duration_ms") {
                Some(ms) => format!("{ms} ms"),
                None => "until resumed".to_owned(),
            },
            "respond" => format!("status {}", i(st, "status").unwrap_or(200)),
            _ => String::new(),
        };
        t.row(vec![
            format!("{indent}{}", s(st, "id")),
            kind.to_owned(),
            after,
            cut(&detail, 60),
        ]);
        if kind == "loop" {
            steps(st.get("body"), &format!("{indent}  "), t);
        }
    }
}
