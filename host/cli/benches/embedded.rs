//! The embedded-mode benchmark: a real `weft serve` (release build, SQLite,
//! persistence on) driven over HTTP on loopback. Prints, as a Markdown table:
//!
//! - the 3-step workflow (webhook -> transform -> respond) in runs/s at 1 and
//!   10 connections, with webhook-to-response latency p50/p99;
//! - the same workflow as an MCP tool (`tools/call` on `/mcp`, current
//!   revision, stateless) at 1 and 10 connections;
//! - steps/s for a 10-step chain of transform steps;
//! - idle memory, and memory with 10,000 runs waiting;
//!
//! then every embedded goal of `PRODUCT.md` with its figure and `met` or
//! `MISSED` (the benchmark itself never fails on a missed goal).
//!
//! Run with `scripts/bench embedded` (or `cargo bench -p weft-cli --bench
//! embedded`). `WEFT_BENCH_SECONDS` sets each load phase's length (default 5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Serve, mcp_load, webhook_load};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::{StartQuery, StartRun, Workflow};

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// One row of the goals table: `met` or `MISSED` beside the figure.
fn goal(what: &str, figure: String, target: &str, met: bool) {
    let status = if met { "met" } else { "MISSED" };
    println!("| {what} | {figure} | {target} | {status} |");
}

/// Creates and activates a workflow.
async fn workflow(c: &Client, def: Value) -> Workflow {
    let wf = c.create_workflow(Definition::Json(&def)).await.unwrap();
    c.activate_workflow(&wf.id).await.unwrap();
    wf
}

/// The `/metrics` text (asked without a key, as a scraper does).
async fn metrics(c: &Client) -> String {
    c.with_key(None).unwrap().metrics().await.unwrap()
}

/// A metric's value from `/metrics`.
async fn metric(c: &Client, name: &str) -> f64 {
    let text = metrics(c).await;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

async fn completed(c: &Client, status: &str) -> u64 {
    let text = metrics(c).await;
    let prefix = format!("weft_runs{{status=\"{status}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Starts `n` runs of `wf` from 16 submitters; returns when all are submitted.
async fn submit(s: &Serve, wf: &str, n: usize) {
    let per = n / 16;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let wf = wf.to_owned();
        let (base, key) = (s.base.clone(), s.key.clone());
        tasks.push(tokio::spawn(async move {
            let c = Client::new(&base, Some(&key)).unwrap();
            for i in 0..per {
                c.start_run(
                    &wf,
                    &StartRun {
                        input: json!(i),
                        until: None,
                    },
                    &StartQuery::default(),
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: f64 = std::env::var("WEFT_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let dir = tempfile::tempdir().unwrap();
    let mut s = common::serve(dir.path());
    let pid = s.child.id();
    let c = Client::new(&s.base, Some(&s.key)).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_mib(pid);

    let greet = workflow(&c, json!({"name": "greet", "steps": [
        {"id": "names", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": "[.people[] | select(.active) | .name]", "data": "{{ trigger.body }}"}},
        {"id": "reply", "kind": "respond", "body": {"names": "{{ steps.names.output.result }}"}}
    ]})).await;
    let hook = greet.hook_url().to_owned();
    webhook_load(&hook, 4, 1.0).await; // warm-up: compile caches, SQLite pages
    let (rps1, p50_1, p99_1) = webhook_load(&hook, 1, secs).await;
    let (rps10, p50_10, p99_10) = webhook_load(&hook, 10, secs).await;
    let after_load = rss_mib(pid);

    workflow(&c, json!({"name": "greet tool", "mcp": {"expose": true},
        "input_schema": {"type": "object", "required": ["people"], "properties": {"people": {"type": "array"}}},
        "steps": [
        {"id": "names", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": "[.people[] | select(.active) | .name]", "data": "{{ trigger.body }}"}},
        {"id": "reply", "kind": "respond", "body": {"names": "{{ steps.names.output.result }}"}}
    ]})).await;
    mcp_load(&s.base, &s.key, "greet_tool", 4, 1.0).await;
    let (mcp1, mcp_p50_1, mcp_p99_1) = mcp_load(&s.base, &s.key, "greet_tool", 1, secs).await;
    let (mcp10, mcp_p50_10, mcp_p99_10) = mcp_load(&s.base, &s.key, "greet_tool", 10, secs).await;

    let chain: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("s{i}"), "kind": "action", "connector": "transform", "action": "jq",
                        "input": {"filter": ". + 1", "data": if i == 0 { json!("{{ trigger.body }}") } else { json!(format!("{{{{ steps.s{}.output.result }}}}", i - 1)) }}}))
        .collect();
    let chain = workflow(&c, json!({"name": "chain", "steps": chain})).await;
    let runs = 800;
    let before = completed(&c, "completed").await;
    let t = Instant::now();
    submit(&s, &chain.id, runs).await;
    while completed(&c, "completed").await < before + runs as u64 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let steps_per_s = (runs * 10) as f64 / t.elapsed().as_secs_f64();
    let sandbox_ms = metric(&c, "weft_step_duration_seconds_sum").await
        / metric(&c, "weft_step_duration_seconds_count").await
        * 1e3;

    let wait = workflow(
        &c,
        json!({"name": "approval", "steps": [{"id": "w", "kind": "wait", "until": "resume"}]}),
    )
    .await;
    submit(&s, &wait.id, 10_000).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let waiting = completed(&c, "waiting").await;
    let with_waiting = rss_mib(pid);

    println!("\n| measurement | result |\n|---|---|");
    println!(
        "| 3-step webhook workflow, 1 connection | {rps1:.0} runs/s, p50 {p50_1:.2} ms, p99 {p99_1:.2} ms |"
    );
    println!(
        "| 3-step webhook workflow, 10 connections | {rps10:.0} runs/s, p50 {p50_10:.2} ms, p99 {p99_10:.2} ms |"
    );
    println!(
        "| the same workflow as an MCP tool call, 1 connection | {mcp1:.0} calls/s, p50 {mcp_p50_1:.2} ms, p99 {mcp_p99_1:.2} ms |"
    );
    println!(
        "| the same workflow as an MCP tool call, 10 connections | {mcp10:.0} calls/s, p50 {mcp_p50_10:.2} ms, p99 {mcp_p99_10:.2} ms |"
    );
    println!("| 10-step chain ({runs} runs) | {steps_per_s:.0} steps/s |");
    println!("| mean sandbox time of one transform step (all phases) | {sandbox_ms:.3} ms |");
    println!("| idle RSS (fresh data dir: connectors compiled at start) | {idle:.1} MiB |");
    println!("| RSS after the webhook load | {after_load:.1} MiB |");
    println!("| RSS with {waiting} waiting runs | {with_waiting:.1} MiB |");

    // The embedded goals of PRODUCT.md (issue 16), each with its figure.
    let mb = |mib: f64| mib * 1_048_576.0 / 1e6;
    println!("\n| goal (PRODUCT.md) | figure | target | status |\n|---|---|---|---|");
    goal(
        "3-step webhook workflow, 10 connections",
        format!("{rps10:.0} runs/s"),
        ">= 3,000 runs/s",
        rps10 >= 3_000.0,
    );
    goal(
        "3-step webhook workflow, 1 connection: p50",
        format!("{p50_1:.2} ms"),
        "<= 1 ms",
        p50_1 <= 1.0,
    );
    goal(
        "3-step webhook workflow, 1 connection: p99",
        format!("{p99_1:.2} ms"),
        "<= 5 ms",
        p99_1 <= 5.0,
    );
    goal(
        "10-step chain",
        format!("{steps_per_s:.0} steps/s"),
        ">= 10,000 steps/s",
        steps_per_s >= 10_000.0,
    );
    goal(
        "idle RSS, fresh data dir",
        format!("{:.1} MB ({idle:.1} MiB)", mb(idle)),
        "<= 60 MB",
        mb(idle) <= 60.0,
    );
    goal(
        &format!("RSS with {waiting} waiting runs"),
        format!("{:.1} MB ({with_waiting:.1} MiB)", mb(with_waiting)),
        "<= 200 MB for 10,000",
        waiting >= 10_000 && mb(with_waiting) <= 200.0,
    );
    s.child.kill().unwrap();
    s.child.wait().unwrap();
}
