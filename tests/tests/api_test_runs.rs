//! Test runs through the API (`POST /v1/workflows/{id}/runs` with `until`,
//! the editor's "test step"): only the named step and the steps it depends
//! on run, the rest is skipped, the run completes when the step ends; a test
//! run starts no error workflow and notifies nobody; its retry stays a test
//! run; an unknown step or one inside a loop is refused by name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_model::Run;
use weft_tests::{TestApp, step};
use weft_types::Status;

fn jq(id: &str, filter: &str, data: &str) -> Value {
    json!({"id": id, "kind": "action", "connector": "transform", "action": "jq",
           "input": {"filter": filter, "data": data}})
}

#[tokio::test]
async fn a_test_run_stops_after_its_step_and_skips_the_rest() {
    let app = TestApp::builder().start().await;
    let alert = app
        .workflow(
            json!({"name": "alert", "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]}),
        )
        .await;
    let wf = app
        .workflow(json!({"name": "tested", "error_workflow": alert.id,
        "triggers": {"webhook": {"mode": "sync"}},
        "steps": [
            jq("double", ". * 2", "{{ trigger.body.n }}"),
            jq("label", "\"n=\" + tostring", "{{ steps.double.output.result }}"),
            jq("post", "error(\"must not run\")", "{{ steps.label.output.result }}"),
            {"id": "reply", "kind": "respond", "body": "sent"},
            {"id": "audit", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": "error(\"must not run either\")", "data": 1}, "after": []}
        ]}))
        .await;
    app.post(
        "/v1/notifications/rules",
        json!({"on": "run_failed", "target": {"type": "webhook", "url": "https://example.com/n"}}),
    )
    .await
    .expect(201);

    let started: Run = app
        .post(
            &format!("/v1/workflows/{}/runs?wait_ms=10000", wf.id),
            json!({"input": {"n": 21}, "until": "label"}),
        )
        .await
        .typed(201);
    assert_eq!(started.until.as_deref(), Some("label"));
    let run = app.finished(&started.id).await;
    assert_eq!(run.status, Status::Completed, "{run:?}");
    assert_eq!(
        run.until.as_deref(),
        Some("label"),
        "the run says what it tested"
    );
    assert_eq!(
        run.output.as_ref().map(|o| &o["result"]),
        Some(&json!("n=42")),
        "the run's output is the step's"
    );
    assert_eq!(run.response, None, "the respond step did not answer");
    for ran in ["double", "label"] {
        let s = step(&run, ran);
        assert_eq!(
            (s.status, s.attempts.len()),
            (Status::Completed, 1),
            "{ran}"
        );
    }
    for skipped in ["post", "reply", "audit"] {
        let s = step(&run, skipped);
        assert_eq!(s.status, Status::Skipped, "{skipped}");
        assert!(s.attempts.is_empty(), "{skipped} never ran");
    }

    // A failing test step: the run fails, no error workflow, no notification.
    let failed = app
        .post(
            &format!("/v1/workflows/{}/runs", wf.id),
            json!({"input": {"n": 1}, "until": "post"}),
        )
        .await
        .expect(201);
    let failed = app.finished(failed["id"].as_str().unwrap()).await;
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(step(&failed, "audit").status, Status::Skipped);
    let errors = app.get("/v1/runs?trigger=error").await.expect(200);
    assert_eq!(
        errors["items"],
        json!([]),
        "no error workflow for a test run"
    );
    let sent = app.get("/v1/notifications/deliveries").await.expect(200);
    assert_eq!(sent["items"], json!([]), "nobody notified of a test run");

    // Its retry is a test run up to the same step; a re-run from a step it
    // does not reach is refused.
    let retried = app
        .post(&format!("/v1/runs/{}/retry", failed.id), json!(null))
        .await
        .expect(201);
    assert_eq!(retried["until"], "post", "{retried}");
    let retried = app.finished(retried["id"].as_str().unwrap()).await;
    assert_eq!(
        step(&retried, "double").attempts.len(),
        0,
        "reused, not run again"
    );
    assert_eq!(
        step(&retried, "post").attempts.len(),
        1,
        "what failed runs again"
    );
    assert_eq!(step(&retried, "audit").status, Status::Skipped);
    assert_eq!(retried.status, Status::Failed);
    let refused = app
        .post(
            &format!("/v1/runs/{}/rerun", failed.id),
            json!({"from": "audit"}),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.to_string().contains("`audit`"),
        "{}",
        refused.body
    );

    // The same failure in a real run starts the error workflow and notifies.
    let real = app.start_run(&wf.id, json!({"n": 1})).await;
    let real = app.finished(&real).await;
    assert_eq!(real.status, Status::Failed);
    assert_eq!(real.until, None);
    let errors = app.get("/v1/runs?trigger=error").await.expect(200);
    assert_eq!(errors["items"].as_array().unwrap().len(), 1, "{errors}");
    let sent = app.get("/v1/notifications/deliveries").await.expect(200);
    assert_eq!(sent["items"].as_array().unwrap().len(), 1, "{sent}");
}

#[tokio::test]
async fn a_step_that_is_not_top_level_is_refused_by_name() {
    let app = TestApp::builder().memory().start().await;
    let wf = app
        .workflow(json!({"name": "loops", "steps": [
            {"id": "each", "kind": "loop", "items": "trigger.body", "body": [
                jq("inner", ". + 1", "{{ item }}")
            ]},
            jq("after", ".", "{{ steps.each.output }}")
        ]}))
        .await;
    let path = format!("/v1/workflows/{}/runs", wf.id);
    for (until, says) in [
        ("nope", "unknown step `nope`"),
        ("inner", "inside the loop `each`"),
    ] {
        let r = app
            .post(&path, json!({"input": [1, 2], "until": until}))
            .await;
        assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{until}: {msg}");
    }
    assert_eq!(
        app.get("/v1/runs").await.expect(200)["items"],
        json!([]),
        "nothing started"
    );
    // The loop itself can be tested: its body runs for every item.
    let run = app
        .post(&path, json!({"input": [1, 2], "until": "each"}))
        .await
        .expect(201);
    let run = app.finished(run["id"].as_str().unwrap()).await;
    assert_eq!(run.status, Status::Completed);
    let results: Vec<&Value> = run
        .output
        .as_ref()
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|o| &o["result"])
        .collect();
    assert_eq!(results, [&json!(2), &json!(3)], "{run:?}");
    assert_eq!(step(&run, "after").status, Status::Skipped);
}

/// A wait inside a test run still tells whoever must act (`run_waiting`,
/// marked with `until`): otherwise the test would wait for ever unseen.
/// Nothing else is sent when it ends.
#[tokio::test]
async fn a_test_run_that_waits_makes_run_waiting_marked_as_a_test() {
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(json!({"name": "approve", "steps": [
            {"id": "ask", "kind": "wait", "until": "resume"},
            {"id": "done", "kind": "respond", "body": "ok"}
        ]}))
        .await;
    for on in ["run_waiting", "run_failed"] {
        app.post(
            "/v1/notifications/rules",
            json!({"on": on, "workflow_id": wf.id,
                   "target": {"type": "webhook", "url": "https://hooks.example.invalid/n"}}),
        )
        .await
        .expect(201);
    }
    let started = app
        .post(
            &format!("/v1/workflows/{}/runs", wf.id),
            json!({"input": {}, "until": "ask"}),
        )
        .await
        .expect(201);
    let id = started["id"].as_str().unwrap().to_owned();
    app.until(&id, |r| r.status == Status::Waiting).await;
    let mut items = Vec::new();
    for _ in 0..100 {
        let sent = app.get("/v1/notifications/deliveries").await.expect(200);
        items = sent["items"].as_array().unwrap().clone();
        if !items.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["payload"]["type"], "run_waiting");
    assert_eq!(items[0]["payload"]["until"], "ask");
    assert_eq!(items[0]["payload"]["step"], "ask");
    app.post(&format!("/v1/runs/{id}/cancel"), json!(null))
        .await
        .expect(200);
    app.finished(&id).await;
    let sent = app.get("/v1/notifications/deliveries").await.expect(200);
    assert_eq!(sent["items"].as_array().unwrap().len(), 1, "no run_failed");
}
