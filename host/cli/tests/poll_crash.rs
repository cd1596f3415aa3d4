//! A polling trigger survives `kill -9` between a poll and its commit
//! (`docs/WORKFLOWS.md`, "Polling"): real `weft serve` processes on one
//! SQLite data directory, the bundled `http` connector's `new-items` trigger
//! polling a loopback stand-in feed. The second server is started with the
//! debug-only fault injection `WEFTFAULT_POLL_PAUSE_MS`, which holds a poll
//! that found items between the poll and its commit; the test kills it
//! there. After a restart without it, every item has started exactly one
//! run: the one the killed poll found is not lost (the cursor did not move,
//! so the next poll finds it again), and the ones committed before are not
//! repeated (their keys were committed with their runs).
//!
//! Why a fault-injection variable and not only a stand-in that stalls: a
//! stalled answer holds the poll *before* it returns, which is the same as a
//! kill before the poll; the window that matters is after the connector
//! returned and before the commit, and only the server can hold it there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::response::IntoResponse;
use common::Serve;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft_tests::{Received, StandIn};

fn serve(data: &std::path::Path, first_start: bool, pause: bool) -> Serve {
    let mut env = vec![
        ("WEFT_SANDBOX_EGRESS_ALLOW_PRIVATE", "true".to_owned()),
        ("WEFT_WORKER_SWEEP_INTERVAL_MS", "100".to_owned()),
        // A poll's claim lasts its deadline plus a margin: short here, so a
        // restart polls again soon after the killed server's claim.
        ("WEFT_WORKER_DEFAULT_STEP_TIMEOUT_MS", "2000".to_owned()),
    ];
    if pause {
        env.push(("WEFTFAULT_POLL_PAUSE_MS", "120000".to_owned()));
    }
    Serve::start_with(
        data,
        first_start,
        &["weft_plugin_http", "weft_plugin_transform"],
        &env,
    )
}

struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// The ids in the bodies of the workflow's poll runs.
    async fn polled_ids(&self, wf: &str) -> Vec<i64> {
        let page = self
            .call(
                reqwest::Method::GET,
                &format!("/v1/runs?workflow_id={wf}&trigger=poll&limit=100"),
                None,
            )
            .await;
        let mut ids = Vec::new();
        for r in page["items"].as_array().unwrap() {
            let run = self
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/runs/{}", r["id"].as_str().unwrap()),
                    None,
                )
                .await;
            ids.push(run["input"]["body"]["id"].as_i64().unwrap());
        }
        ids.sort_unstable();
        ids
    }
}

fn api(s: &Serve, key: &str) -> Api {
    Api {
        base: s.base.clone(),
        key: key.to_owned(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    }
}

async fn until<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_poll_and_commit_loses_and_repeats_no_item() {
    let items = Arc::new(Mutex::new(vec![json!({"id": 1}), json!({"id": 2})]));
    let feed = items.clone();
    let (stand_in, inbox) = StandIn::scripted(move |_: &Received| {
        axum::Json(json!({"items": feed.lock().unwrap().clone()})).into_response()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();

    // 1. A poll starts a run per item.
    let mut server = serve(dir.path(), true, false);
    let key = server.key.clone().expect("bootstrap key on first start");
    let a = api(&server, &key);
    let wf = a
        .call(
            reqwest::Method::POST,
            "/v1/workflows",
            Some(json!({
                "name": "feed",
                "grants": {"hosts": ["127.0.0.1"]},
                "triggers": {"poll": {"connector": "http", "trigger": "new-items",
                    "interval_ms": 1000,
                    "config": {"url": stand_in.url("/feed"), "items": "/items"}}},
                "steps": [{"id": "echo", "kind": "action", "connector": "transform",
                           "action": "jq", "input": {"filter": ".", "data": "{{ trigger.body }}"}}]
            })),
        )
        .await;
    let wf = wf["id"].as_str().unwrap().to_owned();
    a.call(
        reqwest::Method::POST,
        &format!("/v1/workflows/{wf}/activate"),
        None,
    )
    .await;
    until("two poll runs", 60, || async {
        a.polled_ids(&wf).await.len() >= 2
    })
    .await;
    assert_eq!(a.polled_ids(&wf).await, vec![1, 2]);
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();

    // 2. A new item; the restarted server polls, finds 1, 2 and 3, and is
    // killed while it holds them between the poll and the commit.
    items.lock().unwrap().push(json!({"id": 3}));
    let answered = inbox.len();
    server = serve(dir.path(), false, true);
    let a = api(&server, &key);
    until("a poll after the restart", 60, || async {
        inbox.len() > answered
    })
    .await;
    // The connector returns within milliseconds of the answer; the server
    // then holds the poll (120 s) before its commit.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        a.polled_ids(&wf).await,
        vec![1, 2],
        "the held poll committed nothing yet"
    );
    let state = a
        .call(reqwest::Method::GET, &format!("/v1/workflows/{wf}"), None)
        .await;
    assert_eq!(state["poll"]["polling"], true, "{state}");
    server.child.kill().unwrap(); // SIGKILL between poll and commit
    server.child.wait().unwrap();

    // 3. Restarted without the fault: item 3 starts once, 1 and 2 not again.
    let answered = inbox.len();
    server = serve(dir.path(), false, false);
    let a = api(&server, &key);
    until("the third item's run", 60, || async {
        a.polled_ids(&wf).await.len() >= 3
    })
    .await;
    // Two more polls of the same feed start nothing.
    let seen = inbox.len().max(answered);
    until("two more polls", 60, || async { inbox.len() >= seen + 2 }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        a.polled_ids(&wf).await,
        vec![1, 2, 3],
        "every item started exactly once"
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
