//! A3 over scopes: every route that takes an API key, called with scoped keys
//! generated from the route table (`docs/TENANCY.md`, section 4): a key with
//! the route's own scope (bound to the route's id where it has one) gets past
//! the checks; a key with another scope, and a key with the right scope on
//! another id, answer 403 `scope` and change nothing. A route without a scope
//! takes no scoped key. Also: a scoped key cannot mint a wider one, an expired
//! key is refused, a key's last use is recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_api::routes::{ROUTES, Route, RouteScope, ScopeId};
use weft_tests::TestApp;
use weft_types::scope::{Resource, Verb};

/// The records the filled paths name: two workflows and a run of the first.
struct Ids {
    mine: String,
    other: String,
    run: String,
}

async fn records(app: &TestApp) -> Ids {
    let mut wf = Vec::new();
    for name in ["mine", "other"] {
        let made = app
            .post(
                "/v1/workflows",
                json!({"name": name, "steps": [
                    {"id": "approve", "kind": "wait", "until": "resume"}
                ]}),
            )
            .await
            .expect(201);
        wf.push(made["id"].as_str().unwrap().to_owned());
    }
    let run = app
        .post(
            &format!("/v1/workflows/{}/runs", wf[0]),
            json!({"input": 1}),
        )
        .await
        .expect(201);
    Ids {
        mine: wf[0].clone(),
        other: wf[1].clone(),
        run: run["id"].as_str().unwrap().to_owned(),
    }
}

/// What a path parameter is filled with when no real id is needed.
const MISSING: [(&str, &str); 8] = [
    ("id", "does-not-exist"),
    ("key", "nostep"),
    ("version", "1"),
    ("name", "nothing"),
    ("publisher", "nobody"),
    ("key_id", "nokey"),
    ("digest", "sha256:none"),
    ("user_id", "usr_none"),
];

/// The path with real ids where the scope is about them (a workflow, or a
/// run of `ids.mine`), and ids that exist nowhere elsewhere.
fn fill(route: &Route, ids: &Ids) -> String {
    let mut out = route.path.to_owned();
    let own = match route.scope.map(|s| s.id) {
        Some(ScopeId::RunOf(p)) => Some((p, ids.run.as_str())),
        Some(ScopeId::Path(p)) if route.path.starts_with("/v1/workflows/") => {
            Some((p, ids.mine.as_str()))
        }
        _ => None,
    };
    if let Some((param, value)) = own {
        out = out.replace(&format!("{{{param}}}"), value);
    }
    for (param, value) in MISSING {
        out = out.replace(&format!("{{{param}}}"), value);
    }
    assert!(
        !out.contains('{'),
        "the scope test cannot fill {}: add it",
        route.path
    );
    if matches!(route.scope.map(|s| s.id), Some(ScopeId::Query(_))) {
        out = format!("{out}?workflow_id={}", ids.mine);
    }
    out
}

/// The id the filled path is about, for an id-bound scope.
fn bound_id(route: &Route, ids: &Ids) -> Option<String> {
    match route.scope?.id {
        ScopeId::None => None,
        ScopeId::RunOf(_) | ScopeId::Query(_) => Some(ids.mine.clone()),
        ScopeId::Path(_) if route.path.starts_with("/v1/workflows/") => Some(ids.mine.clone()),
        ScopeId::Path(p) => MISSING
            .iter()
            .find(|(param, _)| *param == p)
            .map(|(_, v)| (*v).to_owned()),
    }
}

fn text(scope: RouteScope, id: Option<&str>) -> String {
    let base = format!("{}:{}", scope.resource.as_str(), scope.verb.as_str());
    id.map_or_else(|| base.clone(), |id| format!("{base}:{id}"))
}

/// A scope of another resource or verb than `scope`'s.
fn another(scope: RouteScope) -> String {
    let other = if scope.resource.verbs().len() == 1 {
        (Resource::Audit, Verb::Read)
    } else if scope.verb == Verb::Read {
        (scope.resource, scope.resource.verbs()[1])
    } else {
        (scope.resource, Verb::Read)
    };
    format!("{}:{}", other.0.as_str(), other.1.as_str())
}

async fn audit(app: &TestApp) -> usize {
    app.get("/v1/audit?limit=1000").await.expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

fn body_for(method: &str) -> Option<Value> {
    (method != "GET" && method != "DELETE").then(|| json!({}))
}

async fn scoped_key(app: &TestApp, role: &str, scopes: &[String]) -> String {
    app.post(
        "/v1/keys",
        json!({"name": "scoped", "role": role, "scopes": scopes}),
    )
    .await
    .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_keyed_route_holds_a_scoped_key_to_its_scope() {
    // Some 200 calls in a few seconds: no rate limit in the way.
    let app = TestApp::builder()
        .config(|c| c.limits.api_rate = 0.0)
        .start()
        .await;
    let ids = records(&app).await;

    // Keys first (their creation is audited), then every refusal, then the
    // audit log must not have moved.
    let mut refusals = Vec::new();
    let mut admissions = Vec::new();
    for route in ROUTES.iter().filter(|r| r.role.is_some()) {
        let role = route.role.unwrap().as_str();
        let path = fill(route, &ids);
        let Some(scope) = route.scope else {
            // No scope: even a key scoped to everything the resource has is refused.
            let key = scoped_key(&app, role, &["workflows:read".into()]).await;
            refusals.push((route, path, key, "a route without a scope".to_owned()));
            continue;
        };
        let wrong = another(scope);
        let key = scoped_key(&app, role, std::slice::from_ref(&wrong)).await;
        refusals.push((route, path.clone(), key, format!("`{wrong}`")));
        let id = bound_id(route, &ids);
        let elsewhere = text(scope, Some(if id.is_some() { &ids.other } else { "x" }));
        let key = scoped_key(&app, role, std::slice::from_ref(&elsewhere)).await;
        refusals.push((route, path.clone(), key, format!("`{elsewhere}`")));
        // Admitted with the owner's role: the scope is what is tried (a
        // member's key would meet the seed matrix on the owner's workflow).
        let own = text(scope, id.as_deref());
        let key = scoped_key(&app, "owner", std::slice::from_ref(&own)).await;
        admissions.push((route, path.clone(), key, own));
        if id.is_some() {
            let any = text(scope, None);
            let key = scoped_key(&app, "owner", std::slice::from_ref(&any)).await;
            admissions.push((route, path, key, any));
        }
    }
    let before = audit(&app).await;
    for (route, path, key, why) in &refusals {
        let got = app
            .call_as(key, route.method, path, body_for(route.method))
            .await;
        assert_eq!(
            (got.status, got.code()),
            (403, "scope"),
            "{} {} with {why} must be refused: {}",
            route.method,
            route.path,
            got.body
        );
    }
    assert_eq!(
        audit(&app).await,
        before,
        "a call refused for its scope left a trace"
    );
    // The admitted calls, deletions last (they remove what others name).
    admissions.sort_by_key(|(r, ..)| r.method == "DELETE");
    for (route, path, key, own) in &admissions {
        let got = app
            .call_as(key, route.method, path, body_for(route.method))
            .await;
        assert!(
            got.status != 401 && got.status != 403,
            "{} {} with `{own}` must pass the checks: {} {}",
            route.method,
            route.path,
            got.status,
            got.body
        );
    }
    let scoped = ROUTES
        .iter()
        .filter(|r| r.role.is_some() && r.scope.is_some())
        .count();
    assert!(scoped >= 40, "the table lost scoped routes: {scoped}");
    assert!(refusals.len() >= 2 * scoped, "{}", refusals.len());
}

#[tokio::test]
async fn a_scope_bound_to_a_workflow_starts_and_reads_its_runs_only() {
    let app = TestApp::builder().start().await;
    let ids = records(&app).await;
    let key = scoped_key(
        &app,
        "member",
        &[
            format!("runs:start:{}", ids.mine),
            format!("runs:read:{}", ids.mine),
        ],
    )
    .await;
    let start = |wf: &str| format!("/v1/workflows/{wf}/runs");
    let run = app
        .call_as(&key, "POST", &start(&ids.mine), Some(json!({"input": 2})))
        .await
        .expect(201);
    let run = run["id"].as_str().unwrap();
    app.call_as(&key, "GET", &format!("/v1/runs/{run}"), None)
        .await
        .expect(200);
    let other = app
        .call_as(&key, "POST", &start(&ids.other), Some(json!({"input": 2})))
        .await;
    assert_eq!(
        (other.status, other.code()),
        (403, "scope"),
        "{}",
        other.body
    );
    assert!(
        other
            .body
            .to_string()
            .contains(&format!("runs:start:{}", ids.other)),
        "the refusal names the scope that would allow it: {}",
        other.body
    );
    // Listing: only with the workflow named in the query.
    let all = app.call_as(&key, "GET", "/v1/runs", None).await;
    assert_eq!((all.status, all.code()), (403, "scope"), "{}", all.body);
    let page = app
        .call_as(
            &key,
            "GET",
            &format!("/v1/runs?workflow_id={}", ids.mine),
            None,
        )
        .await
        .expect(200);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["workflow_id"] == json!(ids.mine))
    );
    // Cancelling is not starting.
    let cancel = app
        .call_as(&key, "POST", &format!("/v1/runs/{run}/cancel"), None)
        .await;
    assert_eq!((cancel.status, cancel.code()), (403, "scope"));
}

#[tokio::test]
async fn a_scoped_key_cannot_mint_a_wider_one() {
    let app = TestApp::builder().start().await;
    let minter = scoped_key(
        &app,
        "owner",
        &["keys:write".into(), "workflows:read".into()],
    )
    .await;
    let mint = |body: Value| app.call_as(&minter, "POST", "/v1/keys", Some(body));
    let whole = mint(json!({"name": "whole", "role": "viewer"})).await;
    assert_eq!(
        (whole.status, whole.code()),
        (403, "scope"),
        "{}",
        whole.body
    );
    let wider = mint(json!({"name": "w", "role": "viewer", "scopes": ["runs:read"]})).await;
    assert_eq!(
        (wider.status, wider.code()),
        (403, "scope"),
        "{}",
        wider.body
    );
    assert!(
        wider.body.to_string().contains("runs:read"),
        "{}",
        wider.body
    );
    let narrower = mint(json!({
        "name": "n", "role": "viewer", "scopes": ["workflows:read:wf_1"]
    }))
    .await
    .expect(201);
    assert_eq!(narrower["scopes"], json!(["workflows:read:wf_1"]));

    let bad = app
        .post(
            "/v1/keys",
            json!({"name": "b", "role": "viewer", "scopes": ["workflows:read", "run:start"]}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.to_string().contains("scopes[1]")
            && bad.body.to_string().contains("unknown resource `run`"),
        "the error names the scope and what is wrong: {}",
        bad.body
    );
}

#[tokio::test]
async fn an_expired_key_is_refused_and_use_is_recorded() {
    let app = TestApp::builder().start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let past = app
        .post(
            "/v1/keys",
            json!({"name": "p", "role": "viewer", "expires_at": now - 1}),
        )
        .await;
    assert_eq!(past.status, 400);
    assert!(
        past.body.to_string().contains("expires_at"),
        "{}",
        past.body
    );

    let soon = app
        .post(
            "/v1/keys",
            json!({"name": "s", "role": "viewer", "expires_at": now + 1_500}),
        )
        .await
        .expect(201);
    let secret = soon["secret"].as_str().unwrap().to_owned();
    app.call_as(&secret, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    let listed = app.get("/v1/keys").await.expect(200);
    let mine = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == soon["id"])
        .unwrap()
        .clone();
    assert!(mine["last_used_at"].as_i64().unwrap() >= now, "{mine}");
    assert_eq!(mine["expires_at"], json!(now + 1_500));
    // An expiring key makes only keys that expire by then.
    let minter = app
        .post(
            "/v1/keys",
            json!({"name": "m", "role": "owner", "expires_at": now + 60_000}),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let forever = app
        .call_as(
            &minter,
            "POST",
            "/v1/keys",
            Some(json!({"name": "f", "role": "viewer"})),
        )
        .await;
    assert_eq!(forever.status, 400, "{}", forever.body);
    assert!(
        forever.body.to_string().contains("expires_at"),
        "{}",
        forever.body
    );
    let later = app
        .call_as(
            &minter,
            "POST",
            "/v1/keys",
            Some(json!({"name": "l", "role": "viewer", "expires_at": now + 120_000})),
        )
        .await;
    assert_eq!(later.status, 400, "{}", later.body);
    app.call_as(
        &minter,
        "POST",
        "/v1/keys",
        Some(json!({"name": "s", "role": "viewer", "expires_at": now + 30_000})),
    )
    .await
    .expect(201);
    // Past its expiry (a real wait: the expiry is the server's clock).
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    let got = app.call_as(&secret, "GET", "/v1/workflows", None).await;
    assert_eq!((got.status, got.code()), (401, "unauthenticated"));
}
