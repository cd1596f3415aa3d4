//! What only a database file can show: data outlives the store, migrations
//! apply once, a corrupt row is an error (not a panic), two stores share a file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rusqlite::Connection;
use serde_json::json;
use std::path::Path;
use weft_store::{Commit, Error, Page, RunFilter, Store};
use weft_store_sqlite::{Options, Sqlite};
use weft_types::{Run, Status, Step, Tenant, Trigger, Workflow, WorkflowVersion};

fn run(id: &str) -> Run {
    Run {
        tenant_id: "ten_a".into(),
        id: id.into(),
        workflow_id: "wf_1".into(),
        version: 1,
        status: Status::Running,
        trigger: Trigger::Webhook,
        input: json!({ "n": 1.5e300, "s": "é" }),
        output: None,
        error: None,
        response: Some(weft_types::Response {
            status: 200,
            headers: Default::default(),
            body: json!(null),
        }),
        parent: None,
        depth: 0,
        deadline_at: Some(9_000),
        seq: 1,
        created_at: 1_000,
        updated_at: 1_000,
        finished_at: None,
        until: None,
    }
}

fn create(r: &Run) -> Commit {
    let mut s = Step::new(r, "a", Status::Pending, 1_000);
    s.due_at = Some(2_000);
    Commit {
        runs: vec![(r.clone(), None)],
        steps: vec![s],
        ..Commit::default()
    }
}

/// A connection of the test's own, beside the store's.
fn raw(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    let store = Sqlite::open(&options).await.unwrap();
    let tenant = Tenant {
        id: "ten_a".into(),
        name: "A".into(),
        wrapped_key: vec![1, 2, 3],
        created_at: 5,
        state: weft_types::TenantState::Active,
        limits: weft_types::TenantLimits::default(),
    };
    let workflow = Workflow {
        tenant_id: "ten_a".into(),
        id: "wf_1".into(),
        name: "one".into(),
        version: 1,
        active: true,
        webhook_token: "hook_1".into(),
        created_at: 5,
        updated_at: 5,
    };
    let version = WorkflowVersion {
        tenant_id: "ten_a".into(),
        workflow_id: "wf_1".into(),
        version: 1,
        definition: json!({ "steps": [] }),
        created_at: 5,
    };
    store.create_tenant(&tenant).await.unwrap();
    store.create_workflow(&workflow, &version).await.unwrap();
    store.commit(&create(&run("run_1"))).await.unwrap();
    store.state_set("ten_a", "p", "k", b"v").await.unwrap();
    let before = store.load_run("ten_a", "run_1").await.unwrap();
    store.close().await;
    assert!(
        matches!(store.ping().await, Err(Error::Unavailable(_))),
        "a closed store refuses calls"
    );
    drop(store);

    let store = Sqlite::open(&options).await.unwrap();
    assert_eq!(store.get_tenant("ten_a").await.unwrap(), Some(tenant));
    assert_eq!(
        store.get_workflow("ten_a", "wf_1").await.unwrap(),
        Some(workflow)
    );
    assert_eq!(
        store.get_version("ten_a", "wf_1", 1).await.unwrap(),
        Some(version)
    );
    assert_eq!(store.load_run("ten_a", "run_1").await.unwrap(), before);
    assert!(before.is_some());
    assert_eq!(
        store.state_get("ten_a", "p", "k").await.unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(store.due_steps(2_000, 10).await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn migrations_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    for n in 0..3 {
        let store = Sqlite::open(&options).await.unwrap();
        store
            .commit(&create(&run(&format!("run_{n}"))))
            .await
            .unwrap();
        store.close().await;
    }
    let conn = raw(&options.path);
    let applied: Vec<(i64, String)> = conn
        .prepare("SELECT version, description FROM _weft_migrations ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, "init".to_owned()),
            (2, "outbox".to_owned()),
            (3, "attempt logs".to_owned()),
            (4, "webhook deliveries".to_owned()),
            (5, "credential binding".to_owned()),
            (6, "registry".to_owned()),
            (7, "attempt digest".to_owned()),
            (8, "operators".to_owned()),
            (9, "people".to_owned()),
            (10, "key scopes".to_owned()),
            (11, "usage".to_owned()),
            (12, "notifications".to_owned()),
            (13, "notify connector".to_owned()),
            (14, "people pruning".to_owned()),
            (15, "notify claim".to_owned()),
            (16, "run filters".to_owned()),
            (17, "run until".to_owned()),
            (18, "polling".to_owned()),
            (19, "oauth2".to_owned()),
            (20, "queue triggers".to_owned()),
        ],
        "each migration recorded once"
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let store = Sqlite::open(&options).await.unwrap();
    let runs = store
        .list_runs("ten_a", &RunFilter::default(), &Page::first(10))
        .await
        .unwrap();
    assert_eq!(runs.len(), 3, "reopening kept every run");
}

#[tokio::test]
async fn corrupt_rows_are_unavailable_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    let store = Sqlite::open(&options).await.unwrap();
    store.commit(&create(&run("run_1"))).await.unwrap();
    store.commit(&create(&run("run_2"))).await.unwrap();
    let conn = raw(&options.path);
    for sql in [
        "UPDATE runs SET input = '{not json' WHERE id = 'run_1'",
        "UPDATE runs SET status = 'exploded' WHERE id = 'run_2'",
        "UPDATE steps SET output = '[1,' WHERE run_id = 'run_2'",
    ] {
        conn.execute(sql, []).unwrap();
    }
    let expect = |got: weft_store::Result<Option<Run>>, column: &str| match got {
        Err(Error::Unavailable(m)) => assert!(m.contains(column), "{m} names {column}"),
        other => panic!("expected Unavailable naming {column}, got {other:?}"),
    };
    expect(store.get_run("ten_a", "run_1").await, "runs.input");
    expect(store.get_run("ten_a", "run_2").await, "runs.status");
    match store.due_steps(5_000, 10).await {
        Err(Error::Unavailable(m)) => assert!(m.contains("steps.output"), "{m}"),
        other => panic!("expected Unavailable naming steps.output, got {other:?}"),
    }
    assert!(
        store
            .list_runs("ten_a", &RunFilter::default(), &Page::first(10))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn two_stores_share_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new(dir.path().join("weft.db"));
    let one = std::sync::Arc::new(Sqlite::open(&options).await.unwrap());
    let two = std::sync::Arc::new(Sqlite::open(&options).await.unwrap());
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { store.commit(&create(&run(&format!("run_{n:02}")))).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for store in [&one, &two] {
        let runs = store
            .list_runs("ten_a", &RunFilter::default(), &Page::first(100))
            .await
            .unwrap();
        assert_eq!(runs.len(), 20, "each store sees the other's commits");
    }
}

/// A usage sum at `i64::MAX` saturates: the commit that adds to it lands
/// (before, SQLite made the sum a REAL the STRICT column refused, failing
/// the commit and so re-running its step).
#[tokio::test]
async fn usage_sum_saturates_instead_of_failing_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weft.db");
    let store = Sqlite::open(&Options::new(&path)).await.unwrap();
    let insert = |id: &str| Commit {
        runs: vec![(run(id), None)],
        ..Commit::default()
    };
    store.commit(&insert("run_1")).await.unwrap();
    raw(&path)
        .execute(
            "UPDATE usage SET value = 9223372036854775806 WHERE counter = 'runs'",
            [],
        )
        .unwrap();
    store.commit(&insert("run_2")).await.unwrap();
    store
        .commit(&insert("run_3"))
        .await
        .expect("a commit adding to a counter at its maximum lands");
    let rows = weft_store::usage::UsageStore::usage(&store, "ten_a", "1970-01-01", "1970-01-01")
        .await
        .unwrap();
    let runs: Vec<i64> = rows
        .iter()
        .filter(|r| r.counter == "runs")
        .map(|r| r.value)
        .collect();
    assert_eq!(runs, [i64::MAX]);
}
