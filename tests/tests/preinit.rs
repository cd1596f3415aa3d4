//! Pre-initialised connectors: a component that exports `init` has it run once
//! per digest at load, and every step starts from the snapshot taken after it
//! (`host/sandbox/src/preinit.rs`). The S10 side (nothing one step does is
//! visible to the next, with snapshots) is in `isolation.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::time::Duration;
use weft_tests::{Built, TestSandbox, artifact, output};

/// The fixture with its `init` mode patched (see tests/fixtures/preinit): a
/// different component, with its own digest.
fn preinit_with_mode(mode: &str) -> Vec<u8> {
    let mut bytes = artifact("fixture_preinit");
    let from = b"MODE:ok_________";
    let mut to = format!("MODE:{mode}").into_bytes();
    to.resize(from.len(), b'_');
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("the fixture's MODE bytes");
    bytes[at..at + from.len()].copy_from_slice(&to);
    bytes
}

async fn observe(sandbox: &Built, plugin: &weft_sandbox::Plugin) -> Value {
    let out = sandbox
        .run(plugin, "observe", json!({}), Default::default())
        .await;
    output(&out).clone()
}

#[tokio::test]
async fn init_runs_once_per_digest_and_every_step_starts_after_it() {
    let sandbox = TestSandbox::new().disk_cache().build();
    let plugin = sandbox.plugin("fixture_preinit").await;
    let stats = sandbox.cache_stats();
    assert_eq!((stats.snapshots, stats.compiled), (1, 1), "{stats:?}");
    assert!(
        sandbox
            .snapshot_artifact_path(&plugin.digest())
            .unwrap()
            .exists()
    );
    assert!(
        !sandbox.artifact_path(&plugin.digest()).unwrap().exists(),
        "only the snapshot is compiled and kept"
    );

    // Loading the same bytes again, and in-memory eviction, take no snapshot.
    sandbox.plugin("fixture_preinit").await;
    sandbox.evict_all();
    let again = sandbox.plugin("fixture_preinit").await;
    assert_eq!(
        again.digest(),
        plugin.digest(),
        "keyed by the original digest"
    );
    let stats = sandbox.cache_stats();
    assert_eq!(
        (stats.snapshots, stats.compiled, stats.disk_hits),
        (1, 1, 1),
        "{stats:?}"
    );

    let seen = observe(&sandbox, &plugin).await;
    assert_eq!(seen["init_runs"], 1, "the step sees init's work: {seen}");
    assert_eq!(seen["table_len"], 1000);
    assert_eq!(seen["table_sum"], (0..1000u64).map(|i| i * i).sum::<u64>());
    assert_eq!(
        seen["init_clock_secs"], 0,
        "init's clocks are frozen at the epoch"
    );
}

#[tokio::test]
async fn a_warm_restart_reads_the_snapshot_and_runs_no_init() {
    let first = TestSandbox::new().disk_cache().build();
    let plugin = first.plugin("fixture_preinit").await;
    let before = observe(&first, &plugin).await;

    let second = TestSandbox::new().disk_cache_of(&first).build();
    let plugin = second.plugin("fixture_preinit").await;
    let stats = second.cache_stats();
    assert_eq!(
        (
            stats.snapshots,
            stats.compiled,
            stats.disk_hits,
            stats.rejected
        ),
        (0, 0, 1, 0),
        "{stats:?}"
    );
    let after = observe(&second, &plugin).await;
    assert_eq!(after, before, "the same snapshot, randomness included");
}

#[tokio::test]
async fn a_tampered_snapshot_is_rejected_and_taken_again() {
    let first = TestSandbox::new().disk_cache().build();
    let plugin = first.plugin("fixture_preinit").await;
    let path = first.snapshot_artifact_path(&plugin.digest()).unwrap();
    let mut file = std::fs::read(&path).unwrap();
    let at = file.len() - 100;
    file[at] ^= 0x01;
    std::fs::write(&path, &file).unwrap();

    let second = TestSandbox::new().disk_cache_of(&first).build();
    let plugin = second.plugin("fixture_preinit").await;
    let stats = second.cache_stats();
    assert_eq!(
        (stats.rejected, stats.snapshots, stats.compiled),
        (1, 1, 1),
        "{stats:?}"
    );
    assert_eq!(observe(&second, &plugin).await["init_runs"], 1);
}

#[tokio::test]
async fn a_component_without_init_loads_as_before() {
    let sandbox = TestSandbox::new().disk_cache().build();
    let plugin = sandbox.plugin("fixture_trivial").await;
    let stats = sandbox.cache_stats();
    assert_eq!((stats.snapshots, stats.compiled), (0, 1), "{stats:?}");
    assert!(sandbox.artifact_path(&plugin.digest()).unwrap().exists());
    assert!(
        !sandbox
            .snapshot_artifact_path(&plugin.digest())
            .unwrap()
            .exists()
    );
    let out = sandbox
        .run(&plugin, "echo", json!({"a": 1}), Default::default())
        .await;
    assert_eq!(output(&out), &json!({"a": 1}));
}

/// Loads the fixture with `mode` and returns the load error's code and text.
async fn load_error(sandbox: &Built, mode: &str) -> (String, String) {
    match sandbox.load(&preinit_with_mode(mode)).await {
        Ok(_) => panic!("MODE:{mode} loaded"),
        Err(e) => (e.code().to_owned(), e.to_string()),
    }
}

#[tokio::test]
async fn a_failing_init_is_a_load_error_naming_the_connector_and_why() {
    let sandbox = TestSandbox::new()
        .options(|o| {
            o.limits.timeout = Duration::from_millis(500);
            o.limits.memory_bytes = 32 * 1024 * 1024;
        })
        .build();
    for (mode, why) in [
        ("trap", "init failed on purpose"),
        ("grow", "memory_limit"),
        ("loop", "deadline_exceeded"),
        ("print", "resource handle"),
    ] {
        let (code, text) = load_error(&sandbox, mode).await;
        assert_eq!(code, "init_failed", "{mode}: {text}");
        assert!(text.contains("connector `preinit`"), "{mode}: {text}");
        assert!(text.contains(why), "{mode}: {text}");
    }
    assert_eq!(sandbox.cache_stats().snapshots, 0);
    // The sandbox is still healthy, and a good build of it loads.
    let plugin = sandbox.plugin("fixture_preinit").await;
    assert_eq!(observe(&sandbox, &plugin).await["init_runs"], 1);
}
