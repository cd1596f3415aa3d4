//! R2 on `weft serve` (SQLite, blobs on disk): a worker runs an installed
//! connector only from bytes that hash to the install's digest. An artifact
//! changed in the blob store after publishing fails the step
//! `artifact_mismatch` (counted, nothing loaded or run, nothing cached), and
//! once the right bytes are back the step runs them and its attempt records
//! their digest. Another tenant's workflow cannot name the connector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use weft_model::registry::Version;
use weft_model::{Run, Status};
use weft_registry::sign::{generate, statement};
use weft_tests::{TestApp, artifact, step};
use weft_types::Reason;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Publishes `bytes` as `publisher/name@version` for a new tenant; returns
/// the version as published.
async fn publish(app: &TestApp, publisher: &str, version: &str, bytes: &[u8]) -> Version {
    let key = app.tenant(publisher).await;
    app.call_as(
        &key,
        "POST",
        "/v1/registry/publishers",
        Some(json!({"name": publisher})),
    )
    .await
    .expect(201);
    let (signing, public) = generate().unwrap();
    app.call_as(
        &key,
        "POST",
        &format!("/v1/registry/publishers/{publisher}/keys"),
        Some(json!({"public_key": public})),
    )
    .await
    .expect(201);
    let digest = sha(bytes);
    let put = app
        .raw(
            &key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{digest}"),
            "application/wasm",
            Some(bytes.to_vec()),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    let signature = signing.sign(&statement(publisher, "greeter", version, &digest));
    app.call_as(
        &key,
        "POST",
        &format!("/v1/registry/packages/{publisher}/greeter/versions"),
        Some(json!({
            "version": version, "digest": format!("sha256:{digest}"), "license": "MIT",
            "key_id": signing.key_id(), "signature": signature
        })),
    )
    .await
    .typed(201)
}

fn greeter_workflow() -> Value {
    json!({"name": "greet", "steps": [
        {"id": "hi", "kind": "action", "connector": "greeter", "action": "greet",
         "input": {"name": "{{ trigger.body.name }}"}}
    ]})
}

async fn run_as(app: &TestApp, key: &str, wf: &str) -> Run {
    let id = app
        .call_as(
            key,
            "POST",
            &format!("/v1/workflows/{wf}/runs"),
            Some(json!({"input": {"name": "ada"}})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let run: Run = app
            .call_as(key, "GET", &format!("/v1/runs/{id}"), None)
            .await
            .typed(200);
        if run.status.is_terminal() {
            return run;
        }
        assert!(tokio::time::Instant::now() < deadline, "{run:#?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r2_an_artifact_changed_in_the_blob_store_fails_the_step_artifact_mismatch_until_restored()
{
    let data_dir = Arc::new(Mutex::new(PathBuf::new()));
    let seen = data_dir.clone();
    let app = TestApp::builder()
        .config(move |c| {
            *seen.lock().unwrap() = c.data_dir.clone();
        })
        .start()
        .await;
    let bytes = artifact("fixture_greeter");
    let published = publish(&app, "acme", "0.1.0", &bytes).await;
    let digest = sha(&bytes);
    assert_eq!(published.digest, format!("sha256:{digest}"));

    // Tenant A installs it with consent and saves a workflow naming it.
    let a = app.tenant("tenant-a").await;
    let consent = published.disclosure_digest.clone();
    app.call_as(
        &a,
        "POST",
        "/v1/installs",
        Some(json!({"package": "acme/greeter", "consent": consent})),
    )
    .await
    .expect(201);
    let wf = app
        .call_as(&a, "POST", "/v1/workflows", Some(greeter_workflow()))
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Tenant B has not installed it: its catalogue does not have it.
    let b = app.tenant("tenant-b").await;
    let r = app
        .call_as(&b, "POST", "/v1/workflows", Some(greeter_workflow()))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.to_string().contains("greeter"), "{}", r.body);

    // The blob on disk is replaced before any worker loaded it.
    let path = data_dir
        .lock()
        .unwrap()
        .join("blobs/sha256")
        .join(&digest[..2])
        .join(&digest);
    let original = std::fs::read(&path).unwrap();
    assert_eq!(original, bytes, "the blob is where FsBlobs keeps it");
    let mut evil = bytes.clone();
    let last = evil.len() - 1;
    evil[last] ^= 0xff;
    std::fs::write(&path, &evil).unwrap();

    let run = run_as(&app, &a, &wf).await;
    assert_eq!(run.status, Status::Failed, "{run:#?}");
    let hi = step(&run, "hi");
    let error = hi.error.as_ref().unwrap();
    assert_eq!(error.reason, Some(Reason::ArtifactMismatch), "{error:?}");
    assert!(error.message.contains(&digest), "{}", error.message);
    assert!(
        error.message.contains("acme/greeter@0.1.0"),
        "{}",
        error.message
    );
    assert_eq!(hi.attempts.len(), 1, "not retried: {hi:#?}");
    assert_eq!(hi.attempts[0].digest, None, "nothing ran");
    assert_eq!(app.metric("weft_artifact_mismatches_total").await, 1.0);

    // The right bytes back: the next run loads and runs them, and its
    // attempt records the digest that ran.
    std::fs::write(&path, &original).unwrap();
    let run = run_as(&app, &a, &wf).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    let hi = step(&run, "hi");
    assert_eq!(hi.output, Some(json!({"hello": "ada", "version": "0.1.0"})));
    assert_eq!(
        hi.attempts[0].digest.as_deref(),
        Some(published.digest.as_str())
    );
    assert_eq!(app.metric("weft_artifact_mismatches_total").await, 1.0);
}
