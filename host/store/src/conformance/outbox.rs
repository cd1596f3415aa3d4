//! The transactional outbox and the active-runs count.

use super::*;
use crate::OutboxEntry;

fn entry(run: &Run, id: &str, created_at: i64) -> OutboxEntry {
    OutboxEntry {
        id: id.into(),
        tenant_id: run.tenant_id.clone(),
        run_id: run.id.clone(),
        step_key: "a".into(),
        attempt: 1,
        due_at: created_at + 500,
        created_at,
        claimed_until: 0,
    }
}

/// Outbox entries are written with the commit that carries them, and not at
/// all when that commit conflicts.
pub async fn outbox_written_with_the_commit<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut c = create(&r, &[step(&r, "a", Status::Pending)]);
    c.outbox = vec![entry(&r, "obx_1", 1_000)];
    store.commit(&c).await.unwrap();
    assert_eq!(store.outbox_oldest().await.unwrap(), Some(1_000));
    let mut again = create(&r, &[]);
    again.outbox = vec![entry(&r, "obx_2", 900)];
    duplicate(store.commit(&again).await, "creating the run twice");
    let got = store.outbox_claim(2_000, 100, 10).await.unwrap();
    assert_eq!(
        got,
        vec![OutboxEntry {
            claimed_until: 2_100,
            ..entry(&r, "obx_1", 1_000)
        }],
        "the conflicting commit wrote no outbox entry"
    );
}

/// An entry its commit wrote claimed (its writer publishes it itself) is
/// not handed to a relay while that claim is live, and is once it lapsed.
pub async fn outbox_written_claimed_waits_for_its_claim<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut c = create(&r, &[]);
    c.outbox = vec![
        OutboxEntry {
            claimed_until: 5_000,
            ..entry(&r, "obx_own", 1_000)
        },
        entry(&r, "obx_free", 1_001),
    ];
    store.commit(&c).await.unwrap();
    let ids = |v: Vec<OutboxEntry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let live = store.outbox_claim(4_999, 1_000, 10).await.unwrap();
    assert_eq!(ids(live), ["obx_free"], "the writer's claim is live");
    let lapsed = store.outbox_claim(5_000, 1_000, 10).await.unwrap();
    assert_eq!(
        lapsed
            .iter()
            .map(|e| (e.id.as_str(), e.claimed_until))
            .collect::<Vec<_>>(),
        [("obx_own", 6_000)],
        "the writer's claim lapsed: a relay takes the entry, claimed anew"
    );
}

/// `outbox_claim` hands out the oldest unclaimed entries first, at most
/// `limit`, and not again while their claim is live; a lapsed claim is handed
/// out again.
pub async fn outbox_claim_oldest_first_and_leased<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut c = create(&r, &[]);
    c.outbox = vec![
        entry(&r, "obx_c", 1_003),
        entry(&r, "obx_b", 1_001),
        entry(&r, "obx_a", 1_001),
        entry(&r, "obx_d", 1_004),
    ];
    store.commit(&c).await.unwrap();
    let ids = |v: Vec<OutboxEntry>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let first = store.outbox_claim(2_000, 1_000, 2).await.unwrap();
    assert_eq!(ids(first), ["obx_a", "obx_b"], "oldest first, ties by id");
    let second = store.outbox_claim(2_100, 1_000, 10).await.unwrap();
    assert_eq!(
        ids(second),
        ["obx_c", "obx_d"],
        "claimed entries are skipped"
    );
    assert!(
        store
            .outbox_claim(2_500, 1_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "every entry is claimed"
    );
    let lapsed = store.outbox_claim(3_000, 1_000, 10).await.unwrap();
    assert_eq!(
        ids(lapsed),
        ["obx_a", "obx_b"],
        "a lapsed claim is handed out again"
    );
}

/// `outbox_delete` removes entries (unknown ids are ignored); `outbox_oldest`
/// follows.
pub async fn outbox_delete_and_oldest<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.outbox_oldest().await.unwrap(), None);
    let r = run(B, "run_1", "wf_1");
    let mut c = create(&r, &[]);
    c.outbox = vec![entry(&r, "obx_1", 10), entry(&r, "obx_2", 20)];
    store.commit(&c).await.unwrap();
    store
        .outbox_delete(&["obx_1".into(), "obx_nope".into()])
        .await
        .unwrap();
    assert_eq!(store.outbox_oldest().await.unwrap(), Some(20));
    store.outbox_delete(&[]).await.unwrap();
    store.outbox_delete(&["obx_2".into()]).await.unwrap();
    assert_eq!(store.outbox_oldest().await.unwrap(), None);
    assert!(store.outbox_claim(100, 10, 10).await.unwrap().is_empty());
}

/// `active_runs` counts the tenant's runs that have not ended.
pub async fn active_runs_counts_live_runs_per_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.active_runs(A).await.unwrap(), 0);
    for (id, status) in [
        ("run_1", Status::Running),
        ("run_2", Status::Waiting),
        ("run_3", Status::Pending),
        ("run_4", Status::Completed),
        ("run_5", Status::Failed),
        ("run_6", Status::Cancelled),
    ] {
        let mut r = run(A, id, "wf_1");
        r.status = status;
        put_run(&*store, &r, &[]).await;
    }
    put_run(&*store, &run(B, "run_9", "wf_1"), &[]).await;
    assert_eq!(store.active_runs(A).await.unwrap(), 3);
    assert_eq!(store.active_runs(B).await.unwrap(), 1);
}
