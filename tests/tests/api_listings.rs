//! What the console lists and counts, through the API: workflows searched by
//! name with their newest run, runs filtered by trigger and time, run
//! statistics, the tenant's own limits and quotas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_model::Workflow;
use weft_tests::TestApp;

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn workflows_are_searched_by_name_and_carry_their_newest_run() {
    let app = TestApp::builder().start().await;
    let wait = |name: &str| json!({"name": name, "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]});
    let report = app.workflow(wait("Nightly Report")).await;
    let other = app.workflow(wait("100% _done_")).await;
    let idle = app.workflow(wait("report (never run)")).await;
    let b_key = app.tenant("b").await;
    app.call_as(&b_key, "POST", "/v1/workflows", Some(wait("Report of B")))
        .await
        .expect(201);

    let first = app.start_run(&report.id, json!(1)).await;
    app.finished(&first).await;
    let second = app.start_run(&report.id, json!(2)).await;
    let second = app.finished(&second).await;
    app.start_run(&other.id, json!(3)).await;

    let found = app.get("/v1/workflows?q=REPORT").await.expect(200);
    assert_eq!(
        ids(&found),
        [idle.id.clone(), report.id.clone()],
        "A-Z in either case, newest first, this tenant's only: {found}"
    );
    let items = found["items"].as_array().unwrap();
    assert_eq!(items[0]["last_run"], Value::Null, "never run: null");
    assert_eq!(
        items[1]["last_run"],
        json!({"id": second.id, "status": "completed", "created_at": second.created_at}),
        "the newest run"
    );
    let page = app.get("/v1/workflows?q=report&limit=1").await.expect(200);
    assert_eq!(ids(&page), [idle.id.as_str()]);
    let next = page["next"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/workflows?q=report&limit=1&before={next}"))
        .await
        .expect(200);
    assert_eq!(ids(&rest), [report.id.as_str()]);
    for (q, want) in [
        ("%25", vec![other.id.clone()]),
        ("_d", vec![other.id.clone()]),
    ] {
        let got = app.get(&format!("/v1/workflows?q={q}")).await.expect(200);
        assert_eq!(ids(&got), want, "`{q}` is a plain character");
    }
    let all = app.get("/v1/workflows?q=").await.expect(200);
    assert_eq!(ids(&all).len(), 3, "an empty q: every workflow");
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.get("last_run").is_some())
    );

    let long = "x".repeat(201);
    let bad = app.get(&format!("/v1/workflows?q={long}")).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.to_string().contains("`q`"), "{}", bad.body);

    let got: Workflow = app
        .get(&format!("/v1/workflows/{}", report.id))
        .await
        .typed(200);
    assert_eq!(
        got.last_run.flatten().map(|r| r.id),
        Some(second.id.clone()),
        "a workflow's page shows its newest run too"
    );
    let changed = app
        .post(
            &format!("/v1/workflows/{}/activate", report.id),
            json!(null),
        )
        .await
        .expect(200);
    assert!(
        changed.get("last_run").is_none(),
        "answers to changes leave it out: {changed}"
    );
}

#[tokio::test]
async fn runs_are_filtered_by_trigger_and_creation_time() {
    let app = TestApp::builder().start().await;
    let wf = app
        .workflow(
            json!({"name": "filtered", "triggers": {"webhook": {"mode": "async"}},
            "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]}),
        )
        .await;
    app.post(&format!("/v1/workflows/{}/activate", wf.id), json!(null))
        .await
        .expect(200);
    let manual = app.start_run(&wf.id, json!(1)).await;
    let manual = app.finished(&manual).await;
    let hooked = app.hook(wf.hook_url(), &[], b"{}").await.expect(202)["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let hooked = app.finished(&hooked).await;
    assert!(
        hooked.created_at > manual.created_at,
        "one ms apart at least"
    );

    let list = |q: String| {
        let app = &app;
        async move { ids(&app.get(&format!("/v1/runs?{q}")).await.expect(200)) }
    };
    assert_eq!(list("trigger=webhook".into()).await, [hooked.id.as_str()]);
    assert_eq!(list("trigger=manual".into()).await, [manual.id.as_str()]);
    assert_eq!(
        list(format!("from={}", hooked.created_at)).await,
        [hooked.id.as_str()],
        "from is included"
    );
    assert_eq!(
        list(format!("to={}", hooked.created_at)).await,
        [manual.id.as_str()],
        "to is excluded"
    );
    assert_eq!(
        list(format!(
            "workflow_id={}&status=completed&trigger=manual&from={}&to={}",
            wf.id,
            manual.created_at,
            manual.created_at + 1
        ))
        .await,
        [manual.id.as_str()],
        "every filter at once"
    );
    assert!(list("trigger=schedule".into()).await.is_empty());

    for (q, param) in [
        ("trigger=cron", "trigger"),
        ("from=yesterday", "from"),
        ("to=1.5", "to"),
        ("from=10&to=10", "to"),
    ] {
        let bad = app.get(&format!("/v1/runs?{q}")).await;
        assert_eq!(bad.status, 400, "{q}: {}", bad.body);
        let msg = bad.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("`{param}`")), "{q}: {msg}");
    }
}

#[tokio::test]
async fn run_statistics_count_by_bucket_and_status_and_name_the_busiest() {
    let app = TestApp::builder().start().await;
    let ok = app
        .workflow(
            json!({"name": "steady", "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]}),
        )
        .await;
    let bad = app
        .workflow(json!({"name": "flaky", "steps": [{"id": "x", "kind": "action",
            "connector": "transform", "action": "jq", "input": {"filter": "error(\"no\")", "data": 1}}]}))
        .await;
    let gone = app
        .workflow(json!({"name": "gone", "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]}))
        .await;
    let mut runs = Vec::new();
    for (wf, n) in [(&ok, 3), (&bad, 2), (&gone, 1)] {
        for i in 0..n {
            let id = app.start_run(&wf.id, json!(i)).await;
            runs.push(app.finished(&id).await);
        }
    }
    app.call("DELETE", &format!("/v1/workflows/{}", gone.id), None)
        .await
        .expect(204);
    let b_key = app.tenant("b").await;
    let theirs = app
        .call_as(
            &b_key,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "b",
            "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]})),
        )
        .await
        .expect(201);
    app.call_as(
        &b_key,
        "POST",
        &format!("/v1/workflows/{}/runs", theirs["id"].as_str().unwrap()),
        Some(json!({"input": 1})),
    )
    .await
    .expect(201);

    let day = app.get("/v1/runs/stats").await.expect(200);
    assert_eq!(day["bucket_ms"], 3_600_000, "{day}");
    let (from, to) = (day["from"].as_i64().unwrap(), day["to"].as_i64().unwrap());
    assert_eq!(to - from, 86_400_000, "the last 24 hours");
    assert_eq!(to % 3_600_000, 0, "ending on a whole hour");
    assert_eq!(day["buckets"].as_array().unwrap().len(), 24, "every bucket");
    assert_eq!(
        day["total"],
        json!({"total": 6, "pending": 0, "running": 0, "waiting": 0,
               "completed": 4, "failed": 2, "cancelled": 0}),
        "this tenant's six runs: {day}"
    );
    assert_eq!(
        day["busiest"],
        json!([
            {"workflow_id": ok.id, "name": "steady", "runs": 3, "failed": 0},
            {"workflow_id": bad.id, "name": "flaky", "runs": 2, "failed": 2},
            {"workflow_id": gone.id, "name": null, "runs": 1, "failed": 0},
        ])
    );

    // A window of one second per bucket around the runs: the buckets hold
    // each run once, at the bucket of its creation time.
    let first = runs.iter().map(|r| r.created_at).min().unwrap();
    let last = runs.iter().map(|r| r.created_at).max().unwrap();
    let fine = app
        .get(&format!(
            "/v1/runs/stats?from={first}&to={}&bucket_ms=1000",
            last + 1
        ))
        .await
        .expect(200);
    let buckets = fine["buckets"].as_array().unwrap();
    let per_bucket: u64 = buckets
        .iter()
        .map(|b| b["runs"]["total"].as_u64().unwrap())
        .sum();
    assert_eq!(per_bucket, 6, "{fine}");
    for r in &runs {
        let i = usize::try_from((r.created_at - first) / 1000).unwrap();
        assert!(buckets[i]["runs"]["total"].as_u64().unwrap() >= 1, "{fine}");
        assert_eq!(
            buckets[i]["start"].as_i64().unwrap(),
            first + 1000 * i as i64
        );
    }
    let before = app
        .get(&format!(
            "/v1/runs/stats?from={}&to={first}",
            first - 60_000
        ))
        .await
        .expect(200);
    assert_eq!(before["total"]["total"], 0, "`to` is excluded");
    assert_eq!(before["busiest"], json!([]));

    for (q, param) in [
        ("bucket_ms=999", "bucket_ms"),
        ("from=10&to=10", "to"),
        ("from=0&to=7776000001&bucket_ms=86400000", "from"),
        ("from=0&to=3600000000&bucket_ms=3600000", "bucket_ms"),
        ("bucket_ms=hour", "bucket_ms"),
        ("since=1", "since"),
    ] {
        let bad = app.get(&format!("/v1/runs/stats?{q}")).await;
        assert_eq!(bad.status, 400, "{q}: {}", bad.body);
        let msg = bad.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("`{param}`")), "{q}: {msg}");
    }
}

#[tokio::test]
async fn the_tenant_sees_the_limits_and_quotas_the_server_enforces() {
    // The quota check reads fresh counters (its cache is 5 s by default).
    let app = TestApp::builder()
        .worker(|w| w.quota_cache_ms = 0)
        .start()
        .await;
    let me = app.get("/v1/tenant").await.expect(200);
    let id = me["id"].as_str().unwrap().to_owned();
    assert_eq!(me["state"]["state"], "active", "{me}");
    assert_eq!(me["overrides"], json!({}), "no overrides yet: {me}");
    let limits = &me["limits"];
    assert_eq!(
        (
            &limits["api_rate"],
            &limits["api_burst"],
            &limits["max_running_steps"],
            &limits["max_active_runs"],
            &limits["run_retention_days"],
        ),
        (
            &json!(100.0),
            &json!(200),
            &json!(32),
            &json!(100_000),
            &json!(30)
        ),
        "the deployment's defaults: {me}"
    );
    assert_eq!(limits["component_bytes"], 64 * 1024 * 1024);
    let quotas = me["quotas"].as_array().unwrap();
    let names: Vec<&str> = quotas
        .iter()
        .map(|q| q["quota"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "runs_per_month",
            "steps_per_month",
            "llm_cost_micros_per_month",
            "egress_bytes_per_day"
        ]
    );
    assert!(quotas.iter().all(|q| q["limit"].is_null()), "{me}");
    assert!(
        quotas[0]["resets_at"].as_i64().unwrap() > quotas[3]["resets_at"].as_i64().unwrap() - 1,
        "a month ends no sooner than a day"
    );

    // The operator sets overrides: they show at once, over the defaults.
    let wf = app
        .workflow(json!({"name": "q", "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]}))
        .await;
    let done = app.start_run(&wf.id, json!(1)).await;
    app.finished(&done).await;
    app.call_as(
        &app.operator,
        "PATCH",
        &format!("/v1/ops/tenants/{id}"),
        Some(json!({"limits": {
            "api_rate": 0, "max_active_runs": 5, "max_running_steps": 0,
            "component_bytes": 1_000_000_000_u64, "run_retention_days": 0,
            "quotas": {"runs_per_month": 2, "egress_bytes_per_day": 9}
        }})),
    )
    .await
    .expect(200);
    let me = app.get("/v1/tenant").await.expect(200);
    let limits = &me["limits"];
    assert_eq!(limits["api_rate"], Value::Null, "a rate of 0 is no limit");
    assert_eq!(limits["api_burst"], Value::Null);
    assert_eq!(limits["webhook_rate"], json!(50.0), "the default stays");
    assert_eq!(limits["max_active_runs"], 5);
    assert_eq!(limits["max_running_steps"], Value::Null, "0: no limit");
    assert_eq!(limits["run_retention_days"], Value::Null, "0: kept forever");
    assert_eq!(
        limits["component_bytes"],
        64 * 1024 * 1024,
        "an override never raises the deployment's maximum"
    );
    assert_eq!(me["overrides"]["max_active_runs"], 5);
    let runs = &me["quotas"][0];
    assert_eq!(
        (runs["limit"].as_u64(), runs["used"].as_i64()),
        (Some(2), Some(1)),
        "{me}"
    );
    assert_eq!(me["quotas"][3]["limit"], 9);

    // One more run reaches the quota; the view says so, and the next start
    // is refused by the same count.
    let second = app.start_run(&wf.id, json!(2)).await;
    app.finished(&second).await;
    let me = app.get("/v1/tenant").await.expect(200);
    assert_eq!(me["quotas"][0]["used"], 2, "{me}");
    assert_eq!(me["limits"]["active_runs"], 0);
    let refused = app
        .post(
            &format!("/v1/workflows/{}/runs", wf.id),
            json!({"input": 3}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (429, "quota_exceeded"),
        "{}",
        refused.body
    );

    // A viewer reads it; a key scoped to usage reads it; another scope does not.
    for (role, scopes, status) in [
        ("viewer", json!(null), 200),
        ("viewer", json!(["usage:read"]), 200),
        ("viewer", json!(["runs:read"]), 403),
    ] {
        let key = app
            .post(
                "/v1/keys",
                json!({"name": "t", "role": role, "scopes": scopes}),
            )
            .await
            .expect(201)["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let got = app.call_as(&key, "GET", "/v1/tenant", None).await;
        assert_eq!(got.status, status, "{scopes}: {}", got.body);
    }
    // Another tenant sees its own.
    let b_key = app.tenant("b").await;
    let theirs = app
        .call_as(&b_key, "GET", "/v1/tenant", None)
        .await
        .expect(200);
    assert_ne!(theirs["id"], json!(id));
    assert_eq!(theirs["quotas"][0]["used"], 0);
}
