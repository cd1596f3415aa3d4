//! The store's own threads: how many, and that they stop on `close`, on drop
//! and when opening fails. Alone in its test binary, so that no other test's
//! store is counted.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};
use weft_store::{Error, Store};
use weft_store_sqlite::{Options, Sqlite};

/// This process's threads named `weft-sqlite-*` (as the kernel shortens them).
fn store_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("weft-sqlite-"))
        .count()
}

/// Waits (a few seconds at most) for the store threads to be `n`.
async fn until_threads(n: usize) {
    let start = Instant::now();
    while store_threads() != n {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{} store threads, expected {n}",
            store_threads()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn threads_stop_on_close_on_drop_and_on_a_failed_open() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        readers: 2,
        ..Options::new(dir.path().join("weft.db"))
    };

    // close: joins the writer and the readers; calls after it are refused.
    let store = Sqlite::open(&options).await.unwrap();
    assert_eq!(store_threads(), 3, "one writer, two readers");
    store.ping().await.unwrap();
    store.close().await;
    assert_eq!(store_threads(), 0, "close joined every thread");
    store.close().await;
    assert!(matches!(store.ping().await, Err(Error::Unavailable(_))));
    assert!(matches!(
        store.state_set("t", "p", "k", b"v").await,
        Err(Error::Unavailable(_))
    ));
    drop(store);

    // Calls racing close are answered (done or refused), never left waiting.
    let store = Arc::new(Sqlite::open(&options).await.unwrap());
    let calls: Vec<_> = (0..200)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                if n % 2 == 0 {
                    store.state_set("t", "p", &format!("k{n}"), b"v").await
                } else {
                    store.state_get("t", "p", "k0").await.map(|_| ())
                }
            })
        })
        .collect();
    store.close().await;
    for call in calls {
        let done = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("every call is answered")
            .unwrap();
        assert!(
            matches!(done, Ok(()) | Err(Error::Unavailable(_))),
            "{done:?}"
        );
    }
    drop(store);
    assert_eq!(store_threads(), 0);

    // drop: the queues close and the threads stop by themselves...
    let store = Sqlite::open(&options).await.unwrap();
    assert_eq!(store_threads(), 3);
    store.state_set("t", "p", "k", b"v").await.unwrap();
    drop(store);
    until_threads(0).await;
    // ...and a temporary store waits for them, then removes its directory.
    let store = Sqlite::temporary().await.unwrap();
    assert_eq!(store_threads(), 5, "one writer, four readers by default");
    store.state_set("t", "p", "k", b"v").await.unwrap();
    drop(store);
    assert_eq!(store_threads(), 0);

    // A failed open leaves no thread behind.
    let missing = Options::new(dir.path().join("no-such-dir").join("weft.db"));
    match Sqlite::open(&missing).await {
        Err(Error::Unavailable(m)) => assert!(m.contains("opening"), "{m}"),
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
    until_threads(0).await;
}
