//! Notifications that are fair and cannot loop (`docs/TENANCY.md`, section
//! 6): one tenant whose destination hangs does not hold another tenant's
//! deliveries; a rule pointed at the webhook of a failing workflow on the
//! same deployment makes one more run, not an endless chain; a rule past
//! `rule_per_minute` is deferred, not lost; a tenant's rules are capped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weft_model::Page;
use weft_model::notifications::{DeliveryState, NotificationDelivery};
use weft_tests::{StandIn, TestApp};
use weft_types::Status;

/// A service the workflows call: 500 on `/fail`, 200 otherwise.
async fn service() -> StandIn {
    StandIn::scripted(|r| {
        if r.uri.starts_with("/fail") {
            (StatusCode::INTERNAL_SERVER_ERROR, "asked to fail").into_response()
        } else {
            (StatusCode::OK, "{}").into_response()
        }
    })
    .await
    .0
}

/// A workflow whose one step always fails; `async_hook`: its webhook answers
/// 202 at once.
fn failing(service: &StandIn, async_hook: bool) -> Value {
    let mut def = json!({"name": "failing",
        "grants": {"hosts": [format!("127.0.0.1:{}", service.port())]},
        "steps": [
        {"id": "check", "kind": "action", "connector": "http", "action": "request",
         "input": {"method": "POST", "url": service.url("/fail"), "json": {},
                   "fail_on_status": true},
         "retry": {"max_attempts": 1}}
    ]});
    if async_hook {
        def["triggers"] = json!({"webhook": {"mode": "async"}});
    }
    def
}

/// A destination that accepts the connection and never answers.
async fn hanging() -> (StandIn, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let router = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            seen.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
            StatusCode::OK
        }
    });
    (StandIn::start(router).await, calls)
}

async fn deliveries_of(app: &TestApp, key: &str) -> Vec<NotificationDelivery> {
    let r = app
        .call_as(key, "GET", "/v1/notifications/deliveries?limit=200", None)
        .await
        .expect(200);
    let page: Page<NotificationDelivery> = serde_json::from_value(r).unwrap();
    page.items
}

/// Polls until `pred` holds (at most 30 s; the destination's timeout is 10 s
/// by default, so "promptly" is checked by what has happened, not by time).
async fn until<T>(probe: impl AsyncFnMut() -> T, pred: impl Fn(&T) -> bool) -> T
where
    T: std::fmt::Debug,
{
    until_within(Duration::from_secs(30), probe, pred).await
}

/// [`until`], polling at most `within`.
async fn until_within<T>(
    within: Duration,
    mut probe: impl AsyncFnMut() -> T,
    pred: impl Fn(&T) -> bool,
) -> T
where
    T: std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = probe().await;
        if pred(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never got there: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The reviewer's starvation: tenant A points three rules at a URL that never
/// answers and fails runs; tenant B's failed run, after A's, is delivered
/// while every one of A's tries is still hanging (none recorded yet: a try
/// is recorded at A's 10 s timeout). On the old loop (the earliest `batch`
/// rows across tenants, `join_all` per round) B waited for A's timeouts.
#[tokio::test]
async fn a_hanging_tenant_does_not_hold_another_tenants_deliveries() {
    let app = TestApp::builder()
        .worker(|w| {
            w.notifications.interval_ms = 20;
            w.notifications.batch = 8;
            w.notifications.per_tenant = 2;
        })
        .start()
        .await;
    let svc = service().await;
    let (hang, calls) = hanging().await;
    let (ok, inbox) = StandIn::scripted(|_| StatusCode::NO_CONTENT.into_response()).await;
    let a = app.key.clone();
    let b = app.tenant("b").await;

    // A: 3 rules x 4 failed runs = 12 deliveries to a destination that hangs.
    let wf_a = app.workflow(failing(&svc, false)).await;
    for _ in 0..3 {
        let rule =
            json!({"on": "run_failed", "target": {"type": "webhook", "url": hang.url("/x")}});
        app.call_as(&a, "POST", "/v1/notifications/rules", Some(rule))
            .await
            .expect(201);
    }
    for _ in 0..4 {
        let id = app.start_run(&wf_a.id, json!({})).await;
        assert_eq!(app.finished(&id).await.status, Status::Failed);
    }
    assert_eq!(deliveries_of(&app, &a).await.len(), 12);
    until(async || calls.load(Ordering::SeqCst), |n| *n >= 2).await;

    // B: one rule, one failed run, after all of A's.
    let wf_b = app
        .call_as(&b, "POST", "/v1/workflows", Some(failing(&svc, false)))
        .await
        .expect(201);
    let wf_b = wf_b["id"].as_str().unwrap().to_owned();
    app.call_as(&b, "POST", &format!("/v1/workflows/{wf_b}/activate"), None)
        .await
        .expect(200);
    let rule = json!({"on": "run_failed", "target": {"type": "webhook", "url": ok.url("/b")}});
    app.call_as(&b, "POST", "/v1/notifications/rules", Some(rule))
        .await
        .expect(201);
    let run = app
        .call_as(
            &b,
            "POST",
            &format!("/v1/workflows/{wf_b}/runs"),
            Some(json!({"input": {}})),
        )
        .await
        .expect(201);
    let run_b = run["id"].as_str().unwrap().to_owned();

    let got = until(
        async || deliveries_of(&app, &b).await,
        |d| d.len() == 1 && d[0].status == DeliveryState::Delivered,
    )
    .await;
    assert_eq!(got[0].run_id, run_b);
    assert_eq!(inbox.len(), 1);
    // Delivered while A's sends still hang: not one of A's tries has ended.
    let of_a = deliveries_of(&app, &a).await;
    assert!(
        of_a.iter().all(|d| d.attempts == 0),
        "B waited for A's timeouts: {of_a:#?}"
    );
    // A holds at most its share of sends at once.
    assert!(
        calls.load(Ordering::SeqCst) <= 2,
        "A is capped at per_tenant"
    );
}

/// The reviewer's loop: a `run_failed` rule whose URL is the webhook of a
/// workflow that always fails, on this deployment. The first failure is
/// delivered (with `weft-notification`), starts one run, and that run's
/// failure makes no delivery: exactly one extra run, then nothing. On the old
/// code every failure made a delivery and every delivery a run, for ever.
#[tokio::test]
async fn a_rule_pointed_at_a_failing_workflows_own_webhook_does_not_loop() {
    let app = TestApp::builder()
        .worker(|w| w.notifications.interval_ms = 20)
        .start()
        .await;
    let svc = service().await;
    let wf = app.workflow(failing(&svc, true)).await;
    let hook = &wf.hook_url()[wf.hook_url().find("/hooks/").unwrap()..];
    let url = format!("{}{hook}", app.base);
    let body = json!({"workflow_id": wf.id, "on": "run_failed", "target": {"type": "webhook", "url": url}});
    app.post("/v1/notifications/rules", body).await.expect(201);

    let first = app.start_run(&wf.id, json!({})).await;
    assert_eq!(app.finished(&first).await.status, Status::Failed);
    let path = format!("/v1/runs?workflow_id={}", wf.id);
    // The delivery starts a webhook run; wait for it to fail.
    let all = until(
        async || app.get(&path).await.expect(200)["items"].clone(),
        |r| {
            r.as_array().unwrap().len() >= 2
                && r.as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["status"] == "failed")
        },
    )
    .await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2, "exactly one extra run: {all:#?}");
    let second = all.iter().find(|r| r["id"] != first.as_str()).unwrap();
    assert_eq!(second["trigger"], "webhook");
    let d = until(
        async || deliveries_of(&app, &app.key).await,
        |d| d.iter().all(|d| d.status == DeliveryState::Delivered),
    )
    .await;
    // The second run's failure was committed with no delivery row (rows
    // are written in the run's commit): the chain ends here.
    assert_eq!(d.len(), 1, "one delivery, for the first run: {d:#?}");
    assert_eq!(d[0].run_id, first);
    let input = app
        .get(&format!("/v1/runs/{}", second["id"].as_str().unwrap()))
        .await
        .expect(200)["input"]
        .clone();
    assert_eq!(
        input["headers"]["weft-notification"],
        d[0].id.as_str(),
        "the request carried the delivery id: {input}"
    );
}

/// A rule past `rule_per_minute` sends no more that minute, but loses
/// nothing: the rest stay pending with no try, put off to the end of the
/// rule's minute (counted as deferred), and are delivered then. On the old
/// loop they were `suppressed` and never sent (an outage failing 200 runs in
/// a minute lost 140 alerts). The window is 15 s here (`rule_window_ms`),
/// which the test waits out.
/// The deferral window of that test.
const WINDOW_MS: u64 = 15_000;

#[tokio::test]
async fn a_rule_past_its_rate_is_deferred_then_delivered() {
    let app = TestApp::builder()
        .worker(|w| {
            w.notifications.interval_ms = 20;
            w.notifications.rule_per_minute = 2;
            w.notifications.rule_window_ms = WINDOW_MS;
        })
        .start()
        .await;
    let svc = service().await;
    let (ok, inbox) = StandIn::scripted(|_| StatusCode::NO_CONTENT.into_response()).await;
    let wf = app.workflow(failing(&svc, false)).await;
    let body = json!({"on": "run_failed", "target": {"type": "webhook", "url": ok.url("/n")}});
    app.post("/v1/notifications/rules", body).await.expect(201);
    for _ in 0..4 {
        let id = app.start_run(&wf.id, json!({})).await;
        app.finished(&id).await;
    }
    let count =
        |d: &[NotificationDelivery], s: DeliveryState| d.iter().filter(|d| d.status == s).count();
    // Two sent at once; two put off about a window, pending with no try.
    let d = until(
        async || deliveries_of(&app, &app.key).await,
        |d| {
            d.len() == 4
                && count(d, DeliveryState::Delivered) == 2
                && d.iter()
                    .filter(|d| d.status == DeliveryState::Pending)
                    .filter(|d| {
                        d.next_attempt_at
                            .is_some_and(|n| n >= d.created_at + WINDOW_MS as i64 / 2)
                    })
                    .count()
                    == 2
        },
    )
    .await;
    for p in d.iter().filter(|d| d.status == DeliveryState::Pending) {
        assert_eq!(p.attempts, 0, "a deferral is not a try: {p:#?}");
        assert_eq!(p.last_error, None, "{p:#?}");
    }
    assert_eq!(inbox.len(), 2, "past the rate, not sent yet");
    assert!(app.metric("weft_notifications_deferred_total").await >= 2.0);
    assert_eq!(app.metric("weft_notifications_suppressed_total").await, 0.0);
    // The rule's window ends: the other two go.
    let d = until_within(
        Duration::from_secs(60),
        async || deliveries_of(&app, &app.key).await,
        |d| count(d, DeliveryState::Delivered) == 4,
    )
    .await;
    assert_eq!(inbox.len(), 4, "every alert sent");
    assert!(d.iter().all(|d| d.attempts == 1), "one try each: {d:#?}");
    let listed = app
        .get("/v1/notifications/deliveries?status=suppressed")
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
}

/// A tenant's rules are capped (`max_rules`): one more is refused 409 naming
/// the cap; another tenant is not affected.
#[tokio::test]
async fn rules_per_tenant_are_capped() {
    let app = TestApp::builder()
        .worker(|w| w.notifications.max_rules = 3)
        .start()
        .await;
    let body =
        json!({"on": "run_failed", "target": {"type": "webhook", "url": "https://example.com/n"}});
    for _ in 0..3 {
        app.post("/v1/notifications/rules", body.clone())
            .await
            .expect(201);
    }
    let r = app.post("/v1/notifications/rules", body.clone()).await;
    assert_eq!(r.status, 409, "{}", r.body);
    let m = r.body["error"]["message"].as_str().unwrap();
    assert!(m.contains("max_rules") && m.contains('3'), "{m}");
    let other = app.tenant("other").await;
    app.call_as(&other, "POST", "/v1/notifications/rules", Some(body))
        .await
        .expect(201);
}
