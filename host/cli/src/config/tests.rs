#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::env::{ALIASES, Kind, NOT_SETTINGS, name_of, vars};
use super::*;
use std::collections::BTreeSet;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_the_embedded_mode() {
    let s = Settings::from_parts(None, []).unwrap();
    assert_eq!(s, Settings::default());
    assert!(!is_postgres(&s.database.url));
    assert!(s.queue.url.is_empty());
    assert!(s.redis.url.is_empty());
    assert_eq!(
        sqlite_path(&s.database.url, Path::new("/d")),
        Some(PathBuf::from("/d/weft.db"))
    );
}

#[test]
fn environment_wins_over_the_file() {
    let file =
        "[worker]\nconcurrency = 8\n[limits]\napi_rate = 5.0\n[queue]\nqueue_type = \"quorum\"\n";
    let s = Settings::from_parts(
        Some(("w.toml", file)),
        env(&[
            ("WEFT_WORKER_CONCURRENCY", "4"),
            ("WEFT_QUEUE_QUEUE_TYPE", "classic"),
            ("WEFT_PLUGINS", "a.wasm, b"),
            ("WEFT_LIMITS_API_RATE", "2.5"),
            ("WEFT_SERVER", "http://ignored"),
            ("WEFT_SANDBOX_LIMITS_TIMEOUT_MS", "1500"),
        ]),
    )
    .unwrap();
    assert_eq!(s.worker.concurrency, 4);
    assert_eq!(s.queue.queue_type, weft_queue_amqp::QueueType::Classic);
    assert_eq!(s.plugins, vec![PathBuf::from("a.wasm"), PathBuf::from("b")]);
    assert!((s.limits.api_rate - 2.5).abs() < f64::EPSILON);
    assert_eq!(
        s.sandbox.limits.timeout,
        std::time::Duration::from_millis(1500)
    );
}

#[test]
fn the_render_budget_is_set_in_the_file_or_the_environment() {
    assert_eq!(
        Settings::default().worker.limits,
        weft_engine::RunLimits::default()
    );
    let file = "[worker.limits]\nrender_bytes = 4096\nrender_nodes = 100\n";
    let s = Settings::from_parts(
        Some(("w.toml", file)),
        env(&[("WEFT_WORKER_LIMITS_RENDER_NODES", "50")]),
    )
    .unwrap();
    assert_eq!(
        s.worker.limits,
        weft_engine::RunLimits {
            render_bytes: 4096,
            render_nodes: 50,
        }
    );
    assert_eq!(vars()["WEFT_WORKER_LIMITS_RENDER_BYTES"].kind, Kind::Int);
    let e = Settings::from_parts(Some(("w.toml", "[worker.limits]\nrender_byte = 1\n")), [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("render_byte"), "{e}");
}

#[test]
fn unknown_keys_are_errors_naming_them() {
    let e = Settings::from_parts(Some(("w.toml", "[database]\nurll = \"x\"\n")), [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("w.toml") && e.contains("urll"), "{e}");
    let e = Settings::from_parts(None, env(&[("WEFT_DATABSE_URL", "x")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("WEFT_DATABSE_URL") && e.contains("did you mean WEFT_DATABASE_URL?"),
        "{e}"
    );
    // Variables of the test scripts are not settings either.
    let e = Settings::from_parts(None, env(&[("WEFT_TEST_DATABASE_URL", "x")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("WEFT_TEST_DATABASE_URL"), "{e}");
    let e = Settings::from_parts(None, env(&[("WEFT_WORKER_CONCURRENCY", "many")]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("WEFT_WORKER_CONCURRENCY") && e.contains("integer"),
        "{e}"
    );
    let e = Settings::from_parts(None, env(&[("WEFT_QUEUE_QUEUE_TYPE", "fancy")]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("fancy"), "{e}");
    let e = Settings::from_parts(Some(("w.toml", "listen = 3")), [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("w.toml") && e.contains("listen"), "{e}");
    // The binary's wiring is not configuration.
    let e = Settings::from_parts(Some(("w.toml", "[worker]\noutbox = true\n")), [])
        .unwrap_err()
        .to_string();
    assert!(e.contains("outbox"), "{e}");
}

/// A value for `var` that differs from its default.
fn other_value(var: &super::env::Var) -> String {
    let default = serde_json::to_value(Settings::default()).unwrap();
    let mut d = &default;
    for p in &var.path {
        d = &d[p];
    }
    match var.kind {
        Kind::Int => (d.as_u64().unwrap() + 1).to_string(),
        Kind::Float => (d.as_f64().unwrap() + 1.5).to_string(),
        Kind::Bool => (!d.as_bool().unwrap()).to_string(),
        // A list of addresses takes an address.
        Kind::List if var.path.last().is_some_and(|k| k == "trusted_proxies") => {
            "10.0.0.0/8".into()
        }
        Kind::List => "x".into(),
        Kind::Str if d.as_str().is_some_and(|s| s.parse::<SocketAddr>().is_ok()) => {
            "0.0.0.0:9".into()
        }
        Kind::Str if d.as_str() == Some("quorum") => "classic".into(),
        Kind::Str if d.as_str() == Some("x-forwarded-for") => "forwarded".into(),
        Kind::Str => "s".into(),
    }
}

#[test]
fn every_key_has_a_variable_that_reaches_it() {
    let all = vars();
    assert!(all.len() >= 50, "{} variables", all.len());
    for (name, var) in all {
        let v = other_value(var);
        let s = Settings::from_parts(None, env(&[(name, &v)]))
            .unwrap_or_else(|e| panic!("{name}={v}: {e}"));
        assert_ne!(s, Settings::default(), "{name} changed nothing");
        // The same key in a file gives the same settings.
        if var.alias_of.is_none() {
            let mut table = toml::Table::new();
            let mut t = &mut table;
            for p in &var.path[..var.path.len() - 1] {
                t = t
                    .entry(p.clone())
                    .or_insert(toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .unwrap();
            }
            let value = toml::Value::try_from(
                serde_json::to_value(&s)
                    .unwrap()
                    .pointer(&format!("/{}", var.path.join("/")))
                    .unwrap(),
            )
            .unwrap();
            t.insert(var.path.last().unwrap().clone(), value);
            let text = toml::to_string(&table).unwrap();
            let from_file = Settings::from_parts(Some(("f.toml", &text)), []).unwrap();
            assert_eq!(from_file, s, "{name}: {text}");
        }
    }
}

#[test]
fn variable_names_are_the_key_paths_and_distinct() {
    assert_eq!(
        name_of("worker.lease_grace_ms"),
        "WEFT_WORKER_LEASE_GRACE_MS"
    );
    let all = vars();
    for (name, var) in all {
        let path = var.alias_of.clone().unwrap_or_else(|| var.path.join("."));
        assert_eq!(*name, name_of(&path));
        assert!(!NOT_SETTINGS.contains(&name.as_str()), "{name}");
    }
    // No two keys fold into one name (`a.b_c` and `a_b.c`).
    let leaves: BTreeSet<String> = all
        .values()
        .filter(|v| v.alias_of.is_none())
        .map(|v| v.path.join("."))
        .collect();
    let names: BTreeSet<String> = leaves.iter().map(|p| name_of(p)).collect();
    assert_eq!(leaves.len(), names.len());
    // The names documented before the sections became the crates' options.
    for name in [
        "WEFT_LISTEN",
        "WEFT_BASE_URL",
        "WEFT_DATA_DIR",
        "WEFT_PLUGINS",
        "WEFT_CONCURRENCY",
        "WEFT_DATABASE_URL",
        "WEFT_DATABASE_MAX_CONNECTIONS",
        "WEFT_QUEUE_URL",
        "WEFT_QUEUE_QUEUE_TYPE",
        "WEFT_QUEUE_PREFIX",
        "WEFT_QUEUE_MAX_DELIVERIES",
        "WEFT_QUEUE_ACK_TIMEOUT_MS",
        "WEFT_REDIS_URL",
        "WEFT_DATABASE_TLS_CA_FILE",
        "WEFT_DATABASE_TLS_CLIENT_CERT_FILE",
        "WEFT_DATABASE_TLS_CLIENT_KEY_FILE",
        "WEFT_QUEUE_TLS_CA_FILE",
        "WEFT_QUEUE_TLS_CLIENT_CERT_FILE",
        "WEFT_QUEUE_TLS_CLIENT_KEY_FILE",
        "WEFT_REDIS_TLS_CA_FILE",
        "WEFT_REDIS_TLS_CLIENT_CERT_FILE",
        "WEFT_REDIS_TLS_CLIENT_KEY_FILE",
        "WEFT_LIMITS_API_RATE",
        "WEFT_LIMITS_API_BURST",
        "WEFT_LIMITS_WEBHOOK_RATE",
        "WEFT_LIMITS_WEBHOOK_BURST",
        "WEFT_LIMITS_MAX_RUNNING_STEPS",
        "WEFT_LIMITS_MAX_ACTIVE_RUNS",
        "WEFT_SHUTDOWN_GRACE_MS",
        "WEFT_WORKER_DEFAULT_STEP_TIMEOUT_MS",
        "WEFT_WORKER_LEASE_GRACE_MS",
        "WEFT_WORKER_SWEEP_INTERVAL_MS",
        "WEFT_WORKER_STALE_AFTER_MS",
        "WEFT_SANDBOX_ALLOW_PRIVATE_NETWORK",
    ] {
        assert!(all.contains_key(name), "{name} is no longer read");
    }
}

#[test]
fn older_key_names_still_work_in_the_file_and_the_environment() {
    let file = "concurrency = 8\n[limits]\nmax_running_steps = 3\nmax_active_runs = 9\n\
                [shutdown]\ngrace_ms = 1234\n[sandbox]\nallow_private_network = true\n";
    let s = Settings::from_parts(Some(("old.toml", file)), []).unwrap();
    assert_eq!(s.worker.concurrency, 8);
    assert_eq!(s.worker.max_running_steps, 3);
    assert_eq!(s.worker.max_active_runs, 9);
    assert_eq!(s.worker.shutdown_grace_ms, 1234);
    assert!(s.sandbox.egress.allow_private);
    let s = Settings::from_parts(
        None,
        env(&[("WEFT_CONCURRENCY", "5"), ("WEFT_SHUTDOWN_GRACE_MS", "7")]),
    )
    .unwrap();
    assert_eq!(s.worker.concurrency, 5);
    assert_eq!(s.worker.shutdown_grace_ms, 7);
    // An older name and its new one at once is a mistake, named.
    let e = Settings::from_parts(
        Some(("w.toml", "concurrency = 1\n[worker]\nconcurrency = 2\n")),
        [],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("`concurrency`") && e.contains("worker.concurrency"),
        "{e}"
    );
    let e = Settings::from_parts(
        None,
        env(&[("WEFT_CONCURRENCY", "1"), ("WEFT_WORKER_CONCURRENCY", "2")]),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("WEFT_CONCURRENCY"), "{e}");
    assert_eq!(ALIASES.len(), 5);
}

#[test]
fn secrets_in_urls_are_masked() {
    assert_eq!(
        mask_url("postgres://weft:hunter2@db:5432/weft"),
        "postgres://weft:***@db:5432/weft"
    );
    assert_eq!(mask_url("redis://db:6379"), "redis://db:6379");
    let mut s = Settings::default();
    s.queue.url = "amqp://u:secret@mq/%2f".into();
    s.redis.url = "redis://u:secret2@r:6379".into();
    let shown = s.to_toml_masked();
    assert!(
        !shown.contains("secret") && shown.contains("amqp://u:***@mq"),
        "{shown}"
    );
    // What `weft config` prints reads back as the same settings.
    let back = Settings::from_parts(
        Some(("shown.toml", &Settings::default().to_toml_masked())),
        [],
    )
    .unwrap();
    assert_eq!(back, Settings::default());
}

#[test]
fn delivery_retention_below_the_replay_window_is_refused_naming_both_options() {
    // L3: a signed delivery replays for twice the tolerance (the timestamp may
    // be that far off either way); its id must be remembered that long.
    for (file, vars) in [
        ("[worker]\nwebhook_delivery_retention_ms = 0\n", vec![]),
        (
            "[worker]\nmax_webhook_tolerance_ms = 600000\n",
            vec![("WEFT_WORKER_WEBHOOK_DELIVERY_RETENTION_MS", "1199999")],
        ),
        (
            "[worker]\nwebhook_delivery_retention_ms = 3600000\n",
            vec![],
        ),
    ] {
        let e = Settings::from_parts(Some(("w.toml", file)), env(&vars))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("worker.webhook_delivery_retention_ms")
                && e.contains("worker.max_webhook_tolerance_ms"),
            "{file} {vars:?}: {e}"
        );
    }
    // Exactly the window, set across file and environment, is accepted.
    let s = Settings::from_parts(
        Some((
            "w.toml",
            "[worker]\nwebhook_delivery_retention_ms = 1200000\n",
        )),
        env(&[("WEFT_WORKER_MAX_WEBHOOK_TOLERANCE_MS", "600000")]),
    )
    .unwrap();
    assert_eq!(s.worker.webhook_delivery_retention_ms, 1_200_000);
}
