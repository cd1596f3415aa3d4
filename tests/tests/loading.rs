//! Loading components (TEST-PLAN B1, B2, S5, S7, S13, R4): bad bytes, disabled
//! features, oversized shapes and components outside the `connector` world
//! are refused with a stable code and a message naming the problem, never a
//! panic; precompiled artifacts on disk are verified before they are used.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use weft_sandbox::{Error, Sandbox};
use weft_tests::{Built, TestSandbox, artifact, assert_healthy, wat};

/// Loads `bytes` and returns the refusal; fails the test if it loads.
async fn refused(sandbox: &Sandbox, what: &str, bytes: &[u8]) -> Error {
    match sandbox.load(bytes).await {
        Ok(p) => panic!("{what} loaded as {p:?}"),
        Err(e) => e,
    }
}

fn assert_refusal(e: &Error, what: &str, code: &str, names: &[&str]) {
    assert_eq!(e.code(), code, "{what}: {e}");
    let message = e.to_string();
    for n in names {
        assert!(
            message.contains(n),
            "{what}: the message should name `{n}`: {message}"
        );
    }
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

// ---------------------------------------------------------------- B1

#[tokio::test]
async fn b1_random_bytes_are_invalid_wasm() {
    let sandbox = TestSandbox::new().build();
    for (seed, len) in [(1, 0), (2, 3), (3, 64), (4, 4096), (5, 100_000)] {
        let bytes = noise(seed, len);
        let e = refused(&sandbox, "random bytes", &bytes).await;
        assert_refusal(
            &e,
            &format!("{len} random bytes"),
            "invalid_wasm",
            &["magic"],
        );
    }
    // Past the header, garbage must reach the validator and come back as its message.
    for seed in 10..20 {
        let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
        bytes.extend(noise(seed, 512));
        let e = refused(&sandbox, "a component header and noise", &bytes).await;
        assert_eq!(e.code(), "invalid_wasm", "seed {seed}: {e}");
        assert!(
            e.to_string().len() > "invalid_wasm: ".len() + 10,
            "seed {seed}: no validator message: {e}"
        );
    }
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn b1_truncated_component_is_invalid_wasm() {
    let sandbox = TestSandbox::new().build();
    let whole = artifact("fixture_trivial");
    for cut in [9, 100, whole.len() / 2, whole.len() - 1] {
        let e = refused(&sandbox, "a truncated component", &whole[..cut]).await;
        assert_refusal(
            &e,
            &format!("cut at {cut} of {}", whole.len()),
            "invalid_wasm",
            &[],
        );
        // The validator's message, saying the bytes stop short.
        let message = e.to_string();
        assert!(
            message.contains("unexpected end") || message.contains("out of bounds"),
            "cut at {cut}: the message should say the input ended early: {message}"
        );
    }
    // The whole thing is fine.
    sandbox.load(&whole).await.unwrap();
}

#[tokio::test]
async fn b1_wrong_magic_or_version_is_invalid_wasm() {
    let sandbox = TestSandbox::new().build();
    let mut bytes = artifact("fixture_trivial");
    bytes[..4].copy_from_slice(b"\x7fELF");
    let e = refused(&sandbox, "wrong magic", &bytes).await;
    assert_refusal(&e, "wrong magic", "invalid_wasm", &["magic"]);

    let mut bytes = artifact("fixture_trivial");
    bytes[4..8].copy_from_slice(&[0x0e, 0x00, 0x02, 0x00]);
    let e = refused(&sandbox, "unknown version", &bytes).await;
    assert_refusal(&e, "unknown version", "invalid_wasm", &["version"]);
}

#[tokio::test]
async fn b1_core_module_is_not_a_component() {
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "core-module.wat", &wat("core-module.wat")).await;
    assert_refusal(
        &e,
        "core-module.wat",
        "not_a_component",
        &["core WebAssembly module", "wasm32-wasip2"],
    );
    // The feature fixtures as bare modules are refused the same way, before any feature check.
    for f in ["threads.wat", "memory64.wat", "big-memory.wat"] {
        assert_eq!(
            refused(&sandbox, f, &wat(f)).await.code(),
            "not_a_component",
            "{f}"
        );
    }
}

// ---------------------------------------------------------------- B2, S3, S5: features and shapes

#[tokio::test]
async fn b2_disabled_features_are_refused_naming_the_feature() {
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "threads", &wat("threads-component.wat")).await;
    assert_refusal(
        &e,
        "threads-component.wat",
        "invalid_wasm",
        &["threads", "shared"],
    );
    let e = refused(&sandbox, "memory64", &wat("memory64-component.wat")).await;
    assert_refusal(&e, "memory64-component.wat", "invalid_wasm", &["memory64"]);
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn b2_memory_bigger_than_allowed_is_refused_at_load() {
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "big memory", &wat("big-memory-component.wat")).await;
    // 20000 pages of 64 KiB against the engine's 256 MiB maximum.
    let max = sandbox.options().engine.max_memory_bytes;
    assert_eq!(max, 256 * 1024 * 1024);
    assert_refusal(
        &e,
        "big-memory-component.wat",
        "memory_limit",
        &["memory", "1310720000", "0x10000000"],
    );
    assert!(matches!(e, Error::Limit { .. }), "{e:?}");
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn s5_too_many_core_instances_are_refused_at_load() {
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "many instances", &wat("many-instances.wat")).await;
    let max = sandbox.options().engine.core_instances_per_component;
    assert_refusal(
        &e,
        "many-instances.wat",
        "instance_limit",
        &["200 core module instances", &max.to_string()],
    );
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn s5_table_grow_fixture_does_not_fit_the_world() {
    // This fixture only exports `grow: func()`, so it never gets as far as running:
    // it is refused for what it is. The table limit itself is exercised at run
    // time by a world-fitting WAT connector in sandbox_limits.rs.
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "table-grow", &wat("table-grow.wat")).await;
    assert_refusal(
        &e,
        "table-grow.wat",
        "world_mismatch",
        &["missing export `weft:plugin/plugin@0.1.x`", "grow"],
    );
}

#[tokio::test]
async fn s5_table_declared_over_the_limit_is_refused_at_load() {
    let sandbox = TestSandbox::new().build();
    let limit = sandbox.options().limits.table_elements;
    let text = format!(
        "(component (core module $m (table {} funcref)) (core instance (instantiate $m)))",
        limit * 2
    );
    let e = refused(&sandbox, "a huge table", &wat::parse_str(&text).unwrap()).await;
    assert_refusal(&e, "a table of twice the limit", "table_limit", &["table"]);
}

#[tokio::test]
async fn oversized_component_is_refused_before_compilation() {
    let sandbox = TestSandbox::new()
        .options(|o| o.engine.component_bytes = 4096)
        .build();
    let bytes = artifact("fixture_trivial");
    let e = refused(&sandbox, "a component over the size limit", &bytes).await;
    assert_refusal(
        &e,
        "oversized",
        "too_large",
        &[&bytes.len().to_string(), "4096"],
    );
    assert_eq!(sandbox.cache_stats().compiled, 0, "nothing was compiled");
}

// ---------------------------------------------------------------- S7, R4: the world

#[tokio::test]
async fn s7_component_importing_wasi_http_is_refused_naming_the_import() {
    let sandbox = TestSandbox::new().build();
    let e = refused(&sandbox, "wasi:http", &wat("imports-wasi-http.wat")).await;
    assert_refusal(
        &e,
        "imports-wasi-http.wat",
        "world_mismatch",
        &[
            "wasi:http/outgoing-handler@0.2.3",
            "not granted",
            "weft:plugin/http",
        ],
    );
    assert_healthy(&sandbox).await;
}

/// `wasi:sockets` is linked (the Python and JavaScript toolchains import it) and
/// every use of it is refused, while nothing listening on loopback is reached:
/// TCP connect, UDP send, name lookup and listen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_wasi_sockets_is_linked_and_every_call_is_refused() {
    let sandbox = TestSandbox::new().build();
    let plugin = sandbox.plugin("fixture_sockets").await;
    let denied: Vec<_> = plugin
        .shape()
        .imports
        .iter()
        .filter(|i| i.origin == weft_sandbox::Origin::Denied)
        .map(|i| i.name.clone())
        .collect();
    assert!(
        denied.iter().any(|n| n.starts_with("wasi:sockets/tcp@0.2")),
        "the sockets imports are accepted as denied: {:?}",
        plugin.shape().imports
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let tcp_addr = listener.local_addr().unwrap().to_string();
    let udp_addr = udp.local_addr().unwrap().to_string();
    // What the guest's std makes of the refusal: `access-denied` for the
    // socket calls; a lookup refused by the host reads as a failed lookup.
    for (action, addr, refused) in [
        ("connect", tcp_addr.as_str(), "ermission denied"),
        ("udp", udp_addr.as_str(), "ermission denied"),
        ("resolve", "localhost:80", "failed to lookup address"),
        ("listen", "127.0.0.1:0", "ermission denied"),
    ] {
        let out = sandbox
            .invoke(
                &plugin,
                weft_sandbox::Invocation::new(action, json!({ "addr": addr }).to_string()),
            )
            .await;
        let f = weft_tests::failure(&out);
        assert_eq!(f.kind.as_str(), "permanent", "{action}: {f}");
        assert!(
            f.message.contains(refused),
            "{action}: refused ({refused}): {}",
            f.message
        );
    }
    // Nothing reached the listeners.
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "a TCP connection reached the listener");
    let mut buf = [0u8; 16];
    let received =
        tokio::time::timeout(std::time::Duration::from_millis(200), udp.recv(&mut buf)).await;
    assert!(received.is_err(), "a datagram reached the UDP socket");
    assert_healthy(&sandbox).await;
}

#[tokio::test]
async fn wrong_world_version_is_refused_listing_imports_and_exports() {
    let sandbox = TestSandbox::new().build();
    let e = refused(
        &sandbox,
        "wrong version",
        &artifact("fixture_wrong_version"),
    )
    .await;
    assert_refusal(
        &e,
        "fixture_wrong_version",
        "world_mismatch",
        &["weft:plugin/types@9.0.0", "weft:plugin/plugin@9.0.0"],
    );
    let Error::Misfit(misfit) = &e else {
        panic!("expected a misfit, got {e:?}")
    };
    assert!(
        misfit
            .problems
            .iter()
            .any(|p| p.starts_with("import `weft:plugin/types@9.0.0`")),
        "{misfit:?}"
    );
    assert!(
        misfit
            .problems
            .iter()
            .any(|p| p.starts_with("export `weft:plugin/plugin@9.0.0`")),
        "{misfit:?}"
    );
}

// ---------------------------------------------------------------- S13: the disk cache

async fn echo_works(sandbox: &Built) {
    let plugin = sandbox.plugin("fixture_trivial").await;
    let out = sandbox
        .run(&plugin, "echo", json!({"cached": true}), Default::default())
        .await;
    assert_eq!(out.result.unwrap(), json!({"cached": true}));
}

/// Sandboxes started at once on a fresh cache directory (threads here; worker
/// processes on one disk alike) agree on its artifact key: one makes it, the
/// others read it, none fails, and what one compiles the others load verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxes_started_at_once_on_a_fresh_cache_share_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("components");
    let started: Vec<_> = (0..4)
        .map(|_| {
            let cache = cache.clone();
            std::thread::spawn(move || {
                Sandbox::new(weft_sandbox::Options {
                    cache_dir: Some(cache),
                    ..Default::default()
                })
            })
        })
        .collect();
    let sandboxes: Vec<Sandbox> = started
        .into_iter()
        .map(|t| {
            t.join()
                .unwrap()
                .expect("a sandbox on the shared directory starts")
        })
        .collect();
    let bytes = artifact("fixture_trivial");
    sandboxes[0].load(&bytes).await.unwrap();
    for other in &sandboxes[1..] {
        other.load(&bytes).await.unwrap();
        let stats = other.cache_stats();
        assert_eq!(
            (stats.disk_hits, stats.compiled, stats.rejected),
            (1, 0, 0),
            "the first one's artifact verifies with the same key: {stats:?}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[tokio::test]
async fn s13_verified_artifact_is_reused_and_a_tampered_one_is_rejected() {
    let first = TestSandbox::new().disk_cache().build();
    let plugin = first.plugin("fixture_trivial").await;
    let digest = plugin.digest();
    let path = first
        .artifact_path(&digest)
        .expect("a disk cache is configured");
    assert!(path.exists(), "{} was not written", path.display());
    assert_eq!(first.cache_stats().compiled, 1);

    // Forgetting the in-memory plugin and loading again in the same sandbox uses the disk.
    first.evict_all();
    echo_works(&first).await;
    assert_eq!(
        (first.cache_stats().compiled, first.cache_stats().disk_hits),
        (1, 1)
    );

    // A restarted worker on the same disk: a verified hit, no compilation.
    let second = TestSandbox::new().disk_cache_of(&first).build();
    echo_works(&second).await;
    let stats = second.cache_stats();
    assert_eq!(
        (stats.disk_hits, stats.compiled, stats.rejected),
        (1, 0, 0),
        "{stats:?}"
    );

    // Flip one byte of the precompiled code: the next worker must not run it.
    let mut file = std::fs::read(&path).unwrap();
    let at = file.len() - 100;
    file[at] ^= 0x01;
    std::fs::write(&path, &file).unwrap();
    let third = TestSandbox::new().disk_cache_of(&first).build();
    echo_works(&third).await;
    let stats = third.cache_stats();
    assert_eq!(
        (stats.rejected, stats.compiled, stats.disk_hits),
        (1, 1, 0),
        "{stats:?}"
    );

    // The rejected file was replaced by a good one.
    let fourth = TestSandbox::new().disk_cache_of(&first).build();
    echo_works(&fourth).await;
    let stats = fourth.cache_stats();
    assert_eq!(
        (stats.disk_hits, stats.compiled, stats.rejected),
        (1, 0, 0),
        "{stats:?}"
    );
}

#[tokio::test]
async fn s13_artifact_for_other_bytes_is_rejected() {
    // An artifact moved under another component's digest (a valid file, a valid
    // MAC for *its* digest) must not be loaded in place of the real component.
    let first = TestSandbox::new().disk_cache().build();
    let trivial = first.plugin("fixture_trivial").await;
    let hostile = first.plugin("fixture_hostile").await;
    let trivial_path = first.artifact_path(&trivial.digest()).unwrap();
    let hostile_path = first.artifact_path(&hostile.digest()).unwrap();
    std::fs::copy(&hostile_path, &trivial_path).unwrap();

    let second = TestSandbox::new().disk_cache_of(&first).build();
    let plugin = second.plugin("fixture_trivial").await;
    assert_eq!(plugin.manifest().name, "trivial");
    let stats = second.cache_stats();
    assert_eq!((stats.rejected, stats.compiled), (1, 1), "{stats:?}");
    echo_works(&second).await;
}

/// `describe` runs with a frozen clock and fixed randomness: a component
/// that reads them (as a time bomb widening its hosts on a date would)
/// describes itself the same at every load, in every process.
#[tokio::test]
async fn describe_sees_a_frozen_clock_and_fixed_randomness() {
    let bytes = weft_tests::artifact("fixture_clocky");
    let first = TestSandbox::new().build().load(&bytes).await.unwrap();
    let again = TestSandbox::new().build().load(&bytes).await.unwrap();
    assert!(
        first.manifest().description.starts_with("clock 0 random "),
        "{}",
        first.manifest().description
    );
    assert!(first.manifest().capabilities.hosts.is_empty());
    assert_eq!(first.manifest(), again.manifest());
}
