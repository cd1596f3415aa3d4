//! The `discord` connector in the real sandbox against a loopback stand-in for
//! the Discord HTTP API (`discord.com` resolves to the stand-in), answering with
//! the documented shapes:
//! - create message: <https://discord.com/developers/docs/resources/message#create-message>
//! - bot authorization `Authorization: Bot <token>`: <https://discord.com/developers/docs/reference#authentication>
//! - error bodies `{"code", "message", "errors"}` (50035 Invalid Form Body, 50001 Missing
//!   Access, 10003 Unknown Channel): <https://discord.com/developers/docs/topics/opcodes-and-status-codes#json>
//! - 429 with `retry_after` in the body and `Retry-After`: <https://discord.com/developers/docs/topics/rate-limits>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use weft_sandbox::{Failure, Injection, Outcome};
use weft_tests::connector::{Provider, credential};
use weft_tests::{Inbox, Received, StandIn, failure, output};
use weft_types::ErrorKind;

const TOKEN: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";
const HOST: &str = "discord.com";
const CHANNEL: &str = "41771983423143937";

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn discord(
    answer: impl Fn(&Received) -> Response + Send + Sync + 'static,
) -> (StandIn, Inbox) {
    StandIn::scripted(move |req| {
        if req.header("authorization") != Some(&format!("Bot {TOKEN}")) {
            return reply(
                StatusCode::UNAUTHORIZED,
                json!({"message": "401: Unauthorized", "code": 0}),
            );
        }
        answer(req)
    })
    .await
}

fn created(req: &Received) -> Response {
    let body = req.json();
    reply(
        StatusCode::OK,
        json!({"id": "1162150311958106112", "channel_id": CHANNEL, "type": 0,
               "content": body["content"], "author": {"id": "80351110224678912", "username": "weft", "bot": true},
               "timestamp": "2023-10-13T09:00:00.000000+00:00"}),
    )
}

async fn run(p: &Provider, input: Value, secret: &str) -> Outcome {
    p.invoke(
        "send-message",
        input,
        json!({"base_url": p.url("/api/v10")}),
        p.grants(vec![credential(
            "bot-token",
            secret,
            &[HOST],
            Injection::Header {
                name: "Authorization".into(),
            },
        )]),
    )
    .await
}

/// The failure of sending `input` with the right token.
async fn fails(p: &Provider, input: Value) -> Failure {
    failure(&run(p, input, &format!("Bot {TOKEN}")).await).clone()
}

async fn provider(server: &StandIn) -> Provider {
    Provider::new("weft_plugin_discord", HOST, server).await
}

#[tokio::test]
async fn send_message_posts_as_the_bot_with_no_mentions_by_default() {
    let (server, inbox) = discord(created).await;
    let p = provider(&server).await;
    let out = run(
        &p,
        json!({"channel_id": CHANNEL, "content": "Deploy finished @everyone", "reply_to": "1162150000000000000",
               "embeds": [{"title": "v1.2.0", "color": 5814783}]}),
        &format!("Bot {TOKEN}"),
    )
    .await;
    assert_eq!(output(&out)["id"], "1162150311958106112");
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        (
            "POST",
            format!("/api/v10/channels/{CHANNEL}/messages").as_str()
        )
    );
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert!(
        seen.header("user-agent")
            .unwrap()
            .starts_with("DiscordBot (")
    );
    assert_eq!(
        seen.json(),
        json!({"content": "Deploy finished @everyone", "embeds": [{"title": "v1.2.0", "color": 5814783}],
               "allowed_mentions": {"parse": []},
               "message_reference": {"message_id": "1162150000000000000", "fail_if_not_exists": false}})
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(TOKEN));
}

#[tokio::test]
async fn a_wrong_token_and_missing_access_are_auth() {
    let (server, _inbox) = discord(|_| {
        reply(
            StatusCode::FORBIDDEN,
            json!({"message": "Missing Access", "code": 50001}),
        )
    })
    .await;
    let p = provider(&server).await;
    let out = run(
        &p,
        json!({"channel_id": CHANNEL, "content": "hi"}),
        "Bot wrong",
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message
            .ends_with("HTTP 401 Unauthorized: 401: Unauthorized"),
        "{}",
        f.message
    );
    let f = fails(&p, json!({"channel_id": CHANNEL, "content": "hi"})).await;
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(
        f.message.ends_with("Discord error 50001: Missing Access"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn invalid_form_bodies_name_the_field() {
    let (server, _inbox) = discord(|_| {
        reply(
            StatusCode::BAD_REQUEST,
            json!({"code": 50035, "message": "Invalid Form Body",
                   "errors": {"embeds": {"0": {"title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}}}}}),
        )
    })
    .await;
    let p = provider(&server).await;
    let f = fails(
        &p,
        json!({"channel_id": CHANNEL, "embeds": [{"title": "x"}]}),
    )
    .await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.ends_with("Discord error 50035: Invalid Form Body (embeds.0.title: Must be 256 or fewer in length.)"),
        "{}",
        f.message
    );
}

#[tokio::test]
async fn rate_limits_use_the_bodys_fractional_retry_after() {
    let (server, _inbox) = discord(|_| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "65"), ("x-ratelimit-scope", "user")],
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": 64.57, "global": false})),
        )
            .into_response()
    })
    .await;
    let p = provider(&server).await;
    let f = fails(&p, json!({"channel_id": CHANNEL, "content": "hi"})).await;
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(64_570))
    );
}

#[tokio::test]
async fn server_errors_are_transient_and_bad_ids_never_leave() {
    let (server, inbox) =
        discord(|_| (StatusCode::BAD_GATEWAY, "error code: 502").into_response()).await;
    let p = provider(&server).await;
    let f = fails(&p, json!({"channel_id": CHANNEL, "content": "hi"})).await;
    assert_eq!(f.kind, ErrorKind::Transient);
    let f = fails(&p, json!({"channel_id": "../users/@me", "content": "hi"})).await;
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .starts_with("input.channel_id: `../users/@me` is not a Discord channel id"),
        "{}",
        f.message
    );
    assert_eq!(inbox.len(), 1);
}
