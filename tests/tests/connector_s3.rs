//! The `s3` connector, built as a component and run in the real sandbox
//! against a loopback stand-in for S3 (`s3.test` and `*.s3.test` resolve to
//! it), with the host signing every request with AWS Signature Version 4 (the
//! `aws_sigv4` injection).
//!
//! The stand-in checks each request's signature by recomputing it from what
//! it received with the known secret key: its own implementation here (the
//! canonical request, string to sign and key chain of
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>),
//! independent of the host's signer, so a request that S3 would refuse is
//! refused here too (`SignatureDoesNotMatch`). It answers with S3's documented
//! shapes: ListObjectsV2's `<ListBucketResult>`
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>),
//! errors as `<Error><Code>…</Code><Message>…</Message>…</Error>` with
//! `NoSuchKey` 404, `AccessDenied` 403, `SignatureDoesNotMatch` 403, `SlowDown`
//! 503 (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use weft_sandbox::{Credential, Injection, Outcome};
use weft_tests::connector::{Provider, credential};
use weft_tests::{Inbox, Received, StandIn, TestSandbox, failure, hosts, output};
use weft_types::ErrorKind;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REGION: &str = "us-east-1";
const HOST: &str = "s3.test";

fn sigv4(secret: &str) -> Credential {
    credential(
        "aws",
        secret,
        &[HOST, "*.s3.test"],
        Injection::AwsSigv4 {
            access_key_id: KEY_ID.into(),
            region: REGION.into(),
            service: "s3".into(),
        },
    )
}

// ---- The stand-in's own SigV4 check -----------------------------------------

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn aws_encode(bytes: &[u8], slash: bool) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (slash && b == b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `%XX` decoded (a plus stays a plus, as S3 reads paths and queries).
fn decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// `Ok(())` when the request carries a valid signature by `KEY_ID` with
/// `SECRET`; else what is wrong.
fn verify(req: &Received) -> Result<(), String> {
    let auth = req.header("authorization").ok_or("no Authorization")?;
    if req.headers.get_all("authorization").iter().count() != 1 {
        return Err("more than one Authorization".into());
    }
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let (credential, rest) = rest
        .split_once(", SignedHeaders=")
        .ok_or("no SignedHeaders")?;
    let (signed, signature) = rest.split_once(", Signature=").ok_or("no Signature")?;
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[0] != KEY_ID || scope[2] != REGION || scope[3] != "s3" {
        return Err(format!("credential scope `{credential}`"));
    }
    let amz_date = req.header("x-amz-date").ok_or("no x-amz-date")?;
    if !amz_date.starts_with(scope[1]) {
        return Err("x-amz-date is not the scope's date".into());
    }
    let payload = hex::encode(Sha256::digest(&req.body));
    if req.header("x-amz-content-sha256") != Some(payload.as_str()) {
        return Err("x-amz-content-sha256 is not the body's SHA-256".into());
    }
    let names: Vec<&str> = signed.split(';').collect();
    for required in ["host", "x-amz-date", "x-amz-content-sha256"] {
        if !names.contains(&required) {
            return Err(format!("`{required}` is not signed"));
        }
    }
    for (name, _) in &req.headers {
        if name.as_str().starts_with("x-amz-") && !names.contains(&name.as_str()) {
            return Err(format!("`{name}` is sent but not signed"));
        }
    }
    let (path, query) = req.uri.split_once('?').unwrap_or((&req.uri, ""));
    let path = aws_encode(&decode(path), true);
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (aws_encode(&decode(k), false), aws_encode(&decode(v), false))
        })
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for n in &names {
        let values: Vec<String> = req
            .headers
            .get_all(*n)
            .iter()
            .map(|v| {
                v.to_str()
                    .unwrap()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        if values.is_empty() {
            return Err(format!("signed header `{n}` was not sent"));
        }
        headers.push_str(&format!("{n}:{}\n", values.join(",")));
    }
    let canonical = format!(
        "{}\n{path}\n{query}\n{headers}\n{signed}\n{payload}",
        req.method
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/{REGION}/s3/aws4_request\n{}",
        scope[1],
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{SECRET}").as_bytes(), scope[1].as_bytes());
    for part in [REGION, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, to_sign.as_bytes()));
    if expected == signature {
        Ok(())
    } else {
        Err(format!(
            "signature mismatch; canonical request:\n{canonical}"
        ))
    }
}

// ---- The stand-in S3 -------------------------------------------------------

fn xml(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/xml")], body).into_response()
}

fn s3_error(status: StatusCode, code: &str, message: &str, resource: &str) -> Response {
    xml(
        status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><Resource>{resource}</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>"
        ),
    )
}

#[derive(Clone)]
struct Object {
    body: Vec<u8>,
    content_type: String,
    meta: Vec<(String, String)>,
}

type Bucket = BTreeMap<String, Object>;

/// The bucket and key of a request: from the host name (`photos.s3.test`)
/// or the path (`/photos/key`).
fn address(req: &Received) -> (String, String) {
    let host = req.header("host").unwrap_or_default();
    let host = host.split(':').next().unwrap();
    let path = req.uri.split('?').next().unwrap();
    let path = String::from_utf8(decode(path)).unwrap();
    let path = path.strip_prefix('/').unwrap_or(&path);
    match host.strip_suffix(".s3.test") {
        Some(bucket) => (bucket.to_owned(), path.to_owned()),
        None => {
            let (b, k) = path.split_once('/').unwrap_or((path, ""));
            (b.to_owned(), k.to_owned())
        }
    }
}

fn list_objects(bucket: &str, objects: &Bucket, req: &Received) -> Response {
    let query: BTreeMap<String, String> = req
        .uri
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), String::from_utf8(decode(v)).unwrap()))
        .collect();
    assert_eq!(query.get("list-type").map(String::as_str), Some("2"));
    let prefix = query.get("prefix").cloned().unwrap_or_default();
    let max: usize = query.get("max-keys").map_or(1000, |m| m.parse().unwrap());
    // The continuation token is the last key of the previous page, base64.
    let after = query.get("continuation-token").map(|t| {
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(t).unwrap()).unwrap()
    });
    let keys: Vec<(&String, &Object)> = objects
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| after.as_ref().is_none_or(|a| *k > a))
        .collect();
    let page = &keys[..keys.len().min(max)];
    let truncated = keys.len() > max;
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{bucket}</Name><Prefix>{prefix}</Prefix><KeyCount>{}</KeyCount><MaxKeys>{max}</MaxKeys><IsTruncated>{truncated}</IsTruncated>",
        page.len()
    );
    for (k, o) in page {
        body.push_str(&format!(
            "<Contents><Key>{}</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>&quot;{}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
            k.replace('&', "&amp;").replace('<', "&lt;"),
            hex::encode(&Sha256::digest(&o.body)[..16]),
            o.body.len()
        ));
    }
    if truncated {
        let last = page.last().unwrap().0;
        body.push_str(&format!(
            "<NextContinuationToken>{}</NextContinuationToken>",
            base64::engine::general_purpose::STANDARD.encode(last)
        ));
    }
    body.push_str("</ListBucketResult>");
    xml(StatusCode::OK, body)
}

/// S3 as far as the connector uses it. Bucket `locked` answers AccessDenied,
/// bucket `busy` SlowDown, bucket `broken` InternalError; every other bucket
/// exists and starts empty.
async fn s3() -> (StandIn, Inbox) {
    let store: Arc<Mutex<BTreeMap<String, Bucket>>> = Arc::default();
    StandIn::scripted(move |req| {
        let (bucket, key) = address(req);
        let resource = format!("/{bucket}/{key}");
        if let Err(why) = verify(req) {
            return s3_error(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                &format!("The request signature we calculated does not match the signature you provided. ({})", why.lines().next().unwrap()),
                &resource,
            );
        }
        match bucket.as_str() {
            "locked" => return s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied", &resource),
            "busy" => return s3_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate.", &resource),
            "broken" => return s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error. Please try again.", &resource),
            _ => {}
        }
        let mut store = store.lock().unwrap();
        let objects = store.entry(bucket.clone()).or_default();
        match (req.method.as_str(), key.is_empty()) {
            ("GET", true) => list_objects(&bucket, objects, req),
            ("PUT", false) => {
                let meta = req
                    .headers
                    .iter()
                    .filter(|(k, _)| k.as_str().starts_with("x-amz-meta-"))
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                    .collect();
                objects.insert(
                    key,
                    Object {
                        body: req.body.clone(),
                        content_type: req.header("content-type").unwrap_or("binary/octet-stream").into(),
                        meta,
                    },
                );
                (StatusCode::OK, [("etag", "\"fba9dede5f27731c9771645a39863328\"")]).into_response()
            }
            ("GET" | "HEAD", false) => match objects.get(&key) {
                None if req.method == "HEAD" => StatusCode::NOT_FOUND.into_response(),
                None => s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.", &resource),
                Some(o) => {
                    let mut r = if req.method == "HEAD" {
                        (
                            StatusCode::OK,
                            [("content-length", o.body.len().to_string())],
                        )
                            .into_response()
                    } else {
                        (StatusCode::OK, o.body.clone()).into_response()
                    };
                    let h = r.headers_mut();
                    h.insert("content-type", o.content_type.parse().unwrap());
                    h.insert("etag", "\"fba9dede5f27731c9771645a39863328\"".parse().unwrap());
                    h.insert("last-modified", "Wed, 12 Oct 2009 17:50:00 GMT".parse().unwrap());
                    for (k, v) in &o.meta {
                        h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
                    }
                    r
                }
            },
            ("DELETE", false) => {
                objects.remove(&key);
                StatusCode::NO_CONTENT.into_response()
            }
            _ => s3_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "The specified method is not allowed against this resource.", &resource),
        }
    })
    .await
}

/// The connector in a sandbox where `s3.test` and `photos.s3.test` are the
/// stand-in.
async fn provider(server: &StandIn) -> Provider {
    let sandbox = TestSandbox::new()
        .resolve(HOST, "127.0.0.1")
        .resolve("photos.s3.test", "127.0.0.1")
        .build();
    let plugin = sandbox.plugin("weft_plugin_s3").await;
    Provider {
        sandbox,
        plugin,
        host: HOST.into(),
        port: server.port(),
    }
}

async fn run(s3: &Provider, action: &str, input: Value) -> Outcome {
    run_as(s3, action, input, SECRET, true).await
}

async fn run_as(
    s3: &Provider,
    action: &str,
    input: Value,
    secret: &str,
    path_style: bool,
) -> Outcome {
    s3.invoke(
        action,
        input,
        json!({"endpoint": s3.url(""), "path_style": path_style}),
        weft_sandbox::Grants {
            credentials: vec![sigv4(secret)],
            ..hosts(&[HOST, "*.s3.test"])
        },
    )
    .await
}

fn no_secret_sent(inbox: &Inbox) {
    for r in inbox.all() {
        assert!(!r.text().contains(SECRET));
        for (_, v) in &r.headers {
            assert!(!String::from_utf8_lossy(v.as_bytes()).contains(SECRET));
        }
    }
}

#[tokio::test]
async fn objects_round_trip_signed_by_the_host() {
    let (server, inbox) = s3().await;
    let s3 = provider(&server).await;

    let put = run(
        &s3,
        "put-object",
        json!({"bucket": "reports", "key": "2026/12/day one+résumé.txt", "body": "hello, S3",
               "content_type": "text/plain; charset=utf-8", "metadata": {"Author": "ada"}}),
    )
    .await;
    assert_eq!(output(&put)["size"], 9);
    assert_eq!(output(&put)["etag"], "\"fba9dede5f27731c9771645a39863328\"");
    let sent = inbox.only();
    assert_eq!(sent.method, "PUT");
    // One encoding, AWS's: the space, `+` and the UTF-8 bytes percent-encoded.
    assert_eq!(
        sent.uri,
        "/reports/2026/12/day%20one%2Br%C3%A9sum%C3%A9.txt"
    );
    assert_eq!(sent.header("x-amz-meta-author"), Some("ada"));
    assert!(sent.header("authorization").unwrap().contains(
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-author,"
    ));

    let got = run(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "2026/12/day one+résumé.txt"}),
    )
    .await;
    let got = output(&got);
    assert_eq!(got["encoding"], "text");
    assert_eq!(got["body"], "hello, S3");
    assert_eq!(got["metadata"], json!({"author": "ada"}));
    assert_eq!(got["content_type"], "text/plain; charset=utf-8");

    // Binary in, binary out.
    let png = [0x89u8, b'P', b'N', b'G', 0, 0xff, 0xfe];
    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
    output(&run(&s3, "put-object", json!({"bucket": "reports", "key": "logo.png", "body_base64": b64, "content_type": "image/png"})).await);
    let got = run(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "logo.png"}),
    )
    .await;
    assert_eq!(output(&got)["encoding"], "base64");
    assert_eq!(output(&got)["body"], b64);
    let capped = run(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "logo.png", "max_bytes": 4}),
    )
    .await;
    assert_eq!(failure(&capped).kind, ErrorKind::InvalidInput);
    assert!(
        failure(&capped).message.contains("over max_bytes 4"),
        "{}",
        failure(&capped).message
    );

    let head = run(
        &s3,
        "head-object",
        json!({"bucket": "reports", "key": "logo.png"}),
    )
    .await;
    assert_eq!(output(&head)["exists"], true);
    assert_eq!(output(&head)["size"], 7);
    let head = run(
        &s3,
        "head-object",
        json!({"bucket": "reports", "key": "nope"}),
    )
    .await;
    assert_eq!(output(&head)["exists"], false);

    output(
        &run(
            &s3,
            "delete-object",
            json!({"bucket": "reports", "key": "logo.png"}),
        )
        .await,
    );
    let gone = run(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "logo.png"}),
    )
    .await;
    let f = failure(&gone);
    assert_eq!(f.kind, ErrorKind::InvalidInput);
    assert!(
        f.message
            .contains("NoSuchKey: The specified key does not exist."),
        "{}",
        f.message
    );
    no_secret_sent(&inbox);
}

#[tokio::test]
async fn list_objects_pages_with_the_continuation_token() {
    let (server, inbox) = s3().await;
    let s3 = provider(&server).await;
    for key in ["in/a.csv", "in/b&c.csv", "in/d.csv", "out/x.csv"] {
        output(
            &run(
                &s3,
                "put-object",
                json!({"bucket": "data", "key": key, "body": key}),
            )
            .await,
        );
    }
    let first = run(
        &s3,
        "list-objects",
        json!({"bucket": "data", "prefix": "in/", "max_keys": 2}),
    )
    .await;
    let first = output(&first);
    let keys: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["in/a.csv", "in/b&c.csv"]);
    assert_eq!(first["is_truncated"], true);
    assert_eq!(first["items"][0]["size"], 8);
    let token = first["next_continuation_token"].as_str().unwrap();
    // The token has `/`, `+` or `=` in it: it must reach S3 unchanged.
    let second = run(
        &s3,
        "list-objects",
        json!({"bucket": "data", "prefix": "in/", "max_keys": 2, "continuation_token": token}),
    )
    .await;
    let second = output(&second);
    assert_eq!(second["items"][0]["key"], "in/d.csv");
    assert_eq!(second["is_truncated"], false);
    assert_eq!(second["next_continuation_token"], Value::Null);
    let last = inbox.all().pop().unwrap();
    assert!(
        last.uri.starts_with("/data?continuation-token="),
        "{}",
        last.uri
    );
    let bad = run(
        &s3,
        "list-objects",
        json!({"bucket": "data", "max_keys": 5000}),
    )
    .await;
    assert_eq!(failure(&bad).kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn virtual_hosted_style_signs_the_buckets_host() {
    let (server, inbox) = s3().await;
    let s3 = provider(&server).await;
    let put = run_as(
        &s3,
        "put-object",
        json!({"bucket": "photos", "key": "cat.txt", "body": "meow"}),
        SECRET,
        false,
    )
    .await;
    output(&put);
    let sent = inbox.only();
    assert_eq!(sent.uri, "/cat.txt");
    assert_eq!(
        sent.header("host"),
        Some(format!("photos.s3.test:{}", server.port()).as_str())
    );
}

#[tokio::test]
async fn errors_are_classified_from_s3s_error_body() {
    let (server, _inbox) = s3().await;
    let s3 = provider(&server).await;
    let get = |bucket: &'static str| {
        let s3 = &s3;
        async move { run(s3, "get-object", json!({"bucket": bucket, "key": "k"})).await }
    };
    let denied = get("locked").await;
    assert_eq!(failure(&denied).kind, ErrorKind::Auth);
    assert!(
        failure(&denied)
            .message
            .contains("AccessDenied: Access Denied"),
        "{}",
        failure(&denied).message
    );
    let slow = get("busy").await;
    assert_eq!(failure(&slow).kind, ErrorKind::RateLimited);
    assert!(failure(&slow).message.contains("SlowDown"));
    let broken = get("broken").await;
    assert_eq!(failure(&broken).kind, ErrorKind::Transient);

    // A wrong secret: the stand-in's own check refuses the signature.
    let wrong = run_as(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "k"}),
        "not-the-secret",
        true,
    )
    .await;
    let f = failure(&wrong);
    assert_eq!(f.kind, ErrorKind::Auth);
    assert!(f.message.contains("SignatureDoesNotMatch"), "{}", f.message);

    let bad = run(
        &s3,
        "get-object",
        json!({"bucket": "Not_A_Bucket", "key": "k"}),
    )
    .await;
    assert!(failure(&bad).message.contains("input.bucket"));
    let dots = run(
        &s3,
        "get-object",
        json!({"bucket": "reports", "key": "a/../b"}),
    )
    .await;
    assert!(failure(&dots).message.contains("input.key"));
}

/// A redirect to a host the credential is not bound to gets no signature:
/// no `Authorization`, no `x-amz-*` of the host's.
#[tokio::test]
async fn a_redirect_to_another_host_carries_no_signature() {
    let (elsewhere, seen) =
        StandIn::scripted(|_| (StatusCode::OK, "moved here").into_response()).await;
    let target = format!("http://elsewhere.test:{}/reports/k", elsewhere.port());
    let (server, inbox) = StandIn::scripted(move |req| {
        if let Err(why) = verify(req) {
            panic!("the first hop is signed: {why}");
        }
        (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", target.clone())],
        )
            .into_response()
    })
    .await;
    let sandbox = TestSandbox::new()
        .resolve(HOST, "127.0.0.1")
        .resolve("elsewhere.test", "127.0.0.1")
        .build();
    let plugin = sandbox.plugin("weft_plugin_s3").await;
    let s3 = Provider {
        sandbox,
        plugin,
        host: HOST.into(),
        port: server.port(),
    };
    let out = s3
        .invoke(
            "get-object",
            json!({"bucket": "reports", "key": "k", "as": "text"}),
            json!({"endpoint": s3.url("")}),
            weft_sandbox::Grants {
                credentials: vec![sigv4(SECRET)],
                ..hosts(&[HOST, "elsewhere.test"])
            },
        )
        .await;
    assert_eq!(output(&out)["body"], "moved here");
    assert_eq!(inbox.len(), 1);
    let hop = seen.only();
    assert_eq!(hop.header("authorization"), None);
    assert!(
        hop.headers
            .keys()
            .all(|k| !k.as_str().starts_with("x-amz-")),
        "{:?}",
        hop.headers
    );
}

/// The `http` connector with an `aws_sigv4` credential: the plugin's own
/// `Authorization` and `x-amz-date` do not survive; the host's signature
/// alone is sent, and valid.
#[tokio::test]
async fn a_plugins_own_authorization_and_amz_headers_are_replaced() {
    let (server, inbox) = StandIn::scripted(|req| match verify(req) {
        Ok(()) => (StatusCode::OK, "signed").into_response(),
        Err(why) => (StatusCode::FORBIDDEN, why).into_response(),
    })
    .await;
    let sandbox = TestSandbox::new().resolve(HOST, "127.0.0.1").build();
    let plugin = sandbox.plugin("weft_plugin_http").await;
    let mut c = sigv4(SECRET);
    c.slot = "auth".into();
    let out = sandbox
        .invoke(
            &plugin,
            weft_sandbox::Invocation {
                grants: weft_sandbox::Grants {
                    credentials: vec![c],
                    ..hosts(&[HOST])
                },
                ..weft_sandbox::Invocation::new(
                    "request",
                    json!({
                        "method": "PUT",
                        "url": format!("http://{HOST}:{}/b/k?x-id=PutObject", server.port()),
                        "headers": {
                            "authorization": "AWS4-HMAC-SHA256 Credential=forged",
                            "x-amz-date": "20990101T000000Z",
                            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                            "x-amz-security-token": "forged",
                            "x-amz-acl": "private"
                        },
                        "text": "payload",
                        "credential": true
                    })
                    .to_string(),
                )
            },
        )
        .await;
    assert_eq!(output(&out)["status"], 200, "{:?}", output(&out));
    let sent = inbox.only();
    assert_eq!(sent.headers.get_all("authorization").iter().count(), 1);
    assert!(!sent.header("authorization").unwrap().contains("forged"));
    assert_ne!(sent.header("x-amz-date"), Some("20990101T000000Z"));
    assert_eq!(sent.header("x-amz-security-token"), None);
    assert!(sent.header("authorization").unwrap().contains("x-amz-acl"));
}
