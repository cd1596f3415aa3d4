//! K3: a bound host that reflects the injected secret back, in an encoding the
//! host does not decode or in an escaped form, does not hand it to the plugin;
//! and a plugin that got hold of an encoded secret cannot put it in its
//! output, logs or error. Played with the hostile fixture against loopback
//! stand-ins that echo the `Authorization` header.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::io::Write as _;
use std::sync::Arc;
use weft_sandbox::{Credential, Grants, Invocation, Outcome, Plugin};
use weft_tests::{
    Built, Received, StandIn, TestSandbox, bearer, hosts, http_error, output, reason,
};

/// Has `+`, `/` and `=` (base64 and URL specials) and a quote and backslash (JSON).
const SECRET: &str = "sk/Live+4f9c\"2b\\7e=1d0a";

async fn hostile() -> (Built, Arc<Plugin>) {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("fixture_hostile").await;
    (sandbox, plugin)
}

fn with_credential(credential: Credential) -> Grants {
    Grants {
        credentials: vec![credential],
        ..hosts(&["127.0.0.1"])
    }
}

/// What the stand-in received in `Authorization` after `Bearer `.
fn injected(req: &Received) -> String {
    req.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned()
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &x)| n | (u32::from(x) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(A[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// Every form the stand-ins reflect; none may reach the plugin.
fn forms(secret: &str) -> Vec<(&'static str, String)> {
    let json_escaped = serde_json::to_string(secret).unwrap();
    let json_escaped = json_escaped[1..json_escaped.len() - 1].to_owned();
    let all_u: String = secret
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let lower_pct: String = secret.bytes().map(|b| format!("%{b:02x}")).collect();
    let form = form_encoded(secret);
    vec![
        ("json", json_escaped),
        (
            "json-slash",
            serde_json::to_string(secret).unwrap().replace('/', "\\/"),
        ),
        ("json-u", all_u),
        ("percent-lower", lower_pct),
        ("form", form),
        ("base64-0", base64(secret.as_bytes())),
        ("base64-1", base64(format!("x{secret}").as_bytes())),
        ("base64-2", base64(format!("xy{secret}").as_bytes())),
        (
            "base64-mid",
            base64(format!("token={secret};exp=1").as_bytes()),
        ),
        (
            "base64url",
            base64(format!("a{secret}bc").as_bytes())
                .replace('+', "-")
                .replace('/', "_"),
        ),
        ("hex", hex_of(secret)),
        (
            "hex-mixed",
            hex_of(secret)
                .char_indices()
                .map(|(i, c)| if i % 4 < 2 { c.to_ascii_uppercase() } else { c })
                .collect(),
        ),
        (
            "base64-wrapped-json",
            wrapped(&base64(secret.as_bytes()), "\\n"),
        ),
        (
            "base64-wrapped-pct",
            wrapped(&base64(secret.as_bytes()), "%0A"),
        ),
        (
            "html",
            secret.chars().map(|c| format!("&#{};", c as u32)).collect(),
        ),
    ]
}

/// `s` as a form-urlencoded value (`+` for a space, `%XX` upper case).
fn form_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `s` cut every 8 characters with `brk` between the pieces.
fn wrapped(s: &str, brk: &str) -> String {
    s.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(brk)
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Fails if any form of the secret is anywhere in the outcome.
fn assert_no_secret(out: &Outcome) {
    let all = serde_json::to_string(out).unwrap();
    for (name, form) in forms(SECRET) {
        assert!(
            !all.contains(&form),
            "the secret leaked as {name} `{form}`: {all}"
        );
    }
    assert!(!all.contains("sk/Live"), "{all}");
}

fn call(url: &str, headers: Value) -> Value {
    json!({"url": url, "credential": "token", "headers": headers})
}

#[tokio::test]
async fn k3_a_reflection_in_an_encoding_the_host_does_not_decode_is_refused() {
    let (sandbox, plugin) = hostile().await;
    for encoding in ["deflate", "br", "zstd", "gzip, deflate", "x-custom"] {
        // The bound API answers with the injected header, compressed with
        // zlib whatever it claims (reqwest decodes gzip only).
        let (api, inbox) = StandIn::scripted(move |req| {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(format!("you sent {}", injected(req)).as_bytes())
                .unwrap();
            ([("content-encoding", encoding)], z.finish().unwrap()).into_response()
        })
        .await;
        let bound = format!("127.0.0.1:{}", api.port());
        let out = sandbox
            .run(
                &plugin,
                "http",
                call(
                    &api.url("/echo"),
                    json!({"accept-encoding": "deflate, br, zstd"}),
                ),
                with_credential(bearer("token", SECRET, &[&bound])),
            )
            .await;
        let sent = inbox.only();
        assert_eq!(injected(&sent), SECRET, "injected on the wire");
        assert_eq!(
            sent.header("accept-encoding"),
            Some("identity"),
            "the body is asked for as it is"
        );
        let (kind, detail) = http_error(&out);
        assert_eq!(kind, "denied", "{encoding}: {detail}");
        assert!(detail.contains("undecodable_encoding"), "{detail}");
        assert!(detail.contains(encoding), "{detail}");
        assert_no_secret(&out);
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

#[tokio::test]
async fn k3_l4_encodings_stacked_on_separate_header_lines_are_refused() {
    // L4: a client that decodes looks at one value, undoes gzip once and
    // removes every `Content-Encoding` line: the plugin got the inner layer,
    // still compressed, with nothing saying so, and could undo it itself.
    let (sandbox, plugin) = hostile().await;
    type Stack = (&'static [&'static str], fn(&[u8]) -> Vec<u8>);
    let stacks: [Stack; 3] = [
        (&["gzip", "gzip"], |b| gzip(&gzip(b))),
        (&["deflate", "gzip"], |b| gzip(&zlib(b))),
        (&["gzip"], gzip),
    ];
    for (lines, encode) in stacks {
        let (api, inbox) = StandIn::scripted(move |req| {
            let body = encode(format!("you sent {}", injected(req)).as_bytes());
            let mut resp = body.into_response();
            for line in lines {
                resp.headers_mut()
                    .append("content-encoding", line.parse().unwrap());
            }
            resp
        })
        .await;
        let bound = format!("127.0.0.1:{}", api.port());
        let out = sandbox
            .run(
                &plugin,
                "http",
                call(&api.url("/"), json!({"accept-encoding": "gzip"})),
                with_credential(bearer("token", SECRET, &[&bound])),
            )
            .await;
        let sent = inbox.only();
        assert_eq!(injected(&sent), SECRET);
        let (kind, detail) = http_error(&out);
        assert_eq!(kind, "denied", "{lines:?}: {detail}");
        assert!(detail.contains("undecodable_encoding"), "{detail}");
        assert!(detail.contains(lines[0]), "{detail}");
        assert_no_secret(&out);
        assert_eq!(sent.header("accept-encoding"), Some("identity"));
    }
}

#[tokio::test]
async fn k3_identity_is_scrubbed_and_a_step_without_credentials_still_decodes_gzip() {
    let (sandbox, plugin) = hostile().await;
    let (api, _inbox) = StandIn::scripted(|req| {
        (
            [("content-encoding", "identity")],
            format!("you sent {}", injected(req)),
        )
            .into_response()
    })
    .await;
    let bound = format!("127.0.0.1:{}", api.port());
    let grants = with_credential(bearer("token", SECRET, &[&bound]));
    let out = sandbox
        .run(&plugin, "http", call(&api.url("/"), json!({})), grants)
        .await;
    assert_eq!(output(&out)["body"], "you sent [REDACTED]");
    assert_no_secret(&out);
    // A step without a credential is not restricted, and gzip is decoded.
    let (plain, _) =
        StandIn::scripted(|_| ([("content-encoding", "gzip")], gzip(b"hello")).into_response())
            .await;
    let out = sandbox
        .run(
            &plugin,
            "http",
            json!({"url": plain.url("/")}),
            hosts(&["127.0.0.1"]),
        )
        .await;
    assert_eq!(output(&out)["body"], "hello", "{:?}", output(&out));
    let (br, _) = StandIn::scripted(|_| {
        (
            [("content-encoding", "br")],
            b"\x0b\x02\x80hello\x03".to_vec(),
        )
            .into_response()
    })
    .await;
    let out = sandbox
        .run(
            &plugin,
            "http",
            json!({"url": br.url("/")}),
            hosts(&["127.0.0.1"]),
        )
        .await;
    assert_eq!(output(&out)["status"], 200, "{:?}", output(&out));
}

#[tokio::test]
async fn k3_escaped_percent_encoded_and_base64_reflections_are_scrubbed() {
    let (sandbox, plugin) = hostile().await;
    // The bound API reflects the header in every form, in the body (one form a
    // line, labelled) and in response headers.
    let (api, _inbox) = StandIn::scripted(|req| {
        let secret = injected(req);
        let body: String = forms(&secret)
            .iter()
            .map(|(name, form)| format!("{name}: {form}\n"))
            .collect();
        let b64 = base64(format!("Bearer {secret}").as_bytes());
        let pct = form_encoded(&secret);
        (
            [("x-echo-b64", b64), ("x-echo-pct", pct)],
            format!(
                "{{\"echo\": {}}}\n{body}",
                serde_json::to_string(&secret).unwrap()
            ),
        )
            .into_response()
    })
    .await;
    let bound = format!("127.0.0.1:{}", api.port());
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/"), json!({})),
            with_credential(bearer("token", SECRET, &[&bound])),
        )
        .await;
    let got = output(&out);
    let body = got["body"].as_str().unwrap();
    for (name, _) in forms(SECRET) {
        let line = body
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} line in {body}"));
        assert!(line.contains("[REDACTED]"), "{name}: {line}");
    }
    assert!(body.starts_with("{\"echo\": \"[REDACTED]\"}"), "{body}");
    for h in ["x-echo-b64", "x-echo-pct"] {
        assert!(
            got["headers"][h].as_str().unwrap().contains("[REDACTED]"),
            "{h}: {}",
            got["headers"]
        );
    }
    assert_no_secret(&out);
}

#[tokio::test]
async fn k3_a_plugin_holding_an_encoded_secret_cannot_put_it_in_its_output_logs_or_error() {
    let (sandbox, plugin) = hostile().await;
    let grants = with_credential(bearer("token", SECRET, &["127.0.0.1"]));
    for (name, form) in forms(SECRET) {
        // As its error message.
        let input = json!({"kind": "permanent", "message": format!("token was {form}")});
        let out = sandbox.run(&plugin, "fail", input, grants.clone()).await;
        let message = &out.result.as_ref().unwrap_err().message;
        assert!(message.contains("[REDACTED]"), "{name}: {message}");
        assert_no_secret(&out);
        // In a panic: the trap message and the stderr log.
        let inv = Invocation {
            grants: grants.clone(),
            ..Invocation::new("panic", format!("leak {form}"))
        };
        let out = sandbox.invoke(&plugin, inv).await;
        assert_eq!(reason(&out), "trap");
        assert_no_secret(&out);
        // As its output.
        let trivial = sandbox.plugin("fixture_trivial").await;
        let out = sandbox
            .run(&trivial, "echo", json!({"stolen": form}), grants.clone())
            .await;
        let stolen = output(&out)["stolen"].as_str().unwrap().to_owned();
        assert!(stolen.contains("[REDACTED]"), "{name}: {stolen}");
        assert_no_secret(&out);
    }
}
