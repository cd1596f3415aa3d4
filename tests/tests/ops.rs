//! The operator (`docs/TENANCY.md`, sections 1, 2 and 7) through the real
//! HTTP API: the operator key is apart from every tenant's key, tenants are
//! created, suspended, resumed, deleted and erased by the operator, their
//! overrides are validated, and retention prunes ended runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::time::Duration;
use weft_store::{Page, RunFilter};
use weft_tests::TestApp;

const DAY_MS: i64 = 86_400_000;

async fn runs_of(app: &TestApp, tenant: &str) -> usize {
    app.server
        .handle
        .store()
        .list_runs(tenant, &RunFilter::default(), &Page::first(1000))
        .await
        .unwrap()
        .len()
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_operator_creates_tenants_and_principals_stay_apart() {
    let app = TestApp::builder().start().await;
    assert!(app.operator.starts_with("weft_op_"));
    let (id, owner) = app.new_tenant("acme").await;
    app.call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(200);

    // A tenant's key on an operator route, and the operator's on a tenant route.
    for key in [&owner, &app.key] {
        let body = app
            .call_as(key, "GET", "/v1/ops/tenants", None)
            .await
            .expect(403);
        assert_eq!(code(&body), "wrong_principal", "{body}");
    }
    let body = app
        .call_as(&app.operator, "GET", "/v1/workflows", None)
        .await
        .expect(403);
    assert_eq!(code(&body), "wrong_principal", "{body}");
    app.call_as("", "GET", "/v1/ops/tenants", None)
        .await
        .expect(401);

    let list = app
        .call_as(&app.operator, "GET", "/v1/ops/tenants", None)
        .await
        .expect(200);
    let items = list["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|t| t["id"] == id.as_str() && t["state"]["state"] == "active")
    );
    assert!(
        items.iter().all(|t| t.get("owner_key").is_none()),
        "the secret is shown once"
    );

    // Overrides: unknown keys are refused naming them; known ones are stored.
    let path = format!("/v1/ops/tenants/{id}");
    for (bad, name) in [
        (json!({"limits": {"api_rat": 5}}), "api_rat"),
        (
            json!({"limits": {"quotas": {"runs_a_month": 5}}}),
            "runs_a_month",
        ),
    ] {
        let body = app
            .call_as(&app.operator, "PATCH", &path, Some(bad))
            .await
            .expect(400);
        assert!(body.to_string().contains(name), "{body}");
    }
    let body = app
        .call_as(
            &app.operator,
            "PATCH",
            &path,
            Some(json!({"limits": {"api_rate": -1}})),
        )
        .await
        .expect(400);
    assert!(body.to_string().contains("limits.api_rate"), "{body}");
    let t = app
        .call_as(
            &app.operator,
            "PATCH",
            &path,
            Some(json!({"name": "acme2", "limits": {"max_active_runs": 3, "quotas": {"steps_per_month": 10}}})),
        )
        .await
        .expect(200);
    assert_eq!(t["name"], "acme2");
    assert_eq!(t["limits"]["quotas"]["steps_per_month"], 10);

    // More operator keys; the last live one cannot be revoked.
    let k = app
        .call_as(
            &app.operator,
            "POST",
            "/v1/ops/keys",
            Some(json!({"name": "second"})),
        )
        .await
        .expect(201);
    let second = k["secret"].as_str().unwrap().to_owned();
    app.call_as(&second, "GET", "/v1/ops/keys", None)
        .await
        .expect(200);
    let keys = app
        .call_as(&second, "GET", "/v1/ops/keys", None)
        .await
        .expect(200);
    let first_id = keys["items"][0]["id"].as_str().unwrap().to_owned();
    let second_id = k["id"].as_str().unwrap().to_owned();
    app.call_as(&second, "DELETE", &format!("/v1/ops/keys/{first_id}"), None)
        .await
        .expect(204);
    app.call_as(&app.operator, "GET", "/v1/ops/keys", None)
        .await
        .expect(401);
    app.call_as(
        &second,
        "DELETE",
        &format!("/v1/ops/keys/{second_id}"),
        None,
    )
    .await
    .expect(409);

    // Audited with the operator as actor.
    let log = app
        .call_as(&second, "GET", "/v1/ops/audit", None)
        .await
        .expect(200);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "tenant.create",
        "tenant.update",
        "operator_key.create",
        "operator_key.revoke",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        log["items"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("op:opk_")
    );
}

#[tokio::test]
async fn a_suspended_tenant_is_refused_its_webhooks_start_nothing_and_resume_restores() {
    let app = TestApp::builder().start().await;
    let (id, owner) = app.new_tenant("acme").await;
    let wf: Value = app
        .call_as(
            &owner,
            "POST",
            "/v1/workflows",
            Some(
                json!({"name": "hook", "triggers": {"webhook": {"mode": "async"}},
                "steps": [{"id": "r", "kind": "respond", "body": "ok"}]}),
            ),
        )
        .await
        .expect(201);
    let wf_id = wf["id"].as_str().unwrap();
    app.call_as(
        &owner,
        "POST",
        &format!("/v1/workflows/{wf_id}/activate"),
        None,
    )
    .await
    .expect(200);
    let hook = wf["webhook_url"].as_str().unwrap().to_owned();

    let t = app
        .call_as(
            &app.operator,
            "POST",
            &format!("/v1/ops/tenants/{id}/suspend"),
            Some(json!({"reason": "invoice 42 unpaid"})),
        )
        .await
        .expect(200);
    assert_eq!(t["state"]["state"], "suspended");
    let body = app
        .call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(403);
    assert_eq!(code(&body), "tenant_suspended");
    assert!(body.to_string().contains("invoice 42 unpaid"), "{body}");
    let body = app.hook(&hook, &[], b"{}").await.expect(403);
    assert_eq!(code(&body), "tenant_suspended");
    assert_eq!(
        runs_of(&app, &id).await,
        0,
        "a suspended tenant's webhook starts no run"
    );
    // The other tenants are untouched.
    app.get("/v1/workflows").await.expect(200);

    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{id}/resume"),
        None,
    )
    .await
    .expect(200);
    app.call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    app.hook(&hook, &[], b"{}").await.expect(202);
    assert_eq!(runs_of(&app, &id).await, 1);
}

#[tokio::test]
async fn a_suspended_tenants_schedule_does_not_fire_until_resumed() {
    let app = TestApp::builder().start().await;
    let (id, owner) = app.new_tenant("ticker").await;
    let wf: Value = app
        .call_as(
            &owner,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "tick",
                "triggers": {"schedule": {"cron": "* * * * * *", "timezone": "UTC"}},
                "steps": [{"id": "r", "kind": "respond", "body": "t"}]})),
        )
        .await
        .expect(201);
    let wf_id = wf["id"].as_str().unwrap();
    app.call_as(
        &owner,
        "POST",
        &format!("/v1/workflows/{wf_id}/activate"),
        None,
    )
    .await
    .expect(200);
    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{id}/suspend"),
        Some(json!({"reason": "paused"})),
    )
    .await
    .expect(200);
    // A sweeper round that began before the suspend may still finish.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let at_suspend = runs_of(&app, &id).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(
        runs_of(&app, &id).await,
        at_suspend,
        "no tick fired while suspended"
    );

    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{id}/resume"),
        None,
    )
    .await
    .expect(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while runs_of(&app, &id).await == at_suspend {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the schedule fires again on resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_deleted_tenant_can_be_resumed_in_its_grace_and_is_erased_after() {
    let app = TestApp::builder()
        .worker(|w| {
            w.tenant_erase_grace_ms = 1_500;
            w.ops_sweep_ms = 100;
        })
        .start()
        .await;
    let (id, owner) = app.new_tenant("leaving").await;
    app.call_as(
        &owner,
        "POST",
        "/v1/workflows",
        Some(json!({"name": "w", "steps": [{"id": "r", "kind": "respond", "body": "x"}]})),
    )
    .await
    .expect(201);
    let path = format!("/v1/ops/tenants/{id}");
    let t = app
        .call_as(&app.operator, "DELETE", &path, None)
        .await
        .expect(202);
    assert_eq!(t["state"]["state"], "deleting");
    let body = app
        .call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(403);
    assert_eq!(code(&body), "tenant_suspended");
    // Resume during the grace cancels.
    app.call_as(&app.operator, "POST", &format!("{path}/resume"), None)
        .await
        .expect(200);
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    let list = app
        .call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing was erased"
    );

    app.call_as(&app.operator, "DELETE", &path, None)
        .await
        .expect(202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = app.call_as(&app.operator, "GET", &path, None).await;
        if r.status == 404 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tenant is erased after the grace"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(401);
    let store = app.server.handle.store();
    assert!(store.list_api_keys(&id).await.unwrap().is_empty());
    assert!(store.list_audit(&id, 10).await.unwrap().is_empty());
    let log = app
        .call_as(&app.operator, "GET", "/v1/ops/audit", None)
        .await
        .expect(200);
    let mine: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tenant_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        mine,
        [
            "tenant.erase.end",
            "tenant.erase.start",
            "tenant.delete",
            "tenant.resume",
            "tenant.delete",
            "tenant.create"
        ]
    );
    // The default tenant is whole.
    app.get("/v1/workflows").await.expect(200);
}

#[tokio::test]
async fn retention_prunes_ended_runs_past_the_tenants_days_and_keeps_the_rest() {
    let app = TestApp::builder()
        .worker(|w| w.ops_sweep_ms = 0)
        .start()
        .await;
    let (keep_id, keep_key) = app.new_tenant("keeps").await;
    app.call_as(
        &app.operator,
        "PATCH",
        &format!("/v1/ops/tenants/{keep_id}"),
        Some(json!({"limits": {"run_retention_days": 0}})),
    )
    .await
    .expect(200);
    let def = json!({"name": "w", "steps": [{"id": "r", "kind": "respond", "body": "x"}]});
    let mut runs = Vec::new();
    for key in [&app.key, &keep_key] {
        let wf: Value = app
            .call_as(key, "POST", "/v1/workflows", Some(def.clone()))
            .await
            .expect(201);
        let wf_id = wf["id"].as_str().unwrap();
        let run: Value = app
            .call_as(
                key,
                "POST",
                &format!("/v1/workflows/{wf_id}/runs"),
                Some(json!({"input": 1})),
            )
            .await
            .expect(201);
        runs.push(run["id"].as_str().unwrap().to_owned());
    }
    app.finished(&runs[0]).await;
    let tenants = app.server.app.tenants();
    let now = weft_worker::now_ms();
    // A day later the default (30 days) keeps them.
    let done = tenants
        .sweep(now + DAY_MS, &weft_worker::Options::default())
        .await
        .unwrap();
    assert_eq!(done.runs_pruned, 0);
    // 31 days later the default tenant's run goes; the tenant with 0 keeps its own.
    let store = app.server.handle.store();
    let keep_tenant = keep_id.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store
        .get_run(&keep_tenant, &runs[1])
        .await
        .unwrap()
        .unwrap()
        .finished_at
        .is_none()
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = tenants
        .sweep(now + 31 * DAY_MS, &weft_worker::Options::default())
        .await
        .unwrap();
    assert_eq!(done.runs_pruned, 1);
    app.get(&format!("/v1/runs/{}", runs[0])).await.expect(404);
    app.call_as(&keep_key, "GET", &format!("/v1/runs/{}", runs[1]), None)
        .await
        .expect(200);
}

/// The tenant as the sweeper leaves it mid-erase: its grace passed, some rows
/// gone (the store's compare-and-set, as the sweeper does it).
async fn erasing(app: &TestApp, id: &str) {
    let store = app.server.handle.store();
    let t = store.get_tenant(id).await.unwrap().unwrap();
    assert_eq!(t.state.name(), "deleting");
    let to = weft_types::TenantState::Erasing {
        reason: "the tenant is being deleted".into(),
        at: weft_worker::now_ms(),
    };
    store.set_tenant_state(id, &t.state, &to).await.unwrap();
}

#[tokio::test]
async fn an_erasing_tenant_cannot_be_suspended_resumed_deleted_or_changed() {
    let app = TestApp::builder()
        .worker(|w| {
            w.tenant_erase_grace_ms = 0;
            w.ops_sweep_ms = 0;
        })
        .start()
        .await;
    let (id, owner) = app.new_tenant("leaving").await;
    let path = format!("/v1/ops/tenants/{id}");
    app.call_as(&app.operator, "DELETE", &path, None)
        .await
        .expect(202);
    erasing(&app, &id).await;
    for (method, url, body) in [
        (
            "POST",
            format!("{path}/suspend"),
            Some(json!({"reason": "x"})),
        ),
        ("POST", format!("{path}/resume"), None),
        ("DELETE", path.clone(), None),
        (
            "PATCH",
            path.clone(),
            Some(json!({"limits": {"api_rate": 1.0}})),
        ),
        ("POST", format!("{path}/resume"), None),
    ] {
        let body = app
            .call_as(&app.operator, method, &url, body)
            .await
            .expect(409);
        assert_eq!(code(&body), "conflict", "{method} {url}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("erasing"), "{method} {url}: {message}");
    }
    let t = app
        .call_as(&app.operator, "GET", &path, None)
        .await
        .expect(200);
    assert_eq!(t["state"]["state"], "erasing", "erasing is final");
    assert!(t["limits"].get("api_rate").is_none(), "nothing written");
    app.call_as(&owner, "GET", "/v1/workflows", None)
        .await
        .expect(403);
    // The sweeper finishes the erase.
    let done = app
        .server
        .app
        .tenants()
        .sweep(weft_worker::now_ms(), &weft_worker::Options::default())
        .await
        .unwrap();
    assert_eq!(done.erased_tenants, 1);
    app.call_as(&app.operator, "GET", &path, None)
        .await
        .expect(404);
}

#[tokio::test]
async fn one_sweeper_round_at_a_time() {
    let app = TestApp::builder()
        .worker(|w| {
            w.tenant_erase_grace_ms = 0;
            w.ops_sweep_ms = 0;
        })
        .start()
        .await;
    let (id, _) = app.new_tenant("leaving").await;
    let path = format!("/v1/ops/tenants/{id}");
    app.call_as(&app.operator, "DELETE", &path, None)
        .await
        .expect(202);
    let (tenants, store) = (app.server.app.tenants(), app.server.handle.store());
    let options = weft_worker::Options::default();
    // Another process is sweeping: this round does nothing.
    let other = store.lock_sweeper().await.unwrap().expect("free");
    let done = tenants
        .sweep(weft_worker::now_ms(), &options)
        .await
        .unwrap();
    assert!(done.skipped, "{done:?}");
    assert_eq!(done.erased_tenants, 0);
    let t = app
        .call_as(&app.operator, "GET", &path, None)
        .await
        .expect(200);
    assert_eq!(t["state"]["state"], "deleting", "untouched");
    other.release().await;
    // Two rounds at once: one erases, the other is skipped; audited once.
    let now = weft_worker::now_ms();
    let (a, b) = tokio::join!(tenants.sweep(now, &options), tenants.sweep(now, &options));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.erased_tenants + b.erased_tenants, 1, "{a:?} {b:?}");
    let log = app
        .call_as(&app.operator, "GET", "/v1/ops/audit", None)
        .await
        .expect(200);
    let mine: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tenant_id"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        mine,
        [
            "tenant.erase.end",
            "tenant.erase.start",
            "tenant.delete",
            "tenant.create"
        ]
    );
}

#[tokio::test]
async fn retention_keeps_up_past_one_batch_a_round() {
    let app = TestApp::builder()
        .worker(|w| w.ops_sweep_ms = 0)
        .start()
        .await;
    let def = json!({"name": "w", "steps": [{"id": "r", "kind": "respond", "body": "x"}]});
    let wf: Value = app.post("/v1/workflows", def).await.expect(201);
    let wf_id = wf["id"].as_str().unwrap();
    let mut runs = Vec::new();
    for i in 0..7 {
        let run: Value = app
            .post(&format!("/v1/workflows/{wf_id}/runs"), json!({"input": i}))
            .await
            .expect(201);
        runs.push(run["id"].as_str().unwrap().to_owned());
    }
    for id in &runs {
        app.finished(id).await;
    }
    let options = weft_worker::Options {
        ops_sweep_batch: 2,
        ..weft_worker::Options::default()
    };
    let tenants = app.server.app.tenants();
    // 7 ended runs, batches of 2: one round takes them all (4 batches), and
    // every audit row past a year.
    let later = weft_worker::now_ms() + 400 * DAY_MS;
    let done = tenants.sweep(later, &options).await.unwrap();
    assert_eq!(done.runs_pruned, 7, "{done:?}");
    for id in &runs {
        app.get(&format!("/v1/runs/{id}")).await.expect(404);
    }
    assert!(done.audit_pruned > 2, "{done:?}");
    let store = app.server.handle.store();
    let tenant = app.server.default_tenant.clone();
    assert!(store.list_audit(&tenant, 10).await.unwrap().is_empty());
}
