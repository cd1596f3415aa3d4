//! `weft runs ...`: start, list, get (steps as a table), cancel, retry, re-run
//! from a step, resume a waiting step.

use super::ServerArgs;
use super::http::{Body, Client};
use super::output::{Table, block, cut, duration, error_text, i, s, time};
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
                println!("run {} {}", s(&v, "id"), s(&v, "status"));
                outcome(&v)?;
                println!("details: weft runs get {}", s(&v, "id"));
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
            let v = c.post(&["v1", "runs", &run_id, "cancel"], Body::None).await?;
            if !c.raw(&v)? {
                println!("run {} {}", s(&v, "id"), s(&v, "status"));
            }
        }
        RunsCommand::Retry { run_id, server } => {
            let c = Client::new(&server)?;
            let v = c.post(&["v1", "runs", &run_id, "retry"], Body::None).await?;
            if !c.raw(&v)? {
                println!(
                    "retrying run {run_id} as run {} ({})",
                    s(&v, "id"),
                    s(&v, "status")
                );
                println!("details: weft runs get {}", s(&v, "id"));
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
                println!(
                    "re-running run {run_id} from step `{from}` as run {} ({})",
                    s(&v, "id"),
                    s(&v, "status")
                );
                println!("details: weft runs get {}", s(&v, "id"));
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
                println!(
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

fn took(v: &Value) -> String {
    match (i(v, "created_at"), i(v, "finished_at")) {
        (Some(a), Some(b)) => duration(b - a),
        _ => "-".into(),
    }
}

fn list(v: &Value) {
    let mut t = Table::new(&[
        "ID",
        "WORKFLOW",
        "STATUS",
        "TRIGGER",
        "CREATED (UTC)",
        "TOOK",
    ]);
    for r in v.get("items").and_then(Value::as_array).into_iter().flatten() {
        t.row(vec![
            s(r, "id").to_owned(),
            format!("{} v{}", s(r, "workflow_id"), i(r, "version").unwrap_or(0)),
            s(r, "status").to_owned(),
            s(r, "trigger").to_owned(),
            time(i(r, "created_at")),
            took(r),
        ]);
    }
    if t.is_empty() {
        println!("no runs");
    } else {
        t.print();
    }
    if let Some(next) = v.get("next").and_then(Value::as_str) {
        println!("more: --before {next}");
    }
}

/// The run's error, response and output, short ones pretty, long ones cut.
fn outcome(v: &Value) -> anyhow::Result<()> {
    if let Some(e) = v.get("error") {
        println!("error: {}", error_text(e));
    }
    if let Some(r) = v.get("response") {
        let status = i(r, "status").unwrap_or(200);
        value(&format!("response (HTTP {status})"), r.get("body"))?;
    } else if let Some(o) = v.get("output") {
        value("output", Some(o))?;
    }
    Ok(())
}

fn value(label: &str, v: Option<&Value>) -> anyhow::Result<()> {
    let v = v.unwrap_or(&Value::Null);
    let pretty = serde_json::to_string_pretty(v)?;
    if pretty.lines().count() <= 20 {
        block(label, v)
    } else {
        println!("{label}: {} (all of it: --json)", cut(&v.to_string(), 300));
        Ok(())
    }
}

fn show(v: &Value) -> anyhow::Result<()> {
    let run_id = s(v, "id");
    println!("run {run_id}  {}", s(v, "status"));
    println!(
        "workflow: {} v{} (trigger: {})",
        s(v, "workflow_id"),
        i(v, "version").unwrap_or(0),
        s(v, "trigger")
    );
    if let Some(p) = v.get("parent_run_id").and_then(Value::as_str) {
        println!("parent:   run {p}");
    }
    println!("created:  {} UTC", time(i(v, "created_at")));
    if let Some(f) = i(v, "finished_at") {
        println!("finished: {} UTC (took {})", time(Some(f)), took(v));
    }
    outcome(v)?;
    let start = i(v, "created_at").unwrap_or(0);
    let steps: &[Value] = v.get("steps").and_then(Value::as_array).map_or(&[], Vec::as_slice);
    println!();
    let mut t = Table::new(&["STEP", "STATUS", "ATTEMPTS", "START", "TIME", "ERROR"]);
    for st in steps {
        let attempts = attempts_of(st);
        let time_ms = if attempts.is_empty() {
            terminal(st).then(|| i(st, "updated_at").unwrap_or(0) - i(st, "created_at").unwrap_or(0))
        } else {
            Some(attempts.iter().map(|a| attempt_ms(a).unwrap_or(0)).sum())
        };
        t.row(vec![
            s(st, "key").to_owned(),
            s(st, "status").to_owned(),
            if attempts.is_empty() {
                "-".into()
            } else {
                attempts.len().to_string()
            },
            format!("+{}", duration(i(st, "created_at").unwrap_or(start) - start)),
            time_ms.map_or_else(|| "-".into(), duration),
            st.get("error").map(error_text).map(|e| cut(&e, 120)).unwrap_or_default(),
        ]);
    }
    t.print();
    for st in steps {
        let attempts = attempts_of(st);
        if attempts.len() > 1 {
            println!("\nattempts of `{}`:", s(st, "key"));
            for a in attempts {
                let error = a.get("error").map(error_text).unwrap_or_default();
                println!(
                    "  #{:<3} {:<10} {:>8}  {}",
                    i(a, "attempt").unwrap_or(0),
                    s(a, "status"),
                    attempt_ms(a).map_or_else(|| "-".into(), duration),
                    cut(&error, 120)
                );
            }
        }
    }
    for st in steps {
        if let Some(url) = st.get("resume_url").and_then(Value::as_str)
            && s(st, "status") == "waiting"
        {
            let key = s(st, "key");
            println!("\n`{key}` is waiting to be resumed:");
            println!("  weft runs resume {run_id} {key} --payload '{{\"approved\": true}}'");
            println!("  or POST a JSON body to {url}");
        }
        if let Some(child) = st.get("child_run_id").and_then(Value::as_str) {
            println!("\n`{}` runs sub-workflow run {child}", s(st, "key"));
        }
    }
    Ok(())
}

fn attempts_of(st: &Value) -> &[Value] {
    st.get("attempts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn attempt_ms(a: &Value) -> Option<i64> {
    Some(i(a, "finished_at")? - i(a, "started_at")?)
}

fn terminal(st: &Value) -> bool {
    matches!(
        s(st, "status"),
        "completed" | "failed" | "cancelled" | "skipped"
    )
}
