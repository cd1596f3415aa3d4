//! The `weft` client subcommands against a real server (`TestApp`): what a
//! user reads. `weft runs get` shows each attempt's log records with the
//! truncation marker; `--json` prints the wire type; a refusal exits 1 with
//! the server's code and message; a server that is not there exits 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use std::process::Output;
use weft_tests::TestApp;
use weft_types::Status;

/// `weft ARGS` with these environment variables (off the async threads: the
/// server answering it runs on them).
async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args(args).env_remove("WEFT_SERVER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// `weft ARGS` against the app with its owner key.
async fn weft(app: &TestApp, args: &[&str]) -> Output {
    run(
        args,
        &[("WEFT_SERVER", &app.base), ("WEFT_API_KEY", &app.key)],
    )
    .await
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn runs_get_shows_each_attempts_log_with_the_truncation_marker() {
    let app = TestApp::builder().plugin("fixture_hostile").start().await;
    let wf = app
        .workflow(json!({"name": "noisy", "steps": [
            {"id": "quiet", "kind": "action", "connector": "hostile", "action": "log-flood",
             "input": {"records": 2, "size": 0, "message": "hello from the plugin"}},
            {"id": "loud", "kind": "action", "connector": "hostile", "action": "log-flood",
             "input": {"records": 5000, "size": 100}},
        ]}))
        .await;
    let run_id = app.start_run(&wf.id, json!(null)).await;
    assert_eq!(app.finished(&run_id).await.status, Status::Completed);

    let o = weft(&app, &["runs", "get", &run_id]).await;
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(text.contains("log of `quiet`, attempt 1:"), "{text}");
    assert_eq!(
        text.matches("info  hello from the plugin i=").count(),
        2,
        "{text}"
    );
    let loud = &text[text.find("log of `loud`").expect("the loud step's log")..];
    assert!(
        loud.lines().any(|l| l.contains("truncated")),
        "the marker is printed: {}",
        &loud[loud.len().saturating_sub(500)..]
    );

    // `--json` is the wire type.
    let o = weft(&app, &["runs", "get", &run_id, "--json"]).await;
    let run: weft_model::Run = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(run.id, run_id);
    assert_eq!(run.step("quiet").unwrap().attempts[0].logs.len(), 2);
}

#[tokio::test]
async fn a_refusal_exits_1_with_the_servers_code_and_an_unreachable_server_exits_2() {
    let app = TestApp::builder().start().await;
    let o = weft(&app, &["runs", "get", "run_0190a1b2c3d4e5f60718293a4b5c"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim(), "error: not_found: run not found");

    let o = weft(&app, &["runs", "list", "--status", "done"]).await;
    assert_eq!(o.status.code(), Some(2), "clap refuses an unknown status");
    assert!(stderr(&o).contains("done"), "{}", stderr(&o));

    let o = run(
        &["workflows", "list", "--server", "http://127.0.0.1:9"],
        &[("WEFT_API_KEY", &app.key)],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot reach") && stderr(&o).contains("127.0.0.1:9"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test]
async fn a_workflow_is_created_from_a_file_activated_listed_and_its_runs_listed() {
    let app = TestApp::builder().start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hello.yaml");
    std::fs::write(
        &file,
        "name: hello\nsteps:\n  - id: answer\n    kind: respond\n    body: hi\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let o = weft(&app, &["workflows", "create", file, "--json"]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let wf: weft_model::Workflow = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((wf.name.as_str(), wf.active), ("hello", false));

    let o = weft(&app, &["workflows", "activate", &wf.id]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let o = weft(&app, &["workflows", "list"]).await;
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.contains(&wf.id) && l.contains("hello")),
        "{text}"
    );

    let o = weft(&app, &["runs", "start", &wf.id, "--wait-ms", "5000"]).await;
    let text = stdout(&o);
    assert!(o.status.success(), "{text}{}", stderr(&o));
    assert!(text.contains("completed"), "{text}");
    let o = weft(
        &app,
        &[
            "runs",
            "list",
            "--workflow",
            &wf.id,
            "--status",
            "completed",
        ],
    )
    .await;
    let text = stdout(&o);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("run_")).count(),
        1,
        "{text}"
    );
    for (trigger, n) in [("manual", 1), ("webhook", 0)] {
        let o = weft(
            &app,
            &[
                "runs",
                "list",
                "--trigger",
                trigger,
                "--from",
                "1",
                "--to",
                "99999999999999",
            ],
        )
        .await;
        let text = stdout(&o);
        assert_eq!(
            text.lines().filter(|l| l.starts_with("run_")).count(),
            n,
            "--trigger {trigger}: {text}"
        );
    }
    let o = weft(&app, &["workflows", "list", "--search", "HELL"]).await;
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.contains(&wf.id) && l.contains("completed")),
        "found by name, with its last run: {text}"
    );
    let o = weft(&app, &["workflows", "list", "--search", "nope"]).await;
    assert!(stdout(&o).contains("no workflows"), "{}", stdout(&o));
    let o = weft(
        &app,
        &[
            "runs",
            "start",
            &wf.id,
            "--until",
            "answer",
            "--wait-ms",
            "5000",
            "--json",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let test: weft_model::Run = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(test.until.as_deref(), Some("answer"));
    let o = weft(&app, &["runs", "get", &test.id]).await;
    let text = stdout(&o);
    assert!(text.contains("test run: up to step `answer`"), "{text}");
    let o = weft(&app, &["runs", "start", &wf.id, "--until", "nope"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown step `nope`"), "{}", stderr(&o));
}

/// `weft keys create` makes a scoped, expiring key whose secret is printed
/// once; the key works within its scope only; `list` shows the scope, the
/// expiry and the last use; `revoke` ends it.
#[tokio::test]
async fn keys_are_created_with_scopes_listed_and_revoked() {
    let app = TestApp::builder().start().await;
    let made = weft(
        &app,
        &[
            "keys",
            "create",
            "ci",
            "--role",
            "member",
            "--scope",
            "workflows:read",
            "--expires-in",
            "1d",
            "--json",
        ],
    )
    .await;
    assert!(made.status.success(), "{}", stderr(&made));
    let key: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let secret = key["secret"].as_str().unwrap().to_owned();
    assert_eq!(key["scopes"], json!(["workflows:read"]));
    assert!(key["expires_at"].as_i64().is_some());

    let env = [
        ("WEFT_SERVER", app.base.as_str()),
        ("WEFT_API_KEY", secret.as_str()),
    ];
    let listed = run(&["workflows", "list"], &env).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let refused = run(&["credentials", "list"], &env).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("scope") && stderr(&refused).contains("credentials:read"),
        "the refusal names the scope: {}",
        stderr(&refused)
    );

    let table = weft(&app, &["keys", "list"]).await;
    let text = stdout(&table);
    let row = text.lines().find(|l| l.contains("ci")).unwrap();
    assert!(
        row.contains("workflows:read") && row.contains("active"),
        "{text}"
    );
    assert!(!row.contains("never"), "the key's use is shown: {text}");

    let id = key["id"].as_str().unwrap();
    let revoked = weft(&app, &["keys", "revoke", id]).await;
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let after = run(&["workflows", "list"], &env).await;
    assert_eq!(after.status.code(), Some(1), "{}", stderr(&after));
    let bad = weft(&app, &["keys", "create", "x", "--expires-in", "3w"]).await;
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("unit"), "{}", stderr(&bad));
}

/// `weft ops`: an operator creates a tenant with overrides from a TOML
/// file, shows and lists it, suspends it (its owner key is refused with the
/// reason), resumes it, invites its owner, and reads the audit; a tenant's
/// key is not an operator key.
#[tokio::test]
async fn ops_manages_tenants_with_the_operator_key() {
    let app = TestApp::builder().start().await;
    let op = [
        ("WEFT_SERVER", app.base.as_str()),
        ("WEFT_OPERATOR_KEY", app.operator.as_str()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let limits = dir.path().join("limits.toml");
    std::fs::write(&limits, "max_active_runs = 3\nrun_retention_days = 7\n").unwrap();
    let made = run(
        &[
            "ops",
            "tenants",
            "create",
            "acme",
            "--limits",
            limits.to_str().unwrap(),
            "--json",
        ],
        &op,
    )
    .await;
    assert!(made.status.success(), "{}", stderr(&made));
    let t: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    let (id, owner) = (
        t["id"].as_str().unwrap().to_owned(),
        t["owner_key"].as_str().unwrap().to_owned(),
    );
    assert_eq!(t["limits"]["max_active_runs"], json!(3), "{t}");

    let shown = run(&["ops", "tenants", "show", &id], &op).await;
    assert!(stdout(&shown).contains("acme"), "{}", stdout(&shown));
    let listed = run(&["ops", "tenants", "list"], &op).await;
    assert!(stdout(&listed).contains(&id), "{}", stdout(&listed));

    let owner_env = [
        ("WEFT_SERVER", app.base.as_str()),
        ("WEFT_API_KEY", owner.as_str()),
    ];
    let s = run(
        &["ops", "tenants", "suspend", &id, "--reason", "invoice 9"],
        &op,
    )
    .await;
    assert!(s.status.success(), "{}", stderr(&s));
    let refused = run(&["workflows", "list"], &owner_env).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("tenant_suspended") && stderr(&refused).contains("invoice 9"),
        "{}",
        stderr(&refused)
    );
    let r = run(&["ops", "tenants", "resume", &id], &op).await;
    assert!(r.status.success(), "{}", stderr(&r));
    let back = run(&["workflows", "list"], &owner_env).await;
    assert!(back.status.success(), "{}", stderr(&back));

    let inv = run(
        &["ops", "tenants", "invite", &id, "--email", "olga@acme.test"],
        &op,
    )
    .await;
    assert!(inv.status.success(), "{}", stderr(&inv));
    assert!(stdout(&inv).contains("token"), "{}", stdout(&inv));

    let audit = run(&["ops", "audit"], &op).await;
    for action in ["tenant.create", "tenant.suspend", "tenant.resume"] {
        assert!(
            stdout(&audit).contains(action),
            "{action}: {}",
            stdout(&audit)
        );
    }
    // A tenant's key is refused on the operator's commands.
    let wrong = run(
        &["ops", "tenants", "list"],
        &[
            ("WEFT_SERVER", app.base.as_str()),
            ("WEFT_OPERATOR_KEY", owner.as_str()),
        ],
    )
    .await;
    assert_eq!(wrong.status.code(), Some(1), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("wrong_principal"),
        "{}",
        stderr(&wrong)
    );
}
