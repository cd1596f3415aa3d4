//! What only a shared PostgreSQL shows: two processes' pools racing on one run,
//! two relays claiming the outbox at once, migrations applied once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::json;
use std::collections::HashSet;
use weft_store::{Commit, OutboxEntry, Store};
use weft_store_postgres::{Options, Postgres};
use weft_types::{Run, Status, Trigger};

fn run(id: &str) -> Run {
    Run {
        tenant_id: "ten_a".into(),
        id: id.into(),
        workflow_id: "wf_1".into(),
        version: 1,
        status: Status::Running,
        trigger: Trigger::Manual,
        input: json!({"n": 1}),
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq: 1,
        created_at: 1,
        updated_at: 1,
        finished_at: None,
        until: None,
    }
}

/// A second pool on the same schema, as another process would have.
async fn twin(pg: &Postgres) -> Postgres {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    Postgres::connect(&Options {
        schema: Some(schema),
        ..Options::new(std::env::var("WEFT_TEST_DATABASE_URL").unwrap())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn two_pools_racing_on_a_run_one_commit_wins() {
    let a = common::fresh_pg().await;
    let b = twin(&a).await;
    let r = run("run_1");
    a.commit(&Commit {
        runs: vec![(r.clone(), None)],
        ..Commit::default()
    })
    .await
    .unwrap();
    for round in 0..20 {
        let current = a.get_run("ten_a", "run_1").await.unwrap().unwrap();
        let mut next = current.clone();
        next.seq += 1;
        next.updated_at = round;
        let c = Commit {
            runs: vec![(next, Some(current.seq))],
            ..Commit::default()
        };
        let (x, y) = tokio::join!(a.commit(&c), b.commit(&c));
        assert!(
            x.is_ok() != y.is_ok(),
            "round {round}: exactly one commit wins ({x:?}, {y:?})"
        );
    }
    assert_eq!(a.get_run("ten_a", "run_1").await.unwrap().unwrap().seq, 21);
}

#[tokio::test]
async fn concurrent_relays_never_claim_the_same_entry() {
    let a = common::fresh_pg().await;
    let b = twin(&a).await;
    let r = run("run_1");
    let outbox = (0..200)
        .map(|i| OutboxEntry {
            id: format!("obx_{i:04}"),
            tenant_id: "ten_a".into(),
            run_id: "run_1".into(),
            step_key: "a".into(),
            attempt: 1,
            due_at: 0,
            created_at: i,
            claimed_until: 0,
        })
        .collect();
    a.commit(&Commit {
        runs: vec![(r, None)],
        outbox,
        ..Commit::default()
    })
    .await
    .unwrap();
    let mut seen = HashSet::new();
    loop {
        let (x, y) = tokio::join!(
            a.outbox_claim(1_000, 60_000, 7),
            b.outbox_claim(1_000, 60_000, 7)
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        if x.is_empty() && y.is_empty() {
            break;
        }
        for e in x.into_iter().chain(y) {
            assert!(seen.insert(e.id.clone()), "{} claimed twice", e.id);
        }
    }
    assert_eq!(seen.len(), 200);
}

#[tokio::test]
async fn migrating_again_is_a_no_op() {
    let pg = common::fresh_pg().await;
    assert!(pg.migrate().await.unwrap().is_empty());
    let again = twin(&pg).await;
    let (x, y) = tokio::join!(pg.migrate(), again.migrate());
    assert!(x.unwrap().is_empty() && y.unwrap().is_empty());
}

/// A usage sum at `i64::MAX` saturates: the commit that adds to it lands
/// (before, "bigint out of range" failed the commit and so re-ran its step).
#[tokio::test]
async fn usage_sum_saturates_instead_of_failing_the_commit() {
    let pg = common::fresh_pg().await;
    let insert = |id: &str| Commit {
        runs: vec![(run(id), None)],
        ..Commit::default()
    };
    pg.commit(&insert("run_1")).await.unwrap();
    sqlx::query("UPDATE usage SET value = 9223372036854775806 WHERE counter = 'runs'")
        .execute(pg.pool())
        .await
        .unwrap();
    pg.commit(&insert("run_2")).await.unwrap();
    pg.commit(&insert("run_3"))
        .await
        .expect("a commit adding to a counter at its maximum lands");
    let rows = weft_store::usage::UsageStore::usage(&pg, "ten_a", "1970-01-01", "1970-01-01")
        .await
        .unwrap();
    let runs: Vec<i64> = rows
        .iter()
        .filter(|r| r.counter == "runs")
        .map(|r| r.value)
        .collect();
    assert_eq!(runs, [i64::MAX]);
}

/// The run feed (`LISTEN/NOTIFY`): another process's commit that answers a
/// run (sets its response) or ends it is reported by id, once; a commit
/// that does neither is not. Other tests share the database (other
/// schemas), so their runs' ids may come too: the ids here are unique.
#[tokio::test]
async fn run_feed_reports_answers_and_ends_committed_elsewhere() {
    use weft_store::RunEvent;
    let a = common::fresh_pg().await;
    let b = twin(&a).await;
    let mut feed = a.run_feed().expect("PostgreSQL has a run feed");
    assert_eq!(feed.next().await, RunEvent::Connected);
    let tag = rand::random::<u64>();
    let quiet = format!("run_quiet_{tag}");
    let answered = format!("run_answered_{tag}");
    let ended = format!("run_ended_{tag}");
    // Inserted running with no response: nothing to report.
    for id in [&quiet, &answered, &ended] {
        b.commit(&Commit {
            runs: vec![(run(id), None)],
            ..Commit::default()
        })
        .await
        .unwrap();
    }
    let update = |id: &str, f: &dyn Fn(&mut Run)| {
        let mut r = run(id);
        r.seq = 2;
        f(&mut r);
        Commit {
            runs: vec![(r, Some(1))],
            ..Commit::default()
        }
    };
    b.commit(&update(&quiet, &|r| r.updated_at = 2))
        .await
        .unwrap();
    b.commit(&update(&answered, &|r| {
        r.response = Some(weft_types::Response {
            status: 200,
            headers: Default::default(),
            body: json!({"ok": true}),
        });
    }))
    .await
    .unwrap();
    b.commit(&update(&ended, &|r| r.status = Status::Completed))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(30), feed.next())
            .await
            .expect("the feed reports the two commits");
        match event {
            RunEvent::Answered(id) if id.ends_with(&tag.to_string()) => seen.push(id),
            RunEvent::Answered(_) => {} // another test's run
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        [answered, ended],
        "in commit order; the quiet run not at all"
    );
}
