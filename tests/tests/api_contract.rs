//! Every route's real answers against the OpenAPI document: this test drives
//! every documented operation of a real server (success and refusals), and
//! `TestApp` checks each answer's status, content type and body against the
//! document as it arrives (`weft_tests::contract`). At the end, every
//! documented operation must have been answered with a success status
//! (re-driving a dead letter needs a queue that gave up on a task:
//! `api_dead_letters.rs` shows its success, checked the same way).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::{Value, json};
use weft_model::{Key, Run, Workflow, WorkflowVersion};
use weft_tests::{TestApp, contract};
use weft_types::Status;

#[tokio::test]
async fn every_documented_route_answers_as_documented() {
    let app = TestApp::builder().start().await;

    // System routes.
    app.get("/healthz").await.expect(200);
    app.get("/readyz").await.expect(200);
    app.get("/metrics").await.expect(200);
    app.get("/openapi.json").await.expect(200);

    // Workflows: validate, create (JSON and YAML), list, get, update, versions.
    let def = json!({"name": "contract", "triggers": {"webhook": {"mode": "async"}}, "steps": [
        {"id": "double", "kind": "action", "connector": "transform", "action": "jq",
         "input": {"filter": ". * 2", "data": "{{ trigger.body }}"}},
        {"id": "approve", "kind": "wait", "until": "resume"},
        {"id": "reply", "kind": "respond", "body": "{{ steps.double.output.result }}"}
    ]});
    app.post("/v1/workflows/validate", def.clone())
        .await
        .expect(200);
    let bad = app
        .post("/v1/workflows/validate", json!({"steps": 3}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let export = json!({"name": "from n8n", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "parameters": {}},
        {"name": "Set", "type": "n8n-nodes-base.set", "parameters": {}}],
        "connections": {"Start": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}}});
    app.post("/v1/workflows/import/n8n", json!({"export": export}))
        .await
        .expect(200);
    let wf: Workflow = app.post("/v1/workflows", def.clone()).await.typed(201);
    let yaml = "name: quick\nsteps:\n  - id: answer\n    kind: respond\n    body: hi\n";
    let quick: Workflow = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/yaml",
            Some(yaml.into()),
        )
        .await
        .typed(201);
    app.get("/v1/workflows?limit=1&q=CONTRACT")
        .await
        .expect(200);
    let bad = app.get("/v1/workflows?limit=-1").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    app.get(&format!("/v1/workflows/{}", wf.id))
        .await
        .expect(200);
    let updated: Workflow = app
        .call("PUT", &format!("/v1/workflows/{}", wf.id), Some(def))
        .await
        .typed(200);
    assert_eq!(updated.version, 2);
    let v: WorkflowVersion = app
        .get(&format!("/v1/workflows/{}/versions/1", wf.id))
        .await
        .typed(200);
    assert_eq!(v.version, 1);
    let missing = app
        .get("/v1/workflows/wf_0190a1b2c3d4e5f60718293a4b5c")
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Webhooks: refused while inactive, then sync (respond) and async.
    let hook = quick.hook_url().to_owned();
    let inactive = app.raw("", "POST", &hook, "application/json", None).await;
    assert_eq!(inactive.status, 404, "{}", inactive.body);
    for w in [&wf, &quick] {
        app.post(&format!("/v1/workflows/{}/activate", w.id), json!(null))
            .await
            .expect(200);
    }
    let answered = app
        .raw("", "POST", &hook, "application/json", Some(b"{}".to_vec()))
        .await;
    assert_eq!((answered.status, answered.body), (200, json!("hi")));
    let queued = app
        .raw(
            "",
            "POST",
            wf.hook_url(),
            "application/json",
            Some(b"2".to_vec()),
        )
        .await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let queued = queued.body["run_id"].as_str().unwrap().to_owned();
    app.until(&queued, |r| r.status == Status::Waiting).await;
    app.post(&format!("/v1/runs/{queued}/cancel"), json!(null))
        .await
        .expect(200);

    // Runs: start, list, get, resume by API and by URL, cancel, retry, re-run.
    let run_id = app.start_run(&wf.id, json!(21)).await;
    let waiting = app.until(&run_id, |r| r.status == Status::Waiting).await;
    app.get(&format!("/v1/runs?workflow_id={}&limit=5", wf.id))
        .await
        .expect(200);
    app.get("/v1/runs?trigger=manual&from=0&to=99999999999999&status=waiting")
        .await
        .expect(200);
    app.get("/v1/runs/stats?bucket_ms=600000").await.expect(200);
    app.get("/v1/tenant").await.expect(200);
    let test: Run = app
        .post(
            &format!("/v1/workflows/{}/runs", wf.id),
            json!({"input": 2, "until": "double"}),
        )
        .await
        .typed(201);
    assert_eq!(test.until.as_deref(), Some("double"));
    let bad = app
        .post(
            &format!("/v1/workflows/{}/runs", wf.id),
            json!({"until": "nope"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = app.get("/v1/runs/stats?bucket_ms=1").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let bad = app.get("/v1/runs?before=zzz").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let url = weft_tests::step(&waiting, "approve")
        .resume_url
        .clone()
        .expect("a resume URL");
    app.raw(
        "",
        "POST",
        &url,
        "application/json",
        Some(b"{\"ok\":1}".to_vec()),
    )
    .await
    .expect(200);
    let done = app.finished(&run_id).await;
    assert_eq!(done.status, Status::Completed, "{done:#?}");
    assert_eq!(done.response.as_ref().unwrap().body, json!(42));

    let second = app.start_run(&wf.id, json!(1)).await;
    app.until(&second, |r| r.status == Status::Waiting).await;
    app.post(
        &format!("/v1/runs/{second}/steps/approve/resume"),
        json!({"payload": {"ok": true}}),
    )
    .await
    .expect(200);
    app.finished(&second).await;
    let rerun: Run = app
        .post(
            &format!("/v1/runs/{second}/rerun"),
            json!({"from": "double"}),
        )
        .await
        .typed(201);
    let cancelled: Run = app
        .post(&format!("/v1/runs/{}/cancel", rerun.id), json!(null))
        .await
        .typed(200);
    assert_eq!(cancelled.status, Status::Cancelled);
    let retried: Run = app
        .post(&format!("/v1/runs/{}/retry", rerun.id), json!(null))
        .await
        .typed(201);
    app.post(&format!("/v1/runs/{}/cancel", retried.id), json!(null))
        .await
        .expect(200);

    // Credentials, connectors, keys, audit, dead letters.
    let cred = app
        .post(
            "/v1/credentials",
            json!({"name": "api", "secret": "s3cret", "hosts": ["api.example.com"],
                   "injection": {"type": "bearer"}}),
        )
        .await
        .expect(201);
    let dup = app
        .post(
            "/v1/credentials",
            json!({"name": "api", "secret": "x", "hosts": ["api.example.com"],
                   "injection": {"type": "bearer"}}),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
    app.get("/v1/credentials").await.expect(200);
    let path = format!("/v1/credentials/{}", cred["id"].as_str().unwrap());
    app.call("DELETE", &path, None).await.expect(204);
    app.get("/v1/connectors").await.expect(200);
    let key: Key = app
        .post("/v1/keys", json!({"name": "reader", "role": "viewer"}))
        .await
        .typed(201);
    let viewer = key.secret.clone().expect("the secret, once");
    let forbidden = app
        .call_as(&viewer, "POST", "/v1/workflows", Some(json!({})))
        .await;
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    app.get("/v1/keys").await.expect(200);
    app.call("DELETE", &format!("/v1/keys/{}", key.id), None)
        .await
        .expect(204);
    let revoked = app.call_as(&viewer, "GET", "/v1/runs", None).await;
    assert_eq!(revoked.status, 401, "{}", revoked.body);
    app.get("/v1/audit?limit=10").await.expect(200);
    app.get("/v1/usage?group=workflow").await.expect(200);
    let csv = app
        .raw(&app.key, "GET", "/v1/usage.csv", "text/csv", None)
        .await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    app.get("/v1/dead-letters").await.expect(200);
    let none = app
        .post("/v1/dead-letters/dl_nope/redrive", json!(null))
        .await;
    assert_eq!(none.status, 404, "{}", none.body);

    registry_routes(&app).await;
    people_routes(&app).await;
    notification_routes(&app, &quick.id).await;
    oauth_routes(&app).await;
    operator_routes(&app).await;

    // Deactivate and delete last.
    app.post(
        &format!("/v1/workflows/{}/deactivate", quick.id),
        json!(null),
    )
    .await
    .expect(200);
    app.call("DELETE", &format!("/v1/workflows/{}", quick.id), None)
        .await
        .expect(204);

    let seen = contract::seen();
    let missing: Vec<String> = contract::operations()
        .into_iter()
        .filter(|(m, t)| {
            let redrive = t.ends_with("/redrive");
            !seen
                .iter()
                .any(|(sm, st, s)| sm == m && st == t && (redrive || (200..300).contains(s)))
        })
        .map(|(m, t)| format!("{m} {t}"))
        .collect();
    assert!(
        missing.is_empty(),
        "documented routes this test did not see succeed: {missing:?}"
    );
}

/// Every registry route once, with success: a publisher and its keys, an
/// upload, a signed version, search, show, yank, a template used, an
/// install upgraded and removed, a verify and a takedown (with the operator
/// key).
async fn registry_routes(app: &TestApp) {
    use sha2::Digest as _;
    let bytes = weft_tests::artifact("fixture_greeter");
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    app.post("/v1/registry/publishers", json!({"name": "contract"}))
        .await
        .expect(201);
    app.get("/v1/registry/publishers/contract")
        .await
        .expect(200);
    let (signing, public) = weft_registry::sign::generate().unwrap();
    let (_, spare) = weft_registry::sign::generate().unwrap();
    app.post(
        "/v1/registry/publishers/contract/keys",
        json!({"public_key": public}),
    )
    .await
    .expect(201);
    let spare: weft_model::registry::PublisherKey = app
        .post(
            "/v1/registry/publishers/contract/keys",
            json!({"public_key": spare}),
        )
        .await
        .typed(201);
    app.call(
        "DELETE",
        &format!("/v1/registry/publishers/contract/keys/{}", spare.key_id),
        None,
    )
    .await
    .expect(204);
    app.call_as(
        &app.operator,
        "POST",
        "/v1/ops/registry/publishers/contract/verify",
        Some(json!({"verified": true})),
    )
    .await
    .expect(200);
    let put = app
        .raw(
            &app.key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{digest}"),
            "application/wasm",
            Some(bytes),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    let sig = signing.sign(&weft_registry::sign::statement(
        "contract", "greeter", "0.1.0", &digest,
    ));
    let v: weft_model::registry::Version = app
        .post(
            "/v1/registry/packages/contract/greeter/versions",
            json!({"version": "0.1.0", "digest": format!("sha256:{digest}"), "license": "MIT",
                   "key_id": signing.key_id(), "signature": sig}),
        )
        .await
        .typed(201);
    app.get("/v1/registry/packages?q=greeter&limit=5")
        .await
        .expect(200);
    app.get("/v1/registry/packages/contract/greeter")
        .await
        .expect(200);
    app.get("/v1/registry/packages/contract/greeter/versions/0.1.0")
        .await
        .expect(200);
    let install: weft_model::registry::Install = app
        .post(
            "/v1/installs",
            json!({"package": "contract/greeter", "consent": v.disclosure_digest}),
        )
        .await
        .typed(201);
    app.get("/v1/installs").await.expect(200);
    app.get(&format!("/v1/installs/{}", install.id))
        .await
        .expect(200);
    app.post(
        &format!("/v1/installs/{}/upgrade", install.id),
        json!({"version": "0.1.0"}),
    )
    .await
    .expect(200);
    app.post(
        "/v1/registry/packages/contract/greeter/versions/0.1.0/yank",
        json!({"yanked": true}),
    )
    .await
    .expect(200);
    app.call("DELETE", &format!("/v1/installs/{}", install.id), None)
        .await
        .expect(204);
    app.call_as(
        &app.operator,
        "POST",
        "/v1/ops/registry/packages/contract/greeter/versions/0.1.0/takedown",
        Some(json!({"reason": "contract test"})),
    )
    .await
    .expect(200);
    app.post(
        "/v1/registry/packages/weft/http-fan-out/use",
        json!({"parameters": {"urls": ["https://api.example.com/health"], "hosts": ["*.example.com"]}}),
    )
    .await
    .expect(201);
}

/// People and sessions: invitations, accepting one (a cookie session),
/// the session, switching, logout, login, members, a reset link and its use.
async fn people_routes(app: &TestApp) {
    let pw = "a long and unusual phrase";
    let other = app.tenant("contract-other").await;
    let inv = app
        .post(
            "/v1/invitations",
            json!({"role": "admin", "email": "c@example.com"}),
        )
        .await
        .expect(201);
    let token = inv["token"].as_str().unwrap().to_owned();
    app.get("/v1/invitations").await.expect(200);
    let spare = app
        .post("/v1/invitations", json!({"role": "viewer"}))
        .await
        .expect(201);
    app.call(
        "DELETE",
        &format!("/v1/invitations/{}", spare["id"].as_str().unwrap()),
        None,
    )
    .await
    .expect(204);
    let joined = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": token, "password": pw})),
        )
        .await;
    let cookie = |r: &weft_tests::Resp| {
        let c = r.headers.get("set-cookie").unwrap().to_str().unwrap();
        c.split(';').next().unwrap().to_owned()
    };
    let c = cookie(&joined);
    let body = joined.expect(201);
    let user = body["user_id"].as_str().unwrap().to_owned();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    // A membership in a second tenant, to switch to.
    let t2 = app
        .call_as(
            &other,
            "POST",
            "/v1/invitations",
            Some(json!({"role": "viewer", "email": "c@example.com"})),
        )
        .await
        .expect(201);
    app.send(
        "POST",
        "/v1/auth/accept-invitation",
        &[],
        Some(json!({"token": t2["token"], "password": pw})),
    )
    .await
    .expect(201);
    let h = [("cookie", c.clone()), ("x-csrf-token", csrf.clone())];
    let me = app
        .send("GET", "/v1/auth/session", &h, None)
        .await
        .expect(200);
    let second = me["memberships"][1]["tenant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let switched = app
        .send(
            "POST",
            "/v1/auth/switch",
            &h,
            Some(json!({"tenant": second})),
        )
        .await;
    let c2 = cookie(&switched);
    let csrf2 = switched.expect(200)["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(
        "POST",
        "/v1/auth/logout",
        &[("cookie", c2), ("x-csrf-token", csrf2)],
        None,
    )
    .await
    .expect(204);
    let signed_in = app
        .send(
            "POST",
            "/v1/auth/login",
            &[],
            Some(json!({"email": "c@example.com", "password": pw})),
        )
        .await;
    totp_routes(app, &cookie(&signed_in), &signed_in.expect(200), pw).await;
    app.get("/v1/members").await.expect(200);
    app.call(
        "PATCH",
        &format!("/v1/members/{user}"),
        Some(json!({"role": "member"})),
    )
    .await
    .expect(200);
    // A reset for a user of two tenants is the operator's: a one-tenant user.
    let solo = app
        .post(
            "/v1/invitations",
            json!({"role": "viewer", "email": "s@example.com"}),
        )
        .await
        .expect(201);
    let solo = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": solo["token"], "password": pw})),
        )
        .await
        .expect(201);
    let solo_id = solo["user_id"].as_str().unwrap();
    let reset = app
        .post(&format!("/v1/members/{solo_id}/reset"), json!(null))
        .await
        .expect(201);
    app.send(
        "POST",
        "/v1/auth/reset",
        &[],
        Some(json!({"token": reset["token"], "password": "another long phrase"})),
    )
    .await
    .expect(204);
    app.call("DELETE", &format!("/v1/members/{user}"), None)
        .await
        .expect(204);
}

/// HOTP over HMAC-SHA1, 6 digits (RFC 4226), at the current 30 s step + `ahead`.
fn totp_code(b32: &str, ahead: u64) -> String {
    use hmac::Mac as _;
    let (mut buf, mut bits, mut key) = (0u64, 0u32, Vec::new());
    for c in b32.bytes() {
        let v = if c.is_ascii_uppercase() {
            c - b'A'
        } else {
            c - b'2' + 26
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            key.push((buf >> bits) as u8);
        }
    }
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
        + ahead;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

/// The TOTP routes once each, with success: set up, confirmed (a new
/// session), turned off with a code.
async fn totp_routes(app: &TestApp, cookie: &str, session: &Value, password: &str) {
    let h = [
        ("cookie", cookie.to_owned()),
        (
            "x-csrf-token",
            session["csrf_token"].as_str().unwrap().to_owned(),
        ),
    ];
    let setup = app
        .send(
            "POST",
            "/v1/auth/totp/setup",
            &h,
            Some(json!({"password": password})),
        )
        .await
        .expect(201);
    let secret = setup["secret"].as_str().unwrap();
    let on = app
        .send(
            "POST",
            "/v1/auth/totp/confirm",
            &h,
            Some(json!({"code": totp_code(secret, 0)})),
        )
        .await;
    let set = on.headers.get("set-cookie").unwrap().to_str().unwrap();
    let h = [
        ("cookie", set.split(';').next().unwrap().to_owned()),
        (
            "x-csrf-token",
            on.expect(200)["csrf_token"].as_str().unwrap().to_owned(),
        ),
    ];
    app.send(
        "DELETE",
        "/v1/auth/totp",
        &h,
        Some(json!({"code": totp_code(secret, 1)})),
    )
    .await
    .expect(204);
}

/// Every notification route once, with success: a rule made (its secret in
/// the answer), listed, read, changed with a rotated secret, the deliveries
/// listed, the rule deleted.
async fn notification_routes(app: &TestApp, workflow: &str) {
    let rule = app
        .post(
            "/v1/notifications/rules",
            json!({"workflow_id": workflow, "on": "run_failed",
                   "target": {"type": "webhook", "url": "https://example.com/weft"}}),
        )
        .await
        .expect(201);
    assert!(
        rule["signing_secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    app.get("/v1/notifications/rules").await.expect(200);
    let path = format!("/v1/notifications/rules/{}", rule["id"].as_str().unwrap());
    let read = app.get(&path).await.expect(200);
    assert!(read.get("signing_secret").is_none(), "{read}");
    let changed = app
        .call(
            "PATCH",
            &path,
            Some(json!({"enabled": false, "workflow_id": null, "rotate_secret": true})),
        )
        .await
        .expect(200);
    assert_eq!(changed["enabled"], json!(false));
    assert!(changed.get("workflow_id").is_none(), "{changed}");
    assert_ne!(changed["signing_secret"], rule["signing_secret"]);
    app.get("/v1/notifications/deliveries?status=pending&limit=5")
        .await
        .expect(200);
    let bad = app.get("/v1/notifications/deliveries?before=zzz").await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    app.call("DELETE", &path, None).await.expect(204);
}

/// Every operator route once, with success, with the operator key (the
/// registry's verify and takedown are in [`registry_routes`]).
/// The OAuth2 code flow's two routes: the authorize URL, and the callback
/// with a code a stand-in token URL accepts (`oauth2.rs` checks PKCE and
/// the rest).
async fn oauth_routes(app: &TestApp) {
    let (provider, _) = weft_tests::StandIn::scripted(|_| {
        axum::Json(
            json!({"access_token": "at-contract", "token_type": "Bearer",
                          "refresh_token": "rt-contract", "expires_in": 3600}),
        )
        .into_response()
    })
    .await;
    let cred = app
        .post(
            "/v1/credentials",
            json!({"name": "oauth-contract", "secret": "client-secret",
                   "hosts": [format!("127.0.0.1:{}", provider.port())],
                   "injection": {"type": "oauth2", "grant": "authorization_code",
                                 "authorize_url": provider.url("/authorize"),
                                 "token_url": provider.url("/token"),
                                 "client_id": "contract"}}),
        )
        .await
        .expect(201);
    let a = app
        .post(
            &format!("/v1/credentials/{}/authorize", cred["id"].as_str().unwrap()),
            json!(null),
        )
        .await
        .expect(200);
    let url = url::Url::parse(a["url"].as_str().unwrap()).unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let page = app
        .call(
            "GET",
            &format!("/oauth/callback?state={state}&code=c1"),
            None,
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
}

async fn operator_routes(app: &TestApp) {
    let op = app.operator.clone();
    let call = |method: &'static str, path: String, body: Option<Value>| {
        let op = op.clone();
        async move { app.call_as(&op, method, &path, body).await }
    };
    let t = call(
        "POST",
        "/v1/ops/tenants".into(),
        Some(json!({"name": "contract-ops"})),
    )
    .await
    .expect(201);
    let id = t["id"].as_str().unwrap().to_owned();
    call("GET", "/v1/ops/tenants".into(), None)
        .await
        .expect(200);
    call("GET", format!("/v1/ops/tenants/{id}"), None)
        .await
        .expect(200);
    call(
        "PATCH",
        format!("/v1/ops/tenants/{id}"),
        Some(json!({"name": "contract-ops-2"})),
    )
    .await
    .expect(200);
    let inv = call(
        "POST",
        format!("/v1/ops/tenants/{id}/invitations"),
        Some(json!({"email": "owner@example.com"})),
    )
    .await
    .expect(201);
    assert_eq!(inv["role"], "owner", "{inv}");
    assert!(inv["token"].is_string(), "{inv}");
    call(
        "POST",
        "/v1/ops/users/reset".into(),
        Some(json!({"email": "c@example.com"})),
    )
    .await
    .expect(201);
    call(
        "POST",
        "/v1/ops/users/totp/remove".into(),
        Some(json!({"email": "c@example.com"})),
    )
    .await
    .expect(204);
    call("GET", "/v1/ops/usage?group=workflow".into(), None)
        .await
        .expect(200);
    let csv = call("GET", "/v1/ops/usage.csv".into(), None).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    call(
        "POST",
        format!("/v1/ops/tenants/{id}/suspend"),
        Some(json!({"reason": "contract"})),
    )
    .await
    .expect(200);
    call("POST", format!("/v1/ops/tenants/{id}/resume"), None)
        .await
        .expect(200);
    call("DELETE", format!("/v1/ops/tenants/{id}"), None)
        .await
        .expect(202);
    let k = call(
        "POST",
        "/v1/ops/keys".into(),
        Some(json!({"name": "contract"})),
    )
    .await
    .expect(201);
    call("GET", "/v1/ops/keys".into(), None).await.expect(200);
    call(
        "DELETE",
        format!("/v1/ops/keys/{}", k["id"].as_str().unwrap()),
        None,
    )
    .await
    .expect(204);
    call("GET", "/v1/ops/audit?limit=5".into(), None)
        .await
        .expect(200);
}
