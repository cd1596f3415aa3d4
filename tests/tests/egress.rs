//! The outbound network policy against a hostile plugin (TEST-PLAN N1–N6):
//! metadata endpoints, names resolving to non-public addresses, IP literal
//! tricks, redirects, response and request budgets, and headers that try to
//! steer the request. Loopback stand-ins play both the legitimate API and the
//! target an attacker wants to reach: every denial also checks that the
//! stand-in, reachable in principle, received nothing.
//!
//! Proxy environment variables (N6) are tested in `egress_proxy.rs`, alone in
//! its own process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::{io::Write, sync::Arc};
use weft_harness::{Harness, Reply};
use weft_sandbox::{Grants, Invocation, Outcome, Plugin, StepLimits};
use weft_tests::{
    Built, Inbox, StandIn, TestSandbox, assert_healthy, bearer, hosts, http_error, output, reason,
};

async fn hostile(sandbox: TestSandbox) -> (Built, Arc<Plugin>) {
    let sandbox = sandbox.build();
    let plugin = sandbox.plugin("fixture_hostile").await;
    (sandbox, plugin)
}

async fn get(sandbox: &Built, plugin: &Plugin, url: &str, grants: Grants) -> Outcome {
    sandbox
        .run(
            plugin,
            "http",
            json!({"url": url, "timeout_ms": 5000}),
            grants,
        )
        .await
}

fn everywhere() -> Grants {
    hosts(&["*"])
}

fn assert_denied(out: &Outcome, what: &str, because: &[&str]) {
    let (kind, detail) = http_error(out);
    assert_eq!(kind, "denied", "{what}: {detail}");
    for b in because {
        assert!(
            detail.contains(b),
            "{what}: the denial should say `{b}`: {detail}"
        );
    }
}

fn ok() -> Response {
    (StatusCode::OK, "fine").into_response()
}

async fn target() -> (StandIn, Inbox) {
    StandIn::scripted(|_| ok()).await
}

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [("location", location.to_owned())]).into_response()
}

// ---------------------------------------------------------------- allow-lists

#[tokio::test]
async fn ungranted_host_is_denied_before_anything_is_sent() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (api, inbox) = target().await;
    let out = get(&sandbox, &plugin, &api.url("/"), hosts(&["example.com"])).await;
    assert_denied(
        &out,
        "a host the tenant did not grant",
        &["not granted", &format!("127.0.0.1:{}", api.port())],
    );
    assert_eq!(out.usage.egress_requests, 0);
    assert!(inbox.is_empty());

    // The control: granted, the same request arrives.
    let out = get(&sandbox, &plugin, &api.url("/"), hosts(&["127.0.0.1"])).await;
    assert_eq!(output(&out)["status"], 200);
    assert_eq!(inbox.len(), 1);
}

#[tokio::test]
async fn undeclared_host_is_denied_even_when_the_tenant_grants_everything() {
    // The Slack connector declares only slack.com; pointing its base URL elsewhere
    // must not let it reach another host.
    let sandbox = TestSandbox::new().build();
    let slack = sandbox.plugin("weft_plugin_slack").await;
    let (api, inbox) = target().await;
    let grants = Grants {
        credentials: vec![bearer("bot-token", "xoxb-secret", &["*"])],
        ..everywhere()
    };
    let inv = Invocation {
        config: json!({"base_url": api.url("")}).to_string(),
        grants,
        ..Invocation::new(
            "post-message",
            json!({"channel": "C1", "text": "hi"}).to_string(),
        )
    };
    let out = sandbox.invoke(&slack, inv).await;
    let failure = out.result.as_ref().expect_err("the request must fail");
    assert!(
        failure.message.contains("did not declare host"),
        "{failure}"
    );
    assert!(
        inbox.is_empty(),
        "the undeclared host was contacted: {:?}",
        inbox.all()
    );
}

// ---------------------------------------------------------------- N1: metadata

#[tokio::test]
async fn n1_metadata_addresses_are_denied_before_connecting() {
    // Even with private ranges allowed (as for the stand-ins), metadata stays denied.
    for sandbox in [TestSandbox::new(), TestSandbox::new().public_only()] {
        let (sandbox, plugin) = hostile(sandbox).await;
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
        ] {
            let out = get(&sandbox, &plugin, url, everywhere()).await;
            assert_denied(&out, url, &["metadata"]);
            assert_eq!(out.usage.egress_requests, 0, "{url}: nothing may be sent");
        }
        assert_healthy(&sandbox).await;
    }
}

#[tokio::test]
async fn n1_metadata_name_is_denied_even_when_it_would_resolve_to_a_listening_server() {
    let (api, inbox) = target().await;
    let sandbox = TestSandbox::new().resolve("metadata.google.internal", "127.0.0.1");
    let (sandbox, plugin) = hostile(sandbox).await;
    let url = format!(
        "http://metadata.google.internal:{}/computeMetadata/v1/",
        api.port()
    );
    let out = get(&sandbox, &plugin, &url, everywhere()).await;
    assert_denied(&out, &url, &["metadata"]);
    assert!(
        inbox.is_empty(),
        "the stand-in playing the metadata server was contacted"
    );
}

#[tokio::test]
async fn n1_name_resolving_to_a_metadata_address_is_denied() {
    let sandbox = TestSandbox::new().resolve("innocent.test", "169.254.169.254");
    let (sandbox, plugin) = hostile(sandbox).await;
    let out = get(
        &sandbox,
        &plugin,
        "http://innocent.test/latest/meta-data/",
        everywhere(),
    )
    .await;
    assert_denied(
        &out,
        "innocent.test -> 169.254.169.254",
        &["169.254.169.254", "metadata"],
    );
}

// ---------------------------------------------------------------- N2: resolved addresses

#[tokio::test]
async fn n2_allowed_name_resolving_to_a_non_public_address_is_denied() {
    let (api, inbox) = target().await;
    for (ip, class) in [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("::1", "loopback"),
    ] {
        let sandbox = TestSandbox::new()
            .public_only()
            .resolve("api.partner.test", ip);
        let (sandbox, plugin) = hostile(sandbox).await;
        let url = format!("http://api.partner.test:{}/", api.port());
        let out = get(&sandbox, &plugin, &url, hosts(&["api.partner.test"])).await;
        assert_denied(&out, ip, &["resolves only to refused addresses", class]);
    }
    assert!(
        inbox.is_empty(),
        "a denied name was connected to: {:?}",
        inbox.all()
    );

    // The control: with private ranges allowed, the same name reaches the stand-in.
    let sandbox = TestSandbox::new().resolve("api.partner.test", "127.0.0.1");
    let (sandbox, plugin) = hostile(sandbox).await;
    let out = get(
        &sandbox,
        &plugin,
        &format!("http://api.partner.test:{}/", api.port()),
        hosts(&["api.partner.test"]),
    )
    .await;
    assert_eq!(output(&out)["status"], 200);
    assert_eq!(inbox.len(), 1);
}

#[tokio::test]
async fn n2_every_resolved_address_is_checked() {
    let (api, inbox) = target().await;
    let sandbox = TestSandbox::new()
        .public_only()
        .resolve("mixed.test", "127.0.0.1")
        .resolve("mixed.test", "10.9.8.7");
    let (sandbox, plugin) = hostile(sandbox).await;
    let url = format!("http://mixed.test:{}/", api.port());
    let out = get(&sandbox, &plugin, &url, hosts(&["mixed.test"])).await;
    assert_denied(
        &out,
        "mixed.test",
        &["127.0.0.1 is a loopback", "10.9.8.7 is a private"],
    );
    assert!(inbox.is_empty());
}

// That a name resolving to both a refused and an allowed address connects only to
// the allowed one is a unit test of the resolver (host/sandbox/src/egress/transport.rs):
// an end-to-end version would have to send traffic to a public address.

#[tokio::test]
async fn n2_ip_literal_spellings_of_loopback_are_denied() {
    let (api, inbox) = target().await;
    let port = api.port();
    let (sandbox, plugin) = hostile(TestSandbox::new().public_only()).await;
    for url in [
        format!("http://2130706433:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
    ] {
        let out = get(&sandbox, &plugin, &url, everywhere()).await;
        let (kind, detail) = http_error(&out);
        assert_eq!(kind, "denied", "{url}: {detail}");
        assert_eq!(out.usage.egress_requests, 0, "{url}");
    }
    assert!(
        inbox.is_empty(),
        "a loopback spelling got through: {:?}",
        inbox.all()
    );

    // The control: with private ranges allowed the decimal form does reach the stand-in.
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let out = get(
        &sandbox,
        &plugin,
        &format!("http://2130706433:{port}/"),
        everywhere(),
    )
    .await;
    assert_eq!(output(&out)["status"], 200);
    assert_eq!(inbox.len(), 1);
}

// ---------------------------------------------------------------- N4: redirects

#[tokio::test]
async fn n4_redirect_to_metadata_or_another_scheme_is_denied() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    for (location, because) in [
        ("http://169.254.169.254/latest/meta-data/iam/", "metadata"),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "metadata",
        ),
        ("ftp://127.0.0.1/etc/passwd", "scheme `ftp`"),
        ("file:///etc/passwd", "scheme `file`"),
        ("gopher://127.0.0.1:6379/_INFO", "scheme `gopher`"),
    ] {
        let (api, inbox) = StandIn::scripted(move |_| redirect(location)).await;
        let out = get(&sandbox, &plugin, &api.url("/start"), everywhere()).await;
        assert_denied(&out, location, &[because]);
        assert_eq!(inbox.len(), 1, "only the first hop is sent");
        assert_eq!(out.usage.egress_requests, 1, "{location}");
    }
}

#[tokio::test]
async fn n4_redirect_target_must_be_granted_too() {
    let (api, inbox) = StandIn::scripted(|_| redirect("http://10.1.2.3/admin")).await;
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    // Only the stand-in's host is granted, not the redirect's target.
    let out = get(&sandbox, &plugin, &api.url("/"), hosts(&["127.0.0.1"])).await;
    assert_denied(&out, "redirect to 10.1.2.3", &["not granted", "10.1.2.3"]);
    assert_eq!(inbox.len(), 1);
}

#[test]
fn n4_redirect_to_a_non_public_address_is_denied_under_the_production_policy() {
    // A loopback stand-in cannot be the first hop under the production policy, so
    // the first hop here is a scripted public API (the weft-harness transport; the
    // policy still runs before it) that redirects inwards.
    let path = weft_tests::wasm_dir().join("fixture_hostile.wasm");
    for location in [
        "http://127.0.0.1:8080/",
        "http://10.0.0.5/admin",
        "http://[::1]/",
        "http://[::ffff:192.168.1.1]/",
        "http://2130706433/",
        "http://169.254.169.254/latest/meta-data/",
    ] {
        let h = Harness::load_with(&path, weft_sandbox::Options::default())
            .unwrap()
            .reply(
                "GET",
                "https://api.partner.example/start",
                Reply::text(302, "").header("location", location),
            );
        let out = h.run("http", json!({"url": "https://api.partner.example/start"}));
        assert_denied(&out, location, &[]);
        assert_eq!(
            h.requests().len(),
            1,
            "{location}: only the first hop may be sent"
        );
    }
}

#[tokio::test]
async fn n4_redirect_chain_is_bounded() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    // Every hop redirects to the next one, forever.
    let (api, inbox) = StandIn::scripted(|req| {
        let n: u32 = req.uri.trim_start_matches("/hop/").parse().unwrap_or(0);
        redirect(&format!("/hop/{}", n + 1))
    })
    .await;
    let limits = StepLimits {
        redirects: 3,
        ..StepLimits::default()
    };
    let inv = Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new("http", json!({"url": api.url("/hop/0")}).to_string())
    };
    let out = sandbox.invoke(&plugin, inv).await;
    assert_eq!(http_error(&out), ("too-many-redirects".into(), "3".into()));
    let uris: Vec<String> = inbox.all().into_iter().map(|r| r.uri).collect();
    assert_eq!(uris, ["/hop/0", "/hop/1", "/hop/2", "/hop/3"]);

    // Each hop counts against the step's request budget too.
    let limits = StepLimits {
        redirects: 10,
        requests_per_step: 4,
        ..StepLimits::default()
    };
    let inv = Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new("http", json!({"url": api.url("/hop/0")}).to_string())
    };
    let out = sandbox.invoke(&plugin, inv).await;
    assert_eq!(reason(&out), "egress_limit", "{:?}", out.result);
    assert_eq!(out.usage.egress_requests, 4);
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn n4_credential_and_auth_headers_do_not_follow_a_redirect_to_another_host() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (elsewhere, elsewhere_inbox) = target().await;
    let next = elsewhere.url("/collect");
    let (api, api_inbox) = StandIn::scripted(move |req| match req.uri.as_str() {
        "/same" => redirect("/final"),
        "/final" => ok(),
        _ => redirect(&next),
    })
    .await;
    let bound = format!("127.0.0.1:{}", api.port());
    let grants = Grants {
        credentials: vec![bearer("token", "s3cr3t-bearer", &[&bound])],
        ..hosts(&["127.0.0.1"])
    };

    // Cross-origin (another port): the injected credential, and the plugin's own
    // authorization and cookie headers, stay behind.
    let input = json!({
        "url": api.url("/away"),
        "credential": "token",
        "headers": {"cookie": "session=abc", "x-plain": "kept"},
    });
    let out = sandbox.run(&plugin, "http", input, grants.clone()).await;
    assert_eq!(output(&out)["status"], 200);
    assert_eq!(
        api_inbox.only().header("authorization"),
        Some("Bearer s3cr3t-bearer")
    );
    let arrived = elsewhere_inbox.only();
    assert_eq!(
        arrived.header("authorization"),
        None,
        "the credential followed the redirect"
    );
    assert_eq!(
        arrived.header("cookie"),
        None,
        "the cookie followed the redirect"
    );
    assert_eq!(arrived.header("x-plain"), Some("kept"));

    // Same origin: the credential is still injected on the next hop.
    let input = json!({"url": api.url("/same"), "credential": "token"});
    let out = sandbox.run(&plugin, "http", input, grants).await;
    assert_eq!(output(&out)["status"], 200);
    let hops = api_inbox.all();
    assert_eq!(hops.len(), 3);
    assert_eq!(hops[2].uri, "/final");
    assert_eq!(
        hops[2].header("authorization"),
        Some("Bearer s3cr3t-bearer")
    );
}

// ---------------------------------------------------------------- N5: budgets

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn n5_response_over_the_limit_fails_response_too_large() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (api, _inbox) = StandIn::scripted(|req| {
        let len = if req.uri == "/big" {
            2 << 20
        } else {
            512 << 10
        };
        (StatusCode::OK, vec![b'z'; len]).into_response()
    })
    .await;
    let limits = StepLimits {
        response_bytes: 1 << 20,
        ..StepLimits::default()
    };
    let run = |path: &str| Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new("http", json!({"url": api.url(path)}).to_string())
    };
    let out = sandbox.invoke(&plugin, run("/big")).await;
    assert_eq!(reason(&out), "response_too_large", "{:?}", out.result);
    let out = sandbox.invoke(&plugin, run("/small")).await;
    assert_eq!(output(&out)["body_len"], 512 << 10);
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn n5_response_limit_applies_after_decompression() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let bomb = gzip(&vec![0u8; 8 << 20]);
    let small = gzip(&vec![b'a'; 100 << 10]);
    assert!(
        bomb.len() < 64 << 10,
        "the compressed bomb is small on the wire: {}",
        bomb.len()
    );
    let (api, inbox) = StandIn::scripted(move |req| {
        let body = if req.uri == "/bomb" {
            bomb.clone()
        } else {
            small.clone()
        };
        (StatusCode::OK, [("content-encoding", "gzip")], body).into_response()
    })
    .await;
    let limits = StepLimits {
        response_bytes: 1 << 20,
        ..StepLimits::default()
    };
    let run = |path: &str| Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new("http", json!({"url": api.url(path)}).to_string())
    };
    let out = sandbox.invoke(&plugin, run("/bomb")).await;
    assert_eq!(reason(&out), "response_too_large", "{:?}", out.result);
    // The control: a small gzip body arrives decompressed.
    let out = sandbox.invoke(&plugin, run("/small")).await;
    assert_eq!(output(&out)["body_len"], 100 << 10);
    assert!(inbox.all().iter().all(|r| {
        r.header("accept-encoding")
            .is_some_and(|v| v.contains("gzip"))
    }));
}

#[tokio::test]
async fn n5_requests_per_step_are_capped() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (api, inbox) = target().await;
    let many = |count: u32, limits: StepLimits| Invocation {
        grants: hosts(&["127.0.0.1"]),
        limits,
        ..Invocation::new(
            "http-many",
            json!({"url": api.url("/"), "count": count}).to_string(),
        )
    };
    let five = StepLimits {
        requests_per_step: 5,
        ..StepLimits::default()
    };
    let out = sandbox.invoke(&plugin, many(5, five)).await;
    assert_eq!(output(&out)["succeeded"], 5);
    let out = sandbox.invoke(&plugin, many(6, five)).await;
    assert_eq!(reason(&out), "egress_limit", "{:?}", out.result);
    assert_eq!(
        inbox.len(),
        10,
        "the sixth request of the second step was not sent"
    );

    let default_cap = StepLimits::default().requests_per_step;
    let out = sandbox
        .invoke(&plugin, many(default_cap + 8, StepLimits::default()))
        .await;
    assert_eq!(reason(&out), "egress_limit", "{:?}", out.result);
    assert_eq!(inbox.len(), 10 + default_cap as usize);
    assert_healthy(&sandbox).await;
}

// ---------------------------------------------------------------- N6: headers do not steer

#[tokio::test]
async fn n6_host_and_forwarding_headers_do_not_change_the_destination() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (api, inbox) = target().await;
    let (other, other_inbox) = target().await;
    let input = json!({
        "url": api.url("/x"),
        "headers": [
            ["Host", format!("127.0.0.1:{}", other.port())],
            ["X-Forwarded-Host", "169.254.169.254"],
            ["Forwarded", "host=169.254.169.254"],
            ["X-Forwarded-For", "10.0.0.1"],
        ],
    });
    let out = sandbox
        .run(&plugin, "http", input, hosts(&["127.0.0.1"]))
        .await;
    assert_eq!(output(&out)["status"], 200);
    let arrived = inbox.only();
    assert_eq!(
        arrived.header("host"),
        Some(format!("127.0.0.1:{}", api.port()).as_str())
    );
    for h in ["x-forwarded-host", "forwarded", "x-forwarded-for"] {
        assert_eq!(arrived.header(h), None, "{h} was passed through");
    }
    assert!(other_inbox.is_empty());
}

#[tokio::test]
async fn n6_header_injection_is_refused_before_sending() {
    let (sandbox, plugin) = hostile(TestSandbox::new()).await;
    let (api, inbox) = target().await;
    for (name, value) in [
        ("x-note", "a\r\nHost: 169.254.169.254"),
        ("x-note", "a\nX-Smuggled: 1"),
        ("x-bad header", "a"),
        ("x-note\r\nx-smuggled", "a"),
    ] {
        let input = json!({"url": api.url("/"), "headers": [[name, value]]});
        let out = sandbox
            .run(&plugin, "http", input, hosts(&["127.0.0.1"]))
            .await;
        let (kind, detail) = http_error(&out);
        assert_eq!(kind, "invalid-request", "{name:?}: {value:?}: {detail}");
    }
    assert!(
        inbox.is_empty(),
        "a malformed request was sent: {:?}",
        inbox.all()
    );
}

#[tokio::test]
async fn n2_localhost_by_name_is_denied_under_the_production_policy() {
    let (api, inbox) = target().await;
    let (sandbox, plugin) = hostile(TestSandbox::new().public_only()).await;
    let url = format!("http://localhost:{}/", api.port());
    let out = get(&sandbox, &plugin, &url, hosts(&["localhost"])).await;
    assert_denied(
        &out,
        "localhost",
        &["resolves only to refused addresses", "loopback"],
    );
    assert!(inbox.is_empty());
}

#[tokio::test]
async fn credentials_are_only_sent_over_https_in_production() {
    // Refused before anything is resolved or sent: no traffic leaves the machine.
    let (sandbox, plugin) = hostile(TestSandbox::new().public_only()).await;
    let grants = Grants {
        credentials: vec![bearer("token", "s3cret-over-http", &["api.example.test"])],
        ..hosts(&["api.example.test"])
    };
    let out = sandbox
        .run(
            &plugin,
            "http",
            json!({"url": "http://api.example.test/v1", "credential": "token"}),
            grants,
        )
        .await;
    let (kind, detail) = http_error(&out);
    assert_eq!(kind, "credential-not-bound");
    assert!(detail.contains("only sent over https"), "{detail}");
    assert_eq!(out.usage.egress_requests, 0);
}
