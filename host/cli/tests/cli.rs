//! The `weft` binary as a plugin author uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};
use weft_tests::wasm_dir;

fn weft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .env(
            "WEFT_CACHE_DIR",
            std::env::temp_dir().join("weft-cli-test-cache"),
        )
        .output()
        .unwrap()
}

fn wasm(name: &str) -> String {
    let p = wasm_dir().join(format!("{name}.wasm"));
    assert!(p.exists(), "{} missing: run scripts/test", p.display());
    p.to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn inspect_prints_manifest_capabilities_and_imports() {
    let out = weft(&["plugin", "inspect", &wasm("weft_plugin_slack")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "slack",
        "post-message",
        "outbound hosts: slack.com",
        "bot-token",
        "weft:plugin/http@0.1.0",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    let out = weft(&["plugin", "inspect", "--json", &wasm("weft_plugin_slack")]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["manifest"]["name"], "slack");
    assert!(doc["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        doc["manifest"]["capabilities"]["credentials"][0]["hosts"][0],
        "slack.com"
    );
}

#[test]
fn inspect_explains_files_that_are_not_fitting_components() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"definitely not wasm").unwrap();
    let out = weft(&["plugin", "inspect", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid_wasm: not a WebAssembly binary"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(&["plugin", "inspect", &wasm("fixture_sockets")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("import `wasi:sockets/tcp@"), "{err}");
    assert!(
        err.contains("does not fit the weft:plugin/connector"),
        "{err}"
    );
}

#[test]
fn invoke_prints_output_and_usage() {
    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_trivial"),
        "--action",
        "echo",
        "--input",
        r#"{"a":[1,2]}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, serde_json::json!({"a": [1, 2]}));
    assert!(
        text(&out.stderr).contains("usage:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn invoke_reports_classified_errors_with_a_non_zero_exit() {
    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_hostile"),
        "--action",
        "fail",
        "--input",
        r#"{"kind":"rate-limited","message":"slow down","retry_after_ms":1500}"#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("error: rate_limited: slow down"), "{err}");
    assert!(err.contains("retry after: 1500 ms"), "{err}");

    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_hostile"),
        "--action",
        "spin",
        "--timeout",
        "200ms",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("(deadline_exceeded)"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_hostile"),
        "--action",
        "alloc",
        "--input",
        r#"{"mib":32}"#,
        "--memory",
        "16MiB",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["result"]["Err"]["reason"], "memory_limit", "{doc}");
}

#[test]
fn invoke_refuses_bad_arguments_with_what_and_where() {
    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_trivial"),
        "--action",
        "echo",
        "--input",
        "{nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--input is not valid JSON"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_trivial"),
        "--action",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("has no action `nope` (it offers: echo)"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("weft_plugin_slack"),
        "--action",
        "post-message",
        "--credential",
        "nope=x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("declares no credential slot `nope` (it declares: bot-token)"),
        "{}",
        text(&out.stderr)
    );

    let out = weft(&[
        "plugin",
        "invoke",
        &wasm("fixture_trivial"),
        "--action",
        "echo",
        "--timeout",
        "5h",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown unit `h`"),
        "{}",
        text(&out.stderr)
    );
}

/// `weft plugin new` scaffolds a crate that builds to a component and passes its
/// own tests at once, and the result runs under `weft plugin invoke`.
#[test]
fn new_scaffolds_a_connector_that_builds_and_passes_its_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = weft(&[
        "plugin",
        "new",
        "hello-conn",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let krate = dir.path().join("hello-conn");
    // Resolve dependencies to the versions the workspace already built, so the
    // shared target directory is reused instead of compiling a second copy.
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"),
        krate.join("Cargo.lock"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["plugin", "test", krate.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "weft plugin test failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("test result: ok. 2 passed"),
        "{}",
        text(&out.stdout)
    );

    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| krate.join("target"), Into::into);
    let built = target.join("wasm32-wasip2/release/hello_conn.wasm");
    let out = weft(&[
        "plugin",
        "invoke",
        built.to_str().unwrap(),
        "--action",
        "greet",
        "--input",
        r#"{"name":"Ada"}"#,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["message"],
        "Hello, Ada!"
    );

    let out = weft(&[
        "plugin",
        "new",
        "hello-conn",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        text(&out.stderr)
    );
    let out = weft(&[
        "plugin",
        "new",
        "Bad_Name",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("not a valid connector name"),
        "{}",
        text(&out.stderr)
    );
}
