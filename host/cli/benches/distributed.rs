//! The distributed-mode benchmark: real `weft migrate`, `weft api` and one,
//! then two, `weft worker` processes (release build) on PostgreSQL, RabbitMQ
//! and Redis, all on this machine, driven over HTTP on loopback. Prints, as a
//! Markdown table, for one worker and for two:
//!
//! - the 3-step workflow (webhook -> transform -> respond) in runs/s at 1 and
//!   10 connections, with webhook-to-response latency p50/p99;
//! - steps/s for a 10-step chain of transform steps.
//!
//! Run with `scripts/bench distributed`, which starts the services
//! (`scripts/services`) and stops them afterwards. `WEFT_BENCH_SECONDS` sets
//! each load phase's length (default 5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::webhook_load;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::{StartQuery, StartRun, Workflow};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run `scripts/bench distributed` (it starts the services)")
    })
}

fn wasm(name: &str) -> PathBuf {
    let p = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/weft/target"))
        .join("wasm32-wasip2/release")
        .join(name);
    assert!(
        p.exists(),
        "{} missing: build the plugins first",
        p.display()
    );
    p
}

/// One process of the cluster; killed when dropped.
struct Proc {
    child: Child,
    base: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What every process of the cluster shares.
struct Cluster {
    data: tempfile::TempDir,
    db: String,
    prefix: String,
}

impl Cluster {
    fn command(&self, role: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
        // Only the cluster's settings: the scripts' WEFT_* are not settings.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WEFT_")) {
            c.env_remove(k);
        }
        c.arg(role)
            .env("WEFT_LISTEN", "127.0.0.1:0")
            .env("WEFT_DATA_DIR", self.data.path())
            .env("WEFT_DATABASE_URL", &self.db)
            .env("WEFT_DATABASE_MAX_CONNECTIONS", "16")
            .env("WEFT_QUEUE_URL", env("WEFT_TEST_AMQP_URL"))
            .env("WEFT_QUEUE_PREFIX", &self.prefix)
            .env("WEFT_REDIS_URL", env("WEFT_TEST_REDIS_URL"))
            .env("WEFT_PLUGINS", wasm("weft_plugin_transform.wasm"))
            .env("WEFT_LIMITS_API_RATE", "1000000")
            .env("WEFT_LIMITS_API_BURST", "1000000")
            .env("WEFT_LIMITS_WEBHOOK_RATE", "1000000")
            .env("WEFT_LIMITS_WEBHOOK_BURST", "1000000")
            .env("WEFT_LIMITS_MAX_RUNNING_STEPS", "0")
            .env("WEFT_LIMITS_MAX_ACTIVE_RUNS", "0")
            .env("WEFT_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }

    /// `weft migrate`; returns the bootstrap key.
    fn migrate(&self) -> String {
        let out = self.command("migrate").output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "weft migrate failed: {text}");
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with("weft_"))
            .expect("a bootstrap key")
            .to_owned()
    }

    fn start(&self, role: &str) -> Proc {
        let mut child = self.command(role).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let prefix = format!("weft {role}: listening on ");
        let base = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("weft {role} exited"))
                .unwrap();
            if let Some(rest) = line.strip_prefix(&prefix) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Proc { child, base }
    }
}

/// A fresh database on the benchmark's PostgreSQL server.
async fn fresh_database() -> String {
    let admin = env("WEFT_TEST_DATABASE_URL");
    let name = format!("weft_bench_{}", std::process::id());
    let (client_url, _) = admin.rsplit_once('/').unwrap();
    let out = Command::new("psql")
        .arg(&admin)
        .args([
            "-q",
            "-c",
            &format!("drop database if exists {name}"),
            "-c",
            &format!("create database {name}"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{client_url}/{name}")
}

/// Creates and activates a workflow; the activated workflow.
async fn workflow(c: &Client, def: Value) -> Workflow {
    let wf = c.create_workflow(Definition::Json(&def)).await.unwrap();
    c.activate_workflow(&wf.id).await.unwrap()
}

async fn completed(c: &Client) -> u64 {
    // Asked without a key, as a scraper does.
    let text = c.with_key(None).unwrap().metrics().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("weft_runs{status=\"completed\"} "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Starts `n` runs of `wf` from 16 submitters; returns when all are submitted.
async fn submit(base: &str, key: &str, wf: &str, n: usize) {
    let per = n / 16;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (base, key, wf) = (base.to_owned(), key.to_owned(), wf.to_owned());
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

/// One row group: the webhook workflow and the chain with `workers` workers.
async fn measure(
    api: &Proc,
    key: &str,
    c: &Client,
    hook: &str,
    chain: &str,
    secs: f64,
    workers: usize,
) {
    webhook_load(hook, 4, 1.0).await; // warm-up
    let (rps1, p50_1, p99_1) = webhook_load(hook, 1, secs).await;
    let (rps10, p50_10, p99_10) = webhook_load(hook, 10, secs).await;
    let runs = 400;
    let before = completed(c).await;
    let t = Instant::now();
    submit(&api.base, key, chain, runs).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    while completed(c).await < before + runs as u64 {
        assert!(Instant::now() < deadline, "the chain runs did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let steps_per_s = (runs * 10) as f64 / t.elapsed().as_secs_f64();
    let w = if workers == 1 {
        "1 worker"
    } else {
        "2 workers"
    };
    println!(
        "| {w}: 3-step webhook workflow, 1 connection | {rps1:.0} runs/s, p50 {p50_1:.2} ms, p99 {p99_1:.2} ms | p50 <= 5 ms, p99 <= 25 ms |"
    );
    println!(
        "| {w}: 3-step webhook workflow, 10 connections | {rps10:.0} runs/s, p50 {p50_10:.2} ms, p99 {p99_10:.2} ms | |"
    );
    println!("| {w}: 10-step chain ({runs} runs) | {steps_per_s:.0} steps/s | >= 3,000 steps/s |");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: f64 = std::env::var("WEFT_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let cluster = Cluster {
        data: tempfile::tempdir().unwrap(),
        db: fresh_database().await,
        prefix: format!("bench{}", std::process::id()),
    };
    let key = cluster.migrate();
    let api = cluster.start("api");
    let c = Client::new(&api.base, Some(&key)).unwrap();
    let greet = workflow(&c, json!({"name": "greet", "steps": [
        {"id": "names", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": "[.people[] | select(.active) | .name]", "data": "{{ trigger.body }}"}},
        {"id": "reply", "kind": "respond", "body": {"names": "{{ steps.names.output.result }}"}}
    ]})).await;
    let hook = greet.hook_url().to_owned();
    let chain: Vec<Value> = (0..10)
        .map(|i| json!({"id": format!("s{i}"), "kind": "action", "connector": "transform", "action": "jq",
                        "input": {"filter": ". + 1", "data": if i == 0 { json!("{{ trigger.body }}") } else { json!(format!("{{{{ steps.s{}.output.result }}}}", i - 1)) }}}))
        .collect();
    let chain = workflow(&c, json!({"name": "chain", "steps": chain}))
        .await
        .id;

    println!("\n| measurement | result | goal |\n|---|---|---|");
    let first = cluster.start("worker");
    measure(&api, &key, &c, &hook, &chain, secs, 1).await;
    let second = cluster.start("worker");
    measure(&api, &key, &c, &hook, &chain, secs, 2).await;
    drop((first, second, api));
    let _ = Command::new("psql")
        .arg(env("WEFT_TEST_DATABASE_URL"))
        .args([
            "-qc",
            &format!("drop database if exists weft_bench_{}", std::process::id()),
        ])
        .output();
}
