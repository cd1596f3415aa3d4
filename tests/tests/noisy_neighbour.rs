//! H3, the embedded noisy neighbour: on `weft serve` without Redis, tenant A
//! floods its webhook (far beyond its rate, with a slow step in every run),
//! while tenant B's synchronous webhook never waits for one of A's slow
//! steps. What holds it: the in-process limiter
//! (A's excess gets 429 with `Retry-After`), A's running-step slots (A cannot
//! occupy every worker with slow steps) and the in-process queue's round robin
//! by tenant (B's tasks do not wait behind A's backlog).
//!
//! One test in this binary: it measures latency, so it runs alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use weft_model::{LimitsBackend, Ready};
use weft_tests::{StandIn, TestApp};

/// Webhook deliveries A attempts.
const FLOOD: usize = 1_500;
/// A's concurrent connections.
const CONNECTIONS: usize = 24;
/// How long A's slow step takes.
const SLOW: Duration = Duration::from_secs(5);
/// Steps the worker runs at once.
const WORKERS: u16 = 8;
/// B's pause between calls: it stays well inside its own rate (50/s).
const B_PAUSE: Duration = Duration::from_millis(30);

fn path(app: &TestApp, url: &str) -> String {
    url.trim_start_matches(&app.base).to_owned()
}

/// B's webhook: one transform step, then the answer.
fn quick() -> Value {
    json!({"name": "quick", "steps": [
        {"id": "double", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".n * 2", "data": "{{ trigger.body }}"}},
        {"id": "reply", "kind": "respond", "body": {"doubled": "{{ steps.double.output.result }}"}}
    ]})
}

/// A's webhook: answers at once (async), then three quick steps and a slow
/// outbound call.
fn heavy(slow_url: &str) -> Value {
    json!({"name": "heavy", "triggers": {"webhook": {"mode": "async"}},
        "grants": {"hosts": ["127.0.0.1"]}, "steps": [
        {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".", "data": "{{ trigger.body }}"}},
        {"id": "b", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".", "data": "{{ steps.a.output.result }}"}},
        {"id": "c", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".", "data": "{{ steps.b.output.result }}"}},
        {"id": "slow", "kind": "action", "connector": "http", "action": "request",
         "input": {"method": "GET", "url": slow_url}}
    ]})
}

/// One synchronous call of B's webhook: its latency, checked for the answer.
async fn call_b(app: &TestApp, hook: &str, n: u64) -> Duration {
    let t = Instant::now();
    let body = serde_json::to_vec(&json!({"n": n})).unwrap();
    let r = app
        .raw("", "POST", hook, "application/json", Some(body))
        .await;
    let took = t.elapsed();
    assert_eq!(r.status, 200, "B's webhook: {}", r.body);
    assert_eq!(r.body, json!({"doubled": n * 2}));
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_a_flooding_tenant_neither_delays_another_nor_gets_past_its_rate() {
    // No Redis, so the limits are kept in memory (the default rates: webhooks
    // 50/s, burst 100). Few workers, so that the case this guards against is
    // plain: without per-tenant slots A's slow steps hold all 8 and B waits
    // for one to end (SLOW); with them A holds at most 4.
    let app = Arc::new(
        TestApp::builder()
            .worker(|w| {
                w.concurrency = WORKERS;
                w.max_running_steps = WORKERS as u32 / 2;
            })
            .start()
            .await,
    );
    let ready: Ready = app.get("/readyz").await.typed(200);
    assert_eq!(ready.limits, Some(LimitsBackend::Memory), "{ready:?}");
    assert_eq!(ready.redis, None);

    // The stand-in counts A's slow calls in flight, and the most at once.
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counts = (now.clone(), most.clone());
    let slow = StandIn::start(axum::Router::new().route(
        "/slow",
        get(move || {
            let (now, most) = counts.clone();
            async move {
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(SLOW).await;
                now.fetch_sub(1, Ordering::SeqCst);
                "done"
            }
        }),
    ))
    .await;
    let key_b = app.tenant("b").await;
    let a_hook = path(
        &app,
        app.workflow(heavy(&slow.url("/slow"))).await.hook_url(),
    );
    let wf_b: weft_model::Workflow = app
        .call_as(&key_b, "POST", "/v1/workflows", Some(quick()))
        .await
        .typed(201);
    app.call_as(
        &key_b,
        "POST",
        &format!("/v1/workflows/{}/activate", wf_b.id),
        Some(json!(null)),
    )
    .await
    .expect(200);
    let b_hook = path(&app, wf_b.hook_url());

    // B unloaded: a warm-up call, then the baseline.
    call_b(&app, &b_hook, 0).await;
    let mut baseline = Vec::new();
    for n in 1..=10 {
        baseline.push(call_b(&app, &b_hook, n).await);
    }
    let baseline = median(baseline);

    // A floods from many connections and ignores every Retry-After.
    let sent = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(AtomicUsize::new(0));
    let limited = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let flooders: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (app, hook) = (app.clone(), a_hook.clone());
            let (sent, accepted, limited) = (sent.clone(), accepted.clone(), limited.clone());
            tokio::spawn(async move {
                while sent.fetch_add(1, Ordering::Relaxed) < FLOOD {
                    let r = app
                        .raw("", "POST", &hook, "application/json", Some(b"{}".to_vec()))
                        .await;
                    match r.status {
                        202 => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        429 => {
                            assert_eq!(r.code(), "rate_limited");
                            let after: u64 =
                                r.headers["retry-after"].to_str().unwrap().parse().unwrap();
                            assert!(after >= 1, "Retry-After {after}");
                            limited.fetch_add(1, Ordering::Relaxed);
                        }
                        s => panic!("A's delivery answered {s}: {}", r.body),
                    }
                }
            })
        })
        .collect();

    // Once A's backlog is there (its burst accepted, its slow steps holding
    // workers), B calls again.
    while accepted.load(Ordering::Relaxed) < 100 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "A's burst never got in"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // B calls while A floods and then while A's accepted runs sit in their
    // slow steps (three times SLOW after the flood), ten calls at least.
    let mut loaded = Vec::new();
    let mut n = 100;
    let mut flood_over: Option<Instant> = None;
    while loaded.len() < 10 || flood_over.is_none_or(|t| t.elapsed() < SLOW * 3) {
        loaded.push(call_b(&app, &b_hook, n).await);
        n += 1;
        tokio::time::sleep(B_PAUSE).await;
        if flood_over.is_none() && flooders.iter().all(|f| f.is_finished()) {
            flood_over = Some(Instant::now());
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "A's flood never ended"
        );
    }
    for f in flooders {
        f.await.unwrap();
    }
    // How long A's flood took (to the first B call after it ended).
    let elapsed = flood_over.map_or(started.elapsed(), |t| t.duration_since(started));
    let (accepted, limited) = (
        accepted.load(Ordering::Relaxed),
        limited.load(Ordering::Relaxed),
    );
    let worst = loaded.iter().max().copied().unwrap();
    eprintln!(
        "B unloaded median {baseline:?}; under A's flood ({} calls) median {:?}, worst {worst:?}; \
         A: {accepted} accepted, {limited} limited in {elapsed:?}, at most {} slow steps at once",
        loaded.len(),
        median(loaded.clone()),
        most.load(Ordering::SeqCst)
    );

    // A got in only its burst and its rate; the rest was refused with 429.
    assert!(limited > 0, "A was never limited");
    let allowed = 100.0 + 50.0 * elapsed.as_secs_f64() + 10.0;
    assert!(
        (accepted as f64) <= allowed,
        "A got {accepted} deliveries in {elapsed:?}: over its burst and rate ({allowed:.0})"
    );
    // A never ran more slow steps at once than its slots: duplicate tasks
    // of a running step (the sweeper's) once gave its slot back while it
    // ran, and A held every worker.
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= WORKERS as usize / 2,
        "A ran {most} slow steps at once, over its {} slots",
        WORKERS / 2
    );
    // B does not wait for A's slow steps to end: without the slots (or with
    // a FIFO queue) A holds every worker through the window, and each of B's
    // calls in it waits up to SLOW (three or more of them).
    let bound = SLOW / 2;
    let stalled: Vec<&Duration> = loaded.iter().filter(|t| **t >= bound).collect();
    assert!(
        stalled.is_empty(),
        "{} of B's calls under A's flood took {bound:?} or more ({stalled:?}; worst {worst:?}, \
         unloaded median {baseline:?}): B waited for A's slow steps",
        stalled.len()
    );
}
