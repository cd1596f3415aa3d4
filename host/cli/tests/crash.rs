//! `kill -9` of `weft serve` in the middle of runs, then a restart on the same
//! data directory: every accepted run finishes, and no step has two committed
//! results. Real processes, real SQLite file, real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Serve;
use serde_json::json;
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::{RunsQuery, StartQuery, StartRun, Status};

fn serve(data: &std::path::Path, first_start: bool) -> Serve {
    Serve::start(data, first_start, "weft_plugin_transform", &[])
}

/// The typed client of a server, with a 30 s bound on each request.
fn api(base: &str, key: &str) -> Client {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Client::with_http(base, Some(key), http).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_then_restart_finishes_every_accepted_run_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = serve(dir.path(), true);
    let key = first.key.clone().expect("bootstrap key on first start");
    let client = api(&first.base, &key);
    let def = json!({"name": "crash", "steps": [
        {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ". + 1", "data": "{{ trigger.body }}"}},
        {"id": "pause", "kind": "wait", "duration_ms": 300},
        {"id": "b", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ". * 2", "data": "{{ steps.a.output.result }}"}},
        {"id": "r", "kind": "respond", "body": "{{ steps.b.output.result }}"}
    ]});
    // Success answers of these routes are 201 Created; anything else fails.
    let wf = client
        .create_workflow(Definition::Json(&def))
        .await
        .unwrap_or_else(|e| panic!("POST /v1/workflows: {e}"));
    let mut accepted = Vec::new();
    for i in 0..40 {
        let run = client
            .start_run(
                &wf.id,
                &StartRun {
                    input: json!(i),
                    until: None,
                },
                &StartQuery::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("POST /v1/workflows/{}/runs: {e}", wf.id));
        accepted.push((run.id, i));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut in_flight = 0;
    for status in [Status::Running, Status::Waiting] {
        let q = RunsQuery {
            status: Some(status),
            limit: Some(100),
            ..RunsQuery::default()
        };
        let page = client
            .list_runs(&q)
            .await
            .unwrap_or_else(|e| panic!("GET /v1/runs?status={status}: {e}"));
        in_flight += page.items.len();
    }
    assert!(
        in_flight > 0,
        "no run was in flight at the kill: the test would prove nothing"
    );
    first.child.kill().unwrap(); // SIGKILL: no shutdown code runs
    first.child.wait().unwrap();

    let second = serve(dir.path(), false);
    assert!(second.key.is_none(), "the bootstrap key is printed once");
    let client = api(&second.base, &key);
    let deadline = Instant::now() + Duration::from_secs(90);
    for (id, i) in &accepted {
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
                "run {id} never finished after the restart: {run:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(run.status, Status::Completed, "{run:#?}");
        assert_eq!(
            run.response.as_ref().map(|r| &r.body),
            Some(&json!((i + 1) * 2)),
            "{run:#?}"
        );
        for step in run.steps.as_deref().expect("the run's steps") {
            let committed = step
                .attempts
                .iter()
                .filter(|a| a.status == Status::Completed)
                .count();
            assert!(
                committed <= 1,
                "step {} of {id} has {committed} committed results",
                step.key
            );
        }
    }
}
