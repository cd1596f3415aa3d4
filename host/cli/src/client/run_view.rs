//! How `weft runs` shows runs: a list as a table, one run with its steps as a
//! table (status, attempts, start offset, time, error), retries attempt by
//! attempt, and how to resume a waiting step.

use super::output::{Table, block, cut, duration, error_text, i, out, s, time};
use serde_json::Value;

fn took(v: &Value) -> String {
    match (i(v, "created_at"), i(v, "finished_at")) {
        (Some(a), Some(b)) => duration(b - a),
        _ => "-".into(),
    }
}

/// A page of runs.
pub fn list(v: &Value) {
    let mut t = Table::new(&[
        "ID",
        "WORKFLOW",
        "STATUS",
        "TRIGGER",
        "CREATED (UTC)",
        "TOOK",
    ]);
    for r in v
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
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
        out!("no runs");
    } else {
        t.print();
    }
    if let Some(next) = v.get("next").and_then(Value::as_str) {
        out!("more: --before {next}");
    }
}

/// The run's error, response and output, short ones pretty, long ones cut.
///
/// # Errors
/// Serialization failures (not expected for a parsed document).
pub fn outcome(v: &Value) -> anyhow::Result<()> {
    if let Some(e) = v.get("error") {
        out!("error: {}", error_text(e));
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
        out!("{label}: {} (all of it: --json)", cut(&v.to_string(), 300));
        Ok(())
    }
}

/// One run with its steps.
///
/// # Errors
/// Serialization failures (not expected for a parsed document).
pub fn show(v: &Value) -> anyhow::Result<()> {
    let run_id = s(v, "id");
    out!("run {run_id}  {}", s(v, "status"));
    out!(
        "workflow: {} v{} (trigger: {})",
        s(v, "workflow_id"),
        i(v, "version").unwrap_or(0),
        s(v, "trigger")
    );
    if let Some(p) = v.get("parent_run_id").and_then(Value::as_str) {
        out!("parent:   run {p}");
    }
    out!("created:  {} UTC", time(i(v, "created_at")));
    if let Some(f) = i(v, "finished_at") {
        out!("finished: {} UTC (took {})", time(Some(f)), took(v));
    }
    outcome(v)?;
    let start = i(v, "created_at").unwrap_or(0);
    let steps: &[Value] = v
        .get("steps")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    out!();
    let mut t = Table::new(&["STEP", "STATUS", "ATTEMPTS", "START", "TIME", "ERROR"]);
    for st in steps {
        let attempts = attempts_of(st);
        let time_ms = if attempts.is_empty() {
            terminal(st)
                .then(|| i(st, "updated_at").unwrap_or(0) - i(st, "created_at").unwrap_or(0))
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
            format!(
                "+{}",
                duration(i(st, "created_at").unwrap_or(start) - start)
            ),
            time_ms.map_or_else(|| "-".into(), duration),
            st.get("error")
                .map(error_text)
                .map(|e| cut(&e, 120))
                .unwrap_or_default(),
        ]);
    }
    t.print();
    for st in steps {
        let attempts = attempts_of(st);
        if attempts.len() > 1 {
            out!("\nattempts of `{}`:", s(st, "key"));
            for a in attempts {
                let error = a.get("error").map(error_text).unwrap_or_default();
                out!(
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
        for a in attempts_of(st) {
            print_logs(st, a);
        }
    }
    for st in steps {
        if let Some(url) = st.get("resume_url").and_then(Value::as_str)
            && s(st, "status") == "waiting"
        {
            let key = s(st, "key");
            out!("\n`{key}` is waiting to be resumed:");
            out!("  weft runs resume {run_id} {key} --payload '{{\"approved\": true}}'");
            out!("  or POST a JSON body to {url}");
        }
        if let Some(child) = st.get("child_run_id").and_then(Value::as_str) {
            out!("\n`{}` runs sub-workflow run {child}", s(st, "key"));
        }
    }
    Ok(())
}

/// An attempt's log records, one a line, as the plugin wrote them (the
/// journal's truncation marker included).
fn print_logs(st: &Value, a: &Value) {
    let Some(logs) = a.get("logs").cloned() else {
        return;
    };
    let logs: Vec<weft_types::LogRecord> = serde_json::from_value(logs).unwrap_or_default();
    if logs.is_empty() {
        return;
    }
    out!(
        "\nlog of `{}`, attempt {}:",
        s(st, "key"),
        i(a, "attempt").unwrap_or(0)
    );
    for r in &logs {
        let level = serde_json::to_value(r.level).unwrap_or_default();
        let fields: String = r.fields.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        out!(
            "  {:<5} {}{fields}",
            level.as_str().unwrap_or("?"),
            cut(&r.message, 200)
        );
    }
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
