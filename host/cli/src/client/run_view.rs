//! How `weft runs` shows runs: a list as a table, one run with its steps as a
//! table (status, attempts, start offset, time, error), retries attempt by
//! attempt, each attempt's log, and how to resume a waiting step.

use super::output::{Table, block, cut, duration, error_text, out, time};
use serde_json::Value;
use weft_model::{Attempt, Page, Run, Step};
use weft_types::Status;

fn took(r: &Run) -> String {
    r.finished_at
        .map_or_else(|| "-".into(), |f| duration(f - r.created_at))
}

/// A page of runs.
pub fn list(page: &Page<Run>) {
    let mut t = Table::new(&[
        "ID",
        "WORKFLOW",
        "STATUS",
        "TRIGGER",
        "CREATED (UTC)",
        "TOOK",
    ]);
    for r in &page.items {
        t.row(vec![
            r.id.clone(),
            format!("{} v{}", r.workflow_id, r.version),
            r.status.to_string(),
            r.trigger.as_str().to_owned(),
            time(r.created_at),
            took(r),
        ]);
    }
    if t.is_empty() {
        out!("no runs");
    } else {
        t.print();
    }
    if let Some(next) = &page.next {
        out!("more: --before {next}");
    }
}

/// The run's error, response and output, short ones pretty, long ones cut.
///
/// # Errors
/// Serialization failures (not expected for a parsed document).
pub fn outcome(r: &Run) -> anyhow::Result<()> {
    if let Some(e) = &r.error {
        out!("error: {}", error_text(&e.failure));
    }
    if let Some(resp) = &r.response {
        value(&format!("response (HTTP {})", resp.status), &resp.body)?;
    } else if let Some(o) = &r.output {
        value("output", o)?;
    }
    Ok(())
}

fn value(label: &str, v: &Value) -> anyhow::Result<()> {
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
pub fn show(r: &Run) -> anyhow::Result<()> {
    let run_id = &r.id;
    out!("run {run_id}  {}", r.status);
    out!(
        "workflow: {} v{} (trigger: {})",
        r.workflow_id,
        r.version,
        r.trigger.as_str()
    );
    if let Some(p) = &r.parent_run_id {
        out!("parent:   run {p}");
    }
    if let Some(u) = &r.until {
        out!("test run: up to step `{u}` (the steps after it are skipped)");
    }
    out!("created:  {} UTC", time(r.created_at));
    if let Some(f) = r.finished_at {
        out!("finished: {} UTC (took {})", time(f), took(r));
    }
    outcome(r)?;
    let steps: &[Step] = r.steps.as_deref().unwrap_or_default();
    out!();
    let mut t = Table::new(&["STEP", "STATUS", "ATTEMPTS", "START", "TIME", "ERROR"]);
    for st in steps {
        let time_ms = if st.attempts.is_empty() {
            terminal(st).then(|| st.updated_at - st.created_at)
        } else {
            Some(st.attempts.iter().map(|a| attempt_ms(a).unwrap_or(0)).sum())
        };
        t.row(vec![
            st.key.clone(),
            st.status.to_string(),
            if st.attempts.is_empty() {
                "-".into()
            } else {
                st.attempts.len().to_string()
            },
            format!("+{}", duration(st.created_at - r.created_at)),
            time_ms.map_or_else(|| "-".into(), duration),
            st.error
                .as_ref()
                .map(|e| cut(&error_text(e), 120))
                .unwrap_or_default(),
        ]);
    }
    t.print();
    for st in steps {
        if st.attempts.len() > 1 {
            out!("\nattempts of `{}`:", st.key);
            for a in &st.attempts {
                let error = a.error.as_ref().map(error_text).unwrap_or_default();
                out!(
                    "  #{:<3} {:<10} {:>8}  {}",
                    a.attempt,
                    a.status.as_str(),
                    attempt_ms(a).map_or_else(|| "-".into(), duration),
                    cut(&error, 120)
                );
            }
        }
    }
    for st in steps {
        for a in &st.attempts {
            print_logs(st, a);
        }
    }
    for st in steps {
        if let Some(url) = &st.resume_url
            && st.status == Status::Waiting
        {
            let key = &st.key;
            out!("\n`{key}` is waiting to be resumed:");
            out!("  weft runs resume {run_id} {key} --payload '{{\"approved\": true}}'");
            out!("  or POST a JSON body to {url}");
        }
        if let Some(child) = &st.child_run_id {
            out!("\n`{}` runs sub-workflow run {child}", st.key);
        }
    }
    Ok(())
}

/// An attempt's log records, one a line, as the plugin wrote them (the
/// journal's truncation marker included).
fn print_logs(st: &Step, a: &Attempt) {
    if a.logs.is_empty() {
        return;
    }
    out!("\nlog of `{}`, attempt {}:", st.key, a.attempt);
    for r in &a.logs {
        let fields: String = r.fields.iter().map(|(k, v)| format!(" {k}={v}")).collect();
        out!("  {:<5} {}{fields}", r.level.as_str(), cut(&r.message, 200));
    }
}

fn attempt_ms(a: &Attempt) -> Option<i64> {
    Some(a.finished_at? - a.started_at)
}

fn terminal(st: &Step) -> bool {
    matches!(
        st.status,
        Status::Completed | Status::Failed | Status::Cancelled | Status::Skipped
    )
}
