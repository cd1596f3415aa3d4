//! The `gmail` connector, built as a component and run in the real sandbox
//! against a loopback stand-in for the Gmail API v1 (`gmail.googleapis.com`
//! resolves to it) and Google's OAuth2 token endpoint (`weft_tests::google`).
//! The stand-in answers with the documented shapes:
//! - messages.send (`raw`: an RFC 2822 message, base64url):
//!   <https://developers.google.com/gmail/api/reference/rest/v1/users.messages/send>
//! - messages.list (`messages: [{id, threadId}]`, `nextPageToken`; no
//!   `messages` when none match): <https://developers.google.com/gmail/api/reference/rest/v1/users.messages/list>
//! - messages.get (`payload` a MIME tree, `body.data` base64url, `internalDate`
//!   ms as a string): <https://developers.google.com/gmail/api/reference/rest/v1/users.messages#Message>
//! - errors and rate limits (403 `rateLimitExceeded` / `userRateLimitExceeded`, 429):
//!   <https://developers.google.com/gmail/api/guides/handle-errors>
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use weft_sandbox::Outcome;
use weft_tests::connector::Provider;
use weft_tests::google::{Google, error, reply};
use weft_tests::{failure, output};
use weft_types::{ErrorKind, Status};

const HOST: &str = "gmail.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/gmail.send";

async fn run(g: &Provider, action: &str, input: Value) -> Outcome {
    Google::run(g, action, input).await
}

fn b64url(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// A message resource as messages.get answers `format=full`.
fn message(id: &str, internal_date: i64, subject: &str) -> Value {
    json!({
        "id": id, "threadId": format!("t{id}"), "labelIds": ["INBOX", "UNREAD"],
        "snippet": "Hello there", "historyId": "9876", "internalDate": internal_date.to_string(),
        "sizeEstimate": 2048,
        "payload": {
            "partId": "", "mimeType": "multipart/alternative", "filename": "",
            "headers": [
                {"name": "From", "value": "Ada <ada@example.com>"},
                {"name": "To", "value": "me@example.com"},
                {"name": "Subject", "value": subject},
                {"name": "Date", "value": "Mon, 7 Dec 2026 10:00:00 +0000"}
            ],
            "body": {"size": 0},
            "parts": [
                {"partId": "0", "mimeType": "text/plain", "headers": [], "body": {"size": 14, "data": b64url("Hello there ✓\n")}},
                {"partId": "1", "mimeType": "text/html", "headers": [], "body": {"size": 20, "data": b64url("<p>Hello there</p>")}}
            ]
        }
    })
}

/// Decodes a part's base64 body lines.
fn decode_part(part: &str) -> String {
    let (_, body) = part.split_once("\r\n\r\n").unwrap();
    let joined: String = body.split("\r\n").collect();
    String::from_utf8(STANDARD.decode(joined.trim()).unwrap()).unwrap()
}

#[tokio::test]
async fn send_in_a_workflow_posts_an_rfc_5322_message_with_the_hosts_token() {
    let google = Google::start(|req| {
        assert!(req.json()["raw"].is_string());
        reply(
            200,
            json!({"id": "18c1f0a2b3c4d5e6", "threadId": "18c1f0a2b3c4d5e6", "labelIds": ["SENT"]}),
        )
    })
    .await;
    let app = google.app("weft_plugin_gmail", HOST, SCOPE).await;
    let wf = app
        .workflow(json!({
            "name": "mail",
            "grants": {"hosts": [HOST], "credentials": {"gmail/google": "google"}},
            "steps": [{"id": "send", "kind": "action", "connector": "gmail", "action": "send",
                       "config": {"base_url": google.base(HOST)},
                       "input": {"to": ["ada@example.com", "Bob <bob@example.com>"],
                                 "cc": "carol@example.com", "bcc": ["dan@example.com"],
                                 "subject": "Grüße: {{ trigger.body.what }}",
                                 "text": "Plain ✓", "html": "<p>Rich ✓</p>"}}]
        }))
        .await;
    let run = app.start_run(&wf.id, json!({"what": "order 17"})).await;
    let run = app.finished(&run).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        weft_tests::step(&run, "send").output.as_ref().unwrap()["labelIds"],
        json!(["SENT"])
    );

    let issued = google.issued();
    assert_eq!(issued.len(), 1, "one token from the token endpoint");
    let seen = google.api_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/gmail/v1/users/me/messages/send")
    );
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {}", issued[0]).as_str())
    );
    let raw = seen[0].json()["raw"].as_str().unwrap().to_owned();
    assert!(!raw.contains('+') && !raw.contains('/'), "base64url: {raw}");
    let mail = String::from_utf8(URL_SAFE.decode(&raw).unwrap()).unwrap();
    let (head, body) = mail.split_once("\r\n\r\n").unwrap();
    let subject_word = format!("=?UTF-8?B?{}?=", STANDARD.encode("Grüße: order 17"));
    assert_eq!(
        head,
        format!(
            "To: ada@example.com, Bob <bob@example.com>\r\nCc: carol@example.com\r\nBcc: dan@example.com\r\n\
             Subject: {subject_word}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"=_weft_alternative_0\""
        )
    );
    let parts: Vec<&str> = body.split("--=_weft_alternative_0").collect();
    assert_eq!(parts.len(), 4, "{body}");
    assert_eq!(parts[3], "--\r\n");
    assert!(parts[1].starts_with(
        "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n"
    ));
    assert_eq!(decode_part(parts[1]), "Plain ✓");
    assert!(parts[2].starts_with("\r\nContent-Type: text/html; charset=UTF-8\r\n"));
    assert_eq!(decode_part(parts[2]), "<p>Rich ✓</p>");
    assert!(!serde_json::to_string(&run).unwrap().contains(&issued[0]));
}

#[tokio::test]
async fn a_line_break_in_any_header_field_is_invalid_input_and_nothing_is_sent() {
    let google = Google::start(|_| reply(200, json!({"id": "x", "threadId": "x"}))).await;
    let g = google.provider("weft_plugin_gmail", HOST).await;
    let evil = "ada@example.com\r\nBcc: everyone@example.com";
    for field in ["to", "cc", "bcc", "subject", "from", "reply_to"] {
        let mut input = json!({"to": "ada@example.com", "subject": "Hi", "text": "t"});
        input[field] = json!(evil);
        let f = failure(&run(&g, "send", input).await).clone();
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{field}");
        assert_eq!(
            f.message,
            format!("input.{field}: a line break is not allowed in a mail header")
        );
    }
    let f = failure(
        &run(
            &g,
            "send",
            json!({"to": "ada@example.com", "subject": "Hi"}),
        )
        .await,
    )
    .clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message.contains("`text`, `html` or both"),
        "{}",
        f.message
    );
    assert!(google.api_requests().is_empty());
    // A text-only message is one text/plain part.
    run(
        &g,
        "send",
        json!({"to": "ada@example.com", "subject": "Hi", "text": "only"}),
    )
    .await;
    let raw = google.api_requests()[0].json()["raw"]
        .as_str()
        .unwrap()
        .to_owned();
    let mail = String::from_utf8(URL_SAFE.decode(&raw).unwrap()).unwrap();
    assert!(
        mail.contains(
            "Subject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        ),
        "{mail}"
    );
}

#[tokio::test]
async fn list_and_get_send_the_documented_requests_and_decode_the_body() {
    let google = Google::start(|req| {
        if req.uri.starts_with("/gmail/v1/users/me/messages?") {
            if req.uri.contains("q=nothing") {
                reply(200, json!({"resultSizeEstimate": 0}))
            } else {
                reply(
                    200,
                    json!({"messages": [{"id": "18c2", "threadId": "t18c2"}], "nextPageToken": "p2", "resultSizeEstimate": 1}),
                )
            }
        } else if req.uri.starts_with("/gmail/v1/users/me/messages/18c2?") {
            reply(200, message("18c2", 1_765_000_000_000, "Invoice"))
        } else if req.uri.starts_with("/gmail/v1/users/me/messages/limited") {
            error(403, "PERMISSION_DENIED", Some("userRateLimitExceeded"), "User-rate limit exceeded.")
        } else {
            error(404, "NOT_FOUND", Some("notFound"), "Requested entity was not found.")
        }
    })
    .await;
    let g = google.provider("weft_plugin_gmail", HOST).await;
    let out = run(
        &g,
        "list-messages",
        json!({"q": "from:ada@example.com is:unread", "label_ids": ["INBOX", "UNREAD"], "page_token": "p1", "max_results": 10}),
    )
    .await;
    assert_eq!(output(&out)["nextPageToken"], "p2");
    let out = run(&g, "list-messages", json!({"q": "nothing"})).await;
    assert_eq!(output(&out)["messages"], json!([]), "none: an empty list");
    let out = run(&g, "get-message", json!({"id": "18c2"})).await;
    let m = output(&out);
    assert_eq!(m["text"], "Hello there ✓\n");
    assert_eq!(m["html"], "<p>Hello there</p>");
    assert_eq!(m["headers"]["subject"], "Invoice");
    assert_eq!(m["headers"]["from"], "Ada <ada@example.com>");
    assert_eq!(m["internalDate"], 1_765_000_000_000_i64);
    let seen = google.api_requests();
    assert_eq!(
        seen[0].uri,
        "/gmail/v1/users/me/messages?q=from%3Aada%40example.com%20is%3Aunread&labelIds=INBOX&labelIds=UNREAD&pageToken=p1&maxResults=10"
    );
    assert_eq!(seen[2].uri, "/gmail/v1/users/me/messages/18c2?format=full");
    let out = run(
        &g,
        "get-message",
        json!({"id": "18c2", "format": "metadata"}),
    )
    .await;
    assert!(output(&out)["headers"].is_object());
    assert_eq!(
        google.api_requests()[3].uri,
        "/gmail/v1/users/me/messages/18c2?format=metadata"
    );

    let f = failure(&run(&g, "get-message", json!({"id": "limited"})).await).clone();
    assert_eq!(f.kind, ErrorKind::RateLimited, "{f:?}");
    let f = failure(&run(&g, "get-message", json!({"id": "gone"})).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput, "{f:?}");
    assert!(
        f.message.contains("Requested entity was not found"),
        "{}",
        f.message
    );
    let f = failure(&run(&g, "get-message", json!({"id": "../../labels"})).await).clone();
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(f.message.starts_with("input.id: "), "{}", f.message);
}

/// The trigger in the sandbox: the first poll only notes the newest message;
/// the next lists with `after:` and returns the new messages oldest first,
/// keyed by id, dropping those older than the cursor.
#[tokio::test]
async fn the_new_messages_trigger_in_the_sandbox() {
    // (id, internalDate) newest first, as messages.list orders.
    let inbox: Arc<Mutex<Vec<(&'static str, i64)>>> = Arc::new(Mutex::new(vec![
        ("m1", 1_765_000_000_000),
        ("m0", 1_764_999_999_500),
    ]));
    let mail = inbox.clone();
    let google = Google::start(move |req| {
        let all = mail.lock().unwrap().clone();
        if req.uri.starts_with("/gmail/v1/users/me/messages?") {
            let n: usize = req
                .uri
                .split("maxResults=")
                .nth(1)
                .and_then(|v| v.split('&').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(100);
            let list: Vec<Value> = all
                .iter()
                .take(n)
                .map(|(id, _)| json!({"id": id, "threadId": format!("t{id}")}))
                .collect();
            return reply(200, json!({"messages": list}));
        }
        let id = req
            .uri
            .split('/')
            .nth(6)
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        let (_, date) = all.iter().find(|(i, _)| *i == id).unwrap();
        reply(200, message(id, *date, id))
    })
    .await;
    let g = google.provider("weft_plugin_gmail", HOST).await;
    assert!(g.plugin.manifest().trigger("new-messages").is_some());
    let call = |cursor: Option<String>| {
        Google::poll(
            &g,
            "new-messages",
            json!({"q": "label:invoices", "label_ids": ["INBOX"]}),
            cursor,
        )
    };
    let first = g.sandbox.poll(&g.plugin, call(None)).await.result.unwrap();
    assert!(first.items.is_empty(), "the mailbox's past is not new");
    let cursor = first.next_cursor.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&cursor).unwrap(),
        json!({"newest": 1_765_000_000_000_i64, "ids": ["m1"]})
    );
    inbox
        .lock()
        .unwrap()
        .splice(0..0, [("m3", 1_765_000_002_000), ("m2", 1_765_000_001_000)]);
    let second = g
        .sandbox
        .poll(&g.plugin, call(Some(cursor)))
        .await
        .result
        .unwrap();
    let keys: Vec<&str> = second.items.iter().map(|(k, _)| k.as_str()).collect();
    // The stand-in ignores `after:`: m0, older than the cursor, is dropped;
    // m1, of the cursor's own millisecond, is in the cursor's ids: dropped
    // (the first poll reported nothing, so the host has not seen its key).
    assert_eq!(keys, ["m2", "m3"]);
    assert_eq!(second.items[0].1["text"], "Hello there ✓\n");
    let seen = google.api_requests();
    let list = seen
        .iter()
        .filter(|r| r.uri.starts_with("/gmail/v1/users/me/messages?"))
        .nth(1)
        .unwrap();
    assert_eq!(
        list.uri,
        "/gmail/v1/users/me/messages?q=label%3Ainvoices%20after%3A1764999999&labelIds=INBOX&maxResults=100"
    );
    assert_eq!(
        serde_json::from_str::<Value>(second.next_cursor.as_deref().unwrap()).unwrap(),
        json!({"newest": 1_765_000_002_000_i64, "ids": ["m3"]})
    );
}

/// A real poll by the server: the host's OAuth2 token, one run per new message.
#[tokio::test]
async fn a_polled_mailbox_starts_one_run_per_new_message() {
    let mailbox: Arc<Mutex<Vec<(&'static str, i64)>>> =
        Arc::new(Mutex::new(vec![("m1", 1_765_000_000_000)]));
    let mail = mailbox.clone();
    let google = Google::start(move |req| {
        let all = mail.lock().unwrap().clone();
        if req.uri.starts_with("/gmail/v1/users/me/messages?") {
            let list: Vec<Value> = all
                .iter()
                .map(|(id, _)| json!({"id": id, "threadId": "t"}))
                .collect();
            return reply(200, json!({"messages": list}));
        }
        let id = req
            .uri
            .split('/')
            .nth(6)
            .unwrap()
            .split('?')
            .next()
            .unwrap();
        let (_, date) = all.iter().find(|(i, _)| *i == id).unwrap();
        reply(200, message(id, *date, id))
    })
    .await;
    let app = google.app("weft_plugin_gmail", HOST, SCOPE).await;
    let wf = app
        .workflow(json!({
            "name": "new mail",
            "grants": {"hosts": [HOST], "credentials": {"gmail/google": "google"}},
            "triggers": {"poll": {"connector": "gmail", "trigger": "new-messages", "interval_ms": 1000,
                                   "config": {"q": "is:unread", "base_url": google.base(HOST)}}},
            "steps": [{"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
                       "input": {"filter": ".", "data": "{{ trigger.body }}"}}]
        }))
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    // The first poll notes m1 (list, then its metadata).
    while !google
        .api_requests()
        .iter()
        .any(|r| r.uri.contains("format=metadata"))
    {
        assert!(tokio::time::Instant::now() < deadline, "no first poll");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    mailbox.lock().unwrap().insert(0, ("m2", 1_765_000_005_000));
    let runs = loop {
        let page = app
            .get(&format!(
                "/v1/runs?workflow_id={}&trigger=poll&limit=100",
                wf.id
            ))
            .await
            .expect(200);
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if !items.is_empty() {
            break items;
        }
        assert!(tokio::time::Instant::now() < deadline, "no run started");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        runs.len(),
        1,
        "m1 (seen by the first poll) starts none: {runs:#?}"
    );
    let run = app.finished(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(run.input["body"]["id"], "m2");
    assert_eq!(run.input["body"]["text"], "Hello there ✓\n");
    let issued = google.issued();
    assert!(google.api_requests().iter().all(|r| {
        r.header("authorization")
            .is_some_and(|a| issued.iter().any(|t| a == format!("Bearer {t}")))
    }));
}
