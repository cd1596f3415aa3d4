//! Running-step slots on `weft serve` (the in-process limiter): a tenant at
//! its limit never runs more steps at once than its slots, its waiting steps
//! are parked once each however many tasks the sweeper publishes for them
//! (they used to be republished for ever, one more copy each sweep), and a
//! slot given back goes to the next waiting step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::routing::get;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use weft_tests::{StandIn, TestApp};

/// Runs started while the tenant's one slot is taken.
const RUNS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_tenants_steps_wait_parked_once_and_take_each_freed_slot() {
    let app = TestApp::builder()
        .worker(|w| {
            w.concurrency = 4;
            w.max_running_steps = 1;
        })
        .start()
        .await;
    // Each call waits for the test to let it through; the stand-in counts
    // the calls in flight and the most at once.
    let gate = Arc::new(Semaphore::new(0));
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let shared = (gate.clone(), now.clone(), most.clone());
    let stand_in = StandIn::start(axum::Router::new().route(
        "/gate",
        get(move || {
            let (gate, now, most) = shared.clone();
            async move {
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                gate.acquire().await.unwrap().forget();
                now.fetch_sub(1, Ordering::SeqCst);
                "through"
            }
        }),
    ))
    .await;
    let wf = app
        .workflow(
            json!({"name": "gated", "grants": {"hosts": ["127.0.0.1"]}, "steps": [
                {"id": "call", "kind": "action", "connector": "http", "action": "request",
                 "input": {"method": "GET", "url": stand_in.url("/gate")}}
            ]}),
        )
        .await;
    let mut runs = Vec::new();
    for n in 0..RUNS {
        runs.push(app.start_run(&wf.id, json!({"n": n})).await);
    }

    // One step holds the slot; the others wait. Then long enough for the
    // sweeper (every 50 ms here, for steps due over 2 s) to publish a task
    // for each waiting step dozens of times.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while now.load(Ordering::SeqCst) < 1 {
        assert!(tokio::time::Instant::now() < deadline, "no step started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let parked = app.metric("weft_steps_parked").await;
    let depth = app.metric("weft_queue_depth").await;
    let duplicates = app.metric("weft_duplicate_tasks_total").await;
    let waiting = (RUNS - 1) as f64;
    assert!(
        parked <= waiting && depth <= waiting,
        "{waiting} steps wait, yet {parked} are parked and {depth} tasks queued: tasks multiply"
    );
    assert!(
        duplicates >= waiting,
        "the sweeper's tasks for parked steps are dropped as duplicates ({duplicates})"
    );
    assert_eq!(now.load(Ordering::SeqCst), 1, "one slot, one step running");

    // Each slot given back starts the next step; all runs complete.
    for _ in 0..RUNS {
        gate.add_permits(1);
    }
    for id in &runs {
        let run = app.finished(id).await;
        assert_eq!(run.status, weft_types::Status::Completed, "{run:#?}");
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "never two steps at once");
    assert_eq!(app.metric("weft_steps_parked").await, 0.0);
}
