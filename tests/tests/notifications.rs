//! Notifications (`docs/TENANCY.md`, section 6) end to end: a rule's signed
//! webhook is delivered once per event to a stand-in receiver, for a failed
//! run, a run waiting for an approval and a recovered run (not for a success
//! after a success); a failing destination is retried with its tries
//! recorded while the run stays as it ended; rules are per workflow or per
//! tenant, and another tenant can neither read nor change them (A1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use weft_model::Page;
use weft_model::notifications::{DeliveryState, NotificationDelivery, NotificationRule};
use weft_tests::{Inbox, Received, StandIn, TestApp};
use weft_types::Status;

async fn app() -> TestApp {
    TestApp::builder()
        .worker(|w| {
            w.notifications.interval_ms = 20;
            w.notifications.retry_base_ms = 50;
        })
        .start()
        .await
}

/// A service the workflow calls: 500 on `/true`, 200 otherwise.
async fn service() -> StandIn {
    StandIn::scripted(|r| {
        if r.uri.starts_with("/true") {
            (StatusCode::INTERNAL_SERVER_ERROR, "asked to fail").into_response()
        } else {
            (StatusCode::OK, "{}").into_response()
        }
    })
    .await
    .0
}

/// Fails when the trigger says `"fail": true` (its one call answers 500),
/// completes otherwise.
fn flaky(service: &StandIn) -> Value {
    json!({"name": "flaky",
        "grants": {"hosts": [format!("127.0.0.1:{}", service.port())]},
        "steps": [
        {"id": "check", "kind": "action", "connector": "http", "action": "request",
         "input": {"method": "POST",
                   "url": format!("{}{{{{ trigger.body.fail }}}}", service.url("/")),
                   "json": {}, "fail_on_status": true},
         "retry": {"max_attempts": 1}}
    ]})
}

fn approval() -> Value {
    json!({"name": "approval", "steps": [
        {"id": "approve", "kind": "wait", "until": "resume"}
    ]})
}

async fn rule(app: &TestApp, workflow: Option<&str>, on: &str, url: &str) -> NotificationRule {
    let mut body = json!({"on": on, "target": {"type": "webhook", "url": url}});
    if let Some(w) = workflow {
        body["workflow_id"] = json!(w);
    }
    let r: NotificationRule = app.post("/v1/notifications/rules", body).await.typed(201);
    assert!(r.signing_secret.as_deref().unwrap().starts_with("whsec_"));
    r
}

async fn deliveries(app: &TestApp) -> Vec<NotificationDelivery> {
    let page: Page<NotificationDelivery> = app.get("/v1/notifications/deliveries").await.typed(200);
    page.items
}

/// Polls the deliveries until `pred` holds (at most 30 s).
async fn deliveries_until(
    app: &TestApp,
    pred: impl Fn(&[NotificationDelivery]) -> bool,
) -> Vec<NotificationDelivery> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let all = deliveries(app).await;
        if pred(&all) {
            return all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries never got there: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn all_delivered(n: usize) -> impl Fn(&[NotificationDelivery]) -> bool {
    move |all| all.len() == n && all.iter().all(|d| d.status == DeliveryState::Delivered)
}

/// Checks a received delivery as a Standard Webhooks receiver does: the
/// HMAC-SHA256, keyed by the secret's base64 after `whsec_`, of
/// `<webhook-id>.<webhook-timestamp>.<body>`, against each `v1,` signature,
/// and the timestamp within 5 minutes.
fn verify(secret: &str, r: &Received) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let id = r.header("webhook-id").expect("webhook-id");
    let ts = r.header("webhook-timestamp").expect("webhook-timestamp");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(&r.body);
    let want = b64.encode(mac.finalize().into_bytes());
    let sigs = r.header("webhook-signature").expect("webhook-signature");
    assert!(
        sigs.split(' ')
            .any(|s| s.strip_prefix("v1,") == Some(want.as_str())),
        "the delivery's signature does not verify"
    );
    let skew = weft_worker::now_ms() / 1000 - ts.parse::<i64>().unwrap();
    assert!(skew.abs() <= 300, "timestamp {ts} is not now");
}

async fn receiver() -> (StandIn, Inbox) {
    StandIn::scripted(|_| StatusCode::NO_CONTENT.into_response()).await
}

#[tokio::test]
async fn a_failed_run_delivers_one_signed_event() {
    let app = app().await;
    let svc = service().await;
    let (stand_in, inbox) = receiver().await;
    let wf = app.workflow(flaky(&svc)).await;
    let r = rule(&app, None, "run_failed", &stand_in.url("/hooks/weft")).await;
    let ok = app.start_run(&wf.id, json!({"fail": false})).await;
    assert_eq!(app.finished(&ok).await.status, Status::Completed);
    let id = app.start_run(&wf.id, json!({"fail": true})).await;
    assert_eq!(app.finished(&id).await.status, Status::Failed);

    let all = deliveries_until(&app, all_delivered(1)).await;
    let d = &all[0];
    assert_eq!(
        (d.run_id.as_str(), d.rule_id.as_str()),
        (id.as_str(), r.id.as_str())
    );
    assert_eq!(d.attempts, 1);
    assert_eq!(d.tries[0].http_status, Some(204));
    let got = inbox.only();
    assert_eq!(
        (got.method.as_str(), got.uri.as_str()),
        ("POST", "/hooks/weft")
    );
    assert_eq!(got.header("webhook-id"), Some(d.id.as_str()));
    assert_eq!(got.header("content-type"), Some("application/json"));
    verify(r.signing_secret.as_deref().unwrap(), &got);
    let body = got.json();
    assert_eq!(body["type"], "run_failed");
    assert_eq!(body["run_id"], id.as_str());
    assert_eq!(body["workflow_id"], wf.id.as_str());
    assert_eq!(body["status"], "failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("asked to fail"),
        "{body}"
    );
    assert_eq!(body["tenant_id"], app.server.default_tenant.as_str());

    // A wrong secret does not verify: the check above can fail.
    let forged =
        std::panic::catch_unwind(|| verify("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &got));
    assert!(forged.is_err(), "another secret must not verify");
    // The typed client reads the same records (no secret either).
    let listed = app.api.list_notification_rules().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].signing_secret, None);
    let q = weft_model::notifications::DeliveriesQuery {
        rule_id: Some(r.id.clone()),
        ..Default::default()
    };
    let page = app.api.list_notification_deliveries(&q).await.unwrap();
    assert_eq!(page.items[0].id, d.id);
    // The secret is never read back.
    let again: NotificationRule = app
        .get(&format!("/v1/notifications/rules/{}", r.id))
        .await
        .typed(200);
    assert_eq!(again.signing_secret, None);
}

#[tokio::test]
async fn waiting_and_recovered_deliver_but_a_success_after_a_success_does_not() {
    let app = app().await;
    let svc = service().await;
    let (stand_in, inbox) = receiver().await;
    let flaky = app.workflow(self::flaky(&svc)).await;
    let approval = app.workflow(self::approval()).await;
    let url = stand_in.url("/n");
    // Per workflow: waiting only for `approval`, recovered only for `flaky`.
    rule(&app, Some(&approval.id), "run_waiting", &url).await;
    rule(&app, Some(&flaky.id), "run_recovered", &url).await;
    rule(&app, Some(&approval.id), "run_recovered", &url).await;

    let waits = app.start_run(&approval.id, json!({})).await;
    app.until(&waits, |r| r.status == Status::Waiting).await;
    let all = deliveries_until(&app, all_delivered(1)).await;
    assert_eq!(all[0].run_id, waits);
    assert_eq!(inbox.only().json()["step"], "approve");

    let first = app.start_run(&flaky.id, json!({"fail": false})).await;
    app.finished(&first).await;
    let failed = app.start_run(&flaky.id, json!({"fail": true})).await;
    app.finished(&failed).await;
    let recovered = app.start_run(&flaky.id, json!({"fail": false})).await;
    app.finished(&recovered).await;
    let after = app.start_run(&flaky.id, json!({"fail": false})).await;
    app.finished(&after).await;

    let all = deliveries_until(&app, all_delivered(2)).await;
    let newest = &all[0];
    assert_eq!(newest.run_id, recovered, "{all:#?}");
    assert_eq!(newest.payload["type"], "run_recovered");
    assert_eq!(newest.payload["status"], "completed");
    // Only the waiting and the recovered run were sent: nothing for the
    // first success, the failure (no rule) or the success after a success.
    assert_eq!(inbox.len(), 2);
    let runs: Vec<String> = inbox
        .all()
        .iter()
        .map(|r| r.json()["run_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(runs, vec![waits, recovered]);
}

#[tokio::test]
async fn a_failing_destination_is_retried_and_the_run_is_unaffected() {
    let app = app().await;
    let svc = service().await;
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let (stand_in, inbox) = StandIn::scripted(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
        } else {
            StatusCode::OK.into_response()
        }
    })
    .await;
    let wf = app.workflow(flaky(&svc)).await;
    let r = rule(&app, Some(&wf.id), "run_failed", &stand_in.url("/n")).await;
    let id = app.start_run(&wf.id, json!({"fail": true})).await;
    let ended = app.finished(&id).await;
    assert_eq!(ended.status, Status::Failed);

    let all = deliveries_until(&app, all_delivered(1)).await;
    let d = &all[0];
    assert_eq!(d.attempts, 2, "{d:#?}");
    assert_eq!(d.tries[0].http_status, Some(500));
    assert_eq!(d.tries[0].error.as_deref(), Some("HTTP 500"));
    assert_eq!(d.tries[1].http_status, Some(200));
    assert!(d.tries[1].at >= d.tries[0].at + 50, "backed off: {d:#?}");
    assert_eq!(d.last_error, None);
    assert_eq!(d.next_attempt_at, None);
    assert_eq!(app.metric("weft_notification_retries_total").await, 1.0);
    assert_eq!(app.metric("weft_notifications_delivered_total").await, 1.0);
    assert_eq!(app.metric("weft_notifications_failed_total").await, 0.0);
    assert_eq!(inbox.len(), 2);
    let bodies: Vec<Value> = inbox.all().iter().map(Received::json).collect();
    assert_eq!(bodies[0], bodies[1], "the same event, resent");
    verify(r.signing_secret.as_deref().unwrap(), &inbox.all()[1]);
    let run = app.finished(&id).await;
    assert_eq!(run, ended, "the run is unaffected by its notification");
    let filtered: Page<NotificationDelivery> = app
        .get(&format!(
            "/v1/notifications/deliveries?rule_id={}&status=delivered",
            r.id
        ))
        .await
        .typed(200);
    assert_eq!(filtered.items.len(), 1);
}

#[tokio::test]
async fn another_tenant_cannot_read_or_change_rules() {
    let app = app().await;
    let svc = service().await;
    let (stand_in, inbox) = receiver().await;
    let wf = app.workflow(flaky(&svc)).await;
    let r = rule(&app, None, "run_failed", &stand_in.url("/a")).await;
    let other = app.tenant("other").await;
    let path = format!("/v1/notifications/rules/{}", r.id);
    assert_eq!(app.call_as(&other, "GET", &path, None).await.status, 404);
    let patch = json!({"target": {"type": "webhook", "url": stand_in.url("/stolen")}});
    assert_eq!(
        app.call_as(&other, "PATCH", &path, Some(patch))
            .await
            .status,
        404
    );
    assert_eq!(app.call_as(&other, "DELETE", &path, None).await.status, 404);
    let theirs = app
        .call_as(&other, "GET", "/v1/notifications/rules", None)
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    // Their tenant-wide rule does not see our runs.
    let their_rule =
        json!({"on": "run_failed", "target": {"type": "webhook", "url": stand_in.url("/b")}});
    app.call_as(&other, "POST", "/v1/notifications/rules", Some(their_rule))
        .await
        .expect(201);
    let id = app.start_run(&wf.id, json!({"fail": true})).await;
    app.finished(&id).await;
    deliveries_until(&app, all_delivered(1)).await;
    assert_eq!(inbox.only().uri, "/a", "ours only, to our URL");
    let theirs = app
        .call_as(&other, "GET", "/v1/notifications/deliveries", None)
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
    // Still ours, unchanged.
    let still: NotificationRule = app.get(&path).await.typed(200);
    assert_eq!(still.target, r.target);
}

#[tokio::test]
async fn bad_rules_are_refused_naming_the_field() {
    let app = app().await;
    let post = |body: Value| {
        let app = &app;
        async move { app.post("/v1/notifications/rules", body).await }
    };
    for (url, says) in [
        ("ftp://example.com/x", "scheme"),
        ("http://169.254.169.254/latest", "metadata"),
        ("https://user:pw@example.com/", "credentials"),
        ("not a url", "absolute URL"),
    ] {
        let r = post(json!({"on": "run_failed", "target": {"type": "webhook", "url": url}})).await;
        assert_eq!(r.status, 400, "{url}: {}", r.body);
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("target.url") && message.contains(says),
            "{url}: {message}"
        );
    }
    let r = post(json!({"workflow_id": "wf_nope", "on": "run_failed",
                        "target": {"type": "webhook", "url": "https://example.com/"}}))
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("workflow_id")
    );
    let r = post(
        json!({"on": "run_exploded", "target": {"type": "webhook", "url": "https://example.com/"}}),
    )
    .await;
    assert!(r.status == 400 || r.status == 422, "{}", r.body);
}

/// SSRF: where the deployment does not allow private addresses, a rule
/// cannot name one, and a name that resolves to one is refused when sent
/// (the egress policy of plugins, checked on the resolved address): the
/// receiver on loopback gets nothing and the try records why.
#[tokio::test]
async fn a_private_destination_is_refused_where_the_deployment_forbids_it() {
    let app = TestApp::builder()
        .worker(|w| {
            w.notifications.interval_ms = 20;
            w.notifications.retry_base_ms = 60_000;
        })
        .config(|c| c.sandbox.egress.allow_private = false)
        .start()
        .await;
    let (stand_in, inbox) = receiver().await;
    let literal = app
        .post(
            "/v1/notifications/rules",
            json!({"on": "run_waiting", "target": {"type": "webhook", "url": stand_in.url("/x")}}),
        )
        .await;
    assert_eq!(literal.status, 400, "{}", literal.body);
    assert!(
        literal.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("target.url")
    );
    let by_name = format!("http://localhost:{}/x", stand_in.port());
    rule(&app, None, "run_waiting", &by_name).await;
    let approval = app.workflow(approval()).await;
    let id = app.start_run(&approval.id, json!({})).await;
    app.until(&id, |r| r.status == Status::Waiting).await;
    let all = deliveries_until(&app, |all| all.len() == 1 && all[0].attempts == 1).await;
    let d = &all[0];
    assert_eq!(d.status, DeliveryState::Pending, "retried later: {d:#?}");
    let error = d.last_error.as_deref().unwrap();
    assert!(error.contains("denied"), "{error}");
    assert!(inbox.is_empty(), "nothing reached the private address");
    let run = app.until(&id, |r| r.status == Status::Waiting).await;
    assert_eq!(run.status, Status::Waiting, "the run is untouched");
}
