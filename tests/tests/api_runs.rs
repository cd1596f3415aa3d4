//! Runs through the real HTTP API: webhooks (sync and async), manual runs,
//! retries with backoff, continue-on-fail, waits resumed through the API and
//! the resume URL, the error workflow, cancel, re-run, loops and branches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use weft_model::Run;
use weft_tests::{StandIn, TestApp, step};
use weft_types::{ErrorKind, Reason, Status};

fn greet() -> Value {
    json!({
        "name": "greet",
        "vars": {"greeting": "Hello"},
        "steps": [
            {"id": "names", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": "[.people[] | select(.active) | .name]", "data": "{{ trigger.body }}"}},
            {"id": "reply", "kind": "respond", "status": 201, "headers": {"x-greeting": "{{ vars.greeting }}"},
             "body": {"message": "{{ vars.greeting }}, {{ length(steps.names.output.result) }} people",
                      "names": "{{ steps.names.output.result }}"}}
        ]
    })
}

#[tokio::test]
async fn a_webhook_answers_with_what_the_workflow_responds() {
    let app = TestApp::builder().start().await;
    let wf = app.workflow(greet()).await;
    let hook = wf.hook_url();
    let body =
        json!({"people": [{"name": "Ada", "active": true}, {"name": "Bob", "active": false}]});
    let resp = app.call_as("", "POST", hook, Some(body)).await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.headers["x-greeting"], "Hello");
    assert_eq!(
        resp.body,
        json!({"message": "Hello, 1 people", "names": ["Ada"]})
    );

    let runs = app
        .get(&format!("/v1/runs?workflow_id={}", wf.id))
        .await
        .expect(200);
    let run = &runs["items"][0];
    assert_eq!(run["trigger"], "webhook");
    assert_eq!(run["status"], "completed");
    let full: Run = app
        .get(&format!("/v1/runs/{}", run["id"].as_str().unwrap()))
        .await
        .typed(200);
    let names = step(&full, "names");
    assert_eq!(names.attempts.len(), 1);
    let attempt = &names.attempts[0];
    assert_eq!(attempt.status, Status::Completed);
    assert!(
        attempt.usage.as_ref().unwrap()["wall_time_us"]
            .as_u64()
            .unwrap()
            > 0,
        "{attempt:?}"
    );
    assert!(attempt.idempotency_key.ends_with(":names"));
}

#[tokio::test]
async fn a_webhooks_answer_cannot_set_the_servers_headers_and_html_runs_sandboxed() {
    let app = TestApp::builder().start().await;
    // Refused at save, naming the header.
    let bad = app
        .post(
            "/v1/workflows",
            json!({"name": "cookie", "steps": [{"id": "r", "kind": "respond",
                "headers": {"Set-Cookie": "session=attacker", "Transfer-Encoding": "chunked"},
                "body": "hi"}]}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let paths: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/steps/0/headers/Set-Cookie",
            "/steps/0/headers/Transfer-Encoding"
        ],
        "{}",
        bad.body
    );
    // An HTML answer is served, never sniffed, and sandboxed in the browser.
    let wf = app
        .workflow(
            json!({"name": "page", "steps": [{"id": "r", "kind": "respond",
            "headers": {"content-type": "text/html"},
            "body": "<script>fetch('/v1/keys')</script>"}]}),
        )
        .await;
    let resp = app
        .raw("", "POST", wf.hook_url(), "application/json", None)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.headers["content-type"], "text/html");
    assert_eq!(resp.headers["x-content-type-options"], "nosniff");
    let csp = resp.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(resp.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn inactive_and_unknown_webhooks_are_404() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.post("/v1/workflows", greet()).await.expect(201);
    let hook = wf["webhook_url"].as_str().unwrap();
    assert_eq!(
        app.call_as("", "POST", hook, Some(json!({}))).await.status,
        404
    );
    let unknown = format!("{}/hooks/{}", app.base, "0".repeat(64));
    let r = app.call_as("", "POST", &unknown, Some(json!({}))).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

#[tokio::test]
async fn an_async_webhook_answers_202_with_the_run_id() {
    let app = TestApp::builder().memory().start().await;
    let mut def = greet();
    def["triggers"] = json!({"webhook": {"mode": "async"}});
    let wf = app.workflow(def).await;
    let r = app
        .call_as("", "POST", wf.hook_url(), Some(json!({"people": []})))
        .await;
    let body = r.expect(202);
    let run = app.finished(body["run_id"].as_str().unwrap()).await;
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.response.as_ref().unwrap().body["names"], json!([]));
}

/// A stand-in that fails `failures` times with 503, then answers 200.
async fn flaky(failures: u32) -> (StandIn, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let router = axum::Router::new().route(
        "/charge",
        post(move || {
            let seen = seen.clone();
            async move {
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= failures {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned())
                } else {
                    (StatusCode::OK, format!("{{\"call\": {n}}}"))
                }
            }
        }),
    );
    (StandIn::start(router).await, calls)
}

fn charge(stand_in: &StandIn, retry: Value, continue_on_fail: bool) -> Value {
    json!({
        "name": "charge",
        "grants": {"hosts": [format!("127.0.0.1:{}", stand_in.port())]},
        "steps": [
            {"id": "charge", "kind": "action", "connector": "http", "action": "request",
             "input": {"method": "POST", "url": stand_in.url("/charge"), "fail_on_status": true},
             "retry": retry, "continue_on_fail": continue_on_fail},
            {"id": "done", "kind": "respond", "body": {"charge": "{{ steps.charge.output }}"}}
        ]
    })
}

#[tokio::test]
async fn transient_failures_retry_with_backoff_and_each_attempt_is_journaled() {
    let app = TestApp::builder().start().await;
    let (stand_in, calls) = flaky(2).await;
    let retry = json!({"max_attempts": 5, "initial_interval_ms": 50, "backoff_coefficient": 2});
    let wf = app.workflow(charge(&stand_in, retry, false)).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let attempts = step(&run, "charge").attempts.clone();
    let statuses: Vec<Status> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [Status::Failed, Status::Failed, Status::Completed]
    );
    assert_eq!(
        attempts[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Transient)
    );
    // Full jitter may pick 0 ms, but attempts never start before the previous one ended.
    for w in attempts.windows(2) {
        assert!(Some(w[1].started_at) >= w[0].finished_at, "{w:?}");
    }
    let keys: Vec<&str> = attempts
        .iter()
        .map(|a| a.idempotency_key.as_str())
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one idempotency key across attempts: {keys:?}"
    );
}

#[tokio::test]
async fn exhausted_retries_fail_the_run_and_start_the_error_workflow() {
    let app = TestApp::builder().start().await;
    let (stand_in, calls) = flaky(100).await;
    let handler = app
        .workflow(json!({"name": "on-error", "steps": [
            {"id": "note", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".error.step", "data": "{{ trigger }}"}}
        ]}))
        .await;
    let mut def = charge(
        &stand_in,
        json!({"max_attempts": 2, "initial_interval_ms": 10}),
        false,
    );
    def["error_workflow"] = json!(handler.id);
    let wf = app.workflow(def).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Failed);
    assert_eq!(
        run.error.as_ref().and_then(|e| e.step.as_deref()),
        Some("charge")
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "max_attempts counts every attempt"
    );
    assert!(
        run.steps
            .as_deref()
            .unwrap()
            .iter()
            .all(|s| s.key != "done"),
        "nothing after the failed step was created: {run:#?}"
    );

    let q = format!("/v1/runs?workflow_id={}", handler.id);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let handled = loop {
        let list = app.get(&q).await.expect(200);
        if let Some(r) = list["items"].as_array().unwrap().first() {
            break r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the error workflow never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(handled["trigger"], "error");
    assert_eq!(handled["parent_run_id"], id.as_str());
    let handled = app.finished(handled["id"].as_str().unwrap()).await;
    assert_eq!(handled.status, Status::Completed, "{handled:#?}");
    assert_eq!(handled.output.as_ref().unwrap()["result"], "charge");
}

#[tokio::test]
async fn a_sync_webhook_whose_run_fails_answers_422_with_the_envelope_not_500() {
    let app = TestApp::builder().memory().start().await;
    let (stand_in, _calls) = flaky(100).await;
    let def = charge(&stand_in, json!({"max_attempts": 1}), false);
    let wf = app.workflow(def).await;
    let r = app
        .call_as("", "POST", wf.hook_url(), Some(json!({})))
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "run_failed");
    let run_id = r.body["error"]["run_id"].as_str().unwrap().to_owned();
    assert_eq!(r.headers["x-weft-run-id"], run_id.as_str());
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&run_id) && msg.contains("failed at step `charge`"),
        "{msg}"
    );
    let run = app.finished(&run_id).await;
    assert_eq!(run.status, Status::Failed);
}

#[tokio::test]
async fn continue_on_fail_hands_the_error_to_the_next_step() {
    let app = TestApp::builder().memory().start().await;
    let (stand_in, _) = flaky(100).await;
    let def = charge(&stand_in, json!({"max_attempts": 1}), true);
    let wf = app.workflow(def).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(step(&run, "charge").status, Status::Failed);
    assert_eq!(
        run.response.as_ref().unwrap().body["charge"]["error"]["kind"],
        "transient"
    );
}

fn approval() -> Value {
    json!({"name": "approval", "steps": [
        {"id": "approve", "kind": "wait", "until": "resume"},
        {"id": "reply", "kind": "respond", "body": {"decision": "{{ steps.approve.output.payload.decision }}"}}
    ]})
}

#[tokio::test]
async fn a_wait_is_resumed_through_the_api() {
    let app = TestApp::builder().start().await;
    let wf = app.workflow(approval()).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app
        .until(&id, |r| {
            r.steps.as_deref().is_some_and(|s| {
                s.iter()
                    .any(|s| s.key == "approve" && s.status == Status::Waiting)
            })
        })
        .await;
    assert_eq!(run.status, Status::Waiting);
    let path = format!("/v1/runs/{id}/steps/approve/resume");
    app.post(&path, json!({"payload": {"decision": "yes"}}))
        .await
        .expect(200);
    let run = app.finished(&id).await;
    assert_eq!(
        run.response.as_ref().unwrap().body,
        json!({"decision": "yes"})
    );
    let again = app.post(&path, json!({"payload": {}})).await;
    assert_eq!(
        (again.status, again.code()),
        (409, "conflict"),
        "a step resumes once"
    );
}

#[tokio::test]
async fn a_wait_is_resumed_through_its_resume_url_without_a_key() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(approval()).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app
        .until(&id, |r| {
            r.steps
                .as_deref()
                .is_some_and(|s| s.iter().any(|s| s.resume_url.is_some()))
        })
        .await;
    let url = step(&run, "approve").resume_url.clone().unwrap();
    assert!(url.starts_with(&app.base), "{url}");
    app.call_as("", "POST", &url, Some(json!({"decision": "no"})))
        .await
        .expect(200);
    assert_eq!(
        app.finished(&id).await.response.unwrap().body["decision"],
        "no"
    );
    assert_eq!(
        app.call_as("", "POST", &url, Some(json!({}))).await.status,
        404,
        "a used token is gone"
    );
}

/// A resume URL is a credential (`/resume/{token}` takes no key): only a
/// caller who may resume the step through the API is shown it. A viewer, or a
/// member's key scoped to reading runs, reads the run without it.
#[tokio::test]
async fn only_callers_who_may_resume_see_the_resume_url() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(approval()).await;
    let id = app.start_run(&wf.id, json!({})).await;
    let path = format!("/v1/runs/{id}");
    let run = app
        .until(&id, |r| {
            r.steps
                .as_deref()
                .is_some_and(|s| s.iter().any(|s| s.resume_url.is_some()))
        })
        .await;
    assert!(
        step(&run, "approve").resume_url.is_some(),
        "the owner sees it"
    );
    let key = |role: &str, scopes: Value| {
        let app = &app;
        let role = role.to_owned();
        async move {
            let mut body = json!({"name": role, "role": role});
            if !scopes.is_null() {
                body["scopes"] = scopes;
            }
            app.post("/v1/keys", body).await.expect(201)["secret"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let viewer = key("viewer", Value::Null).await;
    let reader = key("member", json!([format!("runs:read:{}", wf.id)])).await;
    let resumer = key(
        "member",
        json!([
            format!("runs:read:{}", wf.id),
            format!("runs:resume:{}", wf.id)
        ]),
    )
    .await;
    for (who, secret, sees) in [
        ("viewer", &viewer, false),
        ("runs:read", &reader, false),
        ("runs:resume", &resumer, true),
    ] {
        let body = app.call_as(secret, "GET", &path, None).await.expect(200);
        let waiting = body["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == "approve")
            .unwrap();
        assert_eq!(waiting["status"], "waiting", "{who}");
        assert_eq!(
            waiting.get("resume_url").is_some(),
            sees,
            "{who}: {waiting}"
        );
    }
}

/// A webhook URL is a credential too (`/hooks/{token}` takes no key): a
/// viewer, or a key that may read the workflow but not start its runs, reads
/// the workflow without it (in the list, the search and the workflow itself).
#[tokio::test]
async fn only_callers_who_may_start_runs_see_the_webhook_url() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(approval()).await;
    assert!(wf.hook_url().contains("/hooks/"), "the owner sees it");
    app.start_run(&wf.id, json!({})).await;
    let mut keys = Vec::new();
    for (role, scopes) in [
        ("viewer", json!(null)),
        ("member", json!([format!("workflows:read:{}", wf.id)])),
        (
            "member",
            json!([
                format!("workflows:read:{}", wf.id),
                format!("runs:start:{}", wf.id)
            ]),
        ),
    ] {
        let mut body = json!({"name": role, "role": role});
        if !scopes.is_null() {
            body["scopes"] = scopes;
        }
        keys.push(
            app.post("/v1/keys", body).await.expect(201)["secret"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // (webhook URL, newest run): only a key that may start runs gets the
    // first, only one that may read runs (the unscoped viewer) the second.
    for (key, (sees, runs)) in keys
        .iter()
        .zip([(false, true), (false, false), (true, false)])
    {
        let one = app
            .call_as(key, "GET", &format!("/v1/workflows/{}", wf.id), None)
            .await
            .expect(200);
        assert_eq!(one.get("webhook_url").is_some(), sees, "{one}");
        assert_eq!(one["last_run"].is_object(), runs, "{one}");
        if sees {
            continue;
        }
        // A key scoped to one workflow cannot list; the viewer can.
        let list = app
            .call_as(key, "GET", "/v1/workflows?q=approval", None)
            .await;
        if list.status == 200 {
            assert!(list.body.to_string().contains(&wf.id), "{}", list.body);
            assert!(!list.body.to_string().contains("/hooks/"), "{}", list.body);
        }
    }
}

#[tokio::test]
async fn cancel_stops_a_waiting_run() {
    let app = TestApp::builder().start().await;
    let wf = app.workflow(approval()).await;
    let id = app.start_run(&wf.id, json!({})).await;
    app.until(&id, |r| {
        r.steps
            .as_deref()
            .is_some_and(|s| s.iter().any(|s| s.key == "approve"))
    })
    .await;
    let cancelled = app
        .post(&format!("/v1/runs/{id}/cancel"), json!(null))
        .await
        .expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    let run: Run = app.get(&format!("/v1/runs/{id}")).await.typed(200);
    assert_eq!(step(&run, "approve").status, Status::Cancelled);
    let again = app
        .post(&format!("/v1/runs/{id}/cancel"), json!(null))
        .await;
    assert_eq!((again.status, again.code()), (409, "conflict"));
    let resume = app
        .post(&format!("/v1/runs/{id}/steps/approve/resume"), json!({}))
        .await;
    assert_eq!(resume.status, 409, "a cancelled run does not resume");
}

#[tokio::test]
async fn rerun_from_a_step_reuses_upstream_results() {
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(json!({"name": "two", "steps": [
            {"id": "first", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ". + 1", "data": "{{ trigger.body }}"}},
            {"id": "last", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ". * 10", "data": "{{ steps.first.output.result }}"}}
        ]}))
        .await;
    let id = app.start_run(&wf.id, json!(4)).await;
    assert_eq!(app.finished(&id).await.output.unwrap()["result"], 50);

    let rerun = app
        .post(&format!("/v1/runs/{id}/rerun"), json!({"from": "last"}))
        .await
        .expect(201);
    let rerun = app.finished(rerun["id"].as_str().unwrap()).await;
    assert_eq!(rerun.status, Status::Completed, "{rerun:#?}");
    assert_eq!(rerun.output.as_ref().unwrap()["result"], 50);
    assert!(
        step(&rerun, "first").attempts.is_empty(),
        "reused, not re-run"
    );
    assert_eq!(step(&rerun, "last").attempts.len(), 1, "re-run");
    let bad = app
        .post(&format!("/v1/runs/{id}/rerun"), json!({"from": "nope"}))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_request"));
    let unknown = app.post("/v1/runs/run_nope/retry", json!(null)).await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
}

#[tokio::test]
async fn loops_branches_and_subworkflows_run_to_completion() {
    let app = TestApp::builder().start().await;
    let child = app
        .workflow(json!({"name": "double", "steps": [
            {"id": "d", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ". * 2", "data": "{{ trigger.n }}"}}
        ]}))
        .await;
    let wf = app.workflow(json!({"name": "fan", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.body.xs", "parallelism": 3, "body": [
            {"id": "sq", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ". * .", "data": "{{ item }}"}}
        ]},
        {"id": "big", "kind": "condition", "if": "length(steps.each.output) > 3", "then": ["sub"], "else": ["small"]},
        {"id": "sub", "kind": "subworkflow", "workflow": child.id, "input": {"n": "{{ length(steps.each.output) }}"}},
        {"id": "small", "kind": "respond", "body": "small"},
        {"id": "out", "kind": "merge", "after": ["sub", "small"]}
    ]})).await;
    let id = app.start_run(&wf.id, json!({"xs": [1, 2, 3, 4, 5]})).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    let squares: Vec<Value> = step(&run, "each")
        .output
        .as_ref()
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["result"].clone())
        .collect();
    assert_eq!(
        squares,
        [json!(1), json!(4), json!(9), json!(16), json!(25)]
    );
    assert_eq!(step(&run, "small").status, Status::Skipped);
    assert_eq!(step(&run, "sub").output.as_ref().unwrap()["result"], 10);
    assert_eq!(step(&run, "each[4].sq").status, Status::Completed);
}

#[tokio::test]
async fn a_cron_schedule_starts_runs_while_active_only() {
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(json!({"name": "tick",
            "triggers": {"schedule": {"cron": "* * * * * *", "timezone": "Europe/Oslo"}},
            "steps": [{"id": "r", "kind": "respond", "body": "{{ trigger.body.scheduled_at }}"}]
        }))
        .await;
    let id = wf.id.as_str();
    let q = format!("/v1/runs?workflow_id={id}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let run = loop {
        if let Some(r) = app.get(&q).await.expect(200)["items"]
            .as_array()
            .unwrap()
            .first()
        {
            break r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the schedule never fired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(run["trigger"], "schedule");
    let run = app.finished(run["id"].as_str().unwrap()).await;
    let tick = run.response.as_ref().unwrap().body.as_i64().unwrap();
    assert_eq!(tick % 1000, 0, "scheduled on a whole second: {tick}");

    app.post(&format!("/v1/workflows/{id}/deactivate"), json!(null))
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let before = app.get(&format!("{q}&limit=500")).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .len();
    tokio::time::sleep(std::time::Duration::from_millis(2_200)).await;
    let after = app.get(&format!("{q}&limit=500")).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        before, after,
        "an inactive workflow's schedule does not fire"
    );
}

#[tokio::test]
async fn a_run_past_its_timeout_fails_and_its_steps_are_cancelled() {
    let app = TestApp::builder().memory().start().await;
    let wf = app
        .workflow(json!({"name": "slow", "timeout_ms": 300, "steps": [
            {"id": "nap", "kind": "wait", "duration_ms": 60000}
        ]}))
        .await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app.finished(&id).await;
    assert_eq!(run.status, Status::Failed);
    assert_eq!(
        run.error.as_ref().and_then(|e| e.failure.reason),
        Some(Reason::RunTimeout)
    );
    assert_eq!(step(&run, "nap").status, Status::Cancelled);
}
