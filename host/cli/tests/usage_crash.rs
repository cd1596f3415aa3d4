//! Usage metering survives crashes (`docs/TENANCY.md`, section 5): a load of
//! runs whose HTTP step is retried, `kill -9` of `weft serve` three times in
//! the middle of it, a restart on the same data directory each time, every
//! run let finish; then the tenant's counters (`GET /v1/usage`) equal a sum
//! over the journal, every finished attempt once. Real processes, a real
//! SQLite file, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use axum::routing::post;
use common::Serve;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::usage::{UsageGroup, UsageLine, UsageQuery};
use weft_model::{RunsQuery, StartQuery, StartRun, Status};
use weft_tests::StandIn;
use weft_tests::usage::from_journal;

/// Runs started before each kill.
const BATCH: usize = 16;
/// Kills of the server while runs are in flight.
const KILLS: usize = 3;

fn serve(data: &std::path::Path, first_start: bool) -> Serve {
    Serve::start_with(
        data,
        first_start,
        &["weft_plugin_http", "weft_plugin_transform"],
        &[("WEFT_SANDBOX_EGRESS_ALLOW_PRIVATE", "true".into())],
    )
}

fn api(base: &str, key: &str) -> Client {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Client::with_http(base, Some(key), http).unwrap()
}

/// A slow stand-in where every third call fails with 503, so steps are in
/// flight at a kill and some are retried.
async fn flaky() -> StandIn {
    let calls = Arc::new(AtomicU32::new(0));
    let router = axum::Router::new().route(
        "/charge",
        post(move || {
            let calls = calls.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(150)).await;
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n % 3 == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned())
                } else {
                    (StatusCode::OK, format!("{{\"call\": {n}}}"))
                }
            }
        }),
    );
    StandIn::start(router).await
}

/// Runs not finished yet.
async fn in_flight(client: &Client) -> usize {
    let mut n = 0;
    for status in [Status::Pending, Status::Running, Status::Waiting] {
        let q = RunsQuery {
            status: Some(status),
            limit: Some(100),
            ..RunsQuery::default()
        };
        let page = client
            .list_runs(&q)
            .await
            .unwrap_or_else(|e| panic!("GET /v1/runs?status={status}: {e}"));
        n += page.items.len();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_equal_the_journal_after_kill_9s_mid_load() {
    let stand_in = flaky().await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), true);
    let key = server.key.clone().expect("bootstrap key on first start");
    let def = json!({"name": "metered", "steps": [
        {"id": "charge", "kind": "action", "connector": "http", "action": "request",
         "input": {"method": "POST", "url": stand_in.url("/charge"), "json": {"x": 1},
                   "fail_on_status": true},
         "retry": {"max_attempts": 5, "initial_interval_ms": 1, "backoff_coefficient": 1}},
        {"id": "shape", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".", "data": "{{ steps.charge.output }}"}}
    ], "grants": {"hosts": [format!("127.0.0.1:{}", stand_in.port())]}});
    let wf = api(&server.base, &key)
        .create_workflow(Definition::Json(&def))
        .await
        .unwrap_or_else(|e| panic!("POST /v1/workflows: {e}"));
    let started = weft_store::usage::day(now_ms() - 1);
    let mut accepted = Vec::new();
    for round in 0..KILLS {
        let client = api(&server.base, &key);
        for i in 0..BATCH {
            let run = client
                .start_run(
                    &wf.id,
                    &StartRun {
                        input: json!({"round": round, "i": i}),
                        until: None,
                    },
                    &StartQuery::default(),
                )
                .await
                .unwrap_or_else(|e| panic!("POST /v1/workflows/{}/runs: {e}", wf.id));
            accepted.push(run.id);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            in_flight(&client).await > 0,
            "no run was in flight at kill {round}: the test would prove nothing"
        );
        server.child.kill().unwrap(); // SIGKILL: no shutdown code runs
        server.child.wait().unwrap();
        server = serve(dir.path(), false);
    }

    let client = api(&server.base, &key);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut runs = Vec::new();
    for id in &accepted {
        let run = loop {
            let run = client
                .get_run(id)
                .await
                .unwrap_or_else(|e| panic!("GET /v1/runs/{id}: {e}"));
            if !matches!(
                run.status,
                Status::Running | Status::Waiting | Status::Pending
            ) {
                break run;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} never finished after the restarts: {run:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        runs.push(run);
    }
    let retried = runs
        .iter()
        .flat_map(|r| r.steps.as_deref().unwrap_or_default())
        .filter(|s| s.attempts.len() > 1)
        .count();
    assert!(retried > 0, "some steps were retried");
    assert!(
        runs.iter().any(|r| r.status == Status::Completed),
        "{runs:#?}"
    );

    let q = UsageQuery {
        from: Some(started),
        to: Some(weft_store::usage::day(now_ms())),
        group: Some(UsageGroup::Workflow),
    };
    let report = client
        .usage(&q)
        .await
        .unwrap_or_else(|e| panic!("GET /v1/usage: {e}"));
    let want = from_journal(&runs);
    assert_eq!(report.lines.len(), 1, "{report:#?}");
    let got = UsageLine {
        workflow_id: None,
        ..report.lines[0].clone()
    };
    assert_eq!(
        got, want,
        "the counters are the journal's, each finished attempt once"
    );
    assert_eq!(report.total, want);
    assert_eq!(want.runs, i64::try_from(KILLS * BATCH).unwrap());
    assert!(want.egress_requests > 0, "{want:#?}");

    // The CSV export says the same after the crashes.
    let csv = client
        .usage_csv(&q)
        .await
        .unwrap_or_else(|e| panic!("GET /v1/usage.csv: {e}"));
    let total = csv
        .lines()
        .find(|l| l.starts_with("total,"))
        .unwrap_or_else(|| panic!("no total line in {csv}"));
    let want_csv = UsageLine {
        tenant_id: Some("total".into()),
        ..want
    }
    .csv();
    assert_eq!(total, want_csv, "{csv}");
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}
