//! Group commit: run commits queued behind each other share one transaction
//! on the writer thread, each in a savepoint. A commit that fails (a lost
//! race, a taken id, a missing parent half-way through) is answered with its
//! own error and leaves nothing; the others in its transaction commit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rusqlite::Connection;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use weft_store::{Commit, Error, Store};
use weft_store_sqlite::{Options, Sqlite};
use weft_types::{Run, Status, Step, Trigger};

fn run(id: &str, seq: i64) -> Run {
    Run {
        tenant_id: "ten_a".into(),
        id: id.into(),
        workflow_id: "wf_1".into(),
        version: 1,
        status: Status::Running,
        trigger: Trigger::Webhook,
        input: json!({ "id": id }),
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq,
        created_at: 1_000,
        updated_at: 1_000,
        finished_at: None,
        until: None,
    }
}

/// A new run with one due step.
fn create(id: &str) -> Commit {
    let r = run(id, 1);
    let mut s = Step::new(&r, "a", Status::Pending, 1_000);
    s.due_at = Some(2_000);
    Commit {
        runs: vec![(r, None)],
        steps: vec![s],
        ..Commit::default()
    }
}

/// What each queued commit is, and what it must end as.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A new run: committed.
    Good,
    /// An update of `base` from a seq it is not at: `Stale`.
    Stale,
    /// `base` inserted again: `Duplicate`.
    Taken,
    /// A new run, then a step of a run that does not exist: `NotFound`,
    /// and the run it inserted first is rolled back.
    HalfWay,
}

fn commit_of(kind: Kind, n: usize) -> Commit {
    match kind {
        Kind::Good => create(&format!("run_{n}")),
        Kind::Stale => Commit {
            runs: vec![(run("base", 9), Some(5))],
            ..Commit::default()
        },
        Kind::Taken => create("base"),
        Kind::HalfWay => {
            let mut c = create(&format!("run_{n}"));
            let orphan = run("missing", 1);
            c.steps
                .push(Step::new(&orphan, "b", Status::Pending, 1_000));
            c
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_in_a_group_leaves_nothing_and_the_others_commit() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    let store = Arc::new(Sqlite::open(&options).await.unwrap());
    store.commit(&create("base")).await.unwrap();

    // Hold the file's write lock from a connection of our own, so that the
    // store's writer waits (busy_timeout) while the commits below queue up
    // behind it; released, it takes them in groups.
    let lock = Connection::open(&options.path).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let kinds = [
        Kind::Good,
        Kind::Stale,
        Kind::Good,
        Kind::Taken,
        Kind::HalfWay,
    ];
    let mut calls = Vec::new();
    for n in 0..200 {
        let kind = kinds[n % kinds.len()];
        let store = store.clone();
        calls.push((
            n,
            kind,
            tokio::spawn(async move { store.commit(&commit_of(kind, n)).await }),
        ));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.execute_batch("COMMIT").unwrap();

    for (n, kind, call) in calls {
        let result = call.await.unwrap();
        let id = format!("run_{n}");
        match kind {
            Kind::Good => {
                assert_eq!(result, Ok(()), "commit {n}");
                let state = store.load_run("ten_a", &id).await.unwrap().unwrap();
                assert_eq!(state.steps.len(), 1, "{id}: its step");
            }
            Kind::Stale => assert!(matches!(result, Err(Error::Stale(_))), "{n}: {result:?}"),
            Kind::Taken => {
                assert!(
                    matches!(result, Err(Error::Duplicate(_))),
                    "{n}: {result:?}"
                );
            }
            Kind::HalfWay => {
                assert_eq!(result, Err(Error::NotFound("run")), "commit {n}");
                assert_eq!(
                    store.load_run("ten_a", &id).await.unwrap(),
                    None,
                    "{id}: rolled back with its failed step"
                );
            }
        }
    }
    let base = store.load_run("ten_a", "base").await.unwrap().unwrap();
    assert_eq!(base.run.seq, 1, "no stale update applied");
    assert_eq!(base.run.input, json!({ "id": "base" }));
    assert_eq!(store.due_steps(2_000, 1_000).await.unwrap().len(), 81);
    store.close().await;
}

/// What a group committed is in the file when its callers are answered:
/// another connection to the file reads every commit that returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_commit_of_a_group_is_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    let store = Arc::new(Sqlite::open(&options).await.unwrap());
    let mut calls = Vec::new();
    for n in 0..100 {
        let store = store.clone();
        calls.push(tokio::spawn(async move {
            store.commit(&create(&format!("run_{n}"))).await
        }));
    }
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let raw = Connection::open(&options.path).unwrap();
    let n: i64 = raw
        .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100);
    store.close().await;
}
