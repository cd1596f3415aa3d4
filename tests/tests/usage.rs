//! Usage metering and quotas (`docs/TENANCY.md`, section 5) through the API:
//! the counters equal the journal after a load with retrying steps, the CSV
//! export parses, and a quota reached refuses new runs with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use weft_model::usage::{UsageLine, UsageReport};
use weft_tests::usage::from_journal;
use weft_tests::{StandIn, TestApp};
use weft_types::Status;

/// A stand-in where every third call fails with 503.
async fn flaky() -> StandIn {
    let calls = Arc::new(AtomicU32::new(0));
    let router = axum::Router::new().route(
        "/charge",
        post(move || {
            let calls = calls.clone();
            async move {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n % 3 == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned())
                } else {
                    (StatusCode::OK, format!("{{\"call\": {n}}}"))
                }
            }
        }),
    );
    StandIn::start(router).await
}

fn charge(stand_in: &StandIn) -> Value {
    json!({
        "name": "charge",
        "grants": {"hosts": [format!("127.0.0.1:{}", stand_in.port())]},
        "steps": [
            {"id": "charge", "kind": "action", "connector": "http", "action": "request",
             "input": {"method": "POST", "url": stand_in.url("/charge"), "json": {"x": 1},
                       "fail_on_status": true},
             "retry": {"max_attempts": 4, "initial_interval_ms": 1, "backoff_coefficient": 1}},
            {"id": "shape", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": "{{ steps.charge.output }}"}}
        ]
    })
}

#[tokio::test]
async fn counters_equal_the_journal_after_a_load_with_retries() {
    let app = TestApp::builder().start().await;
    let stand_in = flaky().await;
    let wf = app.workflow(charge(&stand_in)).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(app.start_run(&wf.id, json!({"i": i})).await);
    }
    let mut runs = Vec::new();
    for id in &ids {
        let run = app.finished(id).await;
        assert_eq!(run.status, Status::Completed, "{run:#?}");
        runs.push(run);
    }
    let retried = runs
        .iter()
        .filter(|r| weft_tests::step(r, "charge").attempts.len() > 1)
        .count();
    assert!(retried > 0, "some steps were retried");
    let report: UsageReport = app.get("/v1/usage?group=workflow").await.typed(200);
    assert_eq!(report.lines.len(), 1, "{report:#?}");
    let want = from_journal(&runs);
    let got = UsageLine {
        workflow_id: None,
        ..report.lines[0].clone()
    };
    assert_eq!(
        got, want,
        "the counters are the journal's, each attempt once"
    );
    assert_eq!(report.lines[0].workflow_id.as_deref(), Some(wf.id.as_str()));
    assert_eq!(report.total, want);
    assert!(want.egress_requests >= 12 + i64::try_from(retried).unwrap());

    // By day: one line (the test runs within a day, or two around midnight).
    let by_day: UsageReport = app.get("/v1/usage").await.typed(200);
    assert_eq!(by_day.total, want);

    // The CSV export: a header, the lines, the total; every row has every column.
    let csv = app
        .raw(
            &app.key,
            "GET",
            "/v1/usage.csv?group=workflow",
            "text/csv",
            None,
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().map(str::to_owned).unwrap_or_default();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let header = &rows[0];
    assert_eq!(header.join(","), UsageLine::CSV_HEADER);
    assert!(rows.iter().all(|r| r.len() == header.len()), "{text}");
    let total: BTreeMap<&str, &str> = header
        .iter()
        .copied()
        .zip(rows.last().unwrap().iter().copied())
        .collect();
    assert_eq!(total["tenant_id"], "total");
    assert_eq!(total["steps"], want.steps.to_string());
    assert_eq!(total["egress_bytes"], want.egress_bytes.to_string());

    // Bad input names the parameter.
    let bad = app.get("/v1/usage?from=2025-13-01").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.to_string().contains("from"), "{}", bad.body);
    let bad = app.get("/v1/usage?from=2025-07-02&to=2025-07-01").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.to_string().contains("`to`"), "{}", bad.body);
}

#[tokio::test]
async fn a_reached_quota_refuses_new_runs_naming_it() {
    let app = TestApp::builder()
        .worker(|w| w.quota_cache_ms = 0)
        .start()
        .await;
    let wf = app
        .workflow(json!({"name": "q", "steps": [
            {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": {"x": 1}}}]}))
        .await;
    let store = app.server.handle.store().clone();
    let tenant = app.server.default_tenant.clone();
    let mut t = store.get_tenant(&tenant).await.unwrap().unwrap();
    t.limits.quotas = Some(weft_types::Quotas {
        runs_per_month: Some(2),
        ..weft_types::Quotas::default()
    });
    weft_store::ops::OpsStore::update_tenant_settings(&*store, &tenant, None, Some(&t.limits))
        .await
        .unwrap();
    for _ in 0..2 {
        let id = app.start_run(&wf.id, json!({})).await;
        app.finished(&id).await;
    }
    let refused = app
        .post(&format!("/v1/workflows/{}/runs", wf.id), json!({}))
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "quota_exceeded");
    let message = refused.body["error"]["message"].as_str().unwrap();
    for part in [
        "runs_per_month",
        "2 used",
        "limit of 2",
        "resets at",
        "-01T00:00:00Z",
    ] {
        assert!(message.contains(part), "`{part}` in {message}");
    }
    let usage: UsageReport = app.get("/v1/usage").await.typed(200);
    assert_eq!(usage.total.runs, 2, "the refused run was not counted");
}

/// An OpenAI-compatible stand-in: every completion used 1,200 prompt and 300
/// completion tokens.
async fn llm_api() -> StandIn {
    let router = axum::Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            axum::Json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
            }))
        }),
    );
    StandIn::start(router).await
}

/// A workflow of two `llm` steps: `priced` with prices (0.5 and 1.5 per 1,000
/// tokens: 1.05 a call, 1,050,000 micros), `free` without (tokens only).
fn chats(api: &StandIn) -> Value {
    let chat = |id: &str, config: Value| {
        json!({"id": id, "kind": "action", "connector": "llm", "action": "chat",
               "config": config,
               "input": {"messages": [{"role": "user", "content": "Say hello"}]}})
    };
    let base = api.url("/v1");
    json!({
        "name": "chats",
        "grants": {"hosts": [format!("127.0.0.1:{}", api.port())],
                   "credentials": {"api-key": "openai"}},
        "steps": [
            chat("priced", json!({"base_url": base, "default_model": "gpt-test",
                                  "prompt_price_per_1k": 0.5, "completion_price_per_1k": 1.5})),
            chat("free", json!({"base_url": base, "default_model": "gpt-test"}))
        ]
    })
}

#[tokio::test]
async fn the_llm_connector_reports_its_tokens_and_cost_and_a_cost_quota_refuses() {
    let api = llm_api().await;
    let app = TestApp::builder()
        .plugin("weft_plugin_llm")
        .worker(|w| w.quota_cache_ms = 0)
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "openai", "secret": "sk-usage-test",
               "hosts": [format!("127.0.0.1:{}", api.port())],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let wf = app.workflow(chats(&api)).await;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let id = app.start_run(&wf.id, json!({})).await;
        let run = app.finished(&id).await;
        assert_eq!(run.status, Status::Completed, "{run:#?}");
        runs.push(run);
    }
    let usage = weft_tests::step(&runs[0], "priced").attempts[0]
        .usage
        .clone()
        .unwrap();
    assert_eq!(usage["llm_input_tokens"], 1200, "{usage}");
    assert_eq!(usage["llm_output_tokens"], 300, "{usage}");
    assert_eq!(usage["llm_cost_micros"], 1_050_000, "{usage}");
    let free = weft_tests::step(&runs[0], "free").attempts[0]
        .usage
        .clone()
        .unwrap();
    assert_eq!(free["llm_input_tokens"], 1200, "{free}");
    assert_eq!(free["llm_cost_micros"].as_u64().unwrap_or(0), 0, "{free}");

    let report: UsageReport = app.get("/v1/usage?group=workflow").await.typed(200);
    assert_eq!(report.total.llm_input_tokens, 4 * 1200);
    assert_eq!(report.total.llm_output_tokens, 4 * 300);
    assert_eq!(report.total.llm_cost_micros, 2 * 1_050_000);
    assert_eq!(report.total, weft_tests::usage::from_journal(&runs));

    // A cost quota below what was spent refuses the next run, naming it.
    let store = app.server.handle.store().clone();
    let tenant = app.server.default_tenant.clone();
    let mut t = store.get_tenant(&tenant).await.unwrap().unwrap();
    t.limits.quotas = Some(weft_types::Quotas {
        llm_cost_micros_per_month: Some(2_000_000),
        ..weft_types::Quotas::default()
    });
    weft_store::ops::OpsStore::update_tenant_settings(&*store, &tenant, None, Some(&t.limits))
        .await
        .unwrap();
    let refused = app
        .post(&format!("/v1/workflows/{}/runs", wf.id), json!({}))
        .await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("llm_cost_micros_per_month") && message.contains("2100000 used"),
        "{message}"
    );
}

/// A1 for usage: a tenant's report holds only its own counters, and its
/// queries cannot name another tenant.
#[tokio::test]
async fn a_tenant_sees_only_its_own_usage() {
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(json!({"name": "mine", "steps": [
            {"id": "a", "kind": "action", "connector": "transform", "action": "jq",
             "input": {"filter": ".", "data": {"x": 1}}}]}))
        .await;
    let id = app.start_run(&wf.id, json!({})).await;
    app.finished(&id).await;
    let other = app.tenant("usage-other").await;
    let theirs = app
        .call_as(&other, "GET", "/v1/usage?group=workflow", None)
        .await;
    let theirs: UsageReport = theirs.typed(200);
    assert!(theirs.lines.is_empty(), "{theirs:#?}");
    assert_eq!(theirs.total, UsageLine::default());
    let csv = app
        .raw(
            &other,
            "GET",
            "/v1/usage.csv?group=workflow",
            "text/csv",
            None,
        )
        .await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap_or_default().to_owned();
    assert!(!text.contains(&wf.id), "{text}");
    let named = app
        .call_as(
            &other,
            "GET",
            &format!("/v1/usage?tenant_id={}", app.server.default_tenant),
            None,
        )
        .await;
    assert_eq!(named.status, 400, "{}", named.body);
    let mine: UsageReport = app.get("/v1/usage?group=workflow").await.typed(200);
    assert_eq!(mine.total.runs, 1);
}
