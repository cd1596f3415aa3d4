//! A step's log records reach the execution history: `GET /v1/runs/{id}`
//! shows each attempt's records in order, and past the step's budget the
//! journal keeps a prefix and ends it with a marker saying what was dropped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_tests::{TestApp, step};

async fn run_flood(app: &TestApp, records: u64, size: u64) -> Value {
    let wf = app
        .workflow(json!({
            "name": format!("logs-{records}"),
            "steps": [{
                "id": "noisy", "kind": "action", "connector": "hostile", "action": "log-flood",
                "input": {"records": records, "size": size},
            }],
        }))
        .await;
    let run_id = app.start_run(wf["id"].as_str().unwrap(), json!(null)).await;
    let run = app.finished(&run_id).await;
    assert_eq!(run["status"], "completed", "{run:#}");
    step(&run, "noisy")["attempts"][0]["logs"].clone()
}

#[tokio::test]
async fn an_attempts_log_records_are_in_the_run() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let logs = run_flood(&app, 3, 10).await;
    let logs = logs.as_array().expect("logs is an array");
    assert_eq!(logs.len(), 3, "{logs:#?}");
    for (i, r) in logs.iter().enumerate() {
        assert_eq!(r["level"], "info");
        assert_eq!(r["source"], "log");
        assert_eq!(r["message"], "x".repeat(10));
        assert_eq!(r["fields"], json!([["i", i.to_string()]]));
    }
}

#[tokio::test]
async fn past_the_budget_the_log_is_cut_with_a_marker() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let logs = run_flood(&app, 2_000, 100).await;
    let logs = logs.as_array().expect("logs is an array");
    let (last, kept) = logs.split_last().expect("some records");
    assert_eq!(
        last["source"], "host",
        "the last record is the marker: {last}"
    );
    assert!(
        last["message"].as_str().unwrap().contains("truncated"),
        "{last}"
    );
    assert!(
        !kept.is_empty() && kept.len() < 2_000,
        "{} kept",
        kept.len()
    );
    let bytes: usize = kept
        .iter()
        .map(|r| r["message"].as_str().unwrap().len())
        .sum();
    assert!(
        bytes <= weft_types::log::ATTEMPT_LOG_BYTES,
        "{bytes} bytes kept"
    );
    // The records kept are the first ones, in order.
    for (i, r) in kept.iter().enumerate() {
        if r["source"] == "log" {
            assert_eq!(r["fields"][0][1], i.to_string());
        }
    }
}
