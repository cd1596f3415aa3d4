//! JavaScript connectors in the real sandbox: components built from `@weft/sdk`
//! (sdk/js) by componentize-js, the greet template, the `webhook-relay-js`
//! example in a workflow, and the hostile fixture replaying the sandbox's
//! attacks (TEST-PLAN S1, S3, S6, S7) from a SpiderMonkey guest.
//!
//! The components are built by `scripts/js-plugins build` (Node and the
//! toolchain pinned in sdk/js/package-lock.json) into
//! `$CARGO_TARGET_DIR/polyglot/`; a missing one fails the test with that
//! command, it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};
use weft_model::Workflow;
use weft_sandbox::{Grants, Invocation, MemoryState, Namespace, Plugin, StateGrant, StepLimits};
use weft_tests::hostile::{self, Guest, run};
use weft_tests::{
    Built, StandIn, TestApp, TestSandbox, assert_healthy, bearer, failure, hosts, output,
    polyglot_dir, reason, step,
};
use weft_types::{ErrorKind, Status};

const MIB: u64 = 1024 * 1024;

/// A built JS component, e.g. `js_hostile`.
fn component_path(name: &str) -> PathBuf {
    let path = polyglot_dir().join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: build the JavaScript test components with `scripts/js-plugins build`",
        path.display()
    );
    path
}

async fn load(sandbox: &Built, name: &str) -> Arc<Plugin> {
    let bytes = std::fs::read(component_path(name)).unwrap();
    sandbox
        .load_shared(&bytes)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The hostile fixture built by each engine: componentize-js (SpiderMonkey)
/// and componentize-qjs (QuickJS).
const HOSTILE: [&str; 2] = ["js_hostile", "js_hostile_qjs"];

async fn hostile(name: &str) -> (Built, Arc<Plugin>) {
    let sandbox = sandbox();
    let plugin = load(&sandbox, name).await;
    (sandbox, plugin)
}

/// A sandbox whose compiled components are kept in the tests' shared cache
/// (`TestSandbox::shared_disk_cache`): a 12 MB componentize-js component
/// takes tens of seconds to compile in a debug build, so each is compiled once,
/// not once per test (load through `load_shared`).
fn sandbox() -> Built {
    TestSandbox::new().shared_disk_cache().build()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

// ---------------------------------------------------------------- the SDK

#[test]
fn the_js_sdk_carries_the_current_wit() {
    let ours = std::fs::read_to_string(repo().join("sdk/js/wit/plugin.wit")).unwrap();
    let theirs = std::fs::read_to_string(repo().join("wit/plugin.wit")).unwrap();
    assert!(
        ours == theirs,
        "sdk/js/wit/plugin.wit differs from wit/plugin.wit: `cp wit/plugin.wit sdk/js/wit/`"
    );
}

#[tokio::test]
async fn the_greet_template_describes_itself_and_greets_with_either_engine() {
    let sandbox = sandbox();
    for name in ["js_greet", "qjs_greet"] {
        let plugin = load(&sandbox, name).await;
        let manifest = plugin.manifest();
        assert_eq!(manifest.name, "greet");
        assert_eq!(manifest.actions.len(), 1);
        assert_eq!(manifest.actions[0].name, "greet");

        let out = sandbox
            .run(&plugin, "greet", json!({"name": "Ada"}), Grants::default())
            .await;
        assert_eq!(output(&out), &json!({"message": "Hello, Ada!"}));

        let out = sandbox
            .run(&plugin, "greet", json!({}), Grants::default())
            .await;
        let f = failure(&out);
        assert_eq!(f.kind, ErrorKind::InvalidInput, "{name}: {f}");
        assert_eq!(f.message, "input: missing field `name`");
    }
}

#[tokio::test]
async fn classified_errors_and_thrown_exceptions_reach_the_host() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let out = run(
            &sandbox,
            &plugin,
            "fail",
            json!({"kind": "rate-limited", "message": "slow down", "retry_after_ms": 1500}),
            StepLimits::default(),
        )
        .await;
        let f = failure(&out);
        assert_eq!(f.kind, ErrorKind::RateLimited, "{name}: {f}");
        assert_eq!(f.message, "slow down");
        assert_eq!(f.retry_after_ms, Some(1500));

        // Anything else thrown is a permanent error with its message, and its
        // stack goes to the step log.
        let out = run(
            &sandbox,
            &plugin,
            "throw",
            json!({"n": 1}),
            StepLimits::default(),
        )
        .await;
        let f = failure(&out);
        assert_eq!(f.kind, ErrorKind::Permanent, "{name}: {f}");
        assert_eq!(f.message, r#"TypeError: boom: {"n":1}"#);
        assert!(
            out.logs.iter().any(|r| r.message.contains("boom")),
            "{:?}",
            out.logs
        );
    }
}

#[tokio::test]
async fn s10_module_state_does_not_survive_between_steps() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        for _ in 0..3 {
            let out = run(
                &sandbox,
                &plugin,
                "static-counter",
                json!({}),
                StepLimits::default(),
            )
            .await;
            assert_eq!(output(&out), &json!(1));
        }
    }
}

// ---------------------------------------------------------------- S1: deadlines

#[tokio::test]
async fn s1_an_infinite_js_loop_stops_at_its_deadline() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let g = Guest {
            sandbox: &sandbox,
            plugin: &plugin,
            name,
        };
        hostile::s1_spin_stops_at_its_deadline(&g).await;
    }
}

// ---------------------------------------------------------------- S3: memory

#[tokio::test]
async fn s3_js_memory_growth_fails_memory_limit() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let g = Guest {
            sandbox: &sandbox,
            plugin: &plugin,
            name,
        };
        hostile::s3_memory_growth_fails_memory_limit(&g).await;
        // Growth of JS objects without end, not one buffer, meets the same limit.
        let limit = StepLimits::default().memory_bytes;
        let out = g.run("grow", json!({}), StepLimits::default()).await;
        assert_eq!(
            reason(&out),
            "memory_limit",
            "{name} grow: {:?}",
            out.result
        );
        assert!(
            out.usage.peak_memory_bytes <= limit,
            "{name}: peak over the limit"
        );
        assert_healthy(&sandbox).await;
    }
}

// ---------------------------------------------------------------- S6: sizes

#[tokio::test]
async fn s6_js_output_over_the_limit_fails_output_too_large() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let g = Guest {
            sandbox: &sandbox,
            plugin: &plugin,
            name,
        };
        // 1,024 strings of 1,024 characters: about 1 MiB of JSON, under the limit.
        let answered = hostile::s6_output_over_the_limit_fails_output_too_large(&g).await;
        let lines = answered
            .as_array()
            .unwrap_or_else(|| panic!("{name}: not an array"));
        assert_eq!(lines.len(), 1024, "{name}");
        assert!(
            lines.iter().all(|l| l.as_str().map(str::len) == Some(1024)),
            "{name}"
        );
    }
}

#[tokio::test]
async fn s6_js_oversized_values_to_host_imports_fail_hostcall_too_large() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        // A tight host-call limit: a JS engine needs several times a value's
        // size in memory to hand it over, so the default (4 MiB) would meet
        // the memory limit first.
        let limits = StepLimits {
            hostcall_bytes: MIB as usize,
            ..StepLimits::default()
        };
        let g = Guest {
            sandbox: &sandbox,
            plugin: &plugin,
            name,
        };
        hostile::s6_oversized_hostcall_fails_hostcall_too_large(&g, limits, 1).await;
        // The same through state.
        let store = Arc::new(MemoryState::default());
        let grants = Grants {
            state: Some(StateGrant {
                store,
                namespace: Namespace {
                    tenant: "t".into(),
                    plugin: "js-hostile".into(),
                },
            }),
            ..Grants::default()
        };
        for action in ["huge-state"] {
            let inv = Invocation {
                grants: grants.clone(),
                limits,
                ..Invocation::new(action, json!({"mib": 2}).to_string())
            };
            let out = sandbox.invoke(&plugin, inv).await;
            assert_eq!(
                reason(&out),
                "hostcall_too_large",
                "{name} {action}: {:?}",
                out.result
            );
            assert!(
                failure(&out)
                    .message
                    .contains(&format!("the limit is {MIB} bytes")),
                "{name} {action}: {}",
                failure(&out).message
            );
        }
        assert_healthy(&sandbox).await;
    }
}

#[tokio::test]
async fn s6_a_js_log_flood_is_truncated_with_a_marker_and_the_step_succeeds() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let g = Guest {
            sandbox: &sandbox,
            plugin: &plugin,
            name,
        };
        hostile::s6_log_flood_is_truncated_with_a_marker(&g).await;
    }
}

// ---------------------------------------------------------------- S7: no network but `http`

#[tokio::test]
async fn s7_a_js_component_built_with_fetch_is_refused_at_load_naming_wasi_http() {
    let sandbox = sandbox();
    let bytes = std::fs::read(component_path("js_fetch")).unwrap();
    let err = sandbox
        .load(&bytes)
        .await
        .map(|_| ())
        .expect_err("a component importing wasi:http was loaded");
    let message = err.to_string();
    assert!(message.contains("wasi:http"), "{message}");
}

#[tokio::test]
async fn s7_a_js_guest_has_no_fetch_and_reaches_the_network_only_through_http() {
    for name in HOSTILE {
        let (sandbox, plugin) = hostile(name).await;
        let (server, inbox) = StandIn::scripted(|_| "pong".into_response()).await;
        let out = run(
            &sandbox,
            &plugin,
            "network",
            json!({"url": server.url("/fetch")}),
            StepLimits::default(),
        )
        .await;
        // componentize-js keeps a global `fetch` that traps when called (its
        // http feature is off); the SDK replaces it with a clear error.
        assert_eq!(
            output(&out),
            &json!({
                "fetch": "function", "XMLHttpRequest": "undefined", "WebSocket": "undefined",
                "fetchError": "permanent: fetch() is not available in a Weft connector: \
                               send requests with `http` from @weft/sdk (http.get(url).send())"
            }),
            "{name}"
        );
        assert!(
            inbox.is_empty(),
            "something reached the server: {:?}",
            inbox.all()
        );

        // Without a grant the `http` import refuses too.
        let out = run(
            &sandbox,
            &plugin,
            "http",
            json!({"url": server.url("/http")}),
            StepLimits::default(),
        )
        .await;
        assert_eq!(
            output(&out)["error"]["httpError"],
            "denied",
            "{}",
            output(&out)
        );
        assert!(inbox.is_empty());

        // With one, the request goes out.
        let inv = Invocation {
            grants: hosts(&["127.0.0.1"]),
            ..Invocation::new("http", json!({"url": server.url("/http")}).to_string())
        };
        let out = sandbox.invoke(&plugin, inv).await;
        assert_eq!(output(&out), &json!({"status": 200, "body": "pong"}));
        assert_eq!(inbox.only().uri, "/http");
    }
}

// ---------------------------------------------------------------- the example, in a workflow

#[tokio::test]
async fn the_webhook_relay_example_delivers_with_the_injected_key_and_counts_in_state() {
    let (receiver, inbox) = StandIn::scripted(|r| {
        if r.header("authorization") == Some("Bearer whk-secret") {
            (
                axum::http::StatusCode::ACCEPTED,
                [("content-type", "application/json")],
                r#"{"id":"evt_1"}"#,
            )
                .into_response()
        } else {
            (axum::http::StatusCode::UNAUTHORIZED, "bad key").into_response()
        }
    })
    .await;
    let relay = component_path("js_webhook_relay");
    let app = TestApp::builder()
        .config(move |c| c.plugins.push(relay))
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "receiver", "secret": "whk-secret",
               "hosts": [format!("127.0.0.1:{}", receiver.port())],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let def = json!({
        "name": "relay-twice",
        "grants": {"hosts": ["127.0.0.1"], "credentials": {"api-key": "receiver"}},
        "steps": [
            {"id": "first", "kind": "action", "connector": "webhook-relay", "action": "deliver",
             "config": {"base_url": receiver.url("")},
             "input": {"event": "order.paid", "payload": {"order": 7}}},
            {"id": "second", "kind": "action", "connector": "webhook-relay", "action": "deliver",
             "config": {"base_url": receiver.url("")},
             "input": {"event": "order.shipped"}},
            {"id": "last", "kind": "action", "connector": "webhook-relay", "action": "last", "input": {}}
        ]
    });
    let wf: Workflow = app.post("/v1/workflows", def).await.typed(201);
    let run = app
        .finished(&app.start_run(&wf.id, json!(null)).await)
        .await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "first").output,
        Some(json!({"sequence": 1, "status": 202, "id": "evt_1"}))
    );
    assert_eq!(step(&run, "second").output.as_ref().unwrap()["sequence"], 2);
    assert_eq!(step(&run, "last").output, Some(json!({"sequence": 2})));

    let seen = inbox.all();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].uri, "/events");
    assert_eq!(seen[0].header("authorization"), Some("Bearer whk-secret"));
    assert!(
        seen[0]
            .header("idempotency-key")
            .is_some_and(|k| !k.is_empty())
    );
    assert_eq!(
        seen[0].json(),
        json!({"sequence": 1, "event": "order.paid", "payload": {"order": 7}})
    );
    assert_eq!(seen[1].json()["sequence"], 2);
}

#[tokio::test]
async fn the_webhook_relay_example_classifies_a_refused_key_as_auth() {
    let sandbox = sandbox();
    let plugin = load(&sandbox, "js_webhook_relay").await;
    let (receiver, _inbox) =
        StandIn::scripted(|_| (axum::http::StatusCode::UNAUTHORIZED, "bad key").into_response())
            .await;
    let store = Arc::new(MemoryState::default());
    let mut grants = hosts(&["127.0.0.1"]);
    grants
        .credentials
        .push(bearer("api-key", "wrong", &["127.0.0.1"]));
    grants.state = Some(StateGrant {
        store,
        namespace: Namespace {
            tenant: "t".into(),
            plugin: "webhook-relay".into(),
        },
    });
    let inv = Invocation {
        grants,
        config: json!({"base_url": receiver.url("")}).to_string(),
        ..Invocation::new("deliver", json!({"event": "x"}).to_string())
    };
    let out = sandbox.invoke(&plugin, inv).await;
    let f = failure(&out);
    assert_eq!(f.kind, ErrorKind::Auth, "{f}");
    assert!(f.message.contains("HTTP 401 Unauthorized: bad key"), "{f}");
    assert!(!f.message.contains("wrong"), "the secret leaked: {f}");
}

// ---------------------------------------------------------------- the scaffold and the example, with the CLI

/// Runs the `weft` binary (`$CARGO_TARGET_DIR/debug/weft`, or `WEFT_BIN`) in
/// `dir`, failing the test with its output when it fails.
fn weft_in(dir: &Path, args: &[&str]) -> String {
    let bin = std::env::var_os("WEFT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| polyglot_dir().join("../debug/weft"));
    assert!(
        bin.exists(),
        "{}: missing; build it: `cargo build -p weft-cli`",
        bin.display()
    );
    let mut cmd = std::process::Command::new(&bin);
    cmd.args(args).current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("WEFT_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "weft {}: {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// Points `project/node_modules/@weft/sdk` at this checkout's SDK, whose own
/// node_modules `scripts/js-plugins` installed from the lockfile: what
/// `npm install` would give an author, without the network.
fn link_sdk(project: &Path) {
    let sdk = repo().join("sdk/js");
    assert!(
        sdk.join("node_modules/@bytecodealliance/componentize-js")
            .is_dir(),
        "the JS SDK's toolchain is not installed: run `scripts/js-plugins`"
    );
    let scope = project.join("node_modules/@weft");
    std::fs::create_dir_all(&scope).unwrap();
    std::os::unix::fs::symlink(&sdk, scope.join("sdk")).unwrap();
}

/// `weft plugin new x --lang js`, then `weft plugin test` (which builds).
#[test]
fn the_js_scaffold_builds_and_passes_its_own_test() {
    let dir = tempfile::tempdir().unwrap();
    weft_in(dir.path(), &["plugin", "new", "hello-js", "--lang", "js"]);
    let project = dir.path().join("hello-js");
    for file in [
        "package.json",
        "src/index.js",
        "tests/connector.json",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "the scaffold has no {file}");
    }
    link_sdk(&project);
    let said = weft_in(dir.path(), &["plugin", "test", "hello-js"]);
    assert!(project.join("dist/hello-js.wasm").is_file(), "{said}");
    assert!(
        said.contains("greets by name") && said.contains("a missing name is invalid input"),
        "{said}"
    );
}

/// The example's own scenario file (scripted replies, the injected key, state)
/// passes under `weft plugin test`.
#[test]
fn the_webhook_relay_example_passes_its_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("webhook-relay-js");
    let example = repo().join("plugins/webhook-relay-js");
    for file in ["package.json", "src/index.js", "tests/relay.json"] {
        let to = project.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(example.join(file), &to).unwrap();
    }
    link_sdk(&project);
    let said = weft_in(dir.path(), &["plugin", "test", "webhook-relay-js"]);
    for case in [
        "delivers the next event with the key injected by the host",
        "a refused key is an auth error and nothing is counted",
        "last reads the sequence from state",
    ] {
        assert!(said.contains(case), "{case}: {said}");
    }
}
