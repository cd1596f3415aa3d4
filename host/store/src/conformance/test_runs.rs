//! Test runs (`Run::until`, the editor's "test step"): stored like any run,
//! but they make no `run_failed` or `run_recovered`, and a failed one is not
//! what a later success "recovers" from; a wait in one still makes
//! `run_waiting` (someone must act, or the test never ends).

use super::notifications::{deliveries, ended, rule};
use super::*;
use crate::notifications::NotifyOn;

/// A test run that fails or completes makes no delivery, one that waits
/// makes its `run_waiting`; the workflow's last real run decides
/// `run_recovered`.
pub async fn test_runs_notify_nobody<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for (id, on) in [
        ("ntr_f", NotifyOn::RunFailed),
        ("ntr_w", NotifyOn::RunWaiting),
        ("ntr_r", NotifyOn::RunRecovered),
    ] {
        store.create_rule(&rule(A, id, None, on)).await.unwrap();
    }
    let test = |id: &str, status, at| Run {
        until: Some("b".into()),
        ..ended(A, id, "wf_1", status, at)
    };
    put_run(&*store, &test("run_1", Status::Failed, 1_000), &[]).await;
    let mut waiting = test("run_2", Status::Waiting, 1_500);
    waiting.finished_at = None;
    let mut approve = step(&waiting, "approve", Status::Waiting);
    approve.resume_token = Some("tok_test".into());
    put_run(&*store, &waiting, &[approve]).await;
    let waiting_only = vec![("ntr_w".to_owned(), "run_2:waiting:approve:0".to_owned())];
    assert_eq!(
        deliveries(&*store, A).await,
        waiting_only,
        "a test run that fails notifies nobody; one that waits asks for the approval"
    );
    put_run(
        &*store,
        &ended(A, "run_3", "wf_1", Status::Completed, 2_000),
        &[],
    )
    .await;
    assert_eq!(
        deliveries(&*store, A).await,
        waiting_only,
        "a success after a failed test run recovers nothing"
    );
    put_run(
        &*store,
        &ended(A, "run_4", "wf_1", Status::Failed, 3_000),
        &[],
    )
    .await;
    put_run(&*store, &test("run_5", Status::Completed, 3_500), &[]).await;
    put_run(
        &*store,
        &ended(A, "run_6", "wf_1", Status::Completed, 4_000),
        &[],
    )
    .await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![
            ("ntr_f".to_owned(), "run_4:failed".to_owned()),
            ("ntr_r".to_owned(), "run_6:recovered".to_owned()),
            ("ntr_w".to_owned(), "run_2:waiting:approve:0".to_owned()),
        ],
        "real runs notify; a test run between them changes nothing"
    );
    let stored = store.get_run(A, "run_5").await.unwrap().unwrap();
    assert_eq!(
        stored.until.as_deref(),
        Some("b"),
        "the run records `until`"
    );
}
