//! Notifications through a connector (`docs/TENANCY.md`, section 6): a rule
//! runs the bundled `slack` connector's `post-message` in the sandbox against
//! a stand-in Slack API, with the tenant's credential by name and the event
//! rendered into its input; a failing Slack is retried with every try
//! recorded; a bad rule is refused naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weft_model::Page;
use weft_model::notifications::{DeliveryState, NotificationDelivery, NotificationRule};
use weft_tests::{Inbox, StandIn, TestApp};
use weft_types::Status;

const TOKEN: &str = "xoxb-notify-5678";

/// A Slack stand-in: `chat.postMessage` with the bot token; the first
/// `fail_first` calls answer 500.
async fn slack(fail_first: u32) -> (StandIn, Inbox) {
    let calls = Arc::new(AtomicU32::new(0));
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return axum::Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
        }
        if calls.fetch_add(1, Ordering::SeqCst) < fail_first {
            return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
        }
        let body = req.json();
        axum::Json(json!({"ok": true, "channel": body["channel"], "ts": "1.2"})).into_response()
    })
    .await
}

async fn app() -> TestApp {
    let app = TestApp::builder()
        .plugin("weft_plugin_slack")
        .worker(|w| {
            w.notifications.interval_ms = 20;
            w.notifications.retry_base_ms = 50;
            w.notifications.link_base = "https://weft.example.com".into();
        })
        .config(|c| {
            c.sandbox
                .egress
                .resolve
                .insert("slack.com".into(), vec!["127.0.0.1".parse().unwrap()]);
        })
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "slack-bot", "secret": TOKEN, "hosts": ["slack.com"],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    app
}

/// A workflow that fails when its trigger says so (a `fail` step).
fn flaky() -> Value {
    json!({"name": "nightly-export", "steps": [
        {"id": "check", "kind": "action", "connector": "slack", "action": "post-message",
         "config": {"base_url": "http://127.0.0.1:9/api"},
         "input": {"channel": "C0", "text": "x"}, "retry": {"max_attempts": 1}}
    ]})
}

fn target(port: u16) -> Value {
    json!({"type": "connector", "connector": "slack", "action": "post-message",
           "config": {"base_url": format!("http://slack.com:{port}/api")},
           "input": {"channel": "C-ALERTS",
                     "text": "{{ event.workflow_name }} run {{ event.run_id }} {{ event.status }}: {{ event.link }}"},
           "grants": {"hosts": ["slack.com"], "credentials": {"bot-token": "slack-bot"}}})
}

async fn deliveries_until(
    app: &TestApp,
    pred: impl Fn(&[NotificationDelivery]) -> bool,
) -> Vec<NotificationDelivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page: Page<NotificationDelivery> =
            app.get("/v1/notifications/deliveries").await.typed(200);
        if pred(&page.items) {
            return page.items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries never got there: {:#?}",
            page.items
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_failed_run_posts_the_rendered_text_to_slack_once() {
    let app = app().await;
    let (stand_in, inbox) = slack(0).await;
    let wf = app.workflow(flaky()).await;
    let r: NotificationRule = app
        .post(
            "/v1/notifications/rules",
            json!({"on": "run_failed", "target": target(stand_in.port())}),
        )
        .await
        .typed(201);
    assert_eq!(r.signing_secret, None, "a connector rule has no secret");
    let id = app.start_run(&wf.id, json!({})).await;
    assert_eq!(app.finished(&id).await.status, Status::Failed);

    let all = deliveries_until(&app, |d| {
        d.len() == 1 && d[0].status == DeliveryState::Delivered
    })
    .await;
    assert_eq!(all[0].attempts, 1);
    assert_eq!(all[0].run_id, id);
    let got = inbox.only();
    assert_eq!(got.uri, "/api/chat.postMessage");
    assert_eq!(
        got.json(),
        json!({"channel": "C-ALERTS",
               "text": format!("nightly-export run {id} failed: https://weft.example.com/v1/runs/{id}")})
    );
    // The delivery ran no workflow: the tenant has the one failed run only.
    let runs: Page<Value> = app.get("/v1/runs").await.typed(200);
    assert_eq!(runs.items.len(), 1);
}

#[tokio::test]
async fn a_failing_slack_is_retried_and_every_try_recorded() {
    let app = app().await;
    let (stand_in, inbox) = slack(2).await;
    let wf = app.workflow(flaky()).await;
    app.post(
        "/v1/notifications/rules",
        json!({"on": "run_failed", "target": target(stand_in.port())}),
    )
    .await
    .expect(201);
    let id = app.start_run(&wf.id, json!({})).await;
    assert_eq!(app.finished(&id).await.status, Status::Failed);
    let all = deliveries_until(&app, |d| {
        d.len() == 1 && d[0].status == DeliveryState::Delivered
    })
    .await;
    let d = &all[0];
    assert_eq!(d.attempts, 3, "{d:#?}");
    assert!(
        d.tries[0].error.as_deref().unwrap().contains("transient"),
        "{d:#?}"
    );
    assert!(d.tries[1].error.is_some());
    assert_eq!(d.tries[2].error, None);
    assert_eq!(inbox.all().len(), 3);
    assert_eq!(
        app.finished(&id).await.status,
        Status::Failed,
        "the run is untouched"
    );
}

#[tokio::test]
async fn a_bad_connector_rule_is_refused_naming_the_field() {
    let app = app().await;
    let mut cases = Vec::new();
    let mut t = target(1);
    t["connector"] = json!("pager");
    cases.push((t, "target.connector"));
    let mut t = target(1);
    t["action"] = json!("delete-channel");
    cases.push((t, "target.action"));
    let mut t = target(1);
    t["grants"]["credentials"] = json!({"bot-token": "nope"});
    cases.push((t, "target.grants.credentials.bot-token"));
    let mut t = target(1);
    t["grants"]["credentials"] = json!({"api-key": "slack-bot"});
    cases.push((t, "target.grants.credentials.api-key"));
    let mut t = target(1);
    t["input"]["text"] = json!("{{ event.secret }}");
    cases.push((t, "target.input/text"));
    let mut t = target(1);
    t["config"] = json!("x");
    cases.push((t, "target.config"));
    for (t, field) in cases {
        let resp = app
            .post(
                "/v1/notifications/rules",
                json!({"on": "run_failed", "target": t}),
            )
            .await;
        let body = resp.expect(400);
        let msg = body["error"]["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(field), "{field} not in {msg}");
    }
    let rules: Value = app.get("/v1/notifications/rules").await.expect(200);
    assert_eq!(
        rules["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
}
