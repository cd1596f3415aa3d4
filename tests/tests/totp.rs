//! TOTP, the optional second factor, end to end (`docs/TENANCY.md`, section
//! 3): set up, confirm (the session rotates), login refused without a code
//! (`totp_required`) and with a wrong one (`totp_invalid`, counted by the
//! throttle), accepted with a current one, a used code refused (replay), an
//! invitation no way around it, turning it off, the operator removing it.
//! Codes are computed here by our own RFC 6238, checked against the RFC's
//! vectors below.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use weft_model::people::{Invitation, SessionInfo, TotpSetup};
use weft_tests::{Resp, TestApp};

const PW: &str = "a long and unusual phrase";

/// RFC 4648 base32 (no padding) to bytes.
fn unbase32(s: &str) -> Vec<u8> {
    let (mut buf, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        buf = (buf << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// RFC 4226 HOTP over HMAC-SHA1 at 6 digits (written apart from the server's).
fn hotp(key: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[19] & 0xf) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7f, h[o + 1], h[o + 2], h[o + 3]]);
    format!("{:06}", n % 1_000_000)
}

fn step_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

#[test]
fn our_totp_matches_rfc6238() {
    let key = b"12345678901234567890";
    for (t, want) in [
        (59_u64, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(hotp(key, t / 30), want[2..], "T = {t}");
    }
    assert_eq!(unbase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), key);
}

#[derive(Clone, Debug)]
struct Browser {
    cookie: String,
    csrf: String,
}

fn browser(r: Resp, status: u16) -> Browser {
    let c = r
        .headers
        .get("set-cookie")
        .expect("a Set-Cookie")
        .to_str()
        .unwrap();
    let cookie = c.split(';').next().unwrap().trim().to_owned();
    let s: SessionInfo = r.typed(status);
    Browser {
        cookie,
        csrf: s.csrf_token,
    }
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

async fn invite(app: &TestApp, key: &str, email: &str) -> String {
    let inv: Invitation = app
        .call_as(
            key,
            "POST",
            "/v1/invitations",
            Some(json!({"role": "member", "email": email})),
        )
        .await
        .typed(201);
    inv.token.unwrap()
}

async fn join(app: &TestApp, email: &str) -> Browser {
    let token = invite(app, &app.key, email).await;
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

async fn login(app: &TestApp, email: &str, totp: Option<&str>) -> Resp {
    let mut body = json!({"email": email, "password": PW});
    if let Some(c) = totp {
        body["totp"] = json!(c);
    }
    app.send("POST", "/v1/auth/login", &[], Some(body)).await
}

/// Sets TOTP up and confirms it; the secret and the step the confirmation used.
async fn turn_on(app: &TestApp, b: &Browser) -> (Vec<u8>, Browser, u64) {
    let setup: TotpSetup = as_browser(
        app,
        b,
        "POST",
        "/v1/auth/totp/setup",
        Some(json!({"password": PW})),
    )
    .await
    .typed(201);
    assert!(
        setup.uri.starts_with("otpauth://totp/Weft:"),
        "{}",
        setup.uri
    );
    assert!(setup.uri.contains(&format!("secret={}", setup.secret)));
    let key = unbase32(&setup.secret);
    assert_eq!(key.len(), 20);
    let step = step_now();
    let r = as_browser(
        app,
        b,
        "POST",
        "/v1/auth/totp/confirm",
        Some(json!({"code": hotp(&key, step)})),
    )
    .await;
    (key, browser(r, 200), step)
}

/// A six-digit code that is none of the steps around now.
fn wrong_code(key: &[u8], step: u64) -> String {
    let near: Vec<String> = (step - 2..=step + 3).map(|s| hotp(key, s)).collect();
    (0..)
        .map(|i| format!("{:06}", (123_456 + i * 7_919) % 1_000_000))
        .find(|c| !near.contains(c))
        .unwrap()
}

#[tokio::test]
async fn login_needs_a_current_unused_code_once_totp_is_on() {
    let app = TestApp::builder().start().await;
    let b = join(&app, "tia@example.com").await;
    // Confirming without a setup, or with a wrong code, does not turn it on.
    let r = as_browser(
        &app,
        &b,
        "POST",
        "/v1/auth/totp/confirm",
        Some(json!({"code": "123456"})),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // A session alone does not enrol a device: the password again.
    let r = as_browser(
        &app,
        &b,
        "POST",
        "/v1/auth/totp/setup",
        Some(json!({"password": "not the password at all"})),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_password"),
        "{}",
        r.body
    );
    let r = as_browser(&app, &b, "POST", "/v1/auth/totp/setup", None).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let (key, on, step) = turn_on(&app, &b).await;
    // A privilege change: the session rotated, the old id answers 401.
    assert_ne!(on.cookie, b.cookie);
    assert_eq!(
        as_browser(&app, &b, "GET", "/v1/auth/session", None)
            .await
            .status,
        401
    );
    as_browser(&app, &on, "GET", "/v1/auth/session", None)
        .await
        .expect(200);
    // Set up again while on: refused.
    assert_eq!(
        as_browser(
            &app,
            &on,
            "POST",
            "/v1/auth/totp/setup",
            Some(json!({"password": PW}))
        )
        .await
        .status,
        409
    );
    as_browser(&app, &on, "POST", "/v1/auth/logout", None)
        .await
        .expect(204);

    // The password alone is not enough.
    let r = login(&app, "tia@example.com", None).await;
    assert_eq!((r.status, r.code()), (401, "totp_required"), "{}", r.body);
    assert!(r.headers.get("set-cookie").is_none());
    // A wrong password still answers as before (no word about the factor).
    let r = app
        .send("POST", "/v1/auth/login", &[], Some(json!({"email": "tia@example.com", "password": "not the password at all", "totp": hotp(&key, step + 1)})))
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"), "{}", r.body);
    // A wrong code.
    let r = login(&app, "tia@example.com", Some(&wrong_code(&key, step))).await;
    assert_eq!((r.status, r.code()), (401, "totp_invalid"), "{}", r.body);
    // The code the confirmation used: replayed, refused.
    let r = login(&app, "tia@example.com", Some(&hotp(&key, step))).await;
    assert_eq!((r.status, r.code()), (401, "totp_invalid"), "{}", r.body);
    // The next step's code (accepted one step either side): in.
    let next = hotp(&key, step + 1);
    let s = browser(login(&app, "tia@example.com", Some(&next)).await, 200);
    as_browser(&app, &s, "GET", "/v1/workflows", None)
        .await
        .expect(200);
    // The same code again: refused (a used step is never accepted twice).
    let r = login(&app, "tia@example.com", Some(&next)).await;
    assert_eq!((r.status, r.code()), (401, "totp_invalid"), "{}", r.body);

    // Off: needs a proof; a wrong password is refused; the password works.
    let r = as_browser(&app, &s, "DELETE", "/v1/auth/totp", Some(json!({}))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = as_browser(
        &app,
        &s,
        "DELETE",
        "/v1/auth/totp",
        Some(json!({"password": "not the password at all"})),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_password"),
        "{}",
        r.body
    );
    as_browser(
        &app,
        &s,
        "DELETE",
        "/v1/auth/totp",
        Some(json!({"password": PW})),
    )
    .await
    .expect(204);
    login(&app, "tia@example.com", None).await.expect(200);
}

#[tokio::test]
async fn a_wrong_code_counts_as_a_failed_login() {
    let app = TestApp::builder()
        .config(|c| {
            c.sessions.account_failures = 1;
            c.sessions.base_delay_ms = 600_000;
            c.sessions.max_delay_ms = 600_000;
        })
        .start()
        .await;
    let b = join(&app, "uma@example.com").await;
    let (key, _, step) = turn_on(&app, &b).await;
    // Asking for the code is no failure: the right code still gets in.
    login(&app, "uma@example.com", None).await.expect(401);
    browser(
        login(&app, "uma@example.com", Some(&hotp(&key, step + 1))).await,
        200,
    );
    // One wrong code, and the account waits (even with a right code).
    login(&app, "uma@example.com", Some(&wrong_code(&key, step)))
        .await
        .expect(401);
    let r = login(&app, "uma@example.com", Some(&hotp(&key, step - 1))).await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"), "{}", r.body);
}

#[tokio::test]
async fn an_invitation_is_no_way_around_it_and_the_operator_can_remove_it() {
    let app = TestApp::builder().start().await;
    let b = join(&app, "vic@example.com").await;
    let (key, _, step) = turn_on(&app, &b).await;
    let other = app.tenant("other").await;
    let token = invite(&app, &other, "vic@example.com").await;
    let accept = |totp: Option<String>| {
        let mut body = json!({"token": token, "email": "vic@example.com", "password": PW});
        if let Some(c) = totp {
            body["totp"] = json!(c);
        }
        app.send("POST", "/v1/auth/accept-invitation", &[], Some(body))
    };
    let r = accept(None).await;
    assert_eq!((r.status, r.code()), (401, "totp_required"), "{}", r.body);
    // The link was not used up by asking.
    browser(accept(Some(hotp(&key, step + 1))).await, 201);

    // A password reset does not remove it; the operator does.
    let r = app
        .call_as(
            &app.operator,
            "POST",
            "/v1/ops/users/totp/remove",
            Some(json!({"email": "nobody@example.com"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        login(&app, "vic@example.com", None).await.code(),
        "totp_required"
    );
    app.call_as(
        &app.operator,
        "POST",
        "/v1/ops/users/totp/remove",
        Some(json!({"email": "vic@example.com"})),
    )
    .await
    .expect(204);
    login(&app, "vic@example.com", None).await.expect(200);
}

/// The client's people and session methods against the real server.
#[tokio::test]
async fn the_client_signs_in_with_totp() {
    use weft_model::people::{AcceptInvitation, Login, NewInvitation, TotpDisable};
    let app = TestApp::builder().start().await;
    let inv = app
        .api
        .create_invitation(&NewInvitation {
            role: weft_types::Role::Member,
            email: Some("wes@example.com".into()),
            expires_in_ms: None,
        })
        .await
        .unwrap();
    assert_eq!(app.api.invitations().await.unwrap().len(), 1);
    let anon = app.api.with_key(None).unwrap();
    let s = anon
        .accept_invitation(&AcceptInvitation {
            token: inv.token.unwrap(),
            email: None,
            password: PW.into(),
            totp: None,
        })
        .await
        .unwrap();
    assert_eq!(anon.session(&s).await.unwrap().email, "wes@example.com");
    let setup = anon.totp_setup(&s, PW).await.unwrap();
    let key = unbase32(&setup.secret);
    let step = step_now();
    let on = anon.totp_confirm(&s, &hotp(&key, step)).await.unwrap();
    assert!(anon.session(&s).await.is_err(), "rotated");
    anon.logout(&on).await.unwrap();
    let mut login = Login {
        email: "wes@example.com".into(),
        password: PW.into(),
        totp: None,
        tenant: None,
    };
    let e = anon.login(&login).await.unwrap_err().to_string();
    assert!(e.contains("totp"), "{e}");
    login.totp = Some(hotp(&key, step + 1));
    let s = anon.login(&login).await.unwrap();
    assert_eq!(app.api.members().await.unwrap()[0].email, "wes@example.com");
    anon.totp_disable(
        &s,
        &TotpDisable {
            code: None,
            password: Some(PW.into()),
        },
    )
    .await
    .unwrap();
    app.api
        .with_key(Some(&app.operator))
        .unwrap()
        .op_remove_totp("wes@example.com")
        .await
        .unwrap();
}
