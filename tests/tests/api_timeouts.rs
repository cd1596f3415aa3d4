//! H2 and S12 through the API, played as attacks: a workflow with an absurd
//! timeout is refused at save naming the limit; one stored before the limit
//! runs within it (no overflowed, short lease, no second attempt in
//! parallel); and cancelling a run stops its spinning plugin at once.
//!
//! Only `post`, `get`, `raw` and `expect` of `TestApp` are used, with a
//! polling loop of its own on `GET /v1/runs/{id}`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use weft_model::{Run, StartQuery, StartRun};
use weft_tests::TestApp;
use weft_types::{Reason, Status};

/// Polls `GET /v1/runs/{id}` until `done` holds or `within` passes; the run
/// as last seen, and whether `done` held.
async fn poll(
    app: &TestApp,
    run_id: &str,
    within: Duration,
    mut done: impl FnMut(&Value) -> bool,
) -> (Value, bool) {
    let end = Instant::now() + within;
    loop {
        let run = app.get(&format!("/v1/runs/{run_id}")).await.expect(200);
        if done(&run) {
            return (run, true);
        }
        if Instant::now() >= end {
            return (run, false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn step<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == key))
        .unwrap_or(&Value::Null)
}

fn attempts(run: &Value, key: &str) -> Vec<Value> {
    step(run, key)["attempts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `weft_attempts_running`: plugins running in the process.
async fn running(app: &TestApp) -> u64 {
    app.metric("weft_attempts_running").await as u64
}

fn spin(timeout_ms: u64) -> Value {
    json!({"name": "spinner", "steps": [
        {"id": "spin", "kind": "action", "connector": "hostile", "action": "spin",
         "input": {}, "timeout_ms": timeout_ms,
         "retry": {"max_attempts": 3, "non_retryable": [], "initial_interval_ms": 10}}
    ]})
}

async fn start(app: &TestApp, wf: &Value) -> String {
    let id = wf["id"].as_str().unwrap();
    let run = app
        .post(&format!("/v1/workflows/{id}/runs"), json!({"input": {}}))
        .await
        .expect(201);
    run["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_absurd_timeout_is_refused_at_save_naming_the_limit() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let mut def = spin(u64::MAX);
    def["timeout_ms"] = json!(u64::MAX);
    let r = app.post("/v1/workflows", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "invalid_workflow", "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    let at = |path: &str| {
        details
            .iter()
            .find(|d| d["path"] == path)
            .and_then(|d| d["message"].as_str())
            .unwrap_or_else(|| panic!("no problem at {path}: {details:#?}"))
            .to_owned()
    };
    let step = at("/steps/0/timeout_ms");
    assert!(
        step.contains("max_step_timeout_ms") && step.contains("3600000"),
        "{step}"
    );
    let run = at("/timeout_ms");
    assert!(run.contains("max_run_timeout_ms"), "{run}");
    // At the limit it is accepted.
    app.post("/v1/workflows", spin(3_600_000)).await.expect(201);
}

#[tokio::test]
async fn cancelling_a_run_stops_its_spinning_plugin_promptly() {
    // One attempt at a time: a plugin that kept spinning would hold the only
    // slot, and the second run below could not start.
    let app = TestApp::builder()
        .plugin("fixture_hostile")
        .config(|c| c.worker.concurrency = 1)
        .start()
        .await;
    let wf = app.post("/v1/workflows", spin(60_000)).await.expect(201);
    let run_id = start(&app, &wf).await;
    let (run, ok) = poll(&app, &run_id, Duration::from_secs(20), |r| {
        step(r, "spin")["status"] == "running"
    })
    .await;
    assert!(ok, "the step never ran: {run:#}");
    assert_eq!(running(&app).await, 1);

    let t0 = Instant::now();
    let cancelled = app
        .post(&format!("/v1/runs/{run_id}/cancel"), json!(null))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled:#}");
    let (run, ok) = poll(&app, &run_id, Duration::from_secs(3), |r| {
        attempts(r, "spin")
            .first()
            .is_some_and(|a| a["status"] == "cancelled")
    })
    .await;
    assert!(
        ok,
        "the attempt was not stopped within 3 s of the cancel: {run:#}"
    );
    let stopped_in = t0.elapsed();
    assert_eq!(run["status"], "cancelled", "{run:#}");
    assert_eq!(step(&run, "spin")["status"], "cancelled", "{run:#}");
    let a = &attempts(&run, "spin")[0];
    assert_eq!(a["error"]["reason"], "cancelled", "{a:#}");
    assert_eq!(a["error"]["kind"], "cancelled", "{a:#}");
    assert!(a["finished_at"].is_i64(), "{a:#}");
    assert!(
        a["usage"]["wall_time_us"].is_u64(),
        "the usage is kept: {a:#}"
    );
    assert_eq!(running(&app).await, 0, "no plugin runs any more");
    assert!(stopped_in < Duration::from_secs(3), "{stopped_in:?}");

    // The slot is free: another run's step runs now, not in 60 s.
    let quick = app
        .post(
            "/v1/workflows",
            json!({"name": "quick", "steps": [
                {"id": "ctx", "kind": "action", "connector": "hostile", "action": "echo-context", "input": {}}
            ]}),
        )
        .await
        .expect(201);
    let quick_run = start(&app, &quick).await;
    let (done, ok) = poll(&app, &quick_run, Duration::from_secs(5), |r| {
        r["status"] == "completed"
    })
    .await;
    assert!(ok, "the next run did not get the slot: {done:#}");

    // And the cancelled step never started again.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let run = app.get(&format!("/v1/runs/{run_id}")).await.expect(200);
    assert_eq!(attempts(&run, "spin").len(), 1, "{run:#}");
    assert_eq!(run["status"], "cancelled");
}

#[tokio::test]
async fn a_stored_absurd_timeout_runs_within_the_cap_with_one_attempt_at_a_time() {
    // A low cap, so that the test sees the clamped deadline pass.
    let app = TestApp::builder()
        .plugin("fixture_hostile")
        .config(|c| c.worker.max_step_timeout_ms = 1_000)
        .start()
        .await;
    let wf = app.post("/v1/workflows", spin(1_000)).await.expect(201);
    let wf_id = wf["id"].as_str().unwrap().to_owned();
    // A version stored before the cap existed: written as it was, unvalidated.
    let store = app.server.handle.store().clone();
    let mut old = spin(u64::MAX);
    old["timeout_ms"] = json!(u64::MAX);
    let tenant = app.server.default_tenant.clone();
    store
        .add_version(
            &weft_types::WorkflowVersion {
                tenant_id: tenant,
                workflow_id: wf_id.clone(),
                version: 2,
                definition: old,
                created_at: weft_worker::now_ms(),
            },
            "spinner",
            weft_worker::now_ms(),
        )
        .await
        .unwrap();
    let run_id = start(&app, &json!({"id": wf_id})).await;
    let mut most_running = 0;
    let (run, ok) = poll(&app, &run_id, Duration::from_secs(30), |r| {
        let live = attempts(r, "spin")
            .iter()
            .filter(|a| a["status"] == "running")
            .count();
        most_running = most_running.max(live);
        r["status"] == "failed"
    })
    .await;
    assert!(ok, "the run never ended: {run:#}");
    assert_eq!(most_running, 1, "two attempts ran at once: {run:#}");
    assert_eq!(run["version"], 2);
    let all = attempts(&run, "spin");
    assert_eq!(all.len(), 3, "three attempts, one after the other: {run:#}");
    for a in &all {
        assert_eq!(a["error"]["reason"], "deadline_exceeded", "{a:#}");
        let ms = a["finished_at"].as_i64().unwrap() - a["started_at"].as_i64().unwrap();
        assert!(
            (900..10_000).contains(&ms),
            "stopped at the 1 s cap, took {ms} ms: {a:#}"
        );
    }
    for w in all.windows(2) {
        assert!(
            w[1]["started_at"].as_i64() >= w[0]["finished_at"].as_i64(),
            "attempts overlapped: {run:#}"
        );
    }
}

/// The cancel is committed by another process on the same database (an API
/// process, as in distributed mode): the worker running the step learns it
/// within `lease_check_ms` and stops the plugin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_by_another_process_stops_its_plugin_within_the_check_interval() {
    use weft_cli::server::{Config, Role, Server};
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded(dir.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.plugins = vec![weft_tests::wasm_dir().join("fixture_hostile.wasm")];
    config.worker.lease_check_ms = 200;
    let worker = Server::start(config.clone()).await.unwrap();
    let key = worker.bootstrap_key.clone().unwrap();
    let api = Server::start(Config {
        role: Role::Api,
        bootstrap: false,
        migrate: false,
        ..config
    })
    .await
    .unwrap();
    // The worker's process serves the reads; the cancel goes to the API's.
    let on_worker =
        weft_client::Client::new(&format!("http://{}", worker.addr), Some(&key)).unwrap();
    let on_api = weft_client::Client::new(&format!("http://{}", api.addr), Some(&key)).unwrap();
    let def = spin(60_000);
    let wf = on_worker
        .create_workflow(weft_client::Definition::Json(&def))
        .await
        .unwrap();
    let run = on_worker
        .start_run(
            &wf.id,
            &StartRun {
                input: json!({}),
                until: None,
            },
            &StartQuery::default(),
        )
        .await
        .unwrap();
    let spin_attempts = |r: &Run| {
        r.step("spin")
            .map(|s| s.attempts.clone())
            .unwrap_or_default()
    };
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let r = on_worker.get_run(&run.id).await.unwrap();
        if r.step("spin").is_some_and(|s| s.status == Status::Running) {
            break;
        }
        assert!(Instant::now() < end, "the step never ran: {r:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let t0 = Instant::now();
    on_api.cancel_run(&run.id).await.unwrap();
    let stopped = loop {
        let r = on_worker.get_run(&run.id).await.unwrap();
        if spin_attempts(&r)
            .first()
            .is_some_and(|a| a.status == Status::Cancelled)
        {
            break r;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "the worker did not stop the plugin within 3 s: {r:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let a = &spin_attempts(&stopped)[0];
    assert_eq!(
        a.error.as_ref().and_then(|e| e.reason),
        Some(Reason::Cancelled),
        "{a:#?}"
    );
    assert_eq!(
        worker
            .handle
            .metrics()
            .attempts
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    api.stop().await;
    worker.stop().await;
}

/// Two processes that run steps never share an embedded data directory:
/// each would recover, and run, the other's steps. The second is refused,
/// told what to do instead; an API process beside the first is allowed
/// (the test above), and so is a new one once the first has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_that_runs_steps_cannot_open_the_same_data_directory() {
    use weft_cli::server::{Config, Role, Server};
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::embedded(dir.path());
    config.http = false;
    let first = Server::start(config.clone()).await.unwrap();
    for role in [Role::All, Role::Worker] {
        let second = Server::start(Config {
            role,
            ..config.clone()
        })
        .await;
        let err = format!("{:#}", second.err().expect("a second server started"));
        assert!(err.contains("another weft process"), "{err}");
        assert!(err.contains("weft mcp --server"), "{err}");
    }
    first.stop().await;
    let again = Server::start(config).await.unwrap();
    again.stop().await;
}
