//! A3: every route that takes an API key, called with a key of every role. A
//! role below the route's least role answers 403 `forbidden` and changes
//! nothing; a role at or above it gets past the role check (whatever the route
//! then says about the ids and the body). Generated from the route table, so a
//! new route is covered the day it is added.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_api::routes::ROUTES;
use weft_tests::TestApp;
use weft_types::Role;

const ROLES: [Role; 4] = [Role::Viewer, Role::Member, Role::Admin, Role::Owner];

/// The path with ids that exist nowhere, so an allowed call cannot change a
/// record and a denied one shows that the role is checked before the id.
fn fill(path: &str) -> String {
    let mut out = path.to_owned();
    for (param, value) in [
        ("{id}", "does-not-exist"),
        ("{key}", "nostep"),
        ("{version}", "1"),
        ("{name}", "nothing"),
        ("{publisher}", "nobody"),
        ("{key_id}", "nokey"),
        ("{user_id}", "usr_nobody"),
        ("{digest}", "sha256:none"),
    ] {
        out = out.replace(param, value);
    }
    assert!(!out.contains('{'), "the A3 test cannot fill {path}: add it");
    out
}

fn body_for(method: &str) -> Option<Value> {
    (method != "GET" && method != "DELETE").then(|| json!({}))
}

#[tokio::test]
async fn every_keyed_route_refuses_the_roles_below_its_own_and_admits_the_rest() {
    let app = TestApp::builder().start().await;
    let mut keys = Vec::new();
    for role in ROLES {
        let key = if role == Role::Owner {
            app.key.clone()
        } else {
            let made = app
                .post(
                    "/v1/keys",
                    json!({"name": format!("a3-{}", role.as_str()), "role": role.as_str()}),
                )
                .await
                .expect(201);
            made["secret"].as_str().unwrap().to_owned()
        };
        keys.push((role, key));
    }
    let before = app.get("/v1/audit").await.expect(200)["items"]
        .as_array()
        .unwrap()
        .len();

    let mut denied = 0;
    let mut admitted = 0;
    // The denied calls first: had one got through, the audit log would show it.
    for want_denied in [true, false] {
        for route in ROUTES {
            let Some(need) = route.role else { continue };
            let path = fill(route.path);
            for (role, key) in &keys {
                if (*role < need) != want_denied {
                    continue;
                }
                let got = app
                    .call_as(key, route.method, &path, body_for(route.method))
                    .await;
                let who = format!("{} {} as {}", route.method, route.path, role.as_str());
                if want_denied {
                    assert_eq!(
                        (got.status, got.code()),
                        (403, "forbidden"),
                        "{who} must be refused: {}",
                        got.body
                    );
                    denied += 1;
                } else {
                    assert!(
                        got.status != 403 && got.status != 401,
                        "{who} must pass the role check: {} {}",
                        got.status,
                        got.body
                    );
                    admitted += 1;
                }
            }
        }
        if want_denied {
            let after = app.get("/v1/audit").await.expect(200)["items"]
                .as_array()
                .unwrap()
                .len();
            assert_eq!(
                after, before,
                "a refused call left a trace in the audit log"
            );
        }
    }
    // Every (route, role) pair was played one way or the other.
    let keyed = ROUTES.iter().filter(|r| r.role.is_some()).count();
    assert_eq!(denied + admitted, keyed * ROLES.len());
    assert!(keyed >= 25, "the table lost routes: {keyed}");
    assert!(denied >= 20, "too few refusals played: {denied}");
}

/// How many entries the operator audit log has.
async fn audit(app: &TestApp) -> usize {
    app.call_as(&app.operator, "GET", "/v1/ops/audit", None)
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

/// Every operator route (`/v1/ops/…`) refuses a tenant's key of every role,
/// the owner's included, with 403 `wrong_principal`, and changes nothing:
/// the operator is a principal apart from tenants (`docs/TENANCY.md`,
/// section 1). The operator key gets past the check.
#[tokio::test]
async fn every_operator_route_refuses_every_tenant_role() {
    let app = TestApp::builder().start().await;
    let mut keys = Vec::new();
    for role in ROLES {
        let key = if role == Role::Owner {
            app.key.clone()
        } else {
            app.post(
                "/v1/keys",
                json!({"name": format!("ops-{}", role.as_str()), "role": role.as_str()}),
            )
            .await
            .expect(201)["secret"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        keys.push((role, key));
    }
    let before = audit(&app).await;
    let mut refused = 0;
    for route in ROUTES.iter().filter(|r| r.operator) {
        assert!(
            route.role.is_none(),
            "{}: operator routes take no tenant role",
            route.path
        );
        assert!(
            route.path.starts_with("/v1/ops/"),
            "{}: operator routes live under /v1/ops",
            route.path
        );
        let path = fill(route.path);
        for (role, key) in &keys {
            let got = app
                .call_as(key, route.method, &path, body_for(route.method))
                .await;
            assert_eq!(
                (got.status, got.code()),
                (403, "wrong_principal"),
                "{} {} as a tenant {}: {}",
                route.method,
                route.path,
                role.as_str(),
                got.body
            );
            refused += 1;
        }
        let got = app
            .call_as(&app.operator, route.method, &path, body_for(route.method))
            .await;
        assert!(
            got.status != 401 && got.status != 403,
            "{} {} with the operator key: {} {}",
            route.method,
            route.path,
            got.status,
            got.body
        );
    }
    let ops = ROUTES.iter().filter(|r| r.operator).count();
    assert!(ops >= 17, "the table lost operator routes: {ops}");
    assert_eq!(refused, ops * ROLES.len());
    assert_eq!(
        audit(&app).await,
        before,
        "a refused call left a trace in the operator audit log"
    );
}

/// L6: axum answers HEAD with the GET handler; the early role check holds HEAD
/// to the GET route's role. (HEAD is not in the OpenAPI document, so it is
/// sent around the checked client; its answer has no body, only the status.)
#[tokio::test]
async fn head_is_held_to_the_role_of_the_get_route() {
    let app = TestApp::builder().start().await;
    let viewer = app
        .post("/v1/keys", json!({"name": "l6-viewer", "role": "viewer"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let mut refused = 0;
    for route in ROUTES.iter().filter(|r| r.method == "GET") {
        let Some(need) = route.role else { continue };
        let url = format!("{}{}", app.base, fill(route.path));
        let head = |key: &str| http.head(&url).bearer_auth(key).send();
        let owner = head(&app.key).await.unwrap().status().as_u16();
        assert!(
            owner != 403 && owner < 500,
            "HEAD {} as owner: {owner}",
            route.path
        );
        if need > Role::Viewer {
            let got = head(&viewer).await.unwrap().status().as_u16();
            assert_eq!(got, 403, "HEAD {} as viewer (needs {need:?})", route.path);
            refused += 1;
        }
    }
    assert!(refused >= 3, "too few GET routes above viewer: {refused}");
}
