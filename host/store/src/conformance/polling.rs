//! Polling rows (`crate::polling`): armed and due, claimed once, advanced
//! with the runs a poll starts in one commit (or not at all), failures
//! recorded, the cursor and the seen keys kept across disarming.

use super::*;
use crate::polling::PollAdvance;

fn advance(seq: i64, cursor: &str, keys: &[&str], at: i64) -> PollAdvance {
    PollAdvance {
        tenant_id: A.into(),
        workflow_id: "wf_1".into(),
        expected_seq: seq,
        cursor: Some(cursor.into()),
        keys: keys.iter().map(|k| (*k).to_owned()).collect(),
        polled_at: at,
        next_poll_at: at + 60_000,
    }
}

/// Arming makes the row due; one claim per `seq`; a commit carrying the
/// advance writes the runs, the cursor and the keys together; one computed
/// from a stale `seq` writes none of them.
pub async fn polling_claim_once_and_commit_with_runs<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.poll_state(A, "wf_1").await.unwrap(), None);
    store.poll_arm(A, "wf_1", true, 1_000).await.unwrap();
    assert!(
        store.due_polls(999, 10).await.unwrap().is_empty(),
        "not due yet"
    );
    let due = store.due_polls(1_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "armed: due at the arming time");
    let row = &due[0];
    assert!(row.armed && row.cursor.is_none() && row.failures == 0);

    let claimed = store.poll_claim(A, "wf_1", row.seq, 31_000).await.unwrap();
    assert_eq!(claimed.seq, row.seq + 1);
    assert_eq!(
        claimed.next_poll_at, 31_000,
        "the claim holds it until then"
    );
    stale(
        store.poll_claim(A, "wf_1", row.seq, 31_000).await,
        "a second claim of the same poll",
    );
    assert!(
        store.due_polls(2_000, 10).await.unwrap().is_empty(),
        "a claimed poll is not due"
    );

    // The advance lands with its runs.
    let c = Commit {
        poll: Some(advance(claimed.seq, "c1", &["k1", "k2"], 2_000)),
        ..create(&run(A, "run_1", "wf_1"), &[])
    };
    store.commit(&c).await.unwrap();
    let after = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    assert_eq!(after.cursor.as_deref(), Some("c1"));
    assert_eq!(after.next_poll_at, 62_000);
    assert_eq!(after.last_success_at, Some(2_000));
    assert!(store.get_run(A, "run_1").await.unwrap().is_some());
    let mut seen = store
        .poll_seen(A, "wf_1", &["k1".into(), "k2".into(), "k3".into()])
        .await
        .unwrap();
    seen.sort();
    assert_eq!(seen, vec!["k1".to_owned(), "k2".to_owned()]);
    assert!(
        store
            .poll_seen(B, "wf_1", &["k1".into()])
            .await
            .unwrap()
            .is_empty(),
        "another tenant's workflow has seen nothing"
    );

    // The same advance again (a second worker's, or a replay): stale, and
    // neither its run nor its cursor nor its keys are written.
    let again = Commit {
        poll: Some(advance(claimed.seq, "c2", &["k3"], 3_000)),
        ..create(&run(A, "run_2", "wf_1"), &[])
    };
    stale(store.commit(&again).await, "an advance from a taken seq");
    assert_eq!(store.get_run(A, "run_2").await.unwrap(), None);
    let kept = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    assert_eq!(kept.cursor.as_deref(), Some("c1"));
    assert!(
        store
            .poll_seen(A, "wf_1", &["k3".into()])
            .await
            .unwrap()
            .is_empty(),
        "the refused commit's keys are not seen"
    );
}

/// A failed poll counts, shows its error and is due again when asked; a
/// success clears both.
pub async fn polling_failures_recorded_and_cleared<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.poll_arm(A, "wf_1", true, 1_000).await.unwrap();
    let row = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    let c = store.poll_claim(A, "wf_1", row.seq, 30_000).await.unwrap();
    store
        .poll_failed(A, "wf_1", c.seq, 1_500, "feed answered 503", 3_500)
        .await
        .unwrap();
    stale(
        store
            .poll_failed(A, "wf_1", c.seq, 1_500, "again", 3_500)
            .await,
        "a failure recorded from a moved seq",
    );
    let f = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    assert_eq!(f.failures, 1);
    assert_eq!(f.last_error.as_deref(), Some("feed answered 503"));
    assert_eq!((f.last_poll_at, f.next_poll_at), (Some(1_500), 3_500));
    assert_eq!(f.last_success_at, None);
    assert_eq!(store.due_polls(3_500, 10).await.unwrap().len(), 1);
    let c = store.poll_claim(A, "wf_1", f.seq, 40_000).await.unwrap();
    store
        .poll_failed(A, "wf_1", c.seq, 4_000, "again 503", 8_000)
        .await
        .unwrap();
    let f = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    assert_eq!(f.failures, 2, "failures in a row add up");
    let c = store.poll_claim(A, "wf_1", f.seq, 40_000).await.unwrap();
    store
        .commit(&Commit {
            poll: Some(advance(c.seq, "c", &[], 9_000)),
            ..Commit::default()
        })
        .await
        .unwrap();
    let ok = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    assert_eq!((ok.failures, ok.last_error), (0, None));
    assert_eq!(ok.last_success_at, Some(9_000));
}

/// Disarming stops the polls and makes an in-flight claim's advance stale;
/// arming again is due at once and keeps the cursor and the seen keys.
pub async fn polling_disarm_keeps_cursor_and_keys<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.poll_arm(A, "wf_1", true, 1_000).await.unwrap();
    let row = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    let c = store.poll_claim(A, "wf_1", row.seq, 30_000).await.unwrap();
    store
        .commit(&Commit {
            poll: Some(advance(c.seq, "c1", &["k1"], 2_000)),
            ..Commit::default()
        })
        .await
        .unwrap();
    let row = store.poll_state(A, "wf_1").await.unwrap().unwrap();
    let c = store.poll_claim(A, "wf_1", row.seq, 90_000).await.unwrap();
    store.poll_arm(A, "wf_1", false, 3_000).await.unwrap();
    assert!(store.due_polls(i64::MAX, 10).await.unwrap().is_empty());
    stale(
        store
            .commit(&Commit {
                poll: Some(advance(c.seq, "c2", &["k2"], 4_000)),
                ..Commit::default()
            })
            .await,
        "a poll claimed before the workflow was deactivated",
    );
    store.poll_arm(A, "wf_1", true, 5_000).await.unwrap();
    // Arming twice changes nothing.
    store.poll_arm(A, "wf_1", true, 6_000).await.unwrap();
    let due = store.due_polls(5_000, 10).await.unwrap();
    assert_eq!(due.len(), 1, "re-armed: due at once");
    assert_eq!(due[0].next_poll_at, 5_000);
    assert_eq!(due[0].cursor.as_deref(), Some("c1"), "the cursor is kept");
    assert_eq!(
        store.poll_seen(A, "wf_1", &["k1".into()]).await.unwrap(),
        vec!["k1".to_owned()]
    );
}
