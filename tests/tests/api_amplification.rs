//! H1, small input, large work: a 100 KB webhook body into a workflow that
//! reads `{{ trigger.body }}` 800 times would be 80 MB of step input. The
//! render budget fails the step with `render_limit` before anything is
//! stored; the run stays small, and so does the process.
//!
//! One test in this binary: it measures the memory of the whole process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use weft_tests::TestApp;

const MB: u64 = 1024 * 1024;

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kb * 1024
}

/// Resets the peak RSS (`VmHWM`) to the current RSS (Linux ≥ 4.0).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

async fn active_workflow(app: &TestApp, def: Value) -> Value {
    let wf = app.post("/v1/workflows", def).await.expect(201);
    let id = wf["id"].as_str().unwrap();
    app.post(&format!("/v1/workflows/{id}/activate"), json!(null))
        .await
        .expect(200);
    wf
}

async fn finished_run(app: &TestApp, run_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = app.get(&format!("/v1/runs/{run_id}")).await.expect(200);
        if matches!(
            run["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        ) {
            return run;
        }
        assert!(Instant::now() < deadline, "the run never ended: {run:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn h1_a_webhook_body_referenced_hundreds_of_times_fails_render_limit_with_bounded_memory() {
    let app = TestApp::builder().start().await;
    let copies = vec![json!("{{ trigger.body }}"); 800];
    let wf = active_workflow(
        &app,
        json!({
            "name": "amplifier",
            "steps": [
                {"id": "copies", "kind": "action", "connector": "transform", "action": "jq",
                 "input": {"filter": "length", "data": copies}},
                {"id": "reply", "kind": "respond", "body": "{{ steps.copies.output }}"}
            ]
        }),
    )
    .await;
    let hook = wf["webhook_url"].as_str().unwrap();
    let body = serde_json::to_vec(&json!({"blob": "x".repeat(100_000)})).unwrap();
    assert!(body.len() > 100_000);

    // Warm up on the same path with a small body (connections, caches, the
    // first run of the workflow), then measure from here.
    let small = serde_json::to_vec(&json!({"blob": "x"})).unwrap();
    let warm = app
        .raw("", "POST", hook, "application/json", Some(small))
        .await;
    assert_eq!(warm.status, 200, "{}", warm.body);
    assert_eq!(warm.body["result"], json!(800));
    reset_peak();
    let rss_before = status_bytes("VmRSS:");

    let started = Instant::now();
    let resp = app
        .raw("", "POST", hook, "application/json", Some(body))
        .await;
    let elapsed = started.elapsed();
    let answer = resp.expect(422);
    assert_eq!(answer["error"]["code"], "run_failed", "{answer}");
    let run_id = answer["error"]["run_id"].as_str().unwrap().to_owned();

    let run = finished_run(&app, &run_id).await;
    let stored = serde_json::to_vec(&run).unwrap().len();
    let peak_growth = status_bytes("VmHWM:").saturating_sub(rss_before);
    let rss_growth = status_bytes("VmRSS:").saturating_sub(rss_before);
    eprintln!(
        "answered in {elapsed:?}; GET /v1/runs/{{id}}: {stored} bytes; \
         growth: {} KiB at the peak, {} KiB after",
        peak_growth / 1024,
        rss_growth / 1024
    );

    // The run holds the body as its input and trigger output: about 200 KB,
    // not the 80 MB the definition asked for.
    assert!(
        stored < MB as usize,
        "GET /v1/runs/{run_id} is {stored} bytes"
    );
    // 80 MB rendered, stored and read back would take hundreds of MB.
    assert!(
        peak_growth < 64 * MB,
        "the process grew by {} MiB at its peak",
        peak_growth / MB
    );
    assert!(
        rss_growth < 32 * MB,
        "the process grew by {} MiB",
        rss_growth / MB
    );

    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");

    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["error"]["reason"], "render_limit", "{run:#}");
    assert_eq!(run["error"]["kind"], "limit_exceeded");
    assert_eq!(run["error"]["step"], "copies");
    let steps = run["steps"].as_array().unwrap();
    let step = steps.iter().find(|s| s["key"] == "copies").unwrap();
    assert_eq!(step["status"], "failed");
    assert_eq!(step["error"]["reason"], "render_limit");
    let message = step["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "/input/data/83: rendered data is over the budget of 8388608 bytes (`render_bytes`)"
        ),
        "{message}"
    );
    assert!(step["input"].is_null(), "nothing rendered was stored");
    assert!(
        step["attempts"].as_array().is_none_or(Vec::is_empty),
        "no attempt ran: {step:#}"
    );
    assert!(steps.iter().all(|s| s["key"] != "reply"), "{run:#}");

    let metrics = app.raw("", "GET", "/metrics", "text/plain", None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("weft_step_failures_total{reason=\"render_limit\"} 1"),
        "{text}"
    );
}
