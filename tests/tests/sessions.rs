//! People and sessions end to end (`docs/TENANCY.md`, section 3): invitations,
//! login, the cookie, rotation (fixation), CSRF, logout and removal revoking
//! at once, the login throttle and its recovery, reset links, the seed matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_model::people::{Invitation, SessionInfo};
use weft_tests::{Resp, TestApp};

const PW: &str = "a long and unusual phrase";

/// A browser: its cookie and CSRF token.
#[derive(Clone, Debug)]
struct Browser {
    cookie: String,
    csrf: String,
    user_id: String,
}

fn cookie_of(r: &Resp) -> String {
    let c = r
        .headers
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .unwrap();
    c.split(';').next().unwrap().trim().to_owned()
}

fn browser(r: Resp, status: u16) -> Browser {
    let cookie = cookie_of(&r);
    let s: SessionInfo = r.typed(status);
    Browser {
        cookie,
        csrf: s.csrf_token,
        user_id: s.user_id,
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
    inv.token.expect("the token is shown once")
}

async fn join(app: &TestApp, key: &str, role: &str, email: &str) -> Browser {
    let token = invite(app, key, role, email).await;
    let r = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": token, "password": PW})),
        )
        .await;
    browser(r, 201)
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

async fn login(app: &TestApp, email: &str, password: &str, headers: &[(&str, String)]) -> Resp {
    app.send(
        "POST",
        "/v1/auth/login",
        headers,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

fn workflow(name: &str) -> Value {
    json!({"name": name, "steps": [{"id": "r", "kind": "respond", "status": 200, "body": {"ok": true}}]})
}

#[tokio::test]
async fn login_sets_a_fresh_cookie_and_a_preset_one_is_not_adopted() {
    let app = TestApp::builder().start().await;
    let owner = join(&app, &app.key, "owner", "ann@example.com").await;
    // Fixation: the login answer carries a new id, never the one sent.
    let planted = "weft_session=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let r = login(
        &app,
        "Ann@Example.com",
        PW,
        &[("cookie", planted.to_owned())],
    )
    .await;
    let set = r
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain http on loopback drops Secure: {set}"
    );
    let b = browser(r, 200);
    assert_ne!(b.cookie, planted);
    assert_ne!(b.cookie, owner.cookie, "a new id at each login");
    let planted_b = Browser {
        cookie: planted.into(),
        ..b.clone()
    };
    assert_eq!(
        as_browser(&app, &planted_b, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );
    let me: SessionInfo = as_browser(&app, &b, "GET", "/v1/auth/session", None)
        .await
        .typed(200);
    assert_eq!(
        (me.email.as_str(), me.csrf_token.as_str()),
        ("ann@example.com", b.csrf.as_str())
    );
    // The id the browser had before logging in again is revoked (rotation).
    let r = login(&app, "ann@example.com", PW, &[("cookie", b.cookie.clone())]).await;
    let b2 = browser(r, 200);
    assert_eq!(
        as_browser(&app, &b, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );
    as_browser(&app, &b2, "GET", "/v1/workflows", None)
        .await
        .expect(200);
}

#[tokio::test]
async fn always_secure_keeps_secure_on_loopback() {
    let app = TestApp::builder()
        .config(|c| c.sessions.always_secure = true)
        .start()
        .await;
    let token = invite(&app, &app.key, "viewer", "ann@example.com").await;
    let r = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": token, "password": PW})),
        )
        .await;
    let set = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(set.contains("; Secure;"), "{set}");
}

#[tokio::test]
async fn csrf_is_required_for_unsafe_methods_with_the_cookie() {
    let app = TestApp::builder().start().await;
    let b = join(&app, &app.key, "admin", "ann@example.com").await;
    let without = app
        .send(
            "POST",
            "/v1/workflows",
            &[("cookie", b.cookie.clone())],
            Some(workflow("w")),
        )
        .await;
    assert_eq!(
        (without.status, without.code()),
        (403, "csrf"),
        "{}",
        without.body
    );
    let wrong = Browser {
        csrf: "0".repeat(64),
        ..b.clone()
    };
    let r = as_browser(&app, &wrong, "POST", "/v1/workflows", Some(workflow("w"))).await;
    assert_eq!((r.status, r.code()), (403, "csrf"));
    as_browser(&app, &b, "POST", "/v1/workflows", Some(workflow("w")))
        .await
        .expect(201);
    // A cross-site Origin cannot log a browser in.
    let r = login(
        &app,
        "ann@example.com",
        PW,
        &[("origin", "https://evil.example".into())],
    )
    .await;
    assert_eq!((r.status, r.code()), (403, "csrf"));
    login(&app, "ann@example.com", PW, &[("origin", app.base.clone())])
        .await
        .expect(200);
}

#[tokio::test]
async fn logout_and_member_removal_revoke_at_once() {
    let app = TestApp::builder().start().await;
    let b = join(&app, &app.key, "member", "bob@example.com").await;
    as_browser(&app, &b, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    as_browser(&app, &b, "POST", "/v1/auth/logout", None)
        .await
        .expect(204);
    assert_eq!(
        as_browser(&app, &b, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );
    let b = browser(login(&app, "bob@example.com", PW, &[]).await, 200);
    as_browser(&app, &b, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    app.call_as(
        &app.key,
        "DELETE",
        &format!("/v1/members/{}", b.user_id),
        None,
    )
    .await
    .expect(204);
    assert_eq!(
        as_browser(&app, &b, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn lockout_grows_and_recovers_and_a_reset_clears_it() {
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.account_failures = 2;
            // Delays long enough that a loaded machine answers each check
            // well inside the window it checks.
            c.sessions.base_delay_ms = 1_000;
            c.sessions.max_delay_ms = 4_000;
        })
        .start()
        .await;
    let b = join(&app, &app.key, "member", "bob@example.com").await;
    for _ in 0..2 {
        login(&app, "bob@example.com", "not the password at all", &[])
            .await
            .expect(401);
    }
    // Throttled: even the right password waits, told how long.
    let r = login(&app, "bob@example.com", PW, &[]).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{}", r.body);
    assert!(r.headers.get("retry-after").is_some());
    // An unknown email answers as a wrong password does (no enumeration).
    let r = login(&app, "nobody@example.com", PW, &[]).await;
    assert_eq!(r.status, 401);
    // The delay passes (never a lock): the right password works again.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    login(&app, "bob@example.com", PW, &[]).await.expect(200);
    // Grows: one more failure past the threshold waits twice as long, capped;
    // past the base delay the account is still throttled.
    for i in 0..3 {
        if i > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        }
        let r = login(&app, "bob@example.com", "not the password at all", &[]).await;
        assert!(matches!(r.status, 401 | 429), "{}", r.status);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(login(&app, "bob@example.com", PW, &[]).await.status, 429);
    // A reset link clears it at once, and revokes every session.
    let reset: Invitation = app
        .call_as(
            &app.key,
            "POST",
            &format!("/v1/members/{}/reset", b.user_id),
            None,
        )
        .await
        .typed(201);
    let token = reset.token.unwrap();
    let body = json!({"token": token, "password": "another long phrase here"});
    app.send("POST", "/v1/auth/reset", &[], Some(body.clone()))
        .await
        .expect(204);
    let again = app.send("POST", "/v1/auth/reset", &[], Some(body)).await;
    assert_eq!(
        (again.status, again.code()),
        (422, "invalid_token"),
        "single use"
    );
    login(&app, "bob@example.com", "another long phrase here", &[])
        .await
        .expect(200);
    assert_eq!(
        as_browser(&app, &b, "GET", "/v1/workflows", None)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn links_are_single_use_and_expire() {
    let app = TestApp::builder()
        // Links last 2 s: long enough for a loaded machine to use one in
        // time, short enough to wait out.
        .config(|c| c.sessions.reset_ms = 2_000)
        .start()
        .await;
    let token = invite(&app, &app.key, "viewer", "cat@example.com").await;
    let accept = json!({"token": token, "password": PW});
    app.send(
        "POST",
        "/v1/auth/accept-invitation",
        &[],
        Some(accept.clone()),
    )
    .await
    .expect(201);
    let r = app
        .send("POST", "/v1/auth/accept-invitation", &[], Some(accept))
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_token"));
    let members = app
        .call_as(&app.key, "GET", "/v1/members", None)
        .await
        .expect(200);
    let id = members["items"][0]["user_id"].as_str().unwrap().to_owned();
    let reset: Invitation = app
        .call_as(&app.key, "POST", &format!("/v1/members/{id}/reset"), None)
        .await
        .typed(201);
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let r = app
        .send(
            "POST",
            "/v1/auth/reset",
            &[],
            Some(json!({"token": reset.token, "password": "another long phrase here"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "invalid_token"), "expired");
    // Weak passwords are refused naming the field.
    let token = invite(&app, &app.key, "viewer", "dan@example.com").await;
    let r = app
        .send(
            "POST",
            "/v1/auth/accept-invitation",
            &[],
            Some(json!({"token": token, "password": "short"})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("password:"),
        "{}",
        r.body
    );
    // ... and the refusal did not spend the invitation.
    app.send(
        "POST",
        "/v1/auth/accept-invitation",
        &[],
        Some(json!({"token": token, "password": PW})),
    )
    .await
    .expect(201);
    // An existing account's wrong password spends nothing either, and is
    // counted like a failed login.
    let other = app.tenant("other").await;
    let token = invite(&app, &other, "viewer", "dan@example.com").await;
    let wrong = json!({"token": token, "password": "not dan's password at all"});
    let r = app
        .send("POST", "/v1/auth/accept-invitation", &[], Some(wrong))
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.body);
    app.send(
        "POST",
        "/v1/auth/accept-invitation",
        &[],
        Some(json!({"token": token, "password": PW})),
    )
    .await
    .expect(201);
    // A fresh reset link refused for a weak password stays usable.
    let reset: Invitation = app
        .call_as(&app.key, "POST", &format!("/v1/members/{id}/reset"), None)
        .await
        .typed(201);
    let r = app
        .send(
            "POST",
            "/v1/auth/reset",
            &[],
            Some(json!({"token": reset.token, "password": "short"})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    app.send(
        "POST",
        "/v1/auth/reset",
        &[],
        Some(json!({"token": reset.token, "password": "another long phrase here"})),
    )
    .await
    .expect(204);
}

#[tokio::test]
async fn members_change_only_their_workflows_and_viewers_cannot_start_runs() {
    let app = TestApp::builder().start().await;
    let m1 = join(&app, &app.key, "member", "m1@example.com").await;
    let m2 = join(&app, &app.key, "member", "m2@example.com").await;
    let viewer = join(&app, &app.key, "viewer", "v@example.com").await;
    let mine = as_browser(&app, &m1, "POST", "/v1/workflows", Some(workflow("mine")))
        .await
        .expect(201);
    let id = mine["id"].as_str().unwrap();
    as_browser(
        &app,
        &m1,
        "PUT",
        &format!("/v1/workflows/{id}"),
        Some(workflow("mine v2")),
    )
    .await
    .expect(200);
    let r = as_browser(&app, &m2, "DELETE", &format!("/v1/workflows/{id}"), None).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("created by"),
        "{}",
        r.body
    );
    let r = as_browser(
        &app,
        &viewer,
        "POST",
        &format!("/v1/workflows/{id}/runs"),
        Some(json!({"input": null})),
    )
    .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    // A workflow made with the owner's key is changed by admins and owners only.
    let system = app
        .post("/v1/workflows", workflow("theirs"))
        .await
        .expect(201);
    let sid = system["id"].as_str().unwrap();
    let r = as_browser(&app, &m1, "DELETE", &format!("/v1/workflows/{sid}"), None).await;
    assert_eq!(r.status, 403);
    as_browser(&app, &m1, "DELETE", &format!("/v1/workflows/{id}"), None)
        .await
        .expect(204);
    // Members cannot manage members; the owner key can, and sees them.
    let r = as_browser(
        &app,
        &m1,
        "DELETE",
        &format!("/v1/members/{}", m2.user_id),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
}
