//! The polling-trigger benchmark: poll-to-run latency on a real `weft serve`
//! (release build, SQLite, persistence on). A feed on loopback (the bundled
//! `http` connector's `new-items` trigger, polled every second) gets new
//! items on a fixed schedule, their arrivals spread over the interval; the latency of
//! an item is from the moment the feed has it to its run's creation
//! (`created_at`, the commit that started it). Prints min, p50, p90 and max.
//! An item waits for the next poll: up to the interval, plus up to one sweep
//! of the worker (`worker.sweep_interval_ms`, 1 s by default), which is when
//! due polls are started.
//!
//! Run with `scripts/bench poll` (or `cargo bench -p weft-cli --bench poll`).
//! `WEFT_BENCH_ITEMS` sets how many items (default 40).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_client::{Client, Definition};
use weft_model::{RunsQuery, Trigger};

const INTERVAL_MS: u64 = 1_000;

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The runs the poll started: (item id, creation time).
async fn created(c: &Client, wf: &str) -> Vec<(u64, i64)> {
    let q = RunsQuery {
        workflow_id: Some(wf.to_owned()),
        trigger: Some(Trigger::Poll),
        limit: Some(200),
        ..RunsQuery::default()
    };
    c.list_runs(&q)
        .await
        .unwrap()
        .items
        .iter()
        .map(|r| (r.input["body"]["id"].as_u64().unwrap(), r.created_at))
        .collect()
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("WEFT_BENCH_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    // The feed: what it holds now.
    let items: Arc<Mutex<Vec<Value>>> = Arc::default();
    let feed = {
        let items = Arc::clone(&items);
        Router::new().route(
            "/feed",
            get(move || {
                let items = items.lock().unwrap().clone();
                async move { Json(json!({ "items": items })) }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let feed_url = format!("http://{}/feed", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, feed).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let s = common::serve_with(
        dir.path(),
        &["transform", "http"],
        // The feed is on loopback.
        &[("WEFT_SANDBOX_EGRESS_ALLOW_PRIVATE", "true")],
    );
    let c = Client::new(&s.base, Some(&s.key)).unwrap();
    let def = json!({
        "name": "new items",
        "grants": {"hosts": ["127.0.0.1"]},
        "triggers": {"poll": {
            "connector": "http", "trigger": "new-items", "interval_ms": INTERVAL_MS,
            "config": {"url": feed_url, "items": "/items", "id": "/id"}
        }},
        "steps": [{"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
                   "input": {"filter": ".id", "data": "{{ trigger.body }}"}}]
    });
    let wf = c.create_workflow(Definition::Json(&def)).await.unwrap();
    c.activate_workflow(&wf.id).await.unwrap();

    // Arrivals on a fixed schedule, a step of 7/13 of the interval: their
    // phase against the polls runs through 13 values, whatever the polls do.
    let t0 = tokio::time::Instant::now();
    let mut arrived = Vec::new();
    for i in 0..n {
        let at = t0 + Duration::from_millis(INTERVAL_MS * 7 * i / 13);
        tokio::time::sleep_until(at).await;
        arrived.push(now_ms());
        items.lock().unwrap().push(json!({"id": i}));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while (created(&c, &wf.id).await.len() as u64) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every item started a run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut lat: Vec<i64> = created(&c, &wf.id)
        .await
        .into_iter()
        .map(|(id, at)| at - arrived[usize::try_from(id).unwrap()])
        .collect();
    lat.sort_unstable();
    let p = |q: usize| lat[(lat.len() * q / 100).min(lat.len() - 1)];
    println!("\n| measurement | result |\n|---|---|");
    println!(
        "| poll-to-run latency, {} items, interval {INTERVAL_MS} ms | min {} ms, p50 {} ms, p90 {} ms, max {} ms |",
        lat.len(),
        lat[0],
        p(50),
        p(90),
        lat[lat.len() - 1]
    );
}
