//! Webhook delivery ids: recorded with the run they start, one run per
//! unexpired id, isolated by tenant and workflow, pruned once expired.

use super::concurrency::run_all;
use super::*;
use crate::Delivery;

fn delivery(tenant: &str, workflow_id: &str, id: &str, run_id: &str, at: i64) -> Delivery {
    Delivery {
        tenant_id: tenant.into(),
        workflow_id: workflow_id.into(),
        delivery_id: id.into(),
        run_id: run_id.into(),
        body_sha256: format!("{:064x}", at),
        created_at: at,
        expires_at: at + 1_000,
    }
}

/// A commit starting `run_id` for delivery `id` at time `at`.
fn start(tenant: &str, id: &str, run_id: &str, at: i64) -> Commit {
    Commit {
        delivery: Some(delivery(tenant, "wf_1", id, run_id, at)),
        ..create(&run(tenant, run_id, "wf_1"), &[])
    }
}

/// A delivery is written with its run and read back while unexpired; a
/// second commit with the same id is `Duplicate` and writes nothing (not its
/// run either); the same id for another workflow or tenant is another delivery.
pub async fn deliveries_one_run_per_id<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .commit(&start(A, "d1", "run_1", 10_000))
        .await
        .unwrap();
    let got = store.get_delivery(A, "wf_1", "d1", 10_500).await.unwrap();
    assert_eq!(got, Some(delivery(A, "wf_1", "d1", "run_1", 10_000)));
    // The body's digest is read back as written (a repeated id is compared
    // with it).
    assert_eq!(got.map(|d| d.body_sha256), Some(format!("{:064x}", 10_000)));

    duplicate(
        store.commit(&start(A, "d1", "run_2", 10_600)).await,
        "same delivery id, unexpired",
    );
    assert_eq!(
        store.get_run(A, "run_2").await.unwrap(),
        None,
        "a refused delivery starts no run"
    );
    assert_eq!(
        store
            .get_delivery(A, "wf_1", "d1", 10_600)
            .await
            .unwrap()
            .map(|d| d.run_id),
        Some("run_1".to_owned())
    );

    // Scoped by tenant and workflow.
    assert_eq!(
        store.get_delivery(B, "wf_1", "d1", 10_500).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_delivery(A, "wf_2", "d1", 10_500).await.unwrap(),
        None
    );
    store
        .commit(&start(B, "d1", "run_b", 10_600))
        .await
        .unwrap();
    let other_wf = Commit {
        delivery: Some(delivery(A, "wf_2", "d1", "run_3", 10_600)),
        ..create(&run(A, "run_3", "wf_2"), &[])
    };
    store.commit(&other_wf).await.unwrap();
}

/// An expired delivery reads as absent, a new delivery with its id starts a
/// run again (the old row is replaced), and pruning removes expired rows
/// only, at most `limit` at a time.
pub async fn deliveries_expire_and_prune<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .commit(&start(A, "d1", "run_1", 10_000))
        .await
        .unwrap();
    // expires_at = 11_000: gone at 11_000.
    assert_eq!(
        store.get_delivery(A, "wf_1", "d1", 11_000).await.unwrap(),
        None
    );
    store
        .commit(&start(A, "d1", "run_2", 11_000))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_delivery(A, "wf_1", "d1", 11_500)
            .await
            .unwrap()
            .map(|d| d.run_id),
        Some("run_2".to_owned()),
        "an expired delivery is replaced"
    );

    for (i, at) in [(3, 20_000), (4, 20_000), (5, 20_000), (6, 50_000)] {
        store
            .commit(&start(A, &format!("d{i}"), &format!("run_{i}"), at))
            .await
            .unwrap();
    }
    // At 30_000: d1 (12_000), d3, d4, d5 (21_000) are expired; d6 is not.
    assert_eq!(store.prune_deliveries(30_000, 2).await.unwrap(), 2);
    assert_eq!(store.prune_deliveries(30_000, 100).await.unwrap(), 2);
    assert_eq!(store.prune_deliveries(30_000, 100).await.unwrap(), 0);
    assert!(
        store
            .get_delivery(A, "wf_1", "d6", 30_000)
            .await
            .unwrap()
            .is_some()
    );
    // The runs stay: pruning forgets ids, not runs.
    assert!(store.get_run(A, "run_3").await.unwrap().is_some());
}

/// Concurrent commits of distinct runs with one delivery id: exactly one
/// lands, the others are `Duplicate`, and only the winner's run exists.
pub async fn deliveries_concurrent_one_wins<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let commits: Vec<Commit> = (0..6)
        .map(|n| start(A, "same", &format!("run_{n}"), 10_000))
        .collect();
    let results = run_all(&store, commits).await;
    let winners: Vec<usize> = (0..6).filter(|n| results[*n].is_ok()).collect();
    assert_eq!(winners.len(), 1, "one winner among {results:?}");
    for res in &results {
        assert!(matches!(res, Ok(()) | Err(Error::Duplicate(_))), "{res:?}");
    }
    let runs = store
        .list_runs(A, &RunFilter::default(), &Page::first(100))
        .await
        .unwrap();
    assert_eq!(ids(&runs, |r| &r.id), vec![format!("run_{}", winners[0])]);
    let d = store.get_delivery(A, "wf_1", "same", 10_001).await.unwrap();
    assert_eq!(d.map(|d| d.run_id), Some(format!("run_{}", winners[0])));
}
