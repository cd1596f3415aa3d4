//! Queue consumer rows (`crate::queue_trigger`): armed rows are free until
//! leased; one owner at a time, renewed by its owner, taken over once the
//! lease lapses; a tenant's live leases capped; reports written only by the
//! owner; disarming and releasing.

use super::*;
use crate::queue_trigger::QueueReport;

/// Arming makes the row free; one owner holds it until its lease lapses,
/// renews it meanwhile, and another takes it over after; only the owner
/// reports; a released row is free at once; a disarmed row is leased by
/// nobody and shows not consuming.
pub async fn queue_consumer_lease_one_owner<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.queue_consumer(A, "wf_q").await.unwrap(), None);
    assert!(
        !store
            .queue_lease(A, "wf_q", "w1", 1_000, 11_000, 10)
            .await
            .unwrap(),
        "no row: no lease"
    );
    store.queue_arm(A, "wf_q", true).await.unwrap();
    let free = store.free_queue_consumers(1_000, 10).await.unwrap();
    assert_eq!(free.len(), 1, "armed and unowned: free");
    assert!(free[0].armed && free[0].owner.is_none());

    assert!(
        store
            .queue_lease(A, "wf_q", "w1", 1_000, 11_000, 10)
            .await
            .unwrap()
    );
    assert!(
        store
            .free_queue_consumers(2_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased: not free"
    );
    assert!(
        !store
            .queue_lease(A, "wf_q", "w2", 2_000, 12_000, 10)
            .await
            .unwrap(),
        "another worker cannot take a live lease"
    );
    assert!(
        store
            .queue_lease(A, "wf_q", "w1", 5_000, 15_000, 10)
            .await
            .unwrap(),
        "the owner renews"
    );
    let report = QueueReport {
        consuming: true,
        last_message_at: Some(5_500),
        last_error: None,
        failures: 0,
    };
    assert!(store.queue_report(A, "wf_q", "w1", &report).await.unwrap());
    let bad = QueueReport {
        consuming: false,
        last_error: Some("not the owner".into()),
        ..report.clone()
    };
    assert!(
        !store.queue_report(A, "wf_q", "w2", &bad).await.unwrap(),
        "only the owner reports"
    );
    let row = store.queue_consumer(A, "wf_q").await.unwrap().unwrap();
    assert_eq!(row.owner.as_deref(), Some("w1"));
    assert_eq!(row.lease_until, 15_000);
    assert_eq!(row.report, report, "the owner's report, not w2's");

    // Lapsed: free again, and another worker takes it over.
    assert_eq!(
        store.free_queue_consumers(15_000, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .queue_lease(A, "wf_q", "w2", 15_000, 25_000, 10)
            .await
            .unwrap(),
        "a lapsed lease is taken over"
    );
    assert!(
        !store.queue_report(A, "wf_q", "w1", &report).await.unwrap(),
        "the old owner's report is refused once taken over"
    );

    // Released: free at once, not consuming.
    store.queue_release(A, "wf_q", "w1").await.unwrap();
    assert_eq!(
        store
            .queue_consumer(A, "wf_q")
            .await
            .unwrap()
            .unwrap()
            .owner
            .as_deref(),
        Some("w2"),
        "a release by a former owner changes nothing"
    );
    store.queue_release(A, "wf_q", "w2").await.unwrap();
    let row = store.queue_consumer(A, "wf_q").await.unwrap().unwrap();
    assert!(row.owner.is_none() && !row.report.consuming);
    assert_eq!(
        store.free_queue_consumers(16_000, 10).await.unwrap().len(),
        1
    );

    // Disarmed: not free, not leasable, kept (its last report stays).
    store.queue_arm(A, "wf_q", false).await.unwrap();
    assert!(
        store
            .free_queue_consumers(16_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .queue_lease(A, "wf_q", "w1", 16_000, 26_000, 10)
            .await
            .unwrap(),
        "a disarmed row is leased by nobody"
    );
    let row = store.queue_consumer(A, "wf_q").await.unwrap().unwrap();
    assert!(!row.armed && !row.report.consuming);
    assert_eq!(row.report.last_message_at, Some(5_500));
}

/// A tenant holds at most `cap` live leases; a lapsed one frees a place;
/// renewing a held lease is never refused by the cap; another tenant's
/// leases do not count.
pub async fn queue_consumer_lease_cap_per_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for wf in ["wf_1", "wf_2", "wf_3"] {
        store.queue_arm(A, wf, true).await.unwrap();
    }
    store.queue_arm(B, "wf_b", true).await.unwrap();
    assert!(
        store
            .queue_lease(A, "wf_1", "w1", 1_000, 10_000, 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .queue_lease(A, "wf_2", "w2", 1_000, 20_000, 2)
            .await
            .unwrap()
    );
    assert!(
        !store
            .queue_lease(A, "wf_3", "w1", 1_000, 10_000, 2)
            .await
            .unwrap(),
        "a third consumer of the tenant is over the cap of 2"
    );
    assert!(
        store
            .queue_lease(B, "wf_b", "w1", 1_000, 10_000, 2)
            .await
            .unwrap(),
        "another tenant's cap is its own"
    );
    assert!(
        store
            .queue_lease(A, "wf_1", "w1", 5_000, 15_000, 2)
            .await
            .unwrap(),
        "renewing a held lease at the cap"
    );
    // wf_1's lease lapses at 15 000: a place for wf_3.
    assert!(
        store
            .queue_lease(A, "wf_3", "w1", 15_000, 25_000, 2)
            .await
            .unwrap(),
        "a lapsed lease frees a place"
    );
    assert!(
        !store
            .queue_lease(A, "wf_1", "w1", 15_000, 25_000, 2)
            .await
            .unwrap(),
        "and its former holder is now over the cap"
    );
}
