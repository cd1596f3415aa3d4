//! Polling triggers (`triggers.poll`) end to end: the bundled `http`
//! connector's `new-items` trigger polls a loopback stand-in feed through the
//! real sandbox, and the server (SQLite) starts one run per new item, drops
//! the items it has seen, keeps the cursor, backs off when the feed fails and
//! shows it on the workflow. Also: the trigger in the sandbox alone, and the
//! definition errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_sandbox::PollCall;
use weft_tests::{Received, StandIn, TestApp, TestSandbox, hosts};
use weft_types::StepContext;

/// A feed the test changes while the server polls it: its items, and
/// whether it answers 503.
#[derive(Clone, Default)]
struct Feed {
    items: Arc<Mutex<Vec<Value>>>,
    down: Arc<Mutex<bool>>,
}

impl Feed {
    fn push(&self, item: Value) {
        self.items.lock().unwrap().push(item);
    }

    fn set_down(&self, down: bool) {
        *self.down.lock().unwrap() = down;
    }

    async fn serve(&self) -> (StandIn, weft_tests::Inbox) {
        let me = self.clone();
        StandIn::scripted(move |_: &Received| {
            if *me.down.lock().unwrap() {
                return (StatusCode::SERVICE_UNAVAILABLE, "feed is down").into_response();
            }
            let items = me.items.lock().unwrap().clone();
            axum::Json(json!({"data": {"items": items}})).into_response()
        })
        .await
    }
}

fn workflow(url: &str, mode: &str) -> Value {
    json!({
        "name": "new items",
        "grants": {"hosts": ["127.0.0.1"]},
        "triggers": {"poll": {
            "connector": "http", "trigger": "new-items", "interval_ms": 1000, "mode": mode,
            "config": {"url": url, "items": "/data/items", "id": "/id"}
        }},
        "steps": [
            {"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": "{{ trigger.body }}"}}
        ]
    })
}

/// The workflow's runs started by a poll, oldest first.
async fn poll_runs(app: &TestApp, wf: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/v1/runs?workflow_id={wf}&trigger=poll&limit=100"))
        .await
        .expect(200);
    let mut items = page["items"].as_array().cloned().unwrap_or_default();
    items.reverse();
    items
}

/// Waits (at most 30 s) until `pred` holds of the workflow's poll runs.
async fn until_runs(app: &TestApp, wf: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let runs = poll_runs(app, wf).await;
        if pred(&runs) {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the poll runs never got there: {runs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 30 s) until `pred` holds of the workflow's `poll` state.
async fn until_poll(app: &TestApp, wf: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let w = app.get(&format!("/v1/workflows/{wf}")).await.expect(200);
        if pred(&w["poll"]) {
            return w["poll"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the workflow's poll state never got there: {}",
            w["poll"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the stand-in has answered `n` more polls than `from`.
async fn polled(inbox: &weft_tests::Inbox, from: usize, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while inbox.len() < from + n {
        assert!(tokio::time::Instant::now() < deadline, "no poll came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn body_of(app: &TestApp, run: &Value) -> Value {
    let id = run["id"].as_str().unwrap();
    let run = app.finished(id).await;
    assert_eq!(run.status, weft_types::Status::Completed, "{run:#?}");
    run.input["body"].clone()
}

#[tokio::test]
async fn new_items_start_one_run_each_and_seen_items_none() {
    let feed = Feed::default();
    feed.push(json!({"id": 1, "title": "first"}));
    feed.push(json!({"id": "two", "title": "second"}));
    let (stand_in, inbox) = feed.serve().await;
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(workflow(&stand_in.url("/feed"), "per_item"))
        .await;

    let runs = until_runs(&app, &wf.id, |r| r.len() >= 2).await;
    assert_eq!(runs.len(), 2, "{runs:#?}");
    // One poll's runs share their creation time: the listing's order
    // between them is not the feed's, so they are compared as a set.
    let mut bodies = vec![body_of(&app, &runs[0]).await, body_of(&app, &runs[1]).await];
    bodies.sort_by_key(|b| b["title"].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        bodies,
        [
            json!({"id": 1, "title": "first"}),
            json!({"id": "two", "title": "second"})
        ]
    );
    let req = &inbox.all()[0];
    assert_eq!((req.method.as_str(), req.uri.as_str()), ("GET", "/feed"));

    // Two more polls of the same feed: nothing new.
    let seen = inbox.len();
    polled(&inbox, seen, 2).await;
    // The commit of the last poll answered may trail its request: wait
    // for the state to say the poll ended after it.
    let at = until_poll(&app, &wf.id, |p| p["last_success_at"].as_i64().is_some()).await;
    assert_eq!(at["polling"], true);
    assert_eq!(at["consecutive_failures"], 0);
    polled(&inbox, inbox.len(), 1).await;
    assert_eq!(
        poll_runs(&app, &wf.id).await.len(),
        2,
        "seen items start no run"
    );

    // A new item: one more run, with it as the body.
    feed.push(json!({"id": 3, "title": "third"}));
    let runs = until_runs(&app, &wf.id, |r| r.len() >= 3).await;
    assert_eq!(
        body_of(&app, &runs[2]).await,
        json!({"id": 3, "title": "third"})
    );
    polled(&inbox, inbox.len(), 2).await;
    assert_eq!(poll_runs(&app, &wf.id).await.len(), 3);

    // Deactivated: no more polls.
    app.post(&format!("/v1/workflows/{}/deactivate", wf.id), json!(null))
        .await
        .expect(200);
    until_poll(&app, &wf.id, |p| p["polling"] == false).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = inbox.len();
    feed.push(json!({"id": 4}));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(inbox.len(), after, "an inactive workflow is not polled");
    assert_eq!(poll_runs(&app, &wf.id).await.len(), 3);
}

#[tokio::test]
async fn batch_mode_starts_one_run_per_poll_that_found_items() {
    let feed = Feed::default();
    feed.push(json!({"id": "a"}));
    feed.push(json!({"id": "b"}));
    let (stand_in, inbox) = feed.serve().await;
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(workflow(&stand_in.url("/feed"), "batch"))
        .await;
    let runs = until_runs(&app, &wf.id, |r| !r.is_empty()).await;
    assert_eq!(
        body_of(&app, &runs[0]).await,
        json!({"items": [{"id": "a"}, {"id": "b"}]})
    );
    polled(&inbox, inbox.len(), 2).await;
    assert_eq!(
        poll_runs(&app, &wf.id).await.len(),
        1,
        "an empty poll starts no batch"
    );
}

#[tokio::test]
async fn a_failing_poll_backs_off_and_shows_on_the_workflow() {
    let feed = Feed::default();
    feed.set_down(true);
    let (stand_in, _inbox) = feed.serve().await;
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(workflow(&stand_in.url("/feed"), "per_item"))
        .await;

    let p = until_poll(&app, &wf.id, |p| {
        p["consecutive_failures"].as_u64() >= Some(2)
    })
    .await;
    let error = p["last_error"].as_str().unwrap();
    assert!(error.contains("503"), "the error names the answer: {error}");
    assert!(p["last_success_at"].is_null());
    // The second failure in a row waits twice the interval.
    let (last, next) = (
        p["last_poll_at"].as_i64().unwrap(),
        p["next_poll_at"].as_i64().unwrap(),
    );
    if p["consecutive_failures"] == 2 {
        assert_eq!(next - last, 2_000, "{p}");
    }

    // Back up: the next poll succeeds, clears the error and starts the run.
    feed.push(json!({"id": 1}));
    feed.set_down(false);
    let p = until_poll(&app, &wf.id, |p| p["consecutive_failures"] == 0).await;
    assert!(p.get("last_error").is_none(), "{p}");
    until_runs(&app, &wf.id, |r| r.len() == 1).await;
}

#[tokio::test]
async fn a_poll_uses_the_workflows_credential_for_its_connector_by_reference() {
    let feed = Feed::default();
    feed.push(json!({"id": 1}));
    let (stand_in, inbox) = feed.serve().await;
    let app = TestApp::builder().start().await;
    let mut def = workflow(&stand_in.url("/feed"), "per_item");
    def["triggers"]["poll"]["config"]["credential"] = json!(true);
    // Bound workflow-wide for the connector, not on the trigger.
    def["grants"]["credentials"] = json!({"http/auth": "feed-token"});

    // Not stored yet: the poll fails, named, and nothing is sent.
    let wf = app.workflow(def).await;
    let p = until_poll(&app, &wf.id, |p| {
        p["consecutive_failures"].as_u64() >= Some(1)
    })
    .await;
    let error = p["last_error"].as_str().unwrap();
    assert!(
        error.contains("credential `feed-token` (slot `auth`) does not exist"),
        "{error}"
    );
    assert_eq!(
        inbox.len(),
        0,
        "a poll without its credential sends nothing"
    );

    // Stored: the host injects it into the poll's request.
    app.post(
        "/v1/credentials",
        json!({"name": "feed-token", "secret": "s3cret", "hosts": ["127.0.0.1"],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let runs = until_runs(&app, &wf.id, |r| !r.is_empty()).await;
    assert_eq!(body_of(&app, &runs[0]).await, json!({"id": 1}));
    assert_eq!(
        inbox.all()[0].header("authorization"),
        Some("Bearer s3cret")
    );
}

#[tokio::test]
async fn definitions_name_what_is_wrong_with_a_poll_trigger() {
    let app = TestApp::builder().start().await;
    let check = |poll: Value| {
        json!({"name": "p", "triggers": {"poll": poll},
               "steps": [{"id": "s", "kind": "action", "connector": "transform", "action": "jq",
                          "input": {"filter": ".", "data": 1}}]})
    };
    let cases = [
        (
            json!({"connector": "http", "trigger": "nope", "config": {"url": "http://x"}}),
            "/triggers/poll/trigger",
            "has no trigger `nope` (it has: new-items)",
        ),
        (
            json!({"connector": "transform", "trigger": "x"}),
            "/triggers/poll/trigger",
            "offers no polling triggers",
        ),
        (
            json!({"connector": "nope", "trigger": "x"}),
            "/triggers/poll/connector",
            "unknown connector",
        ),
        (
            json!({"connector": "http", "trigger": "new-items", "config": {"url": "http://x"}, "interval_ms": 10}),
            "/triggers/poll/interval_ms",
            "between 1000",
        ),
        (
            json!({"connector": "http", "trigger": "new-items", "config": {}}),
            "/triggers/poll/config",
            "url",
        ),
        (
            json!({"connector": "http", "trigger": "new-items", "config": {"url": "http://x"},
                   "credentials": {"token": "c"}}),
            "/triggers/poll/credentials/token",
            "no credential slot `token`",
        ),
    ];
    for (poll, path, says) in cases {
        let r = app.post("/v1/workflows", check(poll.clone())).await;
        assert_eq!(r.status, 400, "{poll}: {}", r.body);
        let problems = r.body["error"]["details"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            problems
                .iter()
                .any(|p| p["path"].as_str().is_some_and(|p| p.starts_with(path))
                    && p["message"].as_str().is_some_and(|m| m.contains(says))),
            "{poll}: expected a problem at {path} saying {says:?}: {}",
            r.body
        );
    }
}

/// The trigger in the sandbox alone: declared in the manifest, polled with
/// the same egress policy as an action (no host granted: denied).
#[tokio::test]
async fn the_http_trigger_in_the_sandbox() {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_http").await;
    let t = plugin.manifest().trigger("new-items").expect("declared");
    assert!(t.config_schema["required"][0] == "url");
    let (stand_in, _inbox) = StandIn::scripted(|_: &Received| {
        axum::Json(json!([{"id": 7, "x": 1}, {"id": 8}])).into_response()
    })
    .await;
    let call = |grants| PollCall {
        trigger: "new-items".into(),
        config: json!({"url": stand_in.url("/f")}).to_string(),
        cursor: None,
        context: StepContext::adhoc("poll"),
        grants,
        limits: weft_sandbox::StepLimits::default(),
        cancel: None,
    };
    let out = sandbox.poll(&plugin, call(hosts(&["127.0.0.1"]))).await;
    let polled = out.result.expect("polled");
    assert_eq!(
        polled.items,
        vec![
            ("7".to_owned(), json!({"id": 7, "x": 1})),
            ("8".to_owned(), json!({"id": 8}))
        ]
    );
    let denied = sandbox.poll(&plugin, call(hosts(&[]))).await;
    let f = denied.result.expect_err("no host granted");
    assert!(f.message.contains("127.0.0.1"), "{f:?}");
    let other = PollCall {
        trigger: "nope".into(),
        ..call(hosts(&[]))
    };
    let f = sandbox.poll(&plugin, other).await.result.unwrap_err();
    assert!(f.message.contains("no trigger `nope`"), "{}", f.message);
    // A connector without the trigger export polls nothing.
    let transform = sandbox.plugin("weft_plugin_transform").await;
    assert!(transform.manifest().triggers.is_empty());
    let f = sandbox
        .poll(&transform, call(hosts(&[])))
        .await
        .result
        .unwrap_err();
    assert!(f.message.contains("offers no triggers"), "{}", f.message);
}
