//! `weft runs ...`: start, list, get (steps as a table), cancel, retry, re-run
//! from a step, resume a waiting step.

use super::ServerArgs;
use super::http::Cli;
use super::output::out;
use super::run_view::{list, outcome, show};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use weft_model::{RunsQuery, StartQuery, StartRun};
use weft_types::{Status, Trigger};

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
        /// A test run up to this top-level step: only it and the steps it
        /// depends on run; the others are skipped (nothing after it runs).
        #[arg(long, value_name = "STEP")]
        until: Option<String>,
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
        status: Option<Status>,
        /// Only runs started this way: manual, webhook, schedule, subworkflow, error.
        #[arg(long, value_name = "T")]
        trigger: Option<Trigger>,
        /// Only runs created at or after this time (Unix milliseconds).
        #[arg(long, value_name = "MS")]
        from: Option<i64>,
        /// Only runs created before this time (Unix milliseconds).
        #[arg(long, value_name = "MS")]
        to: Option<i64>,
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
/// Refusals from the server ([`weft_client::Error::Api`]); bad JSON arguments,
/// unreachable servers.
pub async fn run(cmd: RunsCommand) -> anyhow::Result<()> {
    match cmd {
        RunsCommand::Start {
            workflow_id,
            input,
            until,
            wait_ms,
            server,
        } => {
            let c = Cli::new(&server)?;
            let input = parse_json("--input", input.as_deref())?;
            let run = c
                .api
                .start_run(
                    &workflow_id,
                    &StartRun { input, until },
                    &StartQuery { wait_ms },
                )
                .await?;
            if !c.raw(&run)? {
                out!("run {} {}", run.id, run.status);
                outcome(&run)?;
                out!("details: weft runs get {}", run.id);
            }
        }
        RunsCommand::List {
            workflow,
            status,
            trigger,
            from,
            to,
            limit,
            before,
            server,
        } => {
            let c = Cli::new(&server)?;
            let q = RunsQuery {
                workflow_id: workflow,
                status,
                trigger,
                from,
                to,
                before,
                limit,
            };
            let page = c.api.list_runs(&q).await?;
            if !c.raw(&page)? {
                list(&page);
            }
        }
        RunsCommand::Get { run_id, server } => {
            let c = Cli::new(&server)?;
            let run = c.api.get_run(&run_id).await?;
            if !c.raw(&run)? {
                show(&run)?;
            }
        }
        RunsCommand::Cancel { run_id, server } => {
            let c = Cli::new(&server)?;
            let run = c.api.cancel_run(&run_id).await?;
            if !c.raw(&run)? {
                out!("run {} {}", run.id, run.status);
            }
        }
        RunsCommand::Retry { run_id, server } => {
            let c = Cli::new(&server)?;
            let run = c.api.retry_run(&run_id).await?;
            if !c.raw(&run)? {
                out!("retrying run {run_id} as run {} ({})", run.id, run.status);
                out!("details: weft runs get {}", run.id);
            }
        }
        RunsCommand::Rerun {
            run_id,
            from,
            server,
        } => {
            let c = Cli::new(&server)?;
            let run = c.api.rerun_run(&run_id, &from).await?;
            if !c.raw(&run)? {
                out!(
                    "re-running run {run_id} from step `{from}` as run {} ({})",
                    run.id,
                    run.status
                );
                out!("details: weft runs get {}", run.id);
            }
        }
        RunsCommand::Resume {
            run_id,
            step,
            payload,
            server,
        } => {
            let c = Cli::new(&server)?;
            let payload = parse_json("--payload", payload.as_deref())?;
            let run = c.api.resume_step(&run_id, &step, payload).await?;
            if !c.raw(&run)? {
                out!("resumed step `{step}`; run {} is {}", run.id, run.status);
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
