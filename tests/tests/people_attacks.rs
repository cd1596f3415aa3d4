//! People and sessions, attacked (`docs/TENANCY.md`, section 3): each test
//! plays a hole a review proved against a real server and fails on the code
//! before its fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_model::Status;
use weft_model::people::{Invitation, SessionInfo};
use weft_tests::{Resp, TestApp, step};

const PW: &str = "a long and unusual phrase";

/// A signed-in browser.
struct Browser {
    cookie: String,
    csrf: String,
    user_id: String,
    tenant_id: String,
}

fn browser(r: Resp, status: u16) -> Browser {
    let c = r.headers.get("set-cookie").expect("a Set-Cookie");
    let cookie = c.to_str().unwrap().split(';').next().unwrap().to_owned();
    let s: SessionInfo = r.typed(status);
    Browser {
        cookie,
        csrf: s.csrf_token,
        user_id: s.user_id,
        tenant_id: s.tenant_id,
    }
}

async fn invite(app: &TestApp, key: &str, role: &str, email: &str) -> String {
    let inv: Invitation = app
        .call_as(
            key,
            "POST",
            "/v1/invitations",
            Some(json!({"role": role, "email": email})),
        )
        .await
        .typed(201);
    inv.token.unwrap()
}

async fn accept(app: &TestApp, token: &str, password: &str) -> Resp {
    app.send(
        "POST",
        "/v1/auth/accept-invitation",
        &[],
        Some(json!({"token": token, "password": password})),
    )
    .await
}

async fn join(app: &TestApp, key: &str, role: &str, email: &str) -> Browser {
    let token = invite(app, key, role, email).await;
    browser(accept(app, &token, PW).await, 201)
}

async fn as_browser(
    app: &TestApp,
    b: &Browser,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let h = [
        ("cookie", b.cookie.clone()),
        ("x-csrf-token", b.csrf.clone()),
    ];
    app.send(method, path, &h, body).await
}

async fn login_from(app: &TestApp, email: &str, password: &str, from: &str) -> Resp {
    app.send(
        "POST",
        "/v1/auth/login",
        &[("x-forwarded-for", from.to_owned())],
        Some(json!({"email": email, "password": password})),
    )
    .await
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Mallory (admin of T) issues a reset for Victor (a viewer of T only);
/// Victor then joins tenant U as its owner. The old link must not set
/// Victor's password any more: it would give Mallory U's owner.
#[tokio::test]
async fn a_reset_link_of_one_tenant_cannot_take_over_another() {
    let app = TestApp::builder().start().await;
    let mallory = join(&app, &app.key, "admin", "mallory@example.com").await;
    let victor = join(&app, &app.key, "viewer", "victor@example.com").await;
    let reset: Invitation = as_browser(
        &app,
        &mallory,
        "POST",
        &format!("/v1/members/{}/reset", victor.user_id),
        None,
    )
    .await
    .typed(201);
    let link = reset.token.unwrap();
    // Victor becomes the owner of U with his existing account.
    let u = app.tenant("u").await;
    let token = invite(&app, &u, "owner", "victor@example.com").await;
    accept(&app, &token, PW).await.expect(201);
    let taken = app
        .send(
            "POST",
            "/v1/auth/reset",
            &[],
            Some(json!({"token": link, "password": "mallory owns this now"})),
        )
        .await;
    assert_eq!(
        (taken.status, taken.code()),
        (422, "invalid_token"),
        "{}",
        taken.body
    );
    let r = login_from(
        &app,
        "victor@example.com",
        "mallory owns this now",
        "1.1.1.1",
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    login_from(&app, "victor@example.com", PW, "1.1.1.1")
        .await
        .expect(200);
}

/// 60 wrong logins at once: the count gates them, so no more than the
/// threshold are checked (401), the rest are 429 (or 503 while the password
/// queue is full), never 54 checks.
#[tokio::test]
async fn concurrent_wrong_logins_are_counted_before_they_are_checked() {
    // Behind a trusted proxy, so that the last login comes from another
    // address (without one, 3.3.3.3 was ignored and that login came from the
    // flooding address: refused while its delay lasted, when CI was slow).
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
        })
        .start()
        .await;
    join(&app, &app.key, "member", "bob@example.com").await;
    let http = reqwest::Client::new();
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let req = http
            .post(format!("{}/v1/auth/login", app.base))
            .header("content-type", "application/json")
            .body(r#"{"email":"bob@example.com","password":"not the password at all"}"#);
        tries.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let answers = tries.join_all().await;
    let checked = answers.iter().filter(|s| **s == 401).count();
    for s in &answers {
        assert!(matches!(s, 401 | 429 | 503), "{s}");
    }
    assert!(
        checked <= 5,
        "{checked} passwords checked for a threshold of 5"
    );
    // The right password from elsewhere is not held up by the flood.
    login_from(&app, "bob@example.com", PW, "3.3.3.3")
        .await
        .expect(200);
}

/// Behind a trusted proxy the client is the forwarded address: failures from
/// X delay X only; Y logs in at once. The delay doubles and caps.
#[tokio::test]
async fn another_address_is_not_delayed_and_the_delay_doubles_and_caps() {
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
            c.sessions.account_failures = 1;
            c.sessions.base_delay_ms = 1_000;
            c.sessions.max_delay_ms = 2_000;
        })
        .start()
        .await;
    join(&app, &app.key, "member", "bob@example.com").await;
    let x = "198.51.100.7";
    let wrong = "not the password at all";
    login_from(&app, "bob@example.com", wrong, x)
        .await
        .expect(401);
    let r = login_from(&app, "bob@example.com", PW, x).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{}", r.body);
    assert_eq!(retry_after(&r), 1);
    // The victim, from another address: not delayed.
    login_from(&app, "bob@example.com", PW, "203.0.113.9")
        .await
        .expect(200);
    // The attacker's own delay grows: 1 s (above), 2 s, then capped at 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(1_050)).await;
    for expected in [2, 2] {
        let r = login_from(&app, "bob@example.com", wrong, x).await;
        assert_eq!(r.status, 401, "{}", r.body);
        let r = login_from(&app, "bob@example.com", wrong, x).await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(retry_after(&r), expected, "{}", r.body);
        tokio::time::sleep(std::time::Duration::from_millis(expected * 1000 + 50)).await;
    }
    // A header from an untrusted peer is not believed: only the proxy's.
    let r = app
        .send(
            "POST",
            "/v1/auth/login",
            &[("x-forwarded-for", format!("{x}, 10.1.1.1"))],
            Some(json!({"email": "bob@example.com", "password": PW})),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "the rightmost untrusted hop, not the client's claim: {}",
        r.body
    );
}

/// 401s say what was wrong for their route, never the API key sentence.
#[tokio::test]
async fn each_credential_failure_says_what_it_was() {
    let app = TestApp::builder().start().await;
    join(&app, &app.key, "member", "bob@example.com").await;
    let key_msg = app.call_as("weft_nope", "GET", "/v1/workflows", None).await;
    let key_msg = key_msg.body["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    let login = login_from(
        &app,
        "bob@example.com",
        "not the password at all",
        "4.4.4.4",
    )
    .await;
    let unknown = login_from(
        &app,
        "nobody@example.com",
        "not the password at all",
        "4.4.4.5",
    )
    .await;
    assert_eq!(login.body["error"], unknown.body["error"], "no enumeration");
    let cookie = app
        .send(
            "GET",
            "/v1/workflows",
            &[("cookie", "weft_session=deadbeef".to_owned())],
            None,
        )
        .await;
    let token = invite(&app, &app.key, "viewer", "bob@example.com").await;
    let inv = accept(&app, &token, "not the password at all").await;
    let op = app
        .call_as("weft_op_nope", "GET", "/v1/ops/tenants", None)
        .await;
    let mut seen = vec![key_msg];
    for (what, r) in [
        ("login", login),
        ("cookie", cookie),
        ("invitation", inv),
        ("operator", op),
    ] {
        assert_eq!(
            (r.status, r.code()),
            (401, "unauthenticated"),
            "{what}: {}",
            r.body
        );
        let m = r.body["error"]["message"].as_str().unwrap().to_owned();
        assert!(!seen.contains(&m), "{what} repeats a message: {m}");
        seen.push(m);
    }
}

/// A suspended tenant's waits accept no resume (403 `tenant_suspended`, like
/// its webhooks); resumed, the same token works.
#[tokio::test]
async fn a_suspended_tenants_wait_cannot_be_resumed() {
    let app = TestApp::builder().start().await;
    let owner = join(&app, &app.key, "member", "ann@example.com").await;
    let wf = app
        .workflow(json!({"name": "approval", "steps": [
            {"id": "approve", "kind": "wait", "until": "resume"},
            {"id": "reply", "kind": "respond", "body": {"ok": true}}
        ]}))
        .await;
    let id = app.start_run(&wf.id, json!({})).await;
    let run = app
        .until(&id, |r| {
            r.steps.as_deref().is_some_and(|s| {
                s.iter()
                    .any(|s| s.resume_url.is_some() && s.status == Status::Waiting)
            })
        })
        .await;
    let url = step(&run, "approve").resume_url.clone().unwrap();
    let t = &owner.tenant_id;
    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{t}/suspend"),
        Some(json!({"reason": "unpaid"})),
    )
    .await
    .expect(200);
    let r = app
        .call_as("", "POST", &url, Some(json!({"decision": "no"})))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "tenant_suspended"),
        "{}",
        r.body
    );
    app.call_as(
        &app.operator,
        "POST",
        &format!("/v1/ops/tenants/{t}/resume"),
        None,
    )
    .await
    .expect(200);
    app.call_as("", "POST", &url, Some(json!({"decision": "no"})))
        .await
        .expect(200);
}

async fn login_with(app: &TestApp, headers: &[(&str, String)], password: &str) -> u16 {
    app.send(
        "POST",
        "/v1/auth/login",
        headers,
        Some(json!({"email": "bob@example.com", "password": password})),
    )
    .await
    .status
}

/// Behind a proxy that writes only `X-Forwarded-For` (nginx, ALB) and passes
/// a client's `Forwarded` through, a client that sets `Forwarded: for=…`
/// per request must still be counted under the address the proxy wrote.
#[tokio::test]
async fn a_client_cannot_pick_its_address_with_a_forwarded_header() {
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
            c.sessions.address_failures = 3;
            c.sessions.account_failures = 100;
        })
        .start()
        .await;
    join(&app, &app.key, "member", "bob@example.com").await;
    let wrong = "not the password at all";
    let xff = ("x-forwarded-for", "198.51.100.7".to_owned());
    for i in 0..3 {
        let h = [xff.clone(), ("forwarded", format!("for=10.9.0.{i}"))];
        assert_eq!(login_with(&app, &h, wrong).await, 401);
    }
    let h = [xff.clone(), ("forwarded", "for=10.9.0.99".to_owned())];
    assert_eq!(
        login_with(&app, &h, PW).await,
        429,
        "the client's own Forwarded picked a fresh address"
    );
    // Another address (as the proxy writes it) is not held up.
    let other = [("x-forwarded-for", "203.0.113.9".to_owned())];
    assert_eq!(login_with(&app, &other, PW).await, 200);
}

/// The proxy writes `Forwarded`: then a client's `X-Forwarded-For` is the
/// one ignored.
#[tokio::test]
async fn with_forwarded_named_a_clients_x_forwarded_for_is_ignored() {
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.trusted_proxies = vec!["127.0.0.0/8".to_owned().try_into().unwrap()];
            c.sessions.client_address_header = serde_json::from_value(json!("forwarded")).unwrap();
            c.sessions.address_failures = 3;
            c.sessions.account_failures = 100;
        })
        .start()
        .await;
    join(&app, &app.key, "member", "bob@example.com").await;
    let fwd = ("forwarded", "for=198.51.100.7".to_owned());
    for i in 0..3 {
        let h = [fwd.clone(), ("x-forwarded-for", format!("10.9.0.{i}"))];
        assert_eq!(login_with(&app, &h, "not the password at all").await, 401);
    }
    let h = [fwd, ("x-forwarded-for", "10.9.0.99".to_owned())];
    assert_eq!(login_with(&app, &h, PW).await, 429);
    let other = [("forwarded", "for=203.0.113.9".to_owned())];
    assert_eq!(login_with(&app, &other, PW).await, 200);
}

async fn key(app: &TestApp, body: Value) -> String {
    app.post("/v1/keys", body).await.expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An owner key scoped to `members:write` and expiring tomorrow must not
/// invite a permanent, unscoped owner (nor issue a reset link, which takes
/// an account); an expiring key without scopes neither. Sessions and
/// unscoped, unexpiring keys still do.
#[tokio::test]
async fn a_scoped_or_expiring_key_issues_no_invitation_or_reset() {
    let app = TestApp::builder().start().await;
    let bob = join(&app, &app.key, "member", "bob@example.com").await;
    let tomorrow = weft_worker::now_ms() + 86_400_000;
    let scoped = key(
        &app,
        json!({"name": "s", "role": "owner", "scopes": ["members:write"], "expires_at": tomorrow}),
    )
    .await;
    let expiring = key(
        &app,
        json!({"name": "e", "role": "owner", "expires_at": tomorrow}),
    )
    .await;
    let scoped_only = key(
        &app,
        json!({"name": "o", "role": "owner", "scopes": ["members:write"]}),
    )
    .await;
    let reset = format!("/v1/members/{}/reset", bob.user_id);
    for k in [&scoped, &expiring, &scoped_only] {
        let r = app
            .call_as(
                k,
                "POST",
                "/v1/invitations",
                Some(json!({"role": "owner", "email": "mallory@example.com"})),
            )
            .await;
        assert_eq!((r.status, r.code()), (403, "scope"), "{}", r.body);
        let r = app.call_as(k, "POST", &reset, None).await;
        assert_eq!((r.status, r.code()), (403, "scope"), "{}", r.body);
    }
    let r = app
        .call_as(
            &expiring,
            "POST",
            "/v1/invitations",
            Some(json!({"role": "viewer"})),
        )
        .await;
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("expiry"), "says why: {message}");
    // The unscoped, unexpiring key and an owner's session still may.
    invite(&app, &app.key, "viewer", "carol@example.com").await;
    let owner = join(&app, &app.key, "owner", "olive@example.com").await;
    as_browser(&app, &owner, "POST", &reset, None)
        .await
        .expect(201);
}

async fn use_reset(app: &TestApp, token: &str) -> Resp {
    app.send(
        "POST",
        "/v1/auth/reset",
        &[],
        Some(json!({"token": token, "password": "another long phrase here"})),
    )
    .await
}

fn refused_token(r: &Resp) {
    assert_eq!((r.status, r.code()), (422, "invalid_token"), "{}", r.body);
}

/// A reset link stops working when its issuer loses the authority to issue
/// it: an admin removed or demoted, an API key revoked.
#[tokio::test]
async fn a_reset_link_dies_with_its_issuers_authority() {
    let app = TestApp::builder().start().await;
    let bob = join(&app, &app.key, "member", "bob@example.com").await;
    let reset = format!("/v1/members/{}/reset", bob.user_id);
    let issue = |who: Browser| {
        let (app, reset) = (&app, reset.clone());
        async move {
            let inv: Invitation = as_browser(app, &who, "POST", &reset, None).await.typed(201);
            (who, inv.token.unwrap())
        }
    };
    // Removed: the link is deleted with the membership.
    let (ann, removed) = issue(join(&app, &app.key, "admin", "ann@example.com").await).await;
    app.call("DELETE", &format!("/v1/members/{}", ann.user_id), None)
        .await
        .expect(204);
    // Demoted to member: no longer may reset a member.
    let (dan, demoted) = issue(join(&app, &app.key, "admin", "dan@example.com").await).await;
    app.call(
        "PATCH",
        &format!("/v1/members/{}", dan.user_id),
        Some(json!({"role": "member"})),
    )
    .await
    .expect(200);
    // An admin key, revoked.
    let admin_key = app
        .post("/v1/keys", json!({"name": "a", "role": "admin"}))
        .await
        .expect(201);
    let secret = admin_key["secret"].as_str().unwrap().to_owned();
    let by_key: Invitation = app.call_as(&secret, "POST", &reset, None).await.typed(201);
    app.call(
        "DELETE",
        &format!("/v1/keys/{}", admin_key["id"].as_str().unwrap()),
        None,
    )
    .await
    .expect(204);
    for token in [&removed, &demoted, &by_key.token.unwrap()] {
        refused_token(&use_reset(&app, token).await);
    }
    // A link whose issuer still holds works.
    let (_, kept) = issue(join(&app, &app.key, "admin", "kim@example.com").await).await;
    use_reset(&app, &kept).await.expect(204);
}

/// The operator's invitation into a tenant being erased is refused (409,
/// naming it), like one being deleted.
#[tokio::test]
async fn no_invitation_into_an_erasing_tenant() {
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
    let store = app.server.handle.store();
    let t = store.get_tenant(&id).await.unwrap().unwrap();
    let to = weft_types::TenantState::Erasing {
        reason: "the tenant is being deleted".into(),
        at: weft_worker::now_ms(),
    };
    store.set_tenant_state(&id, &t.state, &to).await.unwrap();
    let r = app
        .call_as(
            &app.operator,
            "POST",
            &format!("{path}/invitations"),
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("erasing"), "{message}");
}

/// An invitation stops working when its issuer loses the authority to
/// invite to its role: an admin key revoked before the invitation is
/// accepted leaves it dead; the owner's invitations still hold.
#[tokio::test]
async fn an_invitation_dies_with_its_issuers_authority() {
    let app = TestApp::builder().start().await;
    let made = app
        .post("/v1/keys", json!({"name": "admin", "role": "admin"}))
        .await
        .expect(201);
    let admin = made["secret"].as_str().unwrap().to_owned();
    let id = made["id"].as_str().unwrap().to_owned();
    let by_admin = invite(&app, &admin, "member", "ivy@example.com").await;
    let by_owner = invite(&app, &app.key, "member", "ian@example.com").await;
    app.call("DELETE", &format!("/v1/keys/{id}"), None)
        .await
        .expect(204);
    refused_token(&accept(&app, &by_admin, PW).await);
    accept(&app, &by_owner, PW).await.expect(201);
}
