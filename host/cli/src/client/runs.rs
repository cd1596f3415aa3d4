//! `weft runs ...`: start, list, get (steps as a table), cancel, retry, re-run
//! from a step, resume a waiting step.

use super::ServerArgs;
use super::http::{Body, Client};
use super::output::{out, s};
use super::run_view::{list, outcome, show};
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

/// `weft runs ...`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Start a run of a workflow by hand (active or not).
    Start {
        /// The workflow's id.
        workflow_id: String,
        /// The trigger payload, read by the workflow as `trigger.body`, as JSON.
        #[arg(long, value_name = "JSON")]
        input: Option<String>,
        /// Wait up to this many milliseconds (at most 60000) for the run to respond or end.
        #[arg(long, value_name = "N")]
        wait_ms: Option<u64>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List runs, newest first.
    List {
        /// Only runs of this workflow.
        #[arg(long, value_name = "ID")]
        workflow: Option<String>,
        /// Only runs in this status: pending, running, waiting, completed, failed, cancelled.
        #[arg(long, value_name = "S")]
        status: Option<String>,
        /// At most this many (1-500, default 50).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// The page after this run id (the `more:` line of the previous page).
        #[arg(long, value_name = "ID")]
        before: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a run and its steps: status, attempts, timings and errors.
    Get {
        /// The run's id.
        run_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Cancel a run (and its sub-workflow runs).
    Cancel {
        /// The run's id.
        run_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Start a new run that reuses every result of a finished run and re-executes what failed.
    Retry {
        /// The finished run's id.
        run_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Start a new run from a top-level step; the results upstream of it are reused.
    Rerun {
        /// The earlier run's id.
        run_id: String,
        /// The step to start again from.
        #[arg(long, value_name = "STEP")]
        from: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Resume a waiting step (`wait until: resume`); the payload becomes its `output.payload`.
    Resume {
        /// The run's id.
        run_id: String,
        /// The waiting step's key, as `weft runs get` shows it.
        step: String,
        /// The payload, as JSON.
        #[arg(long, value_name = "JSON")]
        payload: Option<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Runs one `weft runs` subcommand.
///
/// # Errors
/// [`super::http::ApiError`] for refusals; bad JSON arguments, unreachable servers.
pub async fn run(cmd: RunsCommand) -> anyhow::Result<()> {
    match cmd {
        RunsCommand::Start {
            workflow_id,
            input,
            wait_ms,
            server,
        } => {
            let c = Client::new(&server)?;
            let input = parse_json("--input", input.as_deref())?;
            let query = [("wait_ms", wait_ms.map(|ms| ms.to_string()))];
            let url = c.url(&["v1", "workflows", &workflow_id, "runs"], &query)?;
            let body = Body::Json(json!({ "input": input }));
            let v = c.send(reqwest::Method::POST, url, body).await?;
            if !c.raw(&v)? {
                out!("run {} {}", s(&v, "id"), s(&v, "status"));
                outcome(&v)?;
                out!("details: weft runs get {}", s(&v, "id"));
            }
        }
        RunsCommand::List {
            workflow,
            status,
            limit,
            before,
            server,
        } => {
            let c = Client::new(&server)?;
            let query = [
                ("workflow_id", workflow),
                ("status", status),
                ("limit", limit.map(|l| l.to_string())),
                ("before", before),
            ];
            let v = c.get(&["v1", "runs"], &query).await?;
            if !c.raw(&v)? {
                list(&v);
            }
        }
        RunsCommand::Get { run_id, server } => {
            let c = Client::new(&server)?;
            let v = c.get(&["v1", "runs", &run_id], &[]).await?;
            if !c.raw(&v)? {
                show(&v)?;
            }
        }
        RunsCommand::Cancel { run_id, server } => {
            let c = Client::new(&server)?;
            let v = c
                .post(&["v1", "runs", &run_id, "cancel"], Body::None)
                .await?;
            if !c.raw(&v)? {
                out!("run {} {}", s(&v, "id"), s(&v, "status"));
            }
        }
        RunsCommand::Retry { run_id, server } => {
            let c = Client::new(&server)?;
            let v = c
                .post(&["v1", "runs", &run_id, "retry"], Body::None)
                .await?;
            if !c.raw(&v)? {
                out!(
                    "retrying run {run_id} as run {} ({})",
                    s(&v, "id"),
                    s(&v, "status")
                );
                out!("details: weft runs get {}", s(&v, "id"));
            }
        }
        RunsCommand::Rerun {
            run_id,
            from,
            server,
        } => {
            let c = Client::new(&server)?;
            let body = Body::Json(json!({ "from": from }));
            let v = c.post(&["v1", "runs", &run_id, "rerun"], body).await?;
            if !c.raw(&v)? {
                out!(
                    "re-running run {run_id} from step `{from}` as run {} ({})",
                    s(&v, "id"),
                    s(&v, "status")
                );
                out!("details: weft runs get {}", s(&v, "id"));
            }
        }
        RunsCommand::Resume {
            run_id,
            step,
            payload,
            server,
        } => {
            let c = Client::new(&server)?;
            let payload = parse_json("--payload", payload.as_deref())?;
            let body = Body::Json(json!({ "payload": payload }));
            let path = ["v1", "runs", &run_id, "steps", &step, "resume"];
            let v = c.post(&path, body).await?;
            if !c.raw(&v)? {
                out!(
                    "resumed step `{step}`; run {} is {}",
                    s(&v, "id"),
                    s(&v, "status")
                );
            }
        }
    }
    Ok(())
}

fn parse_json(flag: &str, text: Option<&str>) -> anyhow::Result<Value> {
    match text {
        None => Ok(Value::Null),
        Some(t) => serde_json::from_str(t).with_context(|| format!("{flag} is not JSON")),
    }
}
