//! `weft plugin test`: every case of every scenario file, run against the
//! built component in the production sandbox inside this process. Only the
//! network is replaced, by the harness's scripted transport
//! ([`weft_harness::Script`]); credentials are injected by the host, state is
//! a real [`MemoryState`]. One line per case, a diff for each mismatch, a
//! summary; exit 1 when a case failed, 2 when a scenario file is malformed.

use super::scenario::{self, Case, Credential, Expect, Fail, File};
use anyhow::Context;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use weft_harness::{Recorded, Reply, Script};
use weft_sandbox::{
    Grants, Injection, Invocation, MemoryState, Namespace, Options, Outcome, Plugin, Sandbox,
    Secret, StateGrant, StateStore,
};
use weft_types::StepContext;

pub async fn run(dir: &Path, file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut suites = Vec::new();
    let paths = match scenario::find(dir) {
        Ok(p) => p,
        Err(e) => return malformed(&e),
    };
    if paths.is_empty() {
        eprintln!(
            "error: no scenario files in {}: add tests/NAME.json (see \"Scenario files\" in sdk/README.md)",
            dir.join("tests").display()
        );
        return Ok(ExitCode::from(2));
    }
    for path in paths {
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        match scenario::load(&path, &shown) {
            Ok(f) => suites.push((shown, f)),
            Err(e) => return malformed(&e),
        }
    }
    let component = match file {
        Some(f) => f,
        None => super::project::open(dir)?.build()?,
    };
    let script = Arc::new(Script::default());
    let sandbox = super::sandbox_with(Options::default(), Some(script.clone()))?;
    let plugin = match sandbox.load_file(&component).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {} cannot be loaded:\n{e}", component.display());
            return Ok(ExitCode::from(1));
        }
    };
    println!(
        "testing {} {} ({})",
        plugin.manifest().name,
        plugin.manifest().version,
        component.display()
    );
    let (mut passed, mut failed) = (0, 0);
    for (shown, suite) in &suites {
        for case in &suite.cases {
            let outcome = invoke(&sandbox, &plugin, &script, suite, case).await?;
            let problems = check(
                &case.expect,
                &outcome.outcome,
                &script.requests(),
                &outcome.state,
            )
            .await;
            let ms = outcome.outcome.usage.wall_time_us as f64 / 1000.0;
            if problems.is_empty() {
                passed += 1;
                println!("ok      {shown}: {} ({ms:.1} ms)", case.name);
            } else {
                failed += 1;
                println!("FAILED  {shown}: {} ({ms:.1} ms)", case.name);
                for p in problems {
                    for line in p.lines() {
                        println!("    {line}");
                    }
                }
                explain(&outcome.outcome, &script.requests());
            }
        }
    }
    println!("\n{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn malformed(e: &scenario::Malformed) -> anyhow::Result<ExitCode> {
    eprintln!("error: {e}");
    Ok(ExitCode::from(2))
}

struct Ran {
    outcome: Outcome,
    state: (Arc<MemoryState>, Namespace),
}

async fn invoke(
    sandbox: &Sandbox,
    plugin: &Plugin,
    script: &Script,
    suite: &File,
    case: &Case,
) -> anyhow::Result<Ran> {
    script.clear();
    for h in &case.http {
        let r = &h.reply;
        let reply = match r.fail {
            Some(Fail::Timeout) => Reply::timeout(),
            Some(Fail::Refused) => Reply::refused(),
            None => {
                let mut reply = match (&r.json, &r.body) {
                    (Some(j), _) => Reply::bytes(r.status, j.to_string()),
                    (None, Some(b)) => Reply::bytes(r.status, b.clone()),
                    (None, None) => Reply::bytes(r.status, Vec::new()),
                };
                let has_type = r
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("content-type"));
                if r.json.is_some() && !has_type {
                    reply = reply.header("content-type", "application/json");
                }
                for (k, v) in &r.headers {
                    reply = reply.header(k, v);
                }
                reply
            }
        };
        script.add(&h.method, &h.url, reply);
    }
    let manifest = plugin.manifest();
    let store = Arc::new(MemoryState::default());
    let ns = Namespace {
        tenant: "test".into(),
        plugin: manifest.name.clone(),
    };
    for (k, v) in case
        .state
        .as_ref()
        .or(suite.state.as_ref())
        .into_iter()
        .flatten()
    {
        store
            .set(&ns, k, v.clone().into_bytes())
            .await
            .context("the test state store")?;
    }
    let empty = BTreeMap::new();
    let credentials = case
        .credentials
        .as_ref()
        .or(suite.credentials.as_ref())
        .unwrap_or(&empty);
    let grants = Grants {
        hosts: manifest.capabilities.hosts.clone(),
        credentials: credentials.iter().map(credential).collect(),
        state: manifest.capabilities.state.then(|| StateGrant {
            store: store.clone(),
            namespace: ns.clone(),
        }),
        refresh: None,
    };
    let config = case
        .config
        .as_ref()
        .or(suite.config.as_ref())
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    let inv = Invocation {
        config: config.to_string(),
        context: StepContext::adhoc("weft-plugin-test"),
        grants,
        ..Invocation::new(&case.action, case.input.to_string())
    };
    let outcome = sandbox.invoke(plugin, inv).await;
    Ok(Ran {
        outcome,
        state: (store, ns),
    })
}

fn credential((slot, c): (&String, &Credential)) -> weft_sandbox::Credential {
    weft_sandbox::Credential {
        slot: slot.clone(),
        secret: Secret::new(c.secret.clone()),
        hosts: c.hosts.clone(),
        inject: c.inject.clone().unwrap_or(Injection::Bearer),
    }
}

/// Every way the outcome differs from what the case expects.
async fn check(
    expect: &Expect,
    outcome: &Outcome,
    requests: &[Recorded],
    (store, ns): &(Arc<MemoryState>, Namespace),
) -> Vec<String> {
    let mut problems = Vec::new();
    match (&expect.error, &outcome.result) {
        (None, Ok(got)) => {
            if let Some(want) = &expect.output {
                let mut lines = Vec::new();
                diff("output", want, got, &mut lines);
                if !lines.is_empty() {
                    problems.push(format!(
                        "output differs:\n  {}\nexpected: {want}\ngot:      {got}",
                        lines.join("\n  ")
                    ));
                }
            }
        }
        (None, Err(f)) => problems.push(format!("expected success, got error {f}")),
        (Some(e), Ok(got)) => problems.push(format!(
            "expected error {}, got output {got}",
            e.kind.as_str()
        )),
        (Some(e), Err(f)) => {
            if f.kind != e.kind {
                problems.push(format!(
                    "error kind: expected {}, got {} ({f})",
                    e.kind.as_str(),
                    f.kind.as_str()
                ));
            }
            if let Some(want) = &e.message_contains
                && !f.message.contains(want.as_str())
            {
                problems.push(format!(
                    "error message: expected it to contain {want:?}, got {:?}",
                    f.message
                ));
            }
            if e.reason.is_some() && f.reason != e.reason {
                problems.push(format!(
                    "error reason: expected {:?}, got {:?}",
                    e.reason.map(|r| r.as_str()),
                    f.reason.map(|r| r.as_str())
                ));
            }
            if e.retry_after_ms.is_some() && f.retry_after_ms != e.retry_after_ms {
                problems.push(format!(
                    "retry_after_ms: expected {:?}, got {:?}",
                    e.retry_after_ms, f.retry_after_ms
                ));
            }
        }
    }
    if let Some(want) = &expect.requests {
        if want.len() != requests.len() {
            problems.push(format!(
                "requests: expected {}, got {}",
                want.len(),
                requests.len()
            ));
        }
        for (i, (w, got)) in want.iter().zip(requests).enumerate() {
            let at = format!("requests[{i}]");
            if !w.method.eq_ignore_ascii_case(&got.method) || w.url != got.url {
                problems.push(format!(
                    "{at}: expected {} {}, got {} {}",
                    w.method, w.url, got.method, got.url
                ));
            }
            for (name, value) in &w.headers {
                let have = got.header(name);
                if have != Some(value.as_str()) {
                    problems.push(format!(
                        "{at}.headers.{}: expected {value:?}, got {}",
                        name.to_ascii_lowercase(),
                        have.map_or("no such header".into(), |h| format!("{h:?}"))
                    ));
                }
            }
            if let Some(j) = &w.json {
                let mut lines = Vec::new();
                diff(&format!("{at}.json"), j, &got.json(), &mut lines);
                problems.extend(lines);
            }
            if let Some(b) = &w.body {
                let have = String::from_utf8_lossy(got.body.as_deref().unwrap_or_default());
                if have != b.as_str() {
                    problems.push(format!("{at}.body: expected {b:?}, got {have:?}"));
                }
            }
        }
    }
    for (key, want) in expect.state.iter().flatten() {
        let have = match store.get(ns, key).await {
            Ok(v) => v.map(|b| String::from_utf8_lossy(&b).into_owned()),
            Err(e) => Some(format!("<{e}>")),
        };
        if &have != want {
            problems.push(format!(
                "state.{key}: expected {}, got {}",
                want.as_ref().map_or("absent".into(), |v| format!("{v:?}")),
                have.map_or("absent".into(), |v| format!("{v:?}"))
            ));
        }
    }
    problems
}

/// One line per place where `got` differs from `want`, named by its path.
fn diff(at: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(&format!("{at}.{k}"), wv, gv, out),
                    None => out.push(format!("{at}.{k}: missing (expected {wv})")),
                }
            }
            for (k, gv) in g {
                if !w.contains_key(k) {
                    out.push(format!("{at}.{k}: not expected (got {gv})"));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                diff(&format!("{at}[{i}]"), wv, gv, out);
            }
        }
        _ if want != got => out.push(format!("{at}: expected {want}, got {got}")),
        _ => {}
    }
}

/// What helps a failing case: the plugin's log and the requests it sent.
fn explain(outcome: &Outcome, requests: &[Recorded]) {
    for r in &outcome.logs {
        println!("    log [{:?}] {}", r.level, r.message);
    }
    for r in requests {
        println!("    sent {} {}", r.method, r.url);
    }
}

#[cfg(test)]
mod tests {
    use super::diff;
    use serde_json::json;

    #[test]
    fn diff_names_each_differing_path() {
        let mut out = Vec::new();
        diff(
            "output",
            &json!({"message": "Hello, Ada!", "n": [1, 2], "gone": true}),
            &json!({"message": "Hello, Bob!", "n": [1, 3], "extra": null}),
            &mut out,
        );
        out.sort();
        assert_eq!(
            out,
            [
                r#"output.extra: not expected (got null)"#,
                r#"output.gone: missing (expected true)"#,
                r#"output.message: expected "Hello, Ada!", got "Hello, Bob!""#,
                r#"output.n[1]: expected 2, got 3"#,
            ]
        );
        let mut out = Vec::new();
        diff("output", &json!({"a": 1}), &json!({"a": 1}), &mut out);
        assert!(out.is_empty());
    }
}
