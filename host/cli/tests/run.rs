//! `weft run FILE`: a workflow runs once, locally, with a per-step summary; the
//! exit code says whether it completed.

#![allow(clippy::unwrap_used)]

use std::process::Command;

fn weft_run(def: &str, input: &str) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wf.yaml");
    std::fs::write(&file, def).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("run")
        .arg(&file)
        .args(["--input", input, "--plugins"])
        .arg(weft_tests::wasm_dir().join("weft_plugin_transform.wasm"))
        .env("HOME", dir.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_workflow_runs_once_with_a_step_summary() {
    let def = "name: sum\nsteps:\n  - id: total\n    kind: action\n    connector: transform\n    action: jq\n    input: {filter: 'map(.n) | add', data: '{{ trigger.body }}'}\n  - id: reply\n    kind: respond\n    body: {total: '{{ steps.total.output.result }}'}\n";
    let (ok, stdout, stderr) = weft_run(def, r#"[{"n": 2}, {"n": 40}]"#);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("total") && stderr.contains("completed"),
        "progress: {stderr}"
    );
    assert!(
        stdout.contains("total")
            && stdout.contains("completed")
            && stdout.contains("\"total\": 42"),
        "{stdout}"
    );
}

#[test]
fn a_failing_or_invalid_workflow_exits_non_zero_and_says_why() {
    let failing = "name: bad\nsteps:\n  - id: boom\n    kind: action\n    connector: transform\n    action: jq\n    input: {filter: 'error(\"nope\")', data: 1}\n";
    let (ok, stdout, _) = weft_run(failing, "null");
    assert!(!ok);
    assert!(
        stdout.contains("failed") && stdout.contains("nope"),
        "{stdout}"
    );

    let invalid =
        "name: bad\nsteps:\n  - id: x\n    kind: action\n    connector: nope\n    action: zz\n";
    let (ok, _, stderr) = weft_run(invalid, "null");
    assert!(!ok);
    assert!(stderr.contains("/steps/0/connector"), "{stderr}");
}
