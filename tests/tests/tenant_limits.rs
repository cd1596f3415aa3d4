//! A tenant's overrides (`limits`, set by the operator, `docs/TENANCY.md`
//! section 2) at the checks that use them, on `weft serve` (the in-process
//! limiter) and with Redis: its API rate, its running-step slots, its active
//! runs; and a suspended tenant's queued steps wait for its resume.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::routing::get;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;
use weft_tests::{StandIn, TestApp};
use weft_types::Status;

async fn patch_limits(app: &TestApp, tenant: &str, limits: Value) {
    app.call_as(
        &app.operator,
        "PATCH",
        &format!("/v1/ops/tenants/{tenant}"),
        Some(json!({ "limits": limits })),
    )
    .await
    .expect(200);
}

/// `tenant`'s run once it has ended (at most 30 s).
async fn ended(app: &TestApp, tenant: &str, run: &str) -> weft_types::Run {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let s = app
            .server
            .handle
            .store()
            .load_run(tenant, run)
            .await
            .unwrap()
            .unwrap();
        if s.run.status.is_terminal() {
            return s.run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ended: {:#?}",
            s.run
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Calls until the first 429; how many passed (at most `max`).
async fn calls_until_limited(app: &TestApp, key: &str, max: usize) -> usize {
    for n in 0..max {
        let r = app.call_as(key, "GET", "/v1/workflows", None).await;
        if r.status == 429 {
            assert_eq!(r.code(), "rate_limited", "{}", r.body);
            return n;
        }
        assert_eq!(r.status, 200, "{}", r.body);
    }
    max
}

/// The deployment allows a large burst; the operator gives one tenant a
/// burst of 3 at a rate too slow to refill during the test, then turns its
/// bucket off. Other tenants keep the deployment's.
async fn an_api_rate_override_applies(app: TestApp) {
    let (id, key) = app.new_tenant("metered").await;
    assert_eq!(calls_until_limited(&app, &key, 10).await, 10);
    patch_limits(&app, &id, json!({"api_rate": 0.001, "api_burst": 3})).await;
    // Within the cache period (100 ms here; this process forgot it at once).
    tokio::time::sleep(Duration::from_millis(150)).await;
    let passed = calls_until_limited(&app, &key, 10).await;
    assert!(
        passed <= 3,
        "a burst of 3 of its own, yet {passed} calls passed"
    );
    assert_eq!(
        calls_until_limited(&app, &app.key, 10).await,
        10,
        "another tenant keeps the deployment's rate"
    );
    patch_limits(&app, &id, json!({"api_rate": 0})).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        calls_until_limited(&app, &key, 10).await,
        10,
        "a rate of 0 of its own turns its bucket off"
    );
}

#[tokio::test]
async fn an_api_rate_override_applies_in_memory() {
    let app = TestApp::builder()
        .worker(|w| w.tenant_cache_ms = 100)
        .config(|c| {
            c.limits.api_rate = 0.001;
            c.limits.api_burst = 1_000;
        })
        .start()
        .await;
    an_api_rate_override_applies(app).await;
}

#[tokio::test]
async fn an_api_rate_override_applies_in_redis() {
    let redis = std::env::var("WEFT_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_REDIS_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    });
    let app = TestApp::builder()
        .worker(|w| w.tenant_cache_ms = 100)
        .config(move |c| {
            c.redis.url = redis;
            c.redis.prefix = weft_worker::new_id("t");
            c.limits.api_rate = 0.001;
            c.limits.api_burst = 1_000;
        })
        .start()
        .await;
    an_api_rate_override_applies(app).await;
}

#[tokio::test]
async fn a_max_active_runs_override_refuses_the_next_run_naming_it() {
    let app = TestApp::builder().start().await;
    let (id, key) = app.new_tenant("small").await;
    let wf: Value = app
        .call_as(
            &key,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "park", "steps": [
                {"id": "w", "kind": "wait", "until": "resume"}
            ]})),
        )
        .await
        .expect(201);
    let path = format!("/v1/workflows/{}/runs", wf["id"].as_str().unwrap());
    app.call_as(&key, "POST", &path, Some(json!({"input": 1})))
        .await
        .expect(201);
    patch_limits(&app, &id, json!({"max_active_runs": 1})).await;
    let over = app
        .call_as(&key, "POST", &path, Some(json!({"input": 2})))
        .await;
    assert_eq!(over.status, 429, "{}", over.body);
    assert_eq!(over.code(), "quota_exceeded");
    assert!(
        over.body.to_string().contains("max_active_runs"),
        "{}",
        over.body
    );
    // The deployment's (100,000) still applies to the others.
    let mine = app
        .workflow(
            json!({"name": "park", "steps": [{"id": "w", "kind": "wait", "until": "resume"}]}),
        )
        .await;
    for n in 0..2 {
        app.start_run(&mine.id, json!({ "n": n })).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_running_steps_override_bounds_the_tenants_steps() {
    let app = TestApp::builder()
        .worker(|w| {
            w.concurrency = 8;
            w.max_running_steps = 6;
        })
        .start()
        .await;
    let gate = Arc::new(Semaphore::new(0));
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let shared = (gate.clone(), now.clone(), most.clone());
    let stand_in = StandIn::start(axum::Router::new().route(
        "/gate",
        get(move || {
            let (gate, now, most) = shared.clone();
            async move {
                most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                gate.acquire().await.unwrap().forget();
                now.fetch_sub(1, Ordering::SeqCst);
                "through"
            }
        }),
    ))
    .await;
    let (id, key) = app.new_tenant("narrow").await;
    patch_limits(&app, &id, json!({"max_running_steps": 1})).await;
    let wf: Value = app
        .call_as(
            &key,
            "POST",
            "/v1/workflows",
            Some(
                json!({"name": "gated", "grants": {"hosts": ["127.0.0.1"]}, "steps": [
                    {"id": "call", "kind": "action", "connector": "http", "action": "request",
                     "input": {"method": "GET", "url": stand_in.url("/gate")}}
                ]}),
            ),
        )
        .await
        .expect(201);
    let path = format!("/v1/workflows/{}/runs", wf["id"].as_str().unwrap());
    let mut runs = Vec::new();
    for n in 0..3 {
        let r = app
            .call_as(&key, "POST", &path, Some(json!({ "input": n })))
            .await
            .expect(201);
        runs.push(r["id"].as_str().unwrap().to_owned());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.metric("weft_steps_deferred_total").await < 2.0 {
        assert!(tokio::time::Instant::now() < deadline, "no step waited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        now.load(Ordering::SeqCst),
        1,
        "its own limit of 1, not the deployment's 6"
    );
    gate.add_permits(3);
    for run in &runs {
        let run = ended(&app, &id, run).await;
        assert_eq!(run.status, Status::Completed, "{run:#?}");
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "never two of its steps at once"
    );
}

#[tokio::test]
async fn a_suspended_tenants_queued_step_waits_for_its_resume() {
    let app = TestApp::builder()
        .worker(|w| {
            w.sweep_interval_ms = 50;
            w.stale_after_ms = 300;
        })
        .start()
        .await;
    let (id, key) = app.new_tenant("paused").await;
    let wf: Value = app
        .call_as(
            &key,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "nap", "steps": [
                {"id": "nap", "kind": "wait", "duration_ms": 800},
                {"id": "after", "kind": "wait", "duration_ms": 1}
            ]})),
        )
        .await
        .expect(201);
    let path = format!("/v1/workflows/{}/runs", wf["id"].as_str().unwrap());
    let run = app
        .call_as(&key, "POST", &path, Some(json!({"input": 1})))
        .await
        .expect(201);
    let run = run["id"].as_str().unwrap().to_owned();
    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{id}/suspend"),
        Some(json!({"reason": "audit"})),
    )
    .await
    .expect(200);
    // The nap's wake-up comes and is held; the sweeper (every 50 ms, for
    // steps due over 300 ms) leaves the suspended tenant's step alone.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.metric("weft_tasks_suspended_total").await < 1.0 {
        assert!(tokio::time::Instant::now() < deadline, "no task was held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        app.metric("weft_tasks_suspended_total").await,
        1.0,
        "the sweeper publishes no copy of a suspended tenant's step"
    );
    let store = app.server.handle.store();
    let state = store.load_run(&id, &run).await.unwrap().unwrap();
    assert!(!state.run.status.is_terminal(), "{:#?}", state.run);
    let nap = state.step("nap").unwrap();
    assert_eq!(
        nap.status,
        Status::Waiting,
        "the nap is not woken while suspended"
    );

    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{id}/resume"),
        None,
    )
    .await
    .expect(200);
    let run = ended(&app, &id, &run).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
}

/// `max_active_runs` holds for a retry and a rerun too, not only a start:
/// with one run parked and a limit of one, retrying (or rerunning) a
/// finished run is refused naming the limit (before, both went through).
#[tokio::test]
async fn max_active_runs_holds_for_retry_and_rerun() {
    let app = TestApp::builder().start().await;
    let (id, key) = app.new_tenant("small").await;
    let make = |def: Value| {
        let key = key.clone();
        let app = &app;
        async move {
            let wf: Value = app
                .call_as(&key, "POST", "/v1/workflows", Some(def))
                .await
                .expect(201);
            format!("/v1/workflows/{}/runs", wf["id"].as_str().unwrap())
        }
    };
    let quick = make(json!({"name": "quick", "steps": [
        {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ".", "data": {"x": 1}}}]}))
    .await;
    let park = make(json!({"name": "park", "steps": [
        {"id": "w", "kind": "wait", "until": "resume"}]}))
    .await;
    let done: Value = app
        .call_as(&key, "POST", &quick, Some(json!({"input": 1})))
        .await
        .expect(201);
    let done_id = done["id"].as_str().unwrap().to_owned();
    assert_eq!(ended(&app, &id, &done_id).await.status, Status::Completed);
    app.call_as(&key, "POST", &park, Some(json!({"input": 2})))
        .await
        .expect(201);
    patch_limits(&app, &id, json!({"max_active_runs": 1})).await;
    for (path, body) in [
        (format!("/v1/runs/{done_id}/retry"), None),
        (
            format!("/v1/runs/{done_id}/rerun"),
            Some(json!({"from": "a"})),
        ),
    ] {
        let over = app.call_as(&key, "POST", &path, body).await;
        assert_eq!(over.status, 429, "{path}: {}", over.body);
        assert_eq!(over.code(), "quota_exceeded");
        assert!(
            over.body.to_string().contains("max_active_runs"),
            "{path}: {}",
            over.body
        );
    }
    // Under the limit they go through.
    patch_limits(&app, &id, json!({"max_active_runs": 10})).await;
    app.call_as(&key, "POST", &format!("/v1/runs/{done_id}/retry"), None)
        .await
        .expect(201);
}

/// The reviewer's scenario: tenant A, over its `runs_per_month` quota, has
/// 100 schedules due every second; tenant B's one schedule keeps ticking.
/// Before, A's refused ticks stayed due and filled every sweep's 100 oldest
/// slots, so B's schedule never fired. A's ticks are skipped and counted.
#[tokio::test]
async fn a_tenant_over_its_quota_does_not_stop_other_tenants_schedules() {
    let app = TestApp::builder()
        .worker(|w| {
            w.sweep_interval_ms = 200;
            w.quota_cache_ms = 0;
        })
        .start()
        .await;
    let (a, a_key) = app.new_tenant("over").await;
    let (b, b_key) = app.new_tenant("fine").await;
    patch_limits(&app, &a, json!({"quotas": {"runs_per_month": 0}})).await;
    let ticker = json!({"name": "tick",
        "triggers": {"schedule": {"cron": "* * * * * *", "timezone": "UTC"}},
        "steps": [{"id": "r", "kind": "respond", "body": "t"}]});
    let activate = |key: String, def: Value| {
        let app = &app;
        async move {
            let wf: Value = app
                .call_as(&key, "POST", "/v1/workflows", Some(def))
                .await
                .expect(201);
            let wf_id = wf["id"].as_str().unwrap();
            app.call_as(
                &key,
                "POST",
                &format!("/v1/workflows/{wf_id}/activate"),
                None,
            )
            .await
            .expect(200);
        }
    };
    for _ in 0..100 {
        activate(a_key.clone(), ticker.clone()).await;
    }
    // Let A's schedules come due and be refused before B's exists.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    activate(b_key.clone(), ticker.clone()).await;
    let runs_of = |t: String| {
        let app = &app;
        async move {
            app.server
                .handle
                .store()
                .list_runs(&t, &Default::default(), &weft_store::Page::first(1000))
                .await
                .unwrap()
                .len()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while runs_of(b.clone()).await < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tenant B's schedule made fewer than 2 runs while A was over its quota"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(runs_of(a.clone()).await, 0, "A's quota refused every tick");
    let refused = app
        .metric("weft_schedule_ticks_refused_total{reason=\"runs_per_month\"}")
        .await;
    assert!(
        refused >= 100.0,
        "every A schedule's tick counted: {refused}"
    );
}
