//! Python connectors, built by componentize-py 0.25.1 with the Python SDK
//! (`sdk/python`), in the real sandbox: the scaffold's greet connector, the
//! example `plugins/csv` published, installed and run by a workflow, and the
//! hostile Python fixture (`tests/fixtures/python/hostile`) replaying the
//! sandbox attacks S1, S3, S6, S7, S8, S10 and S12 as `sandbox_limits.rs`,
//! `isolation.rs` and `loading.rs` do with the Rust one.
//!
//! The components are built by `scripts/python-plugins build` into
//! `$CARGO_TARGET_DIR/polyglot/` (`scripts/test` runs it); a missing one fails
//! the test, naming the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry.rs"]
mod support;

use serde_json::json;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};
use support::{Author, run_as};
use weft_sandbox::{Grants, Plugin, StepLimits};
use weft_tests::hostile::{self, Guest, run};
use weft_tests::{
    Built, TestApp, TestSandbox, assert_healthy, failure, hosts, output, polyglot, polyglot_dir,
    step,
};

const MIB: u64 = 1024 * 1024;

async fn load(sandbox: &Built, name: &str) -> Arc<Plugin> {
    sandbox
        .load_shared(&polyglot(name))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn hostile() -> (Built, Arc<Plugin>) {
    let sandbox = TestSandbox::new().shared_disk_cache().build();
    let plugin = load(&sandbox, "py_hostile").await;
    (sandbox, plugin)
}

// ---------------------------------------------------------------- the SDK

#[test]
fn the_sdk_ships_the_repository_wit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ours = std::fs::read_to_string(root.join("wit/plugin.wit")).unwrap();
    let copy = std::fs::read_to_string(root.join("sdk/python/weft_sdk/wit/plugin.wit")).unwrap();
    assert!(
        ours == copy,
        "sdk/python/weft_sdk/wit/plugin.wit differs from wit/plugin.wit: copy it over"
    );
}

#[tokio::test]
async fn the_template_connector_greets_and_names_a_missing_field() {
    let sandbox = TestSandbox::new().shared_disk_cache().build();
    let plugin = load(&sandbox, "py_greet").await;
    let manifest = plugin.manifest();
    assert_eq!(manifest.name, "greet");
    assert_eq!(
        manifest
            .actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["greet"]
    );

    let out = sandbox
        .run(&plugin, "greet", json!({"name": "Ada"}), Grants::default())
        .await;
    assert_eq!(output(&out), &json!({"message": "Hello, Ada!"}));

    let out = sandbox
        .run(&plugin, "greet", json!({}), Grants::default())
        .await;
    let f = failure(&out);
    assert_eq!(f.kind, weft_types::ErrorKind::InvalidInput, "{f}");
    assert_eq!(f.message, "input.name: missing");

    let out = sandbox
        .run(&plugin, "greet", json!({"name": 7}), Grants::default())
        .await;
    assert_eq!(
        failure(&out).message,
        "input.name: expected a string, got an integer 7"
    );
}

/// Every call is a fresh instance of the pre-initialised snapshot; prints the
/// first load (compile) time and the invoke p50 for BENCHMARKS.md.
#[tokio::test]
async fn two_hundred_fresh_instances_each_answer() {
    let sandbox = TestSandbox::new().shared_disk_cache().build();
    let bytes = polyglot("py_greet");
    let started = Instant::now();
    let plugin = sandbox.load_shared(&bytes).await.unwrap();
    let compile = started.elapsed();
    let mut took = Vec::new();
    let mut peak = 0;
    for i in 0..200 {
        let started = Instant::now();
        let out = sandbox
            .run(
                &plugin,
                "greet",
                json!({"name": format!("n{i}")}),
                Grants::default(),
            )
            .await;
        took.push(started.elapsed());
        peak = peak.max(out.usage.peak_memory_bytes);
        assert_eq!(output(&out), &json!({"message": format!("Hello, n{i}!")}));
    }
    took.sort();
    eprintln!(
        "py_greet: {} bytes, first load {compile:?}, invoke p50 {:?} p99 {:?}, peak memory {peak} bytes",
        bytes.len(),
        took[100],
        took[198]
    );
}

#[tokio::test]
async fn an_uncaught_exception_is_a_permanent_error_with_its_text_and_traceback() {
    let (sandbox, plugin) = hostile().await;
    let out = run(
        &sandbox,
        &plugin,
        "raise",
        json!({"message": "kaboom"}),
        StepLimits::default(),
    )
    .await;
    let f = failure(&out);
    assert_eq!(f.kind, weft_types::ErrorKind::Permanent, "{f}");
    assert_eq!(f.message, "connector raised ValueError: boom: kaboom");
    let logged = out
        .logs
        .iter()
        .find(|r| r.message == "connector raised ValueError in `raise`")
        .unwrap_or_else(|| panic!("no traceback logged: {:?}", out.logs));
    let (_, tb) = logged
        .fields
        .iter()
        .find(|(k, _)| k == "traceback")
        .unwrap();
    assert!(
        tb.contains("Traceback") && tb.contains("hostile.py"),
        "{tb}"
    );
    assert_healthy(&sandbox).await;
}

// ---------------------------------------------------------------- S1, S3

#[tokio::test]
async fn s1_infinite_loop_stops_at_its_deadline() {
    let (sandbox, plugin) = hostile().await;
    let g = Guest {
        sandbox: &sandbox,
        plugin: &plugin,
        name: "python",
    };
    hostile::s1_spin_stops_at_its_deadline(&g).await;
}

#[tokio::test]
async fn s3_memory_growth_past_the_limit_fails_memory_limit() {
    let (sandbox, plugin) = hostile().await;
    let g = Guest {
        sandbox: &sandbox,
        plugin: &plugin,
        name: "python",
    };
    hostile::s3_memory_growth_fails_memory_limit(&g).await;
}

// ---------------------------------------------------------------- S6

#[tokio::test]
async fn s6_output_over_the_limit_fails_output_too_large() {
    let (sandbox, plugin) = hostile().await;
    let g = Guest {
        sandbox: &sandbox,
        plugin: &plugin,
        name: "python",
    };
    let answered = hostile::s6_output_over_the_limit_fails_output_too_large(&g).await;
    assert_eq!(answered.as_str().map(str::len), Some(MIB as usize));
}

#[tokio::test]
async fn s6_oversized_value_to_a_host_import_fails_hostcall_too_large() {
    let (sandbox, plugin) = hostile().await;
    let g = Guest {
        sandbox: &sandbox,
        plugin: &plugin,
        name: "python",
    };
    hostile::s6_oversized_hostcall_fails_hostcall_too_large(&g, StepLimits::default(), 1).await;
}

#[tokio::test]
async fn s6_log_flood_is_truncated_with_a_marker_and_the_step_succeeds() {
    let (sandbox, plugin) = hostile().await;
    let g = Guest {
        sandbox: &sandbox,
        plugin: &plugin,
        name: "python",
    };
    hostile::s6_log_flood_is_truncated_with_a_marker(&g).await;
}

// ---------------------------------------------------------------- S7, S8, S10

#[tokio::test]
async fn s7_a_socket_is_refused_and_nothing_reaches_a_loopback_listener() {
    let (sandbox, plugin) = hostile().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Even with every host granted for the http import, sockets stay closed.
    let out = sandbox
        .run(
            &plugin,
            "connect",
            json!({"host": "127.0.0.1", "port": port}),
            hosts(&["*"]),
        )
        .await;
    let said = output(&out)["connect"].as_str().unwrap().to_owned();
    assert!(said.starts_with("error:"), "the connect succeeded: {said}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("a connection reached the listener: {other:?}"),
    }
    let out = sandbox
        .run(
            &plugin,
            "resolve",
            json!({"host": "localhost"}),
            hosts(&["*"]),
        )
        .await;
    let said = output(&out)["resolve"].as_str().unwrap();
    assert!(said.starts_with("error:"), "name lookup succeeded: {said}");
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn s8_no_file_is_readable_and_the_environment_is_empty() {
    let (sandbox, plugin) = hostile().await;
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    for path in ["/etc/passwd", "/proc/self/environ", manifest] {
        assert!(Path::new(path).exists(), "{path}");
        let out = sandbox
            .run(
                &plugin,
                "read-file",
                json!({"path": path}),
                Grants::default(),
            )
            .await;
        for op in ["read", "readdir", "write"] {
            let said = output(&out)[op].as_str().unwrap();
            assert!(
                said.starts_with("error:"),
                "{op} with {path} should fail, got {said}"
            );
        }
    }
    let out = sandbox
        .run(&plugin, "env", json!({}), Grants::default())
        .await;
    assert_eq!(output(&out)["vars"], json!({}));
    assert_eq!(output(&out)["args"], json!([]));
}

#[tokio::test]
async fn s10_module_state_does_not_survive_between_steps() {
    let (sandbox, plugin) = hostile().await;
    for _ in 0..3 {
        let out = sandbox
            .run(&plugin, "static-counter", json!({}), Grants::default())
            .await;
        assert_eq!(
            output(&out),
            &json!(1),
            "a fresh instance starts from the snapshot"
        );
    }
}

// ---------------------------------------------------------------- the example, in a workflow

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_connector_is_published_installed_and_run_by_a_workflow() {
    // TestApp keeps compiled components in the tests' shared cache: the 19 MB
    // component compiles once.
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let csv = polyglot("py_csv");
    let published = acme.publish("csv", "0.1.0", &csv).await.expect(201);
    assert!(
        published["disclosure"]["network"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{published}"
    );

    let tenant = app.tenant("tenant-a").await;
    let shown = app
        .call_as(
            &tenant,
            "GET",
            "/v1/registry/packages/acme/csv/versions/0.1.0",
            None,
        )
        .await
        .expect(200);
    app.call_as(
        &tenant,
        "POST",
        "/v1/installs",
        Some(json!({"package": "acme/csv", "consent": shown["disclosure_digest"]})),
    )
    .await
    .expect(201);
    let wf = app
        .call_as(
            &tenant,
            "POST",
            "/v1/workflows",
            Some(json!({"name": "reshape", "steps": [
                {"id": "rows", "kind": "action", "connector": "csv", "action": "parse",
                 "input": {"text": "{{ trigger.body.name }}", "numbers": true}},
                {"id": "back", "kind": "action", "connector": "csv", "action": "format",
                 "input": {"rows": "{{ steps.rows.output.rows }}", "delimiter": ";"}}
            ]})),
        )
        .await
        .expect(201);
    let id = wf["id"].as_str().unwrap();
    app.call_as(
        &tenant,
        "POST",
        &format!("/v1/workflows/{id}/activate"),
        Some(json!(null)),
    )
    .await
    .expect(200);
    // run_as sends {"name": ...} as the run's input.
    let run = run_as(
        &app,
        &tenant,
        id,
        "city,people\nParis,2102650\nLyon,\"522,250\"\n",
    )
    .await;
    assert_eq!(run.status, weft_model::Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "rows").output,
        Some(json!({"columns": ["city", "people"], "count": 2,
                    "rows": [{"city": "Paris", "people": 2102650}, {"city": "Lyon", "people": "522,250"}]}))
    );
    assert_eq!(
        step(&run, "back").output,
        Some(json!({"text": "city;people\nParis;2102650\nLyon;522,250\n", "count": 2}))
    );

    // A bad row fails the step as invalid input naming its line.
    let run = run_as(&app, &tenant, id, "a,b\n1,2,3\n").await;
    assert_eq!(run.status, weft_model::Status::Failed, "{run:#?}");
    let error = serde_json::to_string(&step(&run, "rows").error).unwrap();
    assert!(
        error.contains("line 2: 3 fields, the header has 2"),
        "{error}"
    );
}

// ---------------------------------------------------------------- the scaffold, with the CLI

/// `weft plugin new x --lang python`, then `weft plugin test` (which builds):
/// the venv of `scripts/python-plugins` first on PATH, as an author's would be.
#[test]
fn the_python_scaffold_builds_and_passes_its_own_test() {
    let bin = std::env::var_os("WEFT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| polyglot_dir().join("../debug/weft"));
    assert!(
        bin.exists(),
        "{}: missing; build it: `cargo build -p weft-cli`",
        bin.display()
    );
    let venv = std::env::var_os("WEFT_PY_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/weft/python-plugins-venv"))
        })
        .unwrap();
    assert!(
        venv.join("bin/python3").exists(),
        "{}: no venv; make it: `scripts/python-plugins`",
        venv.display()
    );
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let weft = |args: &[&str]| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.args(args).current_dir(dir.path()).env("PATH", &path);
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
    };
    weft(&["plugin", "new", "hello-py", "--lang", "python"]);
    let project = dir.path().join("hello-py");
    for file in [
        "pyproject.toml",
        "app.py",
        "tests/connector.json",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "the scaffold has no {file}");
    }
    let said = weft(&["plugin", "test", "hello-py"]);
    assert!(project.join("dist/hello-py.wasm").is_file(), "{said}");
    assert!(
        said.contains("greets by name") && said.contains("a missing name is invalid input"),
        "{said}"
    );
}
