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

    // A component that imports wasi:sockets loads; inspect says what that means.
    let out = weft(&["plugin", "inspect", &wasm("fixture_sockets")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("wasi:sockets/tcp@0.2")
                && l.contains("(linked, every call refused)")),
        "{stdout}"
    );
    let out = weft(&["plugin", "inspect", "--json", &wasm("fixture_sockets")]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["origin"] == "denied"
                && i["name"].as_str().unwrap().starts_with("wasi:sockets/")),
        "{doc}"
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

    let out = weft(&["plugin", "inspect", &wasm("fixture_wrong_version")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("import `weft:plugin/types@9.0.0`"), "{err}");
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

/// `weft plugin new` scaffolds a crate that depends on the SDK by version
/// (the local copy only as a `[patch.crates-io]` override), builds to a
/// component and passes its own scenario test at once, with no test crate of
/// its own; the result runs under `weft plugin invoke`.
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
    let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("weft-sdk = \"0.1\""), "{manifest}");
    assert!(
        manifest.contains("[patch.crates-io]\nweft-sdk = { path = "),
        "{manifest}"
    );
    assert!(!manifest.contains("weft-harness"), "{manifest}");
    assert!(krate.join("tests/connector.json").is_file());
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
    let stdout = text(&out.stdout);
    for needle in [
        "ok      tests/connector.json: greets by name",
        "ok      tests/connector.json: a missing name is invalid input",
        "2 passed, 0 failed",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }

    let target =
        std::env::var("CARGO_TARGET_DIR").map_or_else(|_| krate.join("target"), Into::into);
    let built = target.join("wasm32-wasip2/release/hello_conn.wasm");
    let out = weft(&["plugin", "build", krate.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), built.to_str().unwrap());
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

    // The author breaks the connector's promise: the case fails with a diff.
    let scenario = krate.join("tests/connector.json");
    let edited = std::fs::read_to_string(&scenario)
        .unwrap()
        .replace("Hello, Ada!", "Hi, Ada!");
    std::fs::write(&scenario, edited).unwrap();
    let out = weft(&["plugin", "test", krate.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "FAILED  tests/connector.json: greets by name",
        r#"output.message: expected "Hi, Ada!", got "Hello, Ada!""#,
        "1 passed, 1 failed",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }

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

/// Runs `weft plugin test --file COMPONENT` over a directory holding the
/// given scenario files (`tests/NAME`).
fn scenarios(component: &str, files: &[(&str, serde_json::Value)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tests")).unwrap();
    for (name, doc) in files {
        std::fs::write(dir.path().join("tests").join(name), doc.to_string()).unwrap();
    }
    weft(&[
        "plugin",
        "test",
        "--file",
        &wasm(component),
        dir.path().to_str().unwrap(),
    ])
}

/// What a scenario can script and check, against the hostile fixture (which
/// does what its input says): a scripted reply with the credential the host
/// injected (bearer by default, or a named header), the plugin's state before
/// and after, a classified error with its retry hint, a scripted timeout.
#[test]
fn scenarios_script_http_credentials_state_and_errors() {
    use serde_json::json;
    let url = "https://api.example.com/v1/x";
    let file = json!({
        "credentials": {"api-key": {"secret": "sk-test", "hosts": ["api.example.com"]}},
        "state": {"counter": "1"},
        "cases": [
            {"name": "the host injects the credential",
             "action": "http", "input": {"url": url, "credential": "api-key"},
             "http": [{"method": "GET", "url": url,
                       "reply": {"status": 201, "json": {"ok": true}}}],
             "expect": {
                 "output": {"status": 201, "headers": {"content-type": "application/json"},
                            "body": "{\"ok\":true}", "body_len": 11},
                 "requests": [{"method": "GET", "url": url,
                               "headers": {"Authorization": "Bearer sk-test"}}]}},
            {"name": "a case's credentials replace the file's",
             "action": "http",
             "input": {"url": url, "method": "POST", "body": "{\"a\":1}", "credential": "token"},
             "credentials": {"token": {"secret": "t-1", "hosts": ["api.example.com"],
                                       "inject": {"type": "header", "name": "x-api-key"}}},
             "http": [{"method": "POST", "url": url, "reply": {"status": 204}}],
             "expect": {"requests": [{"method": "POST", "url": url,
                                      "headers": {"x-api-key": "t-1"}, "json": {"a": 1}}]}},
            {"name": "state is there before the case",
             "action": "state", "input": {"op": "get", "key": "counter"},
             "expect": {"output": {"value": "1"}, "state": {"counter": "1"}}},
            {"name": "state written by the case",
             "action": "state", "input": {"op": "set", "key": "counter", "value": "2"},
             "expect": {"state": {"counter": "2", "other": null}}},
            {"name": "a case's state replaces the file's",
             "action": "state", "input": {"op": "delete", "key": "counter"},
             "state": {"counter": "9", "other": "x"},
             "expect": {"output": {"ok": true, "existed": true},
                        "state": {"counter": null, "other": "x"}}},
            {"name": "a classified error",
             "action": "fail",
             "input": {"kind": "rate-limited", "message": "slow down", "retry_after_ms": 1500},
             "expect": {"error": {"kind": "rate_limited", "message_contains": "slow",
                                  "retry_after_ms": 1500}}},
            {"name": "a scripted timeout",
             "action": "http", "input": {"url": url},
             "http": [{"method": "GET", "url": url, "reply": {"fail": "timeout"}}],
             "expect": {"output": {"error": {"kind": "timeout", "detail": ""}}}}
        ]
    });
    let out = scenarios("fixture_hostile", &[("features.json", file)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("7 passed, 0 failed"), "{stdout}");
}

/// Each way a case can miss is reported on its own line under the case's
/// name, the passing cases still run, and the exit code is 1.
#[test]
fn a_failing_scenario_names_the_case_and_what_differs() {
    use serde_json::json;
    let url = "https://api.example.com/v1/x";
    let file = json!({
        "cases": [
            {"name": "passes", "action": "state", "input": {"op": "get", "key": "k"},
             "expect": {"output": {"value": null}}},
            {"name": "sends the wrong key", "action": "http",
             "input": {"url": url, "credential": "api-key"},
             "credentials": {"api-key": {"secret": "sk-live", "hosts": ["api.example.com"]}},
             "http": [{"method": "GET", "url": url, "reply": {"body": "hi"}}],
             "expect": {"output": {"status": 200, "body": "hello"},
                        "requests": [{"method": "GET", "url": url,
                                      "headers": {"authorization": "Bearer sk-test"}}],
                        "state": {"seen": "yes"}}},
            {"name": "fails the wrong way", "action": "fail",
             "input": {"kind": "auth"},
             "expect": {"error": {"kind": "invalid_input", "message_contains": "nope"}}}
        ]
    });
    let out = scenarios("fixture_hostile", &[("broken.json", file)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for needle in [
        "FAILED  tests/broken.json: sends the wrong key",
        r#"output.body: expected "hello", got "hi""#,
        "output.headers: not expected",
        r#"requests[0].headers.authorization: expected "Bearer sk-test", got "Bearer sk-live""#,
        r#"state.seen: expected "yes", got absent"#,
        "FAILED  tests/broken.json: fails the wrong way",
        "error kind: expected invalid_input, got auth",
        r#"error message: expected it to contain "nope", got "requested failure""#,
        "1 passed, 2 failed",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
}

/// A malformed scenario file stops the run before anything is built, with
/// exit 2 and the file, the case and the key named.
#[test]
fn a_malformed_scenario_file_names_the_file_the_case_and_the_key() {
    use serde_json::json;
    let good = json!({"cases": [{"name": "ok", "action": "echo", "expect": {}}]});
    let cases = [
        (
            json!({"cases": [
                {"name": "fine", "action": "echo", "expect": {}},
                {"name": "typo", "action": "echo", "expect": {"ouput": {}}}
            ]}),
            r#"tests/b.json: cases[1].expect.ouput (case "typo"): unknown key `ouput`"#,
        ),
        (
            json!({"cases": [{"name": "k", "action": "fail",
                              "expect": {"error": {"kind": "invalid-input"}}}]}),
            "cases[0].expect.error.kind (case \"k\"): unknown variant `invalid-input`, expected one of `invalid_input`",
        ),
        (
            json!({"cases": [{"name": "both", "action": "echo",
                              "expect": {"output": {}, "error": {"kind": "auth"}}}]}),
            r#"tests/b.json: cases[0].expect (case "both"): give `output` or `error`, not both"#,
        ),
        (json!({"cases": []}), "tests/b.json: `cases` is empty"),
    ];
    for (doc, needle) in cases {
        let out = scenarios(
            "fixture_trivial",
            &[("a.json", good.clone()), ("b.json", doc)],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
        assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    }
    let out = scenarios("fixture_trivial", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no scenario files in"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn import_n8n_prints_the_definition_and_reports_what_to_bind() {
    let export = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/n8n/exports/webhook-slack.json"
    );
    let out = weft(&["import", "n8n", export]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let def: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(def["triggers"]["webhook"]["mode"], "async");
    let steps = def["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["connector"] == "slack"), "{def:#}");
    let err = text(&out.stderr);
    assert!(
        err.contains("note: Webhook: n8n's path `notify` is not kept"),
        "{err}"
    );
    assert!(err.contains("`slack/bot-token`"), "{err}");

    // A file that is not an export: exit 2, naming the file and the problem.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-n8n.json");
    std::fs::write(&bad, r#"{"name": "x"}"#).unwrap();
    let out = weft(&["import", "n8n", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("not-n8n.json") && err.contains("no `nodes` list"),
        "{err}"
    );
    let out = weft(&["import", "n8n", export, "--workflow", "no-equals-sign"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected N8N_ID=WEFT_ID"));
}
