//! What both server benchmarks share: the webhook load generator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use weft_client::{Body, Client};

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// Posts to the webhook from `conns` connections for `secs`; (runs/s, p50 ms, p99 ms).
pub async fn webhook_load(hook: &str, conns: usize, secs: f64) -> (f64, f64, f64) {
    let base = reqwest::Url::parse(hook)
        .unwrap()
        .origin()
        .ascii_serialization();
    let body = serde_json::to_vec(
        &json!({"people": [{"name": "Ada", "active": true}, {"name": "Bob", "active": false}]}),
    )
    .unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let hook = hook.to_owned();
        let body = body.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            // One client (one connection) per task, without a key: a webhook
            // caller's.
            let c = Client::with_http(
                &base,
                None,
                reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap(),
            )
            .unwrap();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                // The answer's bytes are read in full; only the status is checked.
                let resp = c
                    .raw(Method::POST, &hook, Body::Json(body.clone()))
                    .await
                    .unwrap();
                assert_eq!(resp.status, 200);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    (all.len() as f64 / elapsed, pct(&all, 0.5), pct(&all, 0.99))
}
