//! What a plugin can see (TEST-PLAN S8, S10, S11): no filesystem, no
//! environment, nothing left over from an earlier step, state only in its own
//! tenant's namespace, and credentials only as injected headers on the wire —
//! never in anything the plugin or the step's record gets back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;
use weft_sandbox::{
    Credential, Grants, Injection, Invocation, MemoryState, Namespace, Outcome, Plugin, Secret,
    StateGrant,
};
use weft_tests::{
    Built, Received, StandIn, TestSandbox, assert_healthy, bearer, hosts, http_error, output,
    reason,
};

/// Shaped like a base64 API key: `/`, `+` and `=` are percent-encoded in a URL.
const SECRET: &str = "sk/Live+4f9c2b7e=1d0a";

async fn hostile() -> (Built, Arc<Plugin>) {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("fixture_hostile").await;
    (sandbox, plugin)
}

/// The whole outcome (result, usage, logs) as JSON text, to search for secrets.
fn everything(out: &Outcome) -> String {
    serde_json::to_string(out).unwrap()
}

/// `s` as a form-urlencoded query value (how a `Query` credential goes on the wire).
fn percent_encoded(s: &str) -> String {
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

/// Fails if the secret, raw or percent-encoded, is anywhere in the outcome.
fn assert_no_secret(out: &Outcome) {
    let all = everything(out);
    for form in [SECRET.to_owned(), percent_encoded(SECRET)] {
        assert!(
            !all.contains(&form),
            "the secret leaked into the outcome as `{form}`: {all}"
        );
    }
}

// ---------------------------------------------------------------- S8

#[tokio::test]
async fn s8_the_filesystem_is_unreachable() {
    let (sandbox, plugin) = hostile().await;
    // Paths that all exist for the host process.
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    for path in [
        "/etc/passwd",
        "/proc/self/environ",
        manifest,
        env!("CARGO_MANIFEST_DIR"),
    ] {
        assert!(std::path::Path::new(path).exists(), "{path}");
        let out = sandbox
            .run(
                &plugin,
                "read-file",
                json!({"path": path}),
                Grants::default(),
            )
            .await;
        let got = output(&out);
        for op in ["read", "readdir", "write"] {
            let said = got[op].as_str().unwrap();
            assert!(
                said.starts_with("error:"),
                "{op} of {path} should fail, got {said}"
            );
        }
    }
}

#[tokio::test]
async fn s8_environment_and_arguments_are_empty() {
    // The host process has an environment; none of it may reach the plugin.
    assert!(std::env::var_os("PATH").is_some() || std::env::var_os("HOME").is_some());
    let (sandbox, plugin) = hostile().await;
    let out = sandbox
        .run(&plugin, "env", json!({}), Grants::default())
        .await;
    let got = output(&out);
    assert_eq!(got["vars"], json!({}));
    assert_eq!(got["args"], json!([]));
    assert_eq!(
        got["cwd"], "/",
        "wasi-libc's fallback: no preopened working directory"
    );
}

// ---------------------------------------------------------------- S10

#[tokio::test]
async fn s10_static_state_does_not_survive_between_steps() {
    let (sandbox, plugin) = hostile().await;
    let tenant_a = hosts(&["a.example"]);
    let tenant_b = hosts(&["b.example"]);
    for grants in [tenant_a.clone(), tenant_a, tenant_b] {
        let out = sandbox
            .run(&plugin, "static-counter", json!({}), grants)
            .await;
        assert_eq!(output(&out), &json!(1), "a fresh instance starts from zero");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_concurrent_steps_share_nothing() {
    let (sandbox, plugin) = hostile().await;
    let steps: Vec<_> = (0..16)
        .map(|_| {
            let sandbox = sandbox.clone();
            let plugin = plugin.clone();
            tokio::spawn(async move {
                sandbox
                    .run(&plugin, "static-counter", json!({}), Grants::default())
                    .await
            })
        })
        .collect();
    for step in steps {
        assert_eq!(output(&step.await.unwrap()), &json!(1));
    }
}

/// With pre-initialisation (a component that exports `init`): every step
/// starts from the snapshot taken after `init`, never from what an earlier
/// step left, and the snapshot holds nothing from any step.
#[tokio::test]
async fn s10_with_a_snapshot_each_step_starts_from_the_state_after_init() {
    let sandbox = TestSandbox::new().disk_cache().build();
    let plugin = sandbox.plugin("fixture_preinit").await;
    let fresh = json!({
        "init_runs": 1, "table_len": 1000, "left": [], "steps": 0,
        "table_sum": (0..1000u64).map(|i| i * i).sum::<u64>(),
    });
    let check = |seen: &Value, when: &str| {
        for (key, want) in fresh.as_object().unwrap() {
            assert_eq!(&seen[key], want, "{when}: {key} in {seen}");
        }
    };
    for round in 0..3 {
        // `leave` reports what it found, then changes every global.
        let out = sandbox
            .run(
                &plugin,
                "leave",
                json!({"secret": SECRET}),
                hosts(&["a.example"]),
            )
            .await;
        check(output(&out), &format!("leave, round {round}"));
        let out = sandbox
            .run(&plugin, "observe", json!({}), hosts(&["b.example"]))
            .await;
        check(output(&out), &format!("observe, round {round}"));
        assert!(!everything(&out).contains(SECRET));
    }
    // The snapshot on disk holds nothing from any step.
    let file = std::fs::read(sandbox.snapshot_artifact_path(&plugin.digest()).unwrap()).unwrap();
    assert!(
        !file.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "a step's input is in the snapshot"
    );
    // Concurrent steps as well.
    let steps: Vec<_> = (0..16)
        .map(|i| {
            let (sandbox, plugin) = (sandbox.clone(), plugin.clone());
            let action = if i % 2 == 0 { "leave" } else { "observe" };
            tokio::spawn(async move {
                sandbox
                    .run(&plugin, action, json!({"i": i}), Grants::default())
                    .await
            })
        })
        .collect();
    for step in steps {
        check(output(&step.await.unwrap()), "concurrent");
    }
}

fn state_grant(store: &Arc<MemoryState>, tenant: &str, plugin: &str) -> Grants {
    Grants {
        state: Some(StateGrant {
            store: store.clone(),
            namespace: Namespace {
                tenant: tenant.into(),
                plugin: plugin.into(),
            },
        }),
        ..Grants::default()
    }
}

async fn state(sandbox: &Built, plugin: &Plugin, grants: &Grants, op: Value) -> Value {
    output(&sandbox.run(plugin, "state", op, grants.clone()).await).clone()
}

#[tokio::test]
async fn s10_state_is_visible_only_within_its_tenants_namespace() {
    let (sandbox, plugin) = hostile().await;
    let store = Arc::new(MemoryState::default());
    let a = state_grant(&store, "tenant-a", "hostile");
    let a_again = state_grant(&store, "tenant-a", "hostile");
    let b = state_grant(&store, "tenant-b", "hostile");
    let a_other_plugin = state_grant(&store, "tenant-a", "other");

    let set = json!({"op": "set", "key": "cursor", "value": "a-value"});
    assert_eq!(state(&sandbox, &plugin, &a, set).await, json!({"ok": true}));
    let get = json!({"op": "get", "key": "cursor"});
    // Visible to a later step of the same tenant and plugin...
    assert_eq!(
        state(&sandbox, &plugin, &a_again, get.clone()).await,
        json!({"value": "a-value"})
    );
    // ...and to nobody else.
    assert_eq!(
        state(&sandbox, &plugin, &b, get.clone()).await,
        json!({"value": null})
    );
    assert_eq!(
        state(&sandbox, &plugin, &a_other_plugin, get.clone()).await,
        json!({"value": null})
    );

    // Tenant B writing the same key does not touch tenant A's value.
    let set_b = json!({"op": "set", "key": "cursor", "value": "b-value"});
    assert_eq!(
        state(&sandbox, &plugin, &b, set_b).await,
        json!({"ok": true})
    );
    let delete_b = json!({"op": "delete", "key": "cursor"});
    assert_eq!(
        state(&sandbox, &plugin, &b, delete_b.clone()).await,
        json!({"ok": true, "existed": true})
    );
    assert_eq!(
        state(&sandbox, &plugin, &b, delete_b).await,
        json!({"ok": true, "existed": false})
    );
    assert_eq!(
        state(&sandbox, &plugin, &a, get.clone()).await,
        json!({"value": "a-value"})
    );

    // Without a state grant there is no state at all.
    assert_eq!(
        state(&sandbox, &plugin, &Grants::default(), get).await,
        json!({"error": "not-granted"})
    );
}

// ---------------------------------------------------------------- S11

/// A stand-in that answers with the request's headers, in the body and in
/// `x-echo-authorization`, the way a careless or malicious API would.
async fn echo_headers() -> (StandIn, weft_tests::Inbox) {
    StandIn::scripted(|req: &Received| {
        let headers: serde_json::Map<String, Value> = req
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), json!(v.to_str().unwrap_or_default())))
            .collect();
        let auth = req.header("authorization").unwrap_or_default().to_owned();
        (
            [("x-echo-authorization", auth)],
            axum::Json(json!({"headers": headers, "uri": req.uri})),
        )
            .into_response()
    })
    .await
}

fn call(url: &str, credential: &str) -> Value {
    json!({"url": url, "credential": credential})
}

fn with_credential(credential: Credential) -> Grants {
    Grants {
        credentials: vec![credential],
        ..hosts(&["127.0.0.1"])
    }
}

#[tokio::test]
async fn s11_bound_credential_is_injected_but_never_seen_by_the_plugin() {
    let (sandbox, plugin) = hostile().await;
    let (api, inbox) = echo_headers().await;
    let bound = format!("127.0.0.1:{}", api.port());
    let grants = with_credential(bearer("token", SECRET, &[&bound]));

    let out = sandbox
        .run(&plugin, "http", call(&api.url("/me"), "token"), grants)
        .await;
    let got = output(&out);
    assert_eq!(got["status"], 200);
    // On the wire: the real secret.
    assert_eq!(
        inbox.only().header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    // Echoed back, in the body and in a header: scrubbed before the plugin sees it.
    assert_eq!(got["headers"]["x-echo-authorization"], "Bearer [REDACTED]");
    let body: Value = serde_json::from_str(got["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["headers"]["authorization"], "Bearer [REDACTED]");
    assert_no_secret(&out);
}

#[tokio::test]
async fn s11_basic_credential_is_scrubbed_in_its_encoded_form_too() {
    let (sandbox, plugin) = hostile().await;
    let (api, inbox) = echo_headers().await;
    let credential = Credential {
        slot: "token".into(),
        secret: Secret::new(SECRET),
        hosts: vec![format!("127.0.0.1:{}", api.port()).parse().unwrap()],
        inject: Injection::Basic {
            username: "bot".into(),
        },
    };
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/"), "token"),
            with_credential(credential),
        )
        .await;
    let sent = inbox.only();
    let sent = sent.header("authorization").unwrap();
    let token = sent.strip_prefix("Basic ").expect("basic auth on the wire");
    let got = output(&out);
    assert_eq!(got["headers"]["x-echo-authorization"], "Basic [REDACTED]");
    let all = everything(&out);
    assert!(!all.contains(token), "the encoded credential leaked: {all}");
    assert_no_secret(&out);
}

#[tokio::test]
async fn s11_credential_bound_to_another_host_is_not_sent() {
    let (sandbox, plugin) = hostile().await;
    let (api, inbox) = echo_headers().await;
    let grants = with_credential(bearer("token", SECRET, &["api.example.com"]));

    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/"), "token"),
            grants.clone(),
        )
        .await;
    let (kind, detail) = http_error(&out);
    assert_eq!(kind, "credential-not-bound");
    assert!(
        detail.contains(&format!("127.0.0.1:{}", api.port())),
        "{detail}"
    );
    assert!(inbox.is_empty(), "nothing may be sent: {:?}", inbox.all());

    // The same port on the right host but another port is another host, too.
    let other_port = bearer(
        "token",
        SECRET,
        &[&format!("127.0.0.1:{}", api.port().wrapping_add(1))],
    );
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/"), "token"),
            with_credential(other_port),
        )
        .await;
    assert_eq!(http_error(&out).0, "credential-not-bound");
    assert!(inbox.is_empty());
    assert_no_secret(&out);
}

#[tokio::test]
async fn s11_unknown_or_foreign_credentials_are_not_found() {
    let (sandbox, plugin) = hostile().await;
    let (api, inbox) = echo_headers().await;
    let tenant_a = with_credential(bearer("token", SECRET, &["127.0.0.1"]));

    // A slot the plugin did not declare, even when a tenant binds a secret to it.
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/"), "admin"),
            tenant_a.clone(),
        )
        .await;
    assert_eq!(
        http_error(&out),
        ("credential-not-found".into(), "admin".into())
    );
    let undeclared = Grants {
        credentials: vec![bearer("admin", SECRET, &["127.0.0.1"])],
        ..hosts(&["127.0.0.1"])
    };
    let out = sandbox
        .run(&plugin, "http", call(&api.url("/"), "admin"), undeclared)
        .await;
    assert_eq!(http_error(&out).0, "credential-not-found");

    // Tenant B's step asks for the slot tenant A bound: B's grants do not carry it.
    let tenant_b = hosts(&["127.0.0.1"]);
    let out = sandbox
        .run(&plugin, "http", call(&api.url("/"), "token"), tenant_b)
        .await;
    assert_eq!(
        http_error(&out),
        ("credential-not-found".into(), "token".into())
    );
    assert!(inbox.is_empty(), "nothing may be sent: {:?}", inbox.all());
    assert_no_secret(&out);
}

#[tokio::test]
async fn s11_secret_never_appears_in_logs_or_failure_messages() {
    let (sandbox, plugin) = hostile().await;
    let grants = with_credential(bearer("token", SECRET, &["127.0.0.1"]));

    // A plugin that got hold of the value (here: through its input) and panics with it.
    let inv = Invocation {
        grants: grants.clone(),
        ..Invocation::new("panic", format!("leak {SECRET}"))
    };
    let out = sandbox.invoke(&plugin, inv).await;
    assert_eq!(reason(&out), "trap");
    let message = &out.result.as_ref().unwrap_err().message;
    assert!(message.contains("boom: leak [REDACTED]"), "{message}");
    assert!(
        out.logs.iter().any(|r| r.message.contains("[REDACTED]")),
        "{:?}",
        out.logs
    );
    assert_no_secret(&out);

    // ...or returns it as its error message.
    let input = json!({"kind": "permanent", "message": format!("token was {SECRET}")});
    let out = sandbox.run(&plugin, "fail", input, grants.clone()).await;
    assert_eq!(
        out.result.as_ref().unwrap_err().message,
        "token was [REDACTED]"
    );
    assert_no_secret(&out);
    // Even where the message is cut to its 4096-byte limit, straddling the secret.
    let padded = format!("{}{SECRET}", "x".repeat(4090));
    let input = json!({"kind": "permanent", "message": padded});
    let out = sandbox.run(&plugin, "fail", input, grants.clone()).await;
    let message = &out.result.as_ref().unwrap_err().message;
    assert!(message.ends_with("[truncated]"), "{message}");
    assert!(
        !message.contains(&SECRET[..4]),
        "a piece of the secret survived the cut: {message}"
    );

    // ...or as its output.
    let trivial = sandbox.plugin("fixture_trivial").await;
    let out = sandbox
        .run(&trivial, "echo", json!({"stolen": SECRET}), grants)
        .await;
    assert_eq!(output(&out), &json!({"stolen": "[REDACTED]"}));
    assert_no_secret(&out);
    assert_healthy(&sandbox).await;
}

fn query_credential(param: &str) -> Credential {
    Credential {
        slot: "token".into(),
        secret: Secret::new(SECRET),
        hosts: vec!["127.0.0.1".parse().unwrap()],
        inject: Injection::Query {
            param: param.into(),
        },
    }
}

#[tokio::test]
async fn s11_query_credential_is_scrubbed_in_its_url_encoded_form() {
    let (sandbox, plugin) = hostile().await;
    // A server that echoes the request line back, as many error pages do.
    let (api, inbox) =
        StandIn::scripted(|req| format!("no such resource: {}", req.uri).into_response()).await;
    let grants = with_credential(query_credential("api_key"));
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/v1?page=2"), "token"),
            grants,
        )
        .await;
    let sent = inbox.only().uri;
    assert_eq!(
        sent,
        format!("/v1?page=2&api_key={}", percent_encoded(SECRET)),
        "on the wire"
    );
    assert_eq!(
        output(&out)["body"],
        "no such resource: /v1?page=2&api_key=[REDACTED]"
    );
    assert_no_secret(&out);
}

#[tokio::test]
async fn k2_a_query_credential_echoed_into_a_cross_origin_redirect_is_not_carried() {
    let (sandbox, plugin) = hostile().await;
    let (elsewhere, elsewhere_inbox) = StandIn::scripted(|_| "collected".into_response()).await;
    let next = elsewhere.url("/collect");
    // The bound API echoes its query string into a redirect to another origin.
    let (api, inbox) = StandIn::scripted(move |req| {
        let query = req.uri.split_once('?').map_or("", |(_, q)| q).to_owned();
        (
            axum::http::StatusCode::FOUND,
            [("location", format!("{next}?{query}"))],
        )
            .into_response()
    })
    .await;
    let mut credential = query_credential("api_key");
    credential.hosts = vec![format!("127.0.0.1:{}", api.port()).parse().unwrap()];
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&api.url("/v1"), "token"),
            with_credential(credential),
        )
        .await;
    assert_eq!(
        inbox.only().uri,
        format!("/v1?api_key={}", percent_encoded(SECRET))
    );
    let (kind, detail) = http_error(&out);
    assert_eq!(kind, "denied", "{detail}");
    assert!(detail.contains("injected credential"), "{detail}");
    assert!(
        elsewhere_inbox.is_empty(),
        "the secret reached another origin"
    );
    assert_no_secret(&out);
}

#[tokio::test]
async fn s11_query_credential_is_scrubbed_from_transport_errors() {
    let (sandbox, plugin) = hostile().await;
    // A port with nothing listening: the connection error names the URL, which
    // carries the injected secret.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/v1");
    let out = sandbox
        .run(
            &plugin,
            "http",
            call(&url, "token"),
            with_credential(query_credential("api_key")),
        )
        .await;
    let (kind, detail) = http_error(&out);
    assert_eq!(kind, "connect", "{detail}");
    assert!(detail.contains("api_key=[REDACTED]"), "{detail}");
    assert_no_secret(&out);
}
