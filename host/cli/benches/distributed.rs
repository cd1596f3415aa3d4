//! The distributed-mode benchmark: real `weft migrate`, `weft api` and one,
//! then two, `weft worker` processes (release build) on PostgreSQL, RabbitMQ
//! and Redis, all on this machine, driven over HTTP on loopback. Prints, as a
//! Markdown table, for one worker and for two:
//!
//! - the 3-step workflow (webhook -> transform -> respond) in runs/s at 1 and
//!   10 connections, with webhook-to-response latency p50/p99;
//! - steps/s for a 10-step chain of transform steps;
//!
//! each against its goal, `met` or `MISSED`; then the CPU time each
//! component (API, workers, PostgreSQL, RabbitMQ, Redis, the load generator)
//! spent per step of the chain and per webhook run (`/proc/PID/stat` before
//! and after the phase: the scaling model's input, `docs/DISTRIBUTED.md`);
//! and the publisher-confirm latency of a quorum and of a classic queue on
//! the same broker (one publish at a time, then 64 at once).
//!
//! Run with `scripts/bench distributed`, which starts the services
//! (`scripts/services`) and stops them afterwards. `WEFT_BENCH_SECONDS` sets
//! each load phase's length (default 5); `WEFT_BENCH_QUEUE_TYPE` the work
//! queue's type (`quorum`, the default, or `classic`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod cpu;

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

/// The work queue's type (`WEFT_BENCH_QUEUE_TYPE`, default `quorum`).
fn queue_type() -> String {
    std::env::var("WEFT_BENCH_QUEUE_TYPE").unwrap_or_else(|_| "quorum".into())
}

/// `met` or `MISSED`.
fn status(met: bool) -> &'static str {
    if met { "met" } else { "**MISSED**" }
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
            .env("WEFT_QUEUE_QUEUE_TYPE", queue_type())
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

/// The process groups whose CPU time is read: the API, the workers, the
/// three services (found from `scripts/services`' state directory) and this
/// process (the load generator).
fn groups(api: &Proc, workers: &[&Proc]) -> Vec<cpu::Group> {
    let dir = PathBuf::from(env("WEFT_TEST_SERVICES_DIR"));
    let redis_port = env("WEFT_TEST_REDIS_URL")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let one = |name, pid: Option<u32>| cpu::Group {
        name,
        roots: pid.into_iter().collect(),
        own_only: false,
    };
    vec![
        one("API", Some(api.child.id())),
        cpu::Group {
            name: "workers",
            roots: workers.iter().map(|w| w.child.id()).collect(),
            own_only: false,
        },
        one("PostgreSQL", cpu::postmaster(&dir)),
        one("RabbitMQ", cpu::find(&["beam.smp", dir.to_str().unwrap()])),
        one(
            "Redis",
            cpu::find(&["redis-server", &format!(":{redis_port}")]),
        ),
        // Its children (the API, the workers) are counted above.
        cpu::Group {
            name: "load generator",
            roots: vec![std::process::id()],
            own_only: true,
        },
    ]
}

/// Prints each group's CPU milliseconds per `unit` between two samples.
fn print_cpu(
    label: &str,
    groups: &[cpu::Group],
    before: &cpu::Sample,
    after: &cpu::Sample,
    units: f64,
    wall: f64,
) {
    let mut total = 0.0;
    let mut cells = Vec::new();
    for ((g, b), a) in groups.iter().zip(before).zip(after) {
        let ms = (a - b) * 1e3 / units;
        total += ms;
        cells.push(format!(
            "{} {ms:.3} ms ({:.0} % of a core)",
            g.name,
            (a - b) / wall * 100.0
        ));
    }
    println!(
        "| {label}: CPU per unit | {}; total {total:.3} ms | |",
        cells.join(", ")
    );
}

/// One row group: the webhook workflow and the chain with `workers` workers.
async fn measure(
    api: &Proc,
    workers: &[&Proc],
    key: &str,
    c: &Client,
    hook: &str,
    chain: &str,
    secs: f64,
) {
    let groups = groups(api, workers);
    webhook_load(hook, 4, 1.0).await; // warm-up
    let (t1, c1) = (Instant::now(), cpu::sample(&groups));
    let (rps1, p50_1, p99_1) = webhook_load(hook, 1, secs).await;
    let (w1, c1_after) = (t1.elapsed().as_secs_f64(), cpu::sample(&groups));
    let (rps10, p50_10, p99_10) = webhook_load(hook, 10, secs).await;
    let runs = 400;
    let before = completed(c).await;
    let t = Instant::now();
    let chain_before = cpu::sample(&groups);
    submit(&api.base, key, chain, runs).await;
    let deadline = Instant::now() + Duration::from_secs(300);
    while completed(c).await < before + runs as u64 {
        assert!(Instant::now() < deadline, "the chain runs did not finish");
        // Each look is a /metrics scrape (a GROUP BY over every run): not
        // too often, it is load on the system measured.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let chain_after = cpu::sample(&groups);
    let wall = t.elapsed().as_secs_f64();
    let steps_per_s = (runs * 10) as f64 / wall;
    let w = if workers.len() == 1 {
        "1 worker"
    } else {
        "2 workers"
    };
    let latency = status(p50_1 <= 5.0 && p99_1 <= 25.0);
    println!(
        "| {w}: 3-step webhook workflow, 1 connection | {rps1:.0} runs/s, p50 {p50_1:.2} ms, p99 {p99_1:.2} ms | p50 <= 5 ms, p99 <= 25 ms | {latency} |"
    );
    println!(
        "| {w}: 3-step webhook workflow, 10 connections | {rps10:.0} runs/s, p50 {p50_10:.2} ms, p99 {p99_10:.2} ms | | |"
    );
    println!(
        "| {w}: 10-step chain ({runs} runs) | {steps_per_s:.0} steps/s | >= 3,000 steps/s | {} |",
        status(steps_per_s >= 3_000.0)
    );
    print_cpu(
        &format!("{w}: webhook, 1 connection, per run"),
        &groups,
        &c1,
        &c1_after,
        rps1 * w1,
        w1,
    );
    print_cpu(
        &format!("{w}: 10-step chain, per step"),
        &groups,
        &chain_before,
        &chain_after,
        (runs * 10) as f64,
        wall,
    );
}

/// Publisher-confirm latency of a `kind` work queue on the benchmark's
/// broker: `n` publishes one at a time (p50, p99 ms), then `n` with 64 in
/// flight (publishes/s).
async fn confirm_latency(kind: weft_queue_amqp::QueueType, n: usize) -> (f64, f64, f64) {
    use weft_queue::{Queue, Task};
    let q = weft_queue_amqp::Amqp::connect(weft_queue_amqp::Options {
        prefix: format!("confirm{}{:?}", std::process::id(), kind).to_lowercase(),
        queue_type: kind,
        ..weft_queue_amqp::Options::new(env("WEFT_TEST_AMQP_URL"))
    })
    .await
    .unwrap();
    let task = || Task::new("ten_bench", "run_bench", "s0", 1);
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        q.publish(task(), None).await.unwrap();
        lat.push(t.elapsed());
    }
    lat.sort();
    let t = Instant::now();
    let q = std::sync::Arc::new(q);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let q = q.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..n / 64 {
                q.publish(task(), None).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rate = (n / 64 * 64) as f64 / t.elapsed().as_secs_f64();
    (common::pct(&lat, 0.5), common::pct(&lat, 0.99), rate)
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

    println!(
        "\nwork queue: {} (WEFT_BENCH_QUEUE_TYPE)\n\n| measurement | result | goal | status |\n|---|---|---|---|",
        queue_type()
    );
    let first = cluster.start("worker");
    measure(&api, &[&first], &key, &c, &hook, &chain, secs).await;
    let second = cluster.start("worker");
    measure(&api, &[&first, &second], &key, &c, &hook, &chain, secs).await;
    drop((first, second, api));
    for kind in [
        weft_queue_amqp::QueueType::Quorum,
        weft_queue_amqp::QueueType::Classic,
    ] {
        let (p50, p99, rate) = confirm_latency(kind, 2_000).await;
        println!(
            "| publish + confirm, {kind:?} queue | one at a time: p50 {p50:.2} ms, p99 {p99:.2} ms; 64 in flight: {rate:.0} publishes/s | | |"
        );
    }
    let _ = Command::new("psql")
        .arg(env("WEFT_TEST_DATABASE_URL"))
        .args([
            "-qc",
            &format!("drop database if exists weft_bench_{}", std::process::id()),
        ])
        .output();
}
