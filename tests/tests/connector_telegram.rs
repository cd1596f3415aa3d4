//! The `telegram` connector in the real sandbox against a loopback stand-in for
//! the Telegram Bot API (`api.telegram.org` resolves to the stand-in), and the
//! host's `path` injection that puts the bot token into the URL path. The
//! stand-in answers with the documented shapes:
//! - requests `POST /bot<token>/METHOD`, answers `{"ok", "result"}` /
//!   `{"ok": false, "error_code", "description", "parameters"}`:
//!   <https://core.telegram.org/bots/api#making-requests>
//! - sendMessage: <https://core.telegram.org/bots/api#sendmessage>
//! - 429 with `parameters.retry_after`: <https://core.telegram.org/bots/api#responseparameters>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Failure, Grants, Injection, Outcome};
use weft_tests::connector::{Provider, credential};
use weft_tests::{Inbox, Received, StandIn, failure, hosts, output};
use weft_types::ErrorKind;

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const HOST: &str = "api.telegram.org";
const PLACEHOLDER: &str = "TELEGRAM_BOT_TOKEN";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn telegram_error(status: StatusCode, description: &str) -> Response {
    reply(
        status,
        json!({"ok": false, "error_code": status.as_u16(), "description": description}),
    )
}

/// A Bot API stand-in: 401 unless the path carries the token; the answer
/// echoes the path it was called on, as a careless proxy might.
async fn telegram(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.uri != format!("/bot{TOKEN}/sendMessage") {
            return telegram_error(
                StatusCode::UNAUTHORIZED,
                &format!("Unauthorized ({})", req.uri),
            );
        }
        answer(req)
    })
    .await
}

fn sent(req: &Received) -> Response {
    let body = req.json();
    reply(
        StatusCode::OK,
        json!({"ok": true, "result": {"message_id": 4711, "date": 1712345678,
               "chat": {"id": body["chat_id"], "type": "private", "first_name": "Ada"},
               "text": body["text"], "via": req.uri}}),
    )
}

fn token(secret: &str, placeholder: &str, bound: &[&str]) -> Grants {
    Grants {
        credentials: vec![credential(
            "bot-token",
            secret,
            bound,
            Injection::Path {
                placeholder: placeholder.into(),
            },
        )],
        ..hosts(&[HOST])
    }
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_telegram", HOST, server).await
}

async fn run_with(p: &Provider, input: Value, base_url: &str, grants: Grants) -> Outcome {
    p.invoke("send-message", input, json!({"base_url": base_url}), grants)
        .await
}

async fn run(p: &Provider, input: Value) -> Outcome {
    run_with(p, input, &p.url(""), token(TOKEN, PLACEHOLDER, &[HOST])).await
}

async fn fails(p: &Provider, input: Value) -> Failure {
    failure(&run(p, input).await).clone()
}

fn hello() -> Value {
    json!({"chat_id": 123456789, "text": "Deploy *finished*", "parse_mode": "MarkdownV2", "reply_to_message_id": 42})
}

#[tokio::test]
async fn the_host_puts_the_token_in_the_path_and_the_plugin_never_sees_it() {
    let (server, inbox) = telegram(sent).await;
    let p = provider(&server).await;
    let out = run(&p, hello()).await;
    let result = output(&out);
    assert_eq!(result["message_id"], 4711);
    assert_eq!(result["text"], "Deploy *finished*");
    let echoed = result["via"].as_str().unwrap();
    assert!(
        !echoed.contains(TOKEN),
        "the echoed path reached the plugin unscrubbed: {echoed}"
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", format!("/bot{TOKEN}/sendMessage").as_str())
    );
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(
        seen.json(),
        json!({"chat_id": 123456789, "text": "Deploy *finished*", "parse_mode": "MarkdownV2",
               "reply_parameters": {"message_id": 42, "allow_sending_without_reply": true}})
    );
}

#[tokio::test]
async fn a_secret_cannot_change_the_path() {
    let (server, inbox) = telegram(sent).await;
    let p = provider(&server).await;
    let out = run_with(
        &p,
        hello(),
        &p.url(""),
        token("1:a/../b?c#d", PLACEHOLDER, &[HOST]),
    )
    .await;
    assert_eq!(
        failure(&out).kind,
        ErrorKind::Auth,
        "the stand-in refuses the wrong token"
    );
    assert_eq!(
        inbox.only().uri,
        "/bot1:a%2F..%2Fb%3Fc%23d/sendMessage",
        "one encoded segment"
    );
}

#[tokio::test]
async fn the_token_goes_only_to_its_hosts() {
    let (server, inbox) = telegram(sent).await;
    let p = provider(&server).await;
    // Bound to another host: not injected, not sent.
    let f = failure(
        &run_with(
            &p,
            hello(),
            &p.url(""),
            token(TOKEN, PLACEHOLDER, &["api.example.com"]),
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.contains("is not bound to host `api.telegram.org"),
        "{}",
        f.message
    );
    // The same server by address, granted and bound by the tenant: the plugin did not declare it.
    let grants = Grants {
        credentials: token(TOKEN, PLACEHOLDER, &[HOST, "127.0.0.1"]).credentials,
        ..hosts(&[HOST, "127.0.0.1"])
    };
    let f = failure(&run_with(&p, hello(), &server.url(""), grants).await).clone();
    assert!(f.message.contains("egress denied"), "{}", f.message);
    assert!(
        inbox.is_empty(),
        "nothing reached any server: {:?}",
        inbox.all()
    );
}

#[tokio::test]
async fn a_credential_with_another_placeholder_is_refused() {
    let (server, inbox) = telegram(sent).await;
    let p = provider(&server).await;
    let f = failure(
        &run_with(
            &p,
            hello(),
            &p.url(""),
            token(TOKEN, "OTHER_TOKEN", &[HOST]),
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.contains("credential `bot-token` goes into the URL path in place of `OTHER_TOKEN`, which the path must contain exactly once"),
        "{}",
        f.message
    );
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn telegram_errors_are_classified() {
    let (server, _inbox) = telegram(|req| match req.json()["text"].as_str() {
        Some("chat") => telegram_error(StatusCode::BAD_REQUEST, "Bad Request: chat not found"),
        Some("blocked") => telegram_error(StatusCode::FORBIDDEN, "Forbidden: bot was blocked by the user"),
        Some("slow") => reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 35", "parameters": {"retry_after": 35}}),
        ),
        _ => (StatusCode::BAD_GATEWAY, "<html>502 Bad Gateway</html>").into_response(),
    })
    .await;
    let p = provider(&server).await;
    let msg = |t: &str| json!({"chat_id": "@weft_news", "text": t});
    let f = fails(&p, msg("chat")).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .ends_with("HTTP 400 Bad Request: Telegram: Bad Request: chat not found"),
        "{}",
        f.message
    );
    assert!(!f.message.contains(TOKEN), "{}", f.message);
    assert_eq!(fails(&p, msg("blocked")).await.kind, ErrorKind::Auth);
    let f = fails(&p, msg("slow")).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(35_000))
    );
    assert_eq!(fails(&p, msg("down")).await.kind, ErrorKind::Transient);
    let f = failure(
        &run_with(
            &p,
            msg("x"),
            &p.url(""),
            token("123:wrong", PLACEHOLDER, &[HOST]),
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::Auth);
    let f = fails(&p, json!({"chat_id": "weft news", "text": "hi"})).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
}
