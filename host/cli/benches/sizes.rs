//! Does a step cost the same in a large run as in a small one? A real `weft
//! serve` (release build, SQLite, persistence on) runs, one run at a time:
//!
//! - a loop over N items (N = 10, 100, 1,000; parallelism 1) whose body is one
//!   cheap `transform` step (`. + 1` on the item);
//! - a straight workflow of N `transform` steps (N = 10, 100, 200), each
//!   reading the previous step's output.
//!
//! For each size it runs enough runs for about the same number of steps
//! (fewer runs of the larger sizes), and prints the wall time per step (from
//! the first start to the last run's end, divided by the steps run) and its
//! ratio to the smallest size, and the server process's CPU time per step
//! (user + system, from `/proc`: less disturbed than wall time when other
//! work shares the machine). Per-step time is judged **flat** when the
//! largest size's is within 1.5x of the smallest's (`met`/`MISSED`): a run's
//! size then does not show in what each of its steps costs.
//!
//! Run with `scripts/bench embedded` (both benches) or `cargo bench -p
//! weft-cli --bench sizes`. `WEFT_BENCH_SIZE_STEPS` sets the steps measured
//! per size (default 1,000 for the loop, 400 for the straight workflow);
//! `WEFT_BENCH_BIN` runs another build of `weft` (e.g. an earlier commit's,
//! for a before/after on the same machine state).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::{StartQuery, StartRun};

/// The largest size's per-step time may be at most this many times the
/// smallest's for the costs to count as flat.
const FLAT: f64 = 1.5;

/// A loop over `trigger.body` (the items) with one transform step.
fn loop_def(n: usize) -> Value {
    json!({"name": format!("loop {n}"), "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.body", "body": [
            {"id": "t", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ". + 1", "data": "{{ item }}"}}
        ]}
    ]})
}

/// `n` transform steps, each adding one to the previous step's result.
fn chain_def(n: usize) -> Value {
    let steps: Vec<Value> = (0..n)
        .map(|i| {
            let data = if i == 0 {
                json!("{{ trigger.body }}")
            } else {
                json!(format!("{{{{ steps.s{}.output.result }}}}", i - 1))
            };
            json!({"id": format!("s{i}"), "kind": "action", "connector": "transform",
                   "action": "jq", "input": {"filter": ". + 1", "data": data}})
        })
        .collect();
    json!({"name": format!("chain {n}"), "steps": steps})
}

/// Runs `wf` once with `input` and waits until it ends; panics unless it
/// completed.
async fn run_once(c: &Client, wf: &str, input: &Value) {
    let start = StartRun {
        input: input.clone(),
        until: None,
    };
    let q = StartQuery {
        wait_ms: Some(60_000),
    };
    let mut run = c.start_run(wf, &start, &q).await.unwrap();
    while !run.status.is_terminal() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        run = c.get_run(&run.id).await.unwrap();
    }
    assert_eq!(
        run.status.to_string(),
        "completed",
        "run {} of {wf}: {:?}",
        run.id,
        run.error
    );
}

/// CPU time (user + system) the process `pid` has used, in µs.
fn cpu_us(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may hold spaces), from the 3rd.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // USER_HZ is 100 on Linux.
    ticks * 1e4
}

/// One size measured: (size, runs, wall µs per step, server CPU µs per step).
type Row = (usize, usize, f64, f64);

/// Runs the workflow of size `n` `runs` times, one after the other; the wall
/// time per step in µs, and the server's CPU time per step (less disturbed
/// than wall time when other work shares the machine).
async fn per_step(c: &Client, pid: u32, def: Value, n: usize, runs: usize, input: &Value) -> Row {
    let wf = c.create_workflow(Definition::Json(&def)).await.unwrap();
    c.activate_workflow(&wf.id).await.unwrap();
    run_once(c, &wf.id, input).await; // warm-up: the definition's caches
    let (t, cpu) = (Instant::now(), cpu_us(pid));
    for _ in 0..runs {
        run_once(c, &wf.id, input).await;
    }
    let steps = (runs * n) as f64;
    (
        n,
        runs,
        t.elapsed().as_secs_f64() * 1e6 / steps,
        (cpu_us(pid) - cpu) / steps,
    )
}

/// One table: each size with its µs per step (wall and server CPU) and
/// their ratios to the first size.
fn table(title: &str, rows: &[Row]) {
    println!(
        "\n{title}\n\n| size | runs | µs per step | ratio to size {} | server CPU µs per step | ratio |",
        rows[0].0
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (n, runs, us, cpu) in rows {
        println!(
            "| {n} | {runs} | {us:.0} | {:.2}x | {cpu:.0} | {:.2}x |",
            us / rows[0].2,
            cpu / rows[0].3
        );
    }
    let ratio = rows[rows.len() - 1].2 / rows[0].2;
    let status = if ratio <= FLAT { "met" } else { "MISSED" };
    println!(
        "\nper-step time flat (largest size within {FLAT}x of the smallest): {ratio:.2}x, **{status}**"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let steps = |default: usize| {
        std::env::var("WEFT_BENCH_SIZE_STEPS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (loop_steps, chain_steps) = (steps(1000), steps(400));
    let dir = tempfile::tempdir().unwrap();
    let s = common::serve(dir.path());
    let c = Client::new(&s.base, Some(&s.key)).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;

    let pid = s.child.id();
    let mut loops = Vec::new();
    for n in [10, 100, 1000] {
        let runs = (loop_steps / n).max(1);
        let items = json!((0..n).collect::<Vec<_>>());
        loops.push(per_step(&c, pid, loop_def(n), n, runs, &items).await);
    }
    let mut chains = Vec::new();
    for n in [10, 100, 200] {
        let runs = (chain_steps / n).max(1);
        chains.push(per_step(&c, pid, chain_def(n), n, runs, &json!(0)).await);
    }
    table(
        "Loop over N items (one transform step per item, parallelism 1)",
        &loops,
    );
    table(
        "Straight workflow of N transform steps (each reads the previous output)",
        &chains,
    );
}
