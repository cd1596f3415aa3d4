//! Signed webhooks and delivery-id dedupe (A6): each sender's convention
//! accepted with a good signature; a bad signature, a stale timestamp, a
//! missing or malformed header answered 401 with the failed check, no run
//! started, counted in metrics; a repeated delivery id starts one run and gets
//! the first answer, also when the deliveries race.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use weft_model::{Page, Run, Workflow};
use weft_tests::TestApp;

const SECRET: &str = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz";

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The headers `scheme`'s sender would send for `body` at `ts`, signed with `secret`.
fn signed(
    scheme: &str,
    secret: &str,
    ts: i64,
    id: &str,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    let t = ts.to_string();
    match scheme {
        "stripe" => {
            let sig = hex::encode(mac(secret.as_bytes(), &[t.as_bytes(), b".", body]));
            vec![("stripe-signature", format!("t={t},v1={sig}"))]
        }
        "slack" => {
            let sig = hex::encode(mac(secret.as_bytes(), &[b"v0:", t.as_bytes(), b":", body]));
            vec![
                ("x-slack-request-timestamp", t),
                ("x-slack-signature", format!("v0={sig}")),
            ]
        }
        "github" => {
            let sig = hex::encode(mac(secret.as_bytes(), &[body]));
            vec![
                ("x-hub-signature-256", format!("sha256={sig}")),
                ("x-github-delivery", id.to_owned()),
            ]
        }
        "standard" => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let key = b64.decode(secret.trim_start_matches("whsec_")).unwrap();
            let sig = mac(&key, &[id.as_bytes(), b".", t.as_bytes(), b".", body]);
            vec![
                ("webhook-id", id.to_owned()),
                ("webhook-timestamp", t),
                ("webhook-signature", format!("v1,{}", b64.encode(sig))),
            ]
        }
        other => panic!("no scheme {other}"),
    }
}

async fn app_with_secret() -> TestApp {
    let app = TestApp::builder().start().await;
    app.post(
        "/v1/credentials",
        json!({"name": "signing", "secret": SECRET, "hosts": ["hooks.example.com"],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    app
}

/// A workflow that answers with what it was sent.
fn echo(webhook: Value) -> Value {
    json!({
        "name": "signed echo",
        "triggers": {"webhook": webhook},
        "steps": [{"id": "reply", "kind": "respond", "body": {"got": "{{ trigger.body }}"}}]
    })
}

async fn runs_of(app: &TestApp, wf: &Workflow) -> Vec<Run> {
    let page: Page<Run> = app
        .get(&format!("/v1/runs?workflow_id={}&limit=100", wf.id))
        .await
        .typed(200);
    page.items
}

#[tokio::test]
async fn each_convention_accepts_a_good_signature() {
    let app = app_with_secret().await;
    for scheme in ["stripe", "slack", "github", "standard"] {
        let wf = app
            .workflow(echo(
                json!({"signature": {"scheme": scheme, "credential": "signing"}}),
            ))
            .await;
        let body = json!({"event": scheme}).to_string();
        let headers = signed(scheme, SECRET, now_s(), "msg_1", body.as_bytes());
        let r = app.hook(wf.hook_url(), &headers, body.as_bytes()).await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.body);
        assert_eq!(r.body, json!({"got": {"event": scheme}}), "{scheme}");
    }
}

#[tokio::test]
async fn failed_checks_answer_401_with_the_reason_and_start_no_run() {
    let app = app_with_secret().await;
    let stripe = app
        .workflow(echo(
            json!({"signature": {"scheme": "stripe", "credential": "signing"}}),
        ))
        .await;
    let body = br#"{"id":"evt_1"}"#;
    let now = now_s();
    // (the reason expected, the headers sent, the body sent)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a [u8]);
    let cases: Vec<Case> = vec![
        (
            "bad_signature",
            signed("stripe", "whsec_wrong", now, "", body),
            body,
        ),
        // Signed for another body (the body was changed on the way).
        (
            "bad_signature",
            signed("stripe", SECRET, now, "", b"{}"),
            body,
        ),
        // Authentic, but captured and replayed ten minutes later.
        (
            "stale_timestamp",
            signed("stripe", SECRET, now - 600, "", body),
            body,
        ),
        (
            "stale_timestamp",
            signed("stripe", SECRET, now + 600, "", body),
            body,
        ),
        ("missing_header", Vec::new(), body),
        (
            "malformed_header",
            vec![("stripe-signature", "v1=abc".into())],
            body,
        ),
    ];
    for (reason, headers, body) in &cases {
        let r = app.hook(stripe.hook_url(), headers, body).await;
        assert_eq!(r.status, 401, "{reason}: {}", r.body);
        assert_eq!(r.code(), "invalid_signature", "{}", r.body);
        assert_eq!(r.body["error"]["reason"], *reason, "{}", r.body);
    }
    let slack = app
        .workflow(echo(
            json!({"signature": {"scheme": "slack", "credential": "signing"}}),
        ))
        .await;
    let mut headers = signed("slack", SECRET, now, "", body);
    headers.retain(|(k, _)| *k != "x-slack-request-timestamp");
    let r = app.hook(slack.hook_url(), &headers, body).await;
    assert_eq!(r.body["error"]["reason"], "missing_header", "{}", r.body);
    // The message says which headers the convention needs.
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("X-Slack-Request-Timestamp"), "{message}");

    assert!(
        runs_of(&app, &stripe).await.is_empty(),
        "a refused call starts no run"
    );
    assert!(runs_of(&app, &slack).await.is_empty());
    let metrics = app.raw("", "GET", "/metrics", "text/plain", None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    for (reason, n) in [
        ("bad_signature", 2),
        ("stale_timestamp", 2),
        ("missing_header", 2),
        ("malformed_header", 1),
    ] {
        let line = format!("weft_webhook_rejections_total{{reason=\"{reason}\"}} {n}");
        assert!(text.contains(&line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn a_deleted_signing_credential_refuses_everything() {
    let app = app_with_secret().await;
    let wf = app
        .workflow(echo(
            json!({"signature": {"scheme": "github", "credential": "signing"}}),
        ))
        .await;
    let creds = app.get("/v1/credentials").await.expect(200);
    let id = creds["items"][0]["id"].as_str().unwrap().to_owned();
    app.call("DELETE", &format!("/v1/credentials/{id}"), None)
        .await
        .expect(204);
    let body = b"{}";
    let r = app
        .hook(wf.hook_url(), &signed("github", SECRET, 0, "d", body), body)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "invalid_signature"),
        "{}",
        r.body
    );
    assert_eq!(r.body["error"]["reason"], "secret_unavailable");
    assert!(runs_of(&app, &wf).await.is_empty());
}

#[tokio::test]
async fn a_replayed_delivery_starts_one_run_and_gets_the_first_answer() {
    let app = app_with_secret().await;
    // GitHub: the delivery id is not signed. A sender's retry repeats the
    // body and gets the first answer; the same id with another (validly
    // signed) body is refused 409 and starts nothing, so knowing a delivery
    // id does not read that run's answer.
    let wf = app
        .workflow(echo(json!({
            "signature": {"scheme": "github", "credential": "signing"},
            "dedupe": {}
        })))
        .await;
    let first = br#"{"n":1}"#;
    let again = br#"{"n":2}"#;
    let a = app
        .hook(
            wf.hook_url(),
            &signed("github", SECRET, 0, "guid-1", first),
            first,
        )
        .await;
    let b = app
        .hook(
            wf.hook_url(),
            &signed("github", SECRET, 0, "guid-1", first),
            first,
        )
        .await;
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!(a.body, json!({"got": {"n": 1}}));
    assert_eq!(b.body, a.body, "a repeat answers as the first did");
    assert_eq!(runs_of(&app, &wf).await.len(), 1, "one run per delivery id");
    // The same id with another body: 409, naming why, not the first answer.
    let stolen = app
        .hook(
            wf.hook_url(),
            &signed("github", SECRET, 0, "guid-1", again),
            again,
        )
        .await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (409, "conflict"),
        "{}",
        stolen.body
    );
    let msg = stolen.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("delivery id `guid-1` was already used with a different body"),
        "{msg}"
    );
    assert!(
        !stolen.body.to_string().contains(r#""n":1"#),
        "{}",
        stolen.body
    );
    assert_eq!(
        runs_of(&app, &wf).await.len(),
        1,
        "a refused delivery starts no run"
    );
    // Another id is another delivery.
    let c = app
        .hook(
            wf.hook_url(),
            &signed("github", SECRET, 0, "guid-2", again),
            again,
        )
        .await;
    assert_eq!(c.body, json!({"got": {"n": 2}}));
    assert_eq!(runs_of(&app, &wf).await.len(), 2);

    // An async webhook: the same 202 body (the same run id) for the same
    // body; 409 for another one.
    let async_wf = app
        .workflow(echo(
            json!({"mode": "async", "dedupe": {"header": "Idempotency-Key"}}),
        ))
        .await;
    let key = [("idempotency-key", "order-42".to_owned())];
    let a = app.hook(async_wf.hook_url(), &key, first).await;
    let b = app.hook(async_wf.hook_url(), &key, first).await;
    let (a, b) = (a.expect(202), b.expect(202));
    assert_eq!(a["run_id"], b["run_id"]);
    let other = app.hook(async_wf.hook_url(), &key, again).await;
    assert_eq!(
        (other.status, other.code()),
        (409, "conflict"),
        "{}",
        other.body
    );
    assert!(other.body.get("run_id").is_none(), "{}", other.body);
    assert_eq!(runs_of(&app, &async_wf).await.len(), 1);
    // No delivery id where the workflow says there is one: refused, naming it.
    let r = app.hook(async_wf.hook_url(), &[], first).await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("header `idempotency-key`"), "{msg}");

    let metrics = app.raw("", "GET", "/metrics", "text/plain", None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("weft_webhook_replays_total 2"), "{text}");
}

#[tokio::test]
async fn concurrent_deliveries_with_one_id_start_one_run() {
    let app = app_with_secret().await;
    let wf = app
        .workflow(echo(json!({
            "mode": "async",
            "signature": {"scheme": "standard", "credential": "signing"},
            "dedupe": {}
        })))
        .await;
    let body = br#"{"type":"invoice.paid"}"#;
    let headers = signed("standard", SECRET, now_s(), "msg_same", body);
    let calls = (0..8).map(|_| app.hook(wf.hook_url(), &headers, body));
    let answers = futures_join_all(calls).await;
    let ids: Vec<Value> = answers
        .into_iter()
        .map(|r| r.expect(202)["run_id"].clone())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one run id for all: {ids:?}"
    );
    assert_eq!(runs_of(&app, &wf).await.len(), 1, "one run");
}

/// Runs the futures at once (on this task) and collects their outputs.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn saving_checks_the_signing_credential_exists() {
    let app = app_with_secret().await;
    let r = app
        .post(
            "/v1/workflows",
            echo(json!({"signature": {"scheme": "slack", "credential": "nope"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_workflow"),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["error"]["details"][0],
        json!({"path": "/triggers/webhook/signature/credential",
               "message": "unknown credential `nope` (create it with the signing secret first)"})
    );
}

#[tokio::test]
async fn validating_warns_when_the_dedupe_id_is_not_signed() {
    let app = app_with_secret().await;
    let sig = |scheme: &str| json!({"scheme": scheme, "credential": "signing"});
    // Not covered: GitHub's delivery header, any header under stripe or slack.
    let unsigned = [
        (
            sig("github"),
            json!({}),
            "/triggers/webhook/dedupe",
            "x-github-delivery",
        ),
        (
            sig("stripe"),
            json!({"header": "Idempotency-Key"}),
            "/triggers/webhook/dedupe/header",
            "idempotency-key",
        ),
        (
            sig("slack"),
            json!({"header": "X-Slack-Retry-Num"}),
            "/triggers/webhook/dedupe/header",
            "x-slack-retry-num",
        ),
    ];
    for (signature, dedupe, path, header) in unsigned {
        let scheme = signature["scheme"].as_str().unwrap().to_owned();
        let v: weft_model::Validation = app
            .post(
                "/v1/workflows/validate",
                echo(json!({"signature": signature, "dedupe": dedupe})),
            )
            .await
            .typed(200);
        assert_eq!(v.warnings.len(), 1, "{scheme}: {v:#?}");
        assert_eq!(v.warnings[0].path, path);
        let msg = &v.warnings[0].message;
        assert!(
            msg.contains(&format!(
                "the delivery id (header `{header}`) is not covered by the `{scheme}` signature"
            )) && msg.contains("not replays"),
            "{msg}"
        );
    }
    // Covered: an id in the signed body, `standard`'s webhook-id; and no
    // signature at all (dedupe is then idempotency, nothing to warn about).
    let signed = [
        json!({"signature": sig("stripe"), "dedupe": {"body": "/id"}}),
        json!({"signature": sig("github"), "dedupe": {"body": "/hook_id"}}),
        json!({"signature": sig("standard"), "dedupe": {}}),
        json!({"signature": sig("standard"), "dedupe": {"header": "Webhook-Id"}}),
        json!({"dedupe": {"header": "Idempotency-Key"}}),
    ];
    for webhook in signed {
        let v: weft_model::Validation = app
            .post("/v1/workflows/validate", echo(webhook.clone()))
            .await
            .typed(200);
        assert!(v.warnings.is_empty(), "{webhook}: {v:#?}");
    }
}
