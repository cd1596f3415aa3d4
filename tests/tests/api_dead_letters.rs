//! `/v1/dead-letters`: a task the queue gave up on is listed for its tenant
//! only, fails its step as `poison` (so the run does not hang on the queue),
//! and re-driving it re-runs the step in a new run.
//!
//! The server runs as an API process (no worker consumes), so the test plays
//! the worker that rejects the task.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::time::Duration;
use weft_cli::server::Role;
use weft_model::Run;
use weft_tests::TestApp;
use weft_types::{Reason, Status};

#[tokio::test]
async fn dead_letters_are_listed_per_tenant_fail_their_step_and_can_be_redriven() {
    let app = TestApp::builder()
        .config(|c| c.role = Role::Api)
        .start()
        .await;
    let b = app.tenant("b").await;
    let wf = app
        .workflow(json!({"name": "dl", "steps": [
            {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": 1}}
        ]}))
        .await;
    let id = wf.id.as_str();
    let run = app
        .post(&format!("/v1/workflows/{id}/runs"), json!({"input": 1}))
        .await
        .expect(201);
    let run_id = run["id"].as_str().unwrap().to_owned();

    // The step's task is rejected by "the worker".
    let queue = app.server.handle.queue().clone();
    let mut consumer = queue.consume(1).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(5), consumer.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(d.task().run_id, run_id);
    d.nack(false).await.unwrap();

    let listed = app.get("/v1/dead-letters").await.expect(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["run_id"], run_id.as_str());
    assert_eq!(items[0]["step_key"], "a");
    assert_eq!(items[0]["reason"], "rejected");
    let dl = items[0]["id"].as_str().unwrap().to_owned();

    // Another tenant sees none of it and cannot re-drive it.
    let theirs = app
        .call_as(&b, "GET", "/v1/dead-letters", None)
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    let path = format!("/v1/dead-letters/{dl}/redrive");
    let foreign = app.call_as(&b, "POST", &path, None).await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    // The sweeper fails the step as poison: the run ends instead of hanging.
    app.server.handle.sweep_dead_letters().await.unwrap();
    let done: Run = app.get(&format!("/v1/runs/{run_id}")).await.typed(200);
    assert_eq!(done.status, Status::Failed, "{done:#?}");
    let step = weft_tests::step(&done, "a");
    assert_eq!(
        step.error.as_ref().and_then(|e| e.reason),
        Some(Reason::Poison),
        "{step:#?}"
    );

    // Re-driving re-runs the poisoned step in a new run; the letter is gone.
    let redriven = app.post(&path, json!({})).await.expect(200);
    let rerun = redriven["rerun_id"].as_str().expect("a new run");
    assert_ne!(rerun, run_id);
    app.get(&format!("/v1/runs/{rerun}")).await.expect(200);
    let left = app.get("/v1/dead-letters").await.expect(200);
    assert_eq!(left["items"], json!([]));
    let again = app.post(&path, json!({})).await;
    assert_eq!(again.status, 404, "{}", again.body);

    // Audited.
    let audit = app.get("/v1/audit").await.expect(200);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "dead_letter.redrive"),
        "{audit}"
    );
}
