//! A5 and D9 through the API: per-tenant rate limits in Redis answer 429 with
//! Retry-After and one tenant's burst does not touch another; with Redis
//! unreachable, authenticated calls fail open and webhooks fail closed (503).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use weft_tests::TestApp;

fn redis_url() -> String {
    std::env::var("WEFT_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_REDIS_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    })
}

async fn app(redis: String) -> TestApp {
    TestApp::builder()
        .config(move |c| {
            c.redis.url = redis;
            c.limits.api_rate = 0.5;
            c.limits.api_burst = 5;
            c.limits.webhook_rate = 0.5;
            c.limits.webhook_burst = 2;
        })
        .start()
        .await
}

async fn webhook(app: &TestApp) -> String {
    let wf = app
        .workflow(json!({"name": "hook", "steps": [
            {"id": "r", "kind": "respond", "body": "ok"}
        ]}))
        .await;
    let id = wf.id.as_str();
    let wf = app
        .post(&format!("/v1/workflows/{id}/activate"), json!({}))
        .await
        .expect(200);
    let url = wf["webhook_url"].as_str().unwrap();
    url.trim_start_matches(&app.base).to_owned()
}

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_and_others_do_not() {
    let app = app(redis_url()).await;
    let hook = webhook(&app).await; // 2 calls of the burst of 5
    let b = app.tenant("b").await;
    let mut limited = None;
    for _ in 0..10 {
        let r = app.call("GET", "/v1/workflows", None).await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = limited.expect("the burst of 5 runs out within 10 calls");
    assert_eq!(r.code(), "rate_limited");
    let after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3).contains(&after), "Retry-After {after}");
    // Another tenant's bucket is its own.
    app.call_as(&b, "GET", "/v1/workflows", None)
        .await
        .expect(200);

    // Webhooks have their own, per tenant: a burst of 2.
    let mut codes = Vec::new();
    for _ in 0..3 {
        let r = app
            .raw("", "POST", &hook, "application/json", Some(b"{}".to_vec()))
            .await;
        codes.push(r.status);
    }
    assert_eq!(
        codes,
        [200, 200, 429],
        "the third delivery is over the burst"
    );
}

#[tokio::test]
async fn with_redis_down_the_api_fails_open_and_webhooks_fail_closed() {
    let app = app(redis_url()).await;
    let hook = webhook(&app).await;
    drop(app);
    // The same kind of server, its Redis unreachable.
    let app = app_down().await;
    let hook_down = webhook(&app).await;
    assert_ne!(hook, hook_down);
    for _ in 0..10 {
        app.call("GET", "/v1/workflows", None).await.expect(200);
    }
    let r = app
        .raw(
            "",
            "POST",
            &hook_down,
            "application/json",
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.code(), "unavailable");
    assert!(r.headers.contains_key("retry-after"));
    // Still in service (the API fails open), and saying why it is degraded.
    let ready = app.get("/readyz").await.expect(200);
    assert_eq!(ready["status"], "degraded");
    assert_ne!(ready["redis"], "ok");
    assert_eq!(ready["store"], "ok");
}

async fn app_down() -> TestApp {
    app("redis://127.0.0.1:1".into()).await
}

/// The hard quota of unfinished runs is counted in the store (no Redis).
#[tokio::test]
async fn a_tenant_at_its_active_run_quota_cannot_start_more() {
    let app = TestApp::builder()
        .worker(|w| w.max_active_runs = 2)
        .start()
        .await;
    let wf = app
        .workflow(json!({"name": "park", "steps": [
            {"id": "w", "kind": "wait", "until": "resume"}
        ]}))
        .await;
    let id = wf.id.as_str();
    let path = format!("/v1/workflows/{id}/runs");
    let first = app.post(&path, json!({"input": 1})).await.expect(201);
    app.post(&path, json!({"input": 2})).await.expect(201);
    let over = app.post(&path, json!({"input": 3})).await;
    assert_eq!(over.status, 429, "{}", over.body);
    assert_eq!(over.code(), "quota_exceeded");
    // Ending one frees a place.
    let run = first["id"].as_str().unwrap();
    app.post(&format!("/v1/runs/{run}/cancel"), json!({}))
        .await
        .expect(200);
    app.post(&path, json!({"input": 4})).await.expect(201);
}
