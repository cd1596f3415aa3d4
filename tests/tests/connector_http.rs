//! The `http` connector, built as a component and run in the real sandbox against
//! loopback stand-in servers: what reaches the server, how responses are decoded,
//! how failures are classified, and where the `auth` credential may go.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use std::{sync::Arc, time::Duration};
use weft_sandbox::{Grants, Invocation, Outcome, Plugin};
use weft_tests::{Built, StandIn, TestSandbox, bearer, failure, hosts, output};
use weft_types::ErrorKind;

async fn setup() -> (Built, Arc<Plugin>) {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("weft_plugin_http").await;
    (sandbox, plugin)
}

async fn request(
    sandbox: &Built,
    plugin: &Plugin,
    input: Value,
    config: Value,
    grants: Grants,
) -> Outcome {
    let inv = Invocation {
        config: config.to_string(),
        grants,
        ..Invocation::new("request", input.to_string())
    };
    sandbox.invoke(plugin, inv).await
}

fn loopback() -> Grants {
    hosts(&["127.0.0.1"])
}

fn reply(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    (
        status,
        [("content-type", content_type.to_owned())],
        body.into(),
    )
        .into_response()
}

#[tokio::test]
async fn get_sends_query_and_headers_to_the_server() {
    let (sandbox, plugin) = setup().await;
    let (server, inbox) =
        StandIn::scripted(|_| reply(200, "application/json", r#"{"found":2}"#)).await;
    let input = json!({
        "url": "/api/search",
        "query": {"q": "blue shoes & socks", "tag": ["a", "b"], "n": 3, "exact": true},
        "headers": {"X-Trace": "abc-123"},
    });
    let config = json!({
        "base_url": server.url(""),
        "default_headers": {"x-team": "core", "x-trace": "overridden-by-input"},
    });
    let out = request(&sandbox, &plugin, input, config, loopback()).await;

    let got = output(&out);
    assert_eq!(got["status"], 200);
    assert_eq!(got["body"], json!({"found": 2}));
    let seen = inbox.only();
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.uri,
        "/api/search?exact=true&n=3&q=blue%20shoes%20%26%20socks&tag=a&tag=b"
    );
    assert_eq!(
        seen.header("x-trace"),
        Some("abc-123"),
        "the input header wins over the default"
    );
    assert_eq!(
        seen.header("x-team"),
        Some("core"),
        "default headers are sent"
    );
    assert_eq!(seen.headers.get_all("x-trace").iter().count(), 1);
    assert_eq!(
        seen.header("authorization"),
        None,
        "no credential was asked for"
    );
    assert!(seen.body.is_empty());
    assert_eq!(
        got["url"],
        server.url("/api/search?exact=true&n=3&q=blue%20shoes%20%26%20socks&tag=a&tag=b")
    );
}

#[tokio::test]
async fn post_sends_a_json_body() {
    let (sandbox, plugin) = setup().await;
    let (server, inbox) =
        StandIn::scripted(|_| reply(201, "application/json", r#"{"id":7}"#)).await;
    let body = json!({"name": "Ada", "tags": ["x", 1, null], "nested": {"ok": true}});
    let input = json!({"method": "post", "url": server.url("/items"), "json": body});
    let out = request(&sandbox, &plugin, input, json!({}), loopback()).await;

    assert_eq!(output(&out)["status"], 201);
    assert_eq!(output(&out)["body"], json!({"id": 7}));
    let seen = inbox.only();
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", "/items"),
        "the method is upper-cased"
    );
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.json(), body);
}

#[tokio::test]
async fn post_sends_a_text_body() {
    let (sandbox, plugin) = setup().await;
    let (server, inbox) = StandIn::scripted(|_| reply(200, "text/plain", "ok")).await;
    let plain = json!({"method": "POST", "url": server.url("/notes"), "text": "héllo\nworld"});
    let out = request(&sandbox, &plugin, plain, json!({}), loopback()).await;
    assert_eq!(output(&out)["body"], "ok");
    let custom = json!({"method": "PUT", "url": server.url("/notes/1"), "text": "a,b\n1,2",
                        "headers": {"Content-Type": "text/csv"}});
    let out = request(&sandbox, &plugin, custom, json!({}), loopback()).await;
    assert_eq!(output(&out)["status"], 200);

    let seen = inbox.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(seen[0].text(), "héllo\nworld");
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(
        seen[1].header("content-type"),
        Some("text/csv"),
        "an explicit content type is kept"
    );
    assert_eq!(seen[1].text(), "a,b\n1,2");
}

#[tokio::test]
async fn response_bodies_are_decoded_by_content_type() {
    let (sandbox, plugin) = setup().await;
    let (server, _inbox) = StandIn::scripted(|req| match req.uri.as_str() {
        "/json" => {
            let mut r = reply(
                200,
                "application/json; charset=utf-8",
                r#"{"a":[1,2],"b":null}"#,
            );
            r.headers_mut().append("x-multi", "one".parse().unwrap());
            r.headers_mut().append("X-Multi", "two".parse().unwrap());
            r
        }
        "/problem" => reply(200, "application/problem+json", r#"{"title":"x"}"#),
        "/not-really-json" => reply(200, "application/json", "{oops"),
        "/text" => reply(200, "text/html", "<p>hi</p>"),
        "/binary" => reply(200, "application/octet-stream", vec![0xff, 0x00, 0x10]),
        _ => reply(200, "application/json", ""),
    })
    .await;
    let get = |path: &str| json!({"url": server.url(path)});
    let mut outs = Vec::new();
    for path in [
        "/json",
        "/problem",
        "/not-really-json",
        "/text",
        "/binary",
        "/empty",
    ] {
        outs.push(request(&sandbox, &plugin, get(path), json!({}), loopback()).await);
    }
    let body = |i: usize| {
        (
            output(&outs[i])["body"].clone(),
            output(&outs[i])["body_encoding"].clone(),
        )
    };

    assert_eq!(body(0), (json!({"a": [1, 2], "b": null}), json!("json")));
    assert_eq!(
        output(&outs[0])["headers"]["x-multi"],
        "one, two",
        "repeated headers are joined, names lower-cased"
    );
    assert_eq!(
        output(&outs[0])["headers"]["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        body(1),
        (json!({"title": "x"}), json!("json")),
        "+json types are JSON"
    );
    assert_eq!(
        body(2),
        (json!("{oops"), json!("text")),
        "unparseable JSON falls back to text"
    );
    assert_eq!(body(3), (json!("<p>hi</p>"), json!("text")));
    assert_eq!(
        body(4),
        (json!("/wAQ"), json!("base64")),
        "non-UTF-8 bytes come back as base64"
    );
    assert_eq!(
        body(5),
        (Value::Null, json!("json")),
        "an empty JSON body is null"
    );
}

#[tokio::test]
async fn error_statuses_are_classified() {
    let (sandbox, plugin) = setup().await;
    let (server, _inbox) = StandIn::scripted(|req| match req.uri.as_str() {
        "/missing?id=9" => reply(404, "text/plain", "no such item"),
        "/broken" => reply(500, "text/plain", "database exploded"),
        "/busy" => {
            let mut r = reply(429, "text/plain", "slow down");
            r.headers_mut().insert("retry-after", "7".parse().unwrap());
            r
        }
        "/forbidden" => reply(403, "text/plain", "nope"),
        _ => reply(501, "text/plain", "not implemented"),
    })
    .await;
    let run = async |path: &str| {
        let input = json!({"url": server.url(path)});
        request(&sandbox, &plugin, input, json!({}), loopback()).await
    };

    let out = run("/missing?id=9").await;
    let f = failure(&out);
    assert_eq!(
        (f.kind, f.reason, f.retry_after_ms),
        (ErrorKind::InvalidInput, None, None)
    );
    let url = server.url("/missing");
    assert!(
        f.message.starts_with(&format!("GET {url}")),
        "names the request: {}",
        f.message
    );
    assert!(
        f.message.contains("404") && f.message.contains("no such item"),
        "{}",
        f.message
    );
    assert!(
        !f.message.contains("id=9"),
        "the query string is not shown: {}",
        f.message
    );

    let out = run("/broken").await;
    let f = failure(&out);
    assert_eq!((f.kind, f.retry_after_ms), (ErrorKind::Transient, None));
    assert!(
        f.message.contains("500") && f.message.contains("database exploded"),
        "{}",
        f.message
    );

    let out = run("/busy").await;
    let f = failure(&out);
    assert_eq!(
        (f.kind, f.retry_after_ms),
        (ErrorKind::RateLimited, Some(7_000))
    );

    assert_eq!(failure(&run("/forbidden").await).kind, ErrorKind::Auth);
    assert_eq!(
        failure(&run("/other").await).kind,
        ErrorKind::Permanent,
        "501 is not worth retrying"
    );
}

#[tokio::test]
async fn fail_on_status_false_returns_the_status_as_output() {
    let (sandbox, plugin) = setup().await;
    let (server, _inbox) =
        StandIn::scripted(|_| reply(404, "application/json", r#"{"error":"gone"}"#)).await;
    let input = json!({"url": server.url("/x"), "fail_on_status": false});
    let out = request(&sandbox, &plugin, input, json!({}), loopback()).await;
    let got = output(&out);
    assert_eq!(got["status"], 404);
    assert_eq!(got["body"], json!({"error": "gone"}));
    assert_eq!(got["body_encoding"], "json");
}

#[tokio::test]
async fn credential_is_injected_only_for_the_bound_host() {
    let (sandbox, plugin) = setup().await;
    // The bound server echoes the Authorization header it got.
    let echo = |req: &weft_tests::Received| {
        let body = json!({"saw": req.header("authorization")}).to_string();
        reply(200, "application/json", body)
    };
    let (bound, bound_inbox) = StandIn::scripted(echo).await;
    let (other, other_inbox) = StandIn::scripted(echo).await;
    let secret = "s3cret-token-for-bound";
    let grants = Grants {
        credentials: vec![bearer(
            "auth",
            secret,
            &[&format!("127.0.0.1:{}", bound.port())],
        )],
        ..loopback()
    };

    let out = request(
        &sandbox,
        &plugin,
        json!({"url": bound.url("/me"), "credential": true}),
        json!({}),
        grants.clone(),
    )
    .await;
    assert_eq!(
        bound_inbox.only().header("authorization"),
        Some(format!("Bearer {secret}").as_str())
    );
    assert_eq!(
        output(&out)["body"]["saw"],
        "Bearer [REDACTED]",
        "the plugin never sees the secret, even when the server echoes it"
    );
    assert!(!serde_json::to_string(&out).unwrap().contains(secret));

    let out = request(
        &sandbox,
        &plugin,
        json!({"url": other.url("/me"), "credential": true}),
        json!({}),
        grants.clone(),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(f.message.contains("not bound"), "{}", f.message);
    assert!(
        other_inbox.is_empty(),
        "nothing was sent to the unbound host: {:?}",
        other_inbox.all()
    );

    let out = request(
        &sandbox,
        &plugin,
        json!({"url": bound.url("/anon")}),
        json!({}),
        grants,
    )
    .await;
    assert_eq!(
        output(&out)["body"]["saw"],
        Value::Null,
        "without `credential: true` no secret is sent"
    );
    assert_eq!(bound_inbox.len(), 2);
}

#[tokio::test]
async fn credential_does_not_follow_a_redirect_to_another_host() {
    let (sandbox, plugin) = setup().await;
    let (elsewhere, elsewhere_inbox) =
        StandIn::scripted(|_| reply(200, "text/plain", "landed")).await;
    let target = elsewhere.url("/landing");
    let (bound, bound_inbox) = StandIn::scripted(move |_| {
        (StatusCode::FOUND, [("location", target.clone())]).into_response()
    })
    .await;
    let grants = Grants {
        credentials: vec![bearer(
            "auth",
            "redirect-secret",
            &[&format!("127.0.0.1:{}", bound.port())],
        )],
        ..loopback()
    };
    let input = json!({"url": bound.url("/start"), "credential": true, "headers": {"Authorization": "Bearer plugin-set"}});
    let out = request(&sandbox, &plugin, input, json!({}), grants).await;

    assert_eq!(output(&out)["body"], "landed");
    assert_eq!(
        bound_inbox.only().header("authorization"),
        Some("Bearer redirect-secret")
    );
    let landed = elsewhere_inbox.only();
    assert_eq!(landed.uri, "/landing");
    assert_eq!(
        landed.header("authorization"),
        None,
        "no authorization crosses origins on a redirect"
    );
}

#[tokio::test]
async fn timeout_ms_against_a_slow_server_is_transient() {
    let (sandbox, plugin) = setup().await;
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(20)).await;
            "too late"
        }),
    );
    let server = StandIn::start(slow).await;
    let input = json!({"url": server.url("/slow"), "timeout_ms": 300});
    let out = request(&sandbox, &plugin, input, json!({}), loopback()).await;

    let f = failure(&out);
    assert_eq!(
        (f.kind, f.reason),
        (ErrorKind::Transient, None),
        "the plugin classified it, the sandbox did not stop it"
    );
    assert!(f.message.contains("timed out"), "{}", f.message);
    assert!(f.message.contains(&server.url("/slow")), "{}", f.message);
    assert!(
        out.usage.wall_time_us < 10_000_000,
        "gave up after {} µs",
        out.usage.wall_time_us
    );
    assert!(
        out.usage.wall_time_us >= 300_000,
        "gave up too early: {} µs",
        out.usage.wall_time_us
    );
}

#[tokio::test]
async fn bad_input_is_invalid_input_naming_the_field() {
    let (sandbox, plugin) = setup().await;
    let (server, inbox) = StandIn::scripted(|_| reply(200, "text/plain", "ok")).await;
    let cases = [
        (json!({"method": "GET"}), "input: missing field `url`"),
        (
            json!({"url": server.url("/x"), "method": "POST", "json": {"a": 1}, "text": "a"}),
            "input: set either `json` or `text` as the body, not both",
        ),
        (
            json!({"url": "/relative"}),
            "input.url: `/relative` is not an absolute http(s) URL",
        ),
        (
            json!({"url": server.url("/x"), "method": "GET /x"}),
            "input.method: `GET /x` is not an HTTP method",
        ),
        (
            json!({"url": server.url("/x"), "timeout_ms": "soon"}),
            "input.timeout_ms: invalid type",
        ),
        (
            json!({"url": server.url("/x"), "bogus": 1}),
            "input.bogus: unknown field `bogus`, expected one of `method`, `url`",
        ),
    ];
    for (input, expected) in cases {
        let out = request(&sandbox, &plugin, input.clone(), json!({}), loopback()).await;
        let f = failure(&out);
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{input}: {f}");
        assert!(
            f.message.starts_with(expected),
            "{input}: expected `{expected}…`, got `{}`",
            f.message
        );
    }
    let out = request(
        &sandbox,
        &plugin,
        json!({"url": server.url("/x")}),
        json!({"base_url": 5}),
        loopback(),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.starts_with("config.base_url: invalid type"),
        "{}",
        f.message
    );
    assert!(inbox.is_empty(), "no invalid request reached the server");
}

#[tokio::test]
async fn hosts_not_granted_are_denied_before_sending() {
    let (sandbox, plugin) = setup().await;
    let (server, inbox) = StandIn::scripted(|_| reply(200, "text/plain", "ok")).await;
    let out = request(
        &sandbox,
        &plugin,
        json!({"url": server.url("/x")}),
        json!({}),
        hosts(&["example.com"]),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(f.message.contains("not granted"), "{}", f.message);
    assert!(inbox.is_empty());
}
