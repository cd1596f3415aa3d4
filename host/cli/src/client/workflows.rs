//! `weft workflows ...`: create, validate, update, list, get, activate,
//! deactivate, delete.

use super::ServerArgs;
use super::http::Cli;
use super::output::{Table, cut, out, time};
use anyhow::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use weft_client::Definition as Upload;
use weft_model::{Page, Workflow, WorkflowsQuery};
use weft_types::{Definition, Missed, StepDef, StepKind, WebhookMode};

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
    /// List workflows, newest first, with each one's last run.
    List {
        /// Only workflows whose name contains this text (A-Z in either case).
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
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
/// Refusals from the server ([`weft_client::Error::Api`]); unreadable files,
/// unreachable servers.
pub async fn run(cmd: WorkflowsCommand) -> anyhow::Result<()> {
    match cmd {
        WorkflowsCommand::Create { file, server } => {
            let c = Cli::new(&server)?;
            let bytes = read(&file)?;
            let w = c.api.create_workflow(upload(&file, &bytes)).await?;
            if !c.raw(&w)? {
                out!(
                    "created workflow {} `{}` (version {}, inactive)",
                    w.id,
                    w.name,
                    w.version
                );
                if let Some(hook) = &w.webhook_url {
                    out!("webhook: {hook}");
                }
                out!(
                    "start it by hand with `weft runs start {}`, or turn on its webhook and schedule with `weft workflows activate {}`",
                    w.id,
                    w.id
                );
            }
        }
        WorkflowsCommand::Validate { file, server } => {
            let c = Cli::new(&server)?;
            let bytes = read(&file)?;
            let v = c.api.validate_workflow(upload(&file, &bytes)).await?;
            if !c.raw(&v)? {
                out!(
                    "{}: valid: `{}`, {} top-level step(s)",
                    file.display(),
                    v.name,
                    v.steps
                );
                for w in &v.warnings {
                    out!("warning: {w}");
                }
            }
        }
        WorkflowsCommand::Update { id, file, server } => {
            let c = Cli::new(&server)?;
            let bytes = read(&file)?;
            let w = c.api.update_workflow(&id, upload(&file, &bytes)).await?;
            if !c.raw(&w)? {
                out!(
                    "updated workflow {} `{}` to version {} ({})",
                    w.id,
                    w.name,
                    w.version,
                    state(&w)
                );
            }
        }
        WorkflowsCommand::List {
            search,
            limit,
            before,
            server,
        } => {
            let c = Cli::new(&server)?;
            let q = WorkflowsQuery {
                q: search,
                before,
                limit,
            };
            let page = c.api.list_workflows(&q).await?;
            if !c.raw(&page)? {
                list(&page);
            }
        }
        WorkflowsCommand::Get { id, server } => {
            let c = Cli::new(&server)?;
            let w = c.api.get_workflow(&id).await?;
            if !c.raw(&w)? {
                show(&w);
            }
        }
        WorkflowsCommand::Activate { id, server } => {
            let c = Cli::new(&server)?;
            let w = c.api.activate_workflow(&id).await?;
            if !c.raw(&w)? {
                out!("workflow {} is active", w.id);
                if let Some(hook) = &w.webhook_url {
                    out!("webhook: {hook}");
                }
            }
        }
        WorkflowsCommand::Deactivate { id, server } => {
            let c = Cli::new(&server)?;
            let w = c.api.deactivate_workflow(&id).await?;
            if !c.raw(&w)? {
                out!(
                    "workflow {} is inactive (its webhook answers 404, its schedule is off)",
                    w.id
                );
            }
        }
        WorkflowsCommand::Delete { id, server } => {
            let c = Cli::new(&server)?;
            c.api.delete_workflow(&id).await?;
            if !c.raw(&serde_json::json!({"deleted": id}))? {
                out!("deleted workflow {id}");
            }
        }
    }
    Ok(())
}

fn read(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))
}

/// The file as an upload: YAML by extension, JSON otherwise.
fn upload<'a>(file: &Path, bytes: &'a [u8]) -> Upload<'a> {
    let yaml = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    if yaml {
        Upload::Yaml(bytes)
    } else {
        Upload::JsonText(bytes)
    }
}

fn state(w: &Workflow) -> &'static str {
    if w.active { "active" } else { "inactive" }
}

fn list(page: &Page<Workflow>) {
    let mut t = Table::new(&[
        "ID",
        "NAME",
        "VERSION",
        "STATE",
        "UPDATED (UTC)",
        "LAST RUN",
    ]);
    for w in &page.items {
        let last = match w.last_run.as_ref().and_then(Option::as_ref) {
            Some(r) => format!("{} {}", r.status, time(r.created_at)),
            None => "-".to_owned(),
        };
        t.row(vec![
            w.id.clone(),
            cut(&w.name, 40),
            w.version.to_string(),
            state(w).to_owned(),
            time(w.updated_at),
            last,
        ]);
    }
    if t.is_empty() {
        out!("no workflows");
    } else {
        t.print();
    }
    if let Some(next) = &page.next {
        out!("more: --before {next}");
    }
}

fn show(w: &Workflow) {
    out!("workflow {}  `{}`", w.id, w.name);
    out!("version:  {}", w.version);
    out!("state:    {}", state(w));
    if let Some(hook) = &w.webhook_url {
        out!("webhook:  {hook}");
    }
    out!("created:  {} UTC", time(w.created_at));
    out!("updated:  {} UTC", time(w.updated_at));
    let Some(def) = &w.definition else {
        return;
    };
    let def: Definition = match serde_json::from_value(def.clone()) {
        Ok(d) => d,
        Err(e) => {
            out!("\n(this weft cannot read the definition: {e}; all of it: --json)");
            return;
        }
    };
    if let Some(d) = &def.description {
        out!("about:    {}", cut(d, 100));
    }
    if let Some(wh) = &def.triggers.webhook {
        let mode = match wh.mode {
            WebhookMode::Sync => "sync",
            WebhookMode::Async => "async",
        };
        match wh.timeout_ms {
            Some(ms) => out!("webhook mode: {mode}, timeout {ms} ms"),
            None => out!("webhook mode: {mode}"),
        }
    }
    if let Some(sc) = &def.triggers.schedule {
        let missed = match sc.missed {
            Missed::Skip => "skip",
            Missed::Once => "once",
        };
        out!(
            "schedule: `{}` in {} (missed ticks: {missed})",
            sc.cron,
            sc.timezone
        );
    }
    out!();
    let mut t = Table::new(&["STEP", "KIND", "AFTER", "DETAIL"]);
    steps(&def.steps, "", &mut t);
    t.print();
    out!("\n(the whole definition: --json)");
}

fn steps(list: &[StepDef], indent: &str, t: &mut Table) {
    for st in list {
        let after = match &st.after {
            Some(a) if a.is_empty() => "(root)".to_owned(),
            Some(a) => a.join(","),
            None => "-".to_owned(),
        };
        let (kind, detail) = match &st.kind {
            StepKind::Action(a) => ("action", format!("{}.{}", a.connector, a.action)),
            StepKind::Condition(c) => ("condition", format!("if {}", c.condition)),
            StepKind::Switch(s) => ("switch", format!("on {}", s.value)),
            StepKind::Loop(l) => (
                "loop",
                format!("over {} ({} at once)", l.items, l.parallelism),
            ),
            StepKind::Merge => ("merge", String::new()),
            StepKind::Subworkflow(s) => ("subworkflow", format!("workflow {}", s.workflow)),
            StepKind::Wait(w) => (
                "wait",
                match w.duration_ms {
                    Some(ms) => format!("{ms} ms"),
                    None => "until resumed".to_owned(),
                },
            ),
            StepKind::Respond(r) => ("respond", format!("status {}", r.status.unwrap_or(200))),
            StepKind::Code(c) => (
                "code",
                format!("{} lines of javascript", c.code.lines().count()),
            ),
        };
        t.row(vec![
            format!("{indent}{}", st.id),
            kind.to_owned(),
            after,
            cut(&detail, 60),
        ]);
        if let StepKind::Loop(l) = &st.kind {
            steps(&l.body, &format!("{indent}  "), t);
        }
    }
}
