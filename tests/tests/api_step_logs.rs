//! A step's log records reach the execution history: `GET /v1/runs/{id}`
//! shows each attempt's records in order, and past the step's budget the
//! journal keeps a prefix and ends it with a marker saying what was dropped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use weft_tests::{TestApp, step};
use weft_types::Status;
use weft_types::log::{Level, LogRecord, Source};

async fn run_flood(app: &TestApp, records: u64, size: u64) -> Vec<LogRecord> {
    let wf = app
        .workflow(json!({
            "name": format!("logs-{records}"),
            "steps": [{
                "id": "noisy", "kind": "action", "connector": "hostile", "action": "log-flood",
                "input": {"records": records, "size": size},
            }],
        }))
        .await;
    let run_id = app.start_run(&wf.id, json!(null)).await;
    let run = app.finished(&run_id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    step(&run, "noisy").attempts[0].logs.clone()
}

#[tokio::test]
async fn an_attempts_log_records_are_in_the_run() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let logs = run_flood(&app, 3, 10).await;
    assert_eq!(logs.len(), 3, "{logs:#?}");
    for (i, r) in logs.iter().enumerate() {
        assert_eq!(r.level, Level::Info);
        assert_eq!(r.source, Source::Log);
        assert_eq!(r.message, "x".repeat(10));
        assert_eq!(r.fields, vec![("i".to_owned(), i.to_string())]);
    }
}

#[tokio::test]
async fn past_the_budget_the_log_is_cut_with_a_marker() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let logs = run_flood(&app, 2_000, 100).await;
    let (last, kept) = logs.split_last().expect("some records");
    assert_eq!(
        last.source,
        Source::Host,
        "the last record is the marker: {last:?}"
    );
    assert!(last.message.contains("truncated"), "{last:?}");
    assert!(
        !kept.is_empty() && kept.len() < 2_000,
        "{} kept",
        kept.len()
    );
    let bytes: usize = kept.iter().map(|r| r.message.len()).sum();
    assert!(
        bytes <= weft_types::log::ATTEMPT_LOG_BYTES,
        "{bytes} bytes kept"
    );
    // The records kept are the first ones, in order.
    for (i, r) in kept.iter().enumerate() {
        if r.source == Source::Log {
            assert_eq!(r.fields[0].1, i.to_string());
        }
    }
}

#[tokio::test]
async fn a_secret_a_plugin_logs_is_scrubbed_before_it_is_stored() {
    const SECRET: &str = "sk-live-3141592653589793";
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    app.post(
        "/v1/credentials",
        json!({"name": "vendor", "secret": SECRET, "hosts": ["api.example.com"],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let wf = app
        .workflow(json!({
            "name": "leaky",
            "grants": {"hosts": ["api.example.com"], "credentials": {"token": "vendor"}},
            "steps": [{
                "id": "noisy", "kind": "action", "connector": "hostile", "action": "log-flood",
                "input": {"records": 1, "size": 0, "message": format!("the key is {SECRET}!")},
            }],
        }))
        .await;
    let run_id = app.start_run(&wf.id, json!(null)).await;
    let run = app.finished(&run_id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    let logs = &step(&run, "noisy").attempts[0].logs;
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert_eq!(logs[0].message, "the key is [REDACTED]!");
    // The stored journal has only the scrubbed form (the step's input holds
    // the literal the workflow was written with; it is the author's data).
    let raw = app.get(&format!("/v1/runs/{run_id}")).await.expect(200);
    let noisy = raw["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "noisy")
        .unwrap_or_else(|| panic!("no step `noisy` in {raw:#}"));
    let stored = noisy["attempts"][0]["logs"].to_string();
    assert!(
        stored.contains("[REDACTED]") && !stored.contains(SECRET),
        "{stored}"
    );
}
