//! A1: with tenant A's key, every route called with tenant B's ids answers 404
//! with the same body as an id that does not exist. Generated from the route
//! table, so a new route is covered the day it is added. Also: keys, roles,
//! credentials never returned.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_api::routes::ROUTES;
use weft_model::Run;
use weft_tests::{TestApp, step};

/// Tenant B's records: one of everything a path can name.
struct Records {
    workflow: String,
    run: String,
    waiting_step: String,
    credential: String,
    key: String,
    webhook: String,
    resume: String,
    /// B's publisher, its key, its package's version and B's install of it.
    publisher: String,
    key_id: String,
    install: String,
    /// B's notification rule.
    notification_rule: String,
    /// A member of B (a user id) and an open invitation of B.
    member: String,
    invitation: String,
}

/// The catalogue is public: any tenant reads B's publisher, package and
/// versions, and may use B's templates (the marketplace).
const PUBLIC: &[&str] = &[
    "/v1/registry/publishers/{name}",
    "/v1/registry/packages/{publisher}/{name}",
    "/v1/registry/packages/{publisher}/{name}/versions/{version}",
    "/v1/registry/packages/{publisher}/{name}/use",
];
/// Content-addressed: a digest names bytes, not a tenant's record.
const BY_DIGEST: &[&str] = &["/v1/registry/blobs/{digest}"];

/// B publishes `bpub/greeter` 0.1.0 (the greeter fixture) and installs it.
async fn tenant_b_registry(app: &TestApp, key: &str) -> (String, String, String) {
    use sha2::Digest as _;
    let bytes = weft_tests::artifact("fixture_greeter");
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    app.call_as(
        key,
        "POST",
        "/v1/registry/publishers",
        Some(json!({"name": "bpub"})),
    )
    .await
    .expect(201);
    let (signing, public) = weft_registry::sign::generate().unwrap();
    app.call_as(
        key,
        "POST",
        "/v1/registry/publishers/bpub/keys",
        Some(json!({"public_key": public})),
    )
    .await
    .expect(201);
    let put = app
        .raw(
            key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{digest}"),
            "application/wasm",
            Some(bytes),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    let sig = signing.sign(&weft_registry::sign::statement(
        "bpub", "greeter", "0.1.0", &digest,
    ));
    let v = app
        .call_as(
            key,
            "POST",
            "/v1/registry/packages/bpub/greeter/versions",
            Some(json!({
                "version": "0.1.0", "digest": format!("sha256:{digest}"), "license": "MIT",
                "key_id": signing.key_id(), "signature": sig
            })),
        )
        .await
        .expect(201);
    let install = app
        .call_as(
            key,
            "POST",
            "/v1/installs",
            Some(json!({"package": "bpub/greeter", "consent": v["disclosure_digest"]})),
        )
        .await
        .expect(201);
    (
        "bpub".into(),
        signing.key_id(),
        install["id"].as_str().unwrap().to_owned(),
    )
}

/// A member of B (joined by an invitation) and an open invitation of B.
async fn tenant_b_people(app: &TestApp, key: &str) -> (String, String) {
    let inv = app
        .call_as(
            key,
            "POST",
            "/v1/invitations",
            Some(json!({"role": "member", "email": "b@example.com"})),
        )
        .await
        .expect(201);
    let joined = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": inv["token"], "password": "a long and unusual phrase"})),
        )
        .await
        .expect(201);
    let open = app
        .call_as(
            key,
            "POST",
            "/v1/invitations",
            Some(json!({"role": "viewer"})),
        )
        .await
        .expect(201);
    (
        joined["user_id"].as_str().unwrap().to_owned(),
        open["id"].as_str().unwrap().to_owned(),
    )
}

async fn tenant_b(app: &TestApp, key: &str) -> Records {
    let wf = app
        .call_as(
            key,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "b", "steps": [
                {"id": "approve", "kind": "wait", "until": "resume"}
            ]})),
        )
        .await
        .expect(201);
    let workflow = wf["id"].as_str().unwrap().to_owned();
    let run = app
        .call_as(
            key,
            "POST",
            &format!("/v1/workflows/{workflow}/runs"),
            Some(json!({"input": 1})),
        )
        .await
        .expect(201);
    let run = run["id"].as_str().unwrap().to_owned();
    let view = loop {
        let v: Run = app
            .call_as(key, "GET", &format!("/v1/runs/{run}"), None)
            .await
            .typed(200);
        if v.steps
            .as_deref()
            .unwrap()
            .iter()
            .any(|s| s.resume_url.is_some())
        {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let resume = step(&view, "approve")
        .resume_url
        .as_deref()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let cred = app
        .call_as(key, "POST", "/v1/credentials", Some(json!({
            "name": "b-secret", "secret": "s3cret-of-b", "hosts": ["api.example.com"], "injection": {"type": "bearer"}
        })))
        .await
        .expect(201);
    let k = app
        .call_as(
            key,
            "POST",
            "/v1/keys",
            Some(json!({"name": "b2", "role": "viewer"})),
        )
        .await
        .expect(201);
    let (publisher, key_id, install) = tenant_b_registry(app, key).await;
    let rule = app
        .call_as(
            key,
            "POST",
            "/v1/notifications/rules",
            Some(json!({
                "on": "run_failed", "target": {"type": "webhook", "url": "https://example.com/b"}
            })),
        )
        .await
        .expect(201);
    let (member, invitation) = tenant_b_people(app, key).await;
    Records {
        member,
        invitation,
        notification_rule: rule["id"].as_str().unwrap().to_owned(),
        publisher,
        key_id,
        install,
        webhook: wf["webhook_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned(),
        workflow,
        run,
        waiting_step: "approve".into(),
        credential: cred["id"].as_str().unwrap().to_owned(),
        key: k["id"].as_str().unwrap().to_owned(),
        resume,
    }
}

/// The path with B's ids (or with ids that exist nowhere).
fn fill(path: &str, r: &Records, missing: bool) -> String {
    // (`/v1/ops/registry/…` too: the operator's verify and takedown.)
    let registry = path.contains("/registry/packages/");
    let mut out = path.replace("{version}", if registry { "0.1.0" } else { "1" });
    if registry {
        out = out.replace("{name}", "greeter");
    }
    let mut set = |param: &str, value: &str| {
        let v = if missing {
            format!("{value}x")
        } else {
            value.to_owned()
        };
        out = out.replace(param, &v);
    };
    if path.starts_with("/v1/workflows/") {
        set("{id}", &r.workflow.clone());
    }
    if path.starts_with("/v1/runs/") {
        set("{id}", &r.run.clone());
        set("{key}", &r.waiting_step.clone());
    }
    if path.starts_with("/v1/credentials/") {
        set("{id}", &r.credential.clone());
    }
    if path.starts_with("/v1/keys/") {
        set("{id}", &r.key.clone());
    }
    if path.starts_with("/v1/dead-letters/") {
        // The in-process queue of this app has no dead letter to take from B:
        // cross-tenant redrive is covered by the worker's tenant filter test.
        set("{id}", "1");
    }
    if path.contains("/registry/publishers/") {
        set("{name}", &r.publisher.clone());
        set("{key_id}", &r.key_id.clone());
    }
    if registry {
        set("{publisher}", &r.publisher.clone());
    }
    if path.starts_with("/v1/registry/blobs/") {
        set("{digest}", &"0".repeat(64));
    }
    if path.starts_with("/v1/notifications/rules/") {
        set("{id}", &r.notification_rule.clone());
    }
    if path.starts_with("/v1/members/") {
        set("{user_id}", &r.member.clone());
    }
    if path.starts_with("/v1/invitations/") {
        set("{id}", &r.invitation.clone());
    }
    if path.starts_with("/v1/ops/") {
        // The operator's routes take no tenant key (A3 shows every one
        // refuses them, 403 `wrong_principal`): any id.
        set("{id}", &r.key.clone());
    }
    if path.starts_with("/v1/installs/") {
        set("{id}", &r.install.clone());
    }
    if path.starts_with("/hooks/") {
        set("{token}", &r.webhook.clone());
    }
    if path.starts_with("/resume/") {
        set("{token}", &r.resume.clone());
    }
    out
}

fn body_for(path: &str) -> Option<Value> {
    Some(match path {
        p if p.ends_with("/rerun") => json!({"from": "approve"}),
        p if p.ends_with("/resume") => json!({"payload": 1}),
        p if p.ends_with("/runs") => json!({"input": 1}),
        p if p.ends_with("/yank") => json!({"yanked": true}),
        p if p.starts_with("/v1/members/{user_id}") => json!({"role": "viewer"}),
        p if p.ends_with("/keys") => json!({"public_key": "00".repeat(32)}),
        p if p.ends_with("/versions") => {
            json!({"version": "9.9.9", "digest": format!("sha256:{}", "0".repeat(64)), "license": "MIT", "key_id": "x", "signature": "00"})
        }
        p if p.starts_with("/v1/workflows/{id}") => {
            json!({"name": "x", "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]})
        }
        _ => json!({}),
    })
}

#[tokio::test]
async fn every_route_with_another_tenants_ids_answers_404_like_a_missing_id() {
    let app = TestApp::builder().start().await;
    let b_key = app.tenant("b").await;
    let b = tenant_b(&app, &b_key).await;
    let mut checked = 0;
    let mut exempt = 0;
    for r in ROUTES.iter().filter(|r| r.path.contains('{')) {
        let foreign = fill(r.path, &b, false);
        let missing = fill(r.path, &b, true);
        assert!(
            !foreign.contains('{'),
            "A1 test does not know how to fill {}: add it",
            r.path
        );
        if r.role.is_none() {
            // Webhook and resume tokens are credentials themselves (256 random
            // bits, checked by `api_runs`); there is no key to cross tenants with.
            continue;
        }
        if PUBLIC.contains(&r.path) || BY_DIGEST.contains(&r.path) {
            // Not a tenant's record: checked below and in `registry.rs`.
            exempt += 1;
            continue;
        }
        let body = body_for(r.path);
        let got = app
            .call_as(&app.key, r.method, &foreign, body.clone())
            .await;
        let none = app.call_as(&app.key, r.method, &missing, body).await;
        assert_eq!(
            got.status, 404,
            "{} {foreign} with tenant A's key: {}",
            r.method, got.body
        );
        assert_eq!(
            got.body, none.body,
            "{} {}: a foreign id must look like a missing one",
            r.method, r.path
        );
        checked += 1;
    }
    let expected = ROUTES
        .iter()
        .filter(|r| r.role.is_some() && r.path.contains('{'))
        .count();
    assert_eq!(checked + exempt, expected);
    assert_eq!(exempt, PUBLIC.len() + BY_DIGEST.len());
    // The public catalogue shows B's package to A, but never B's install.
    app.get(&format!("/v1/registry/packages/{}/greeter", b.publisher))
        .await
        .expect(200);
    let installs = app.get("/v1/installs").await.expect(200);
    assert!(!installs.to_string().contains(&b.install), "{installs}");
    assert!(checked >= 14, "the table lost routes: {checked}");

    // Nothing of B's changed: its run still waits, its workflow is there.
    let run = app
        .call_as(&b_key, "GET", &format!("/v1/runs/{}", b.run), None)
        .await
        .expect(200);
    assert_eq!(run["status"], "waiting");
    app.call_as(
        &b_key,
        "GET",
        &format!("/v1/workflows/{}", b.workflow),
        None,
    )
    .await
    .expect(200);
    // Nor of B's registry records: its install, its key, its version.
    let install = app
        .call_as(&b_key, "GET", &format!("/v1/installs/{}", b.install), None)
        .await
        .expect(200);
    assert!(install["held"].is_null(), "{install}");
    let publisher = app
        .call_as(
            &b_key,
            "GET",
            &format!("/v1/registry/publishers/{}", b.publisher),
            None,
        )
        .await
        .expect(200);
    assert!(
        publisher["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["revoked_at"].is_null()),
        "{publisher}"
    );
    let version = app
        .call_as(
            &b_key,
            "GET",
            &format!(
                "/v1/registry/packages/{}/greeter/versions/0.1.0",
                b.publisher
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(version["yanked"], false, "{version}");
    // The tenant's own view is the caller's: A's key never reads B's.
    let b_id = app
        .call_as(&b_key, "GET", "/v1/tenant", None)
        .await
        .expect(200)["id"]
        .clone();
    let mine = app.get("/v1/tenant").await.expect(200);
    assert_ne!(mine["id"], b_id, "{mine}");
    assert!(!mine.to_string().contains(b_id.as_str().unwrap()), "{mine}");
    // Lists never show B's records to A.
    for list in [
        "/v1/workflows",
        "/v1/workflows?q=b",
        "/v1/runs",
        "/v1/runs/stats",
        "/v1/credentials",
        "/v1/keys",
    ] {
        let items = app.get(list).await.expect(200);
        let text = items.to_string();
        assert!(
            !text.contains(&b.workflow) && !text.contains(&b.run) && !text.contains(&b.credential),
            "{list}: {text}"
        );
    }
}

#[tokio::test]
async fn keys_are_checked_roles_are_enforced_and_secrets_never_come_back() {
    let app = TestApp::builder().memory().start().await;
    let r = app.call_as("", "GET", "/v1/workflows", None).await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"));
    let forged = format!("{}x", app.key);
    assert_eq!(
        app.call_as(&forged, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );

    let viewer = app
        .post("/v1/keys", json!({"name": "ro", "role": "viewer"}))
        .await
        .expect(201);
    let viewer_key = viewer["secret"].as_str().unwrap().to_owned();
    assert!(viewer_key.starts_with(viewer["prefix"].as_str().unwrap()));
    app.call_as(&viewer_key, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    let denied = app
        .call_as(
            &viewer_key,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "x", "steps": []})),
        )
        .await;
    assert_eq!((denied.status, denied.code()), (403, "forbidden"));
    let keys = app.get("/v1/keys").await.expect(200);
    assert!(
        !keys.to_string().contains(&viewer_key),
        "a key's secret is shown once"
    );
    app.call(
        "DELETE",
        &format!("/v1/keys/{}", viewer["id"].as_str().unwrap()),
        None,
    )
    .await
    .expect(204);
    assert_eq!(
        app.call_as(&viewer_key, "GET", "/v1/workflows", None)
            .await
            .status,
        401,
        "revoked at once"
    );

    let created = app
        .post("/v1/credentials", json!({"name": "slack", "secret": "xoxb-very-secret", "hosts": ["slack.com"], "injection": {"type": "bearer"}}))
        .await
        .expect(201);
    let listed = app.get("/v1/credentials").await.expect(200);
    for v in [&created, &listed] {
        assert!(
            !v.to_string().contains("xoxb-very-secret"),
            "secret returned: {v}"
        );
    }
    assert_eq!(listed["items"][0]["name"], "slack");
    let dup = app.post("/v1/credentials", json!({"name": "slack", "secret": "x", "hosts": ["a.b"], "injection": {"type": "bearer"}})).await;
    assert_eq!((dup.status, dup.code()), (409, "conflict"));
    let audit = app.get("/v1/audit").await.expect(200);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"credential.create") && actions.contains(&"key.revoke"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a2_a_tenant_named_in_a_body_or_a_query_is_refused_not_obeyed() {
    let app = TestApp::builder().memory().start().await;
    let b_key = app.tenant("b").await;
    let def = json!({"name": "mine", "tenant_id": "b",
        "steps": [{"id": "w", "kind": "wait", "duration_ms": 1}]});
    let r = app.post("/v1/workflows", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.to_string().contains("tenant_id"), "{}", r.body);
    for path in ["/v1/workflows?tenant_id=b", "/v1/runs?tenant_id=b"] {
        let r = app.get(path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.body.to_string().contains("tenant_id"),
            "{path}: {}",
            r.body
        );
    }
    // Nothing was made for, or shown from, the other tenant.
    let theirs = app.call_as(&b_key, "GET", "/v1/workflows", None).await;
    assert_eq!(theirs.expect(200)["items"], json!([]));
}
