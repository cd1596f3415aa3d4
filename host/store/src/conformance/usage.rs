//! Usage counters: counted by `commit` from the rows it writes, once.

use super::*;
use crate::usage::UsageRow;

const DAY: &str = "1970-01-01";

fn finished(step: &Step, n: u32, at: i64, usage: serde_json::Value) -> Attempt {
    let mut a = attempt(step, n);
    a.status = Status::Completed;
    a.finished_at = Some(at);
    a.usage = Some(usage);
    a
}

fn counters(rows: &[UsageRow], workflow: &str) -> Vec<(String, i64)> {
    rows.iter()
        .filter(|r| r.workflow_id == workflow)
        .map(|r| (r.counter.clone(), r.value))
        .collect()
}

/// A run inserted counts `runs`; a finished attempt counts `steps` and what
/// the sandbox measured; `peak_memory_bytes` keeps the maximum; a running
/// attempt counts nothing; rows are per tenant, day and workflow.
pub async fn usage_counts_runs_and_finished_attempts<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let s = step(&r, "a", Status::Running);
    let c = Commit {
        runs: vec![(r.clone(), None)],
        steps: vec![s.clone()],
        attempts: vec![attempt(&s, 1)],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    let rows = store.usage(A, DAY, DAY).await.unwrap();
    assert_eq!(
        counters(&rows, "wf_1"),
        [("runs".into(), 1)],
        "a run counts once, a running attempt nothing"
    );
    let u1 = json!({"wall_time_us": 2_500, "peak_memory_bytes": 900, "egress_requests": 2,
        "egress_bytes_in": 10, "egress_bytes_out": 5, "llm_input_tokens": 7,
        "llm_output_tokens": 3, "llm_cost_micros": 40});
    let u2 = json!({"wall_time_us": 1_000, "peak_memory_bytes": 400, "egress_requests": 1});
    let (r2, e) = next(&r);
    let c = Commit {
        runs: vec![(r2.clone(), e)],
        attempts: vec![finished(&s, 1, 5_000, u1), finished(&s, 2, 6_000, u2)],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    let rows = store.usage(A, DAY, DAY).await.unwrap();
    let mut want: Vec<(String, i64)> = [
        ("egress_bytes", 15),
        ("egress_requests", 3),
        ("llm_cost_micros", 40),
        ("llm_input_tokens", 7),
        ("llm_output_tokens", 3),
        ("peak_memory_bytes", 900),
        ("runs", 1),
        ("steps", 2),
        ("wall_ms", 3),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    want.sort();
    assert_eq!(
        counters(&rows, "wf_1"),
        want,
        "summed, peak memory the maximum"
    );
    assert!(rows.iter().all(|r| r.tenant_id == A && r.day == DAY));
    assert_eq!(
        store.usage(B, DAY, DAY).await.unwrap(),
        vec![],
        "B sees none of A's"
    );
    assert_eq!(
        store.usage(A, "1970-01-02", "1970-01-31").await.unwrap(),
        vec![],
        "another day range"
    );
    let all = store.usage_all(DAY, DAY).await.unwrap();
    assert_eq!(all, rows, "the operator's view has the same rows");
}

/// A finished attempt written again (a commit retried after it landed, or a
/// later commit replacing the row) counts nothing more; a commit that lost
/// its race (`Stale`) counts nothing at all.
pub async fn usage_retried_commit_does_not_count_twice<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let s = step(&r, "a", Status::Running);
    put_run(&*store, &r, std::slice::from_ref(&s)).await;
    let done = finished(
        &s,
        1,
        5_000,
        json!({"wall_time_us": 4_000, "egress_requests": 1}),
    );
    let (r2, e) = next(&r);
    let win = Commit {
        runs: vec![(r2.clone(), e)],
        attempts: vec![done.clone()],
        ..Commit::default()
    };
    store.commit(&win).await.unwrap();
    // The same commit again: its seq lost the race, nothing is written.
    stale(store.commit(&win).await, "the same commit retried");
    // Recomputed after the lost race: the attempt is already finished.
    let (r3, e) = next(&r2);
    let recomputed = Commit {
        runs: vec![(r3, e)],
        attempts: vec![done.clone()],
        ..Commit::default()
    };
    store.commit(&recomputed).await.unwrap();
    // Written again without the run (an abandon path).
    store
        .commit(&Commit {
            attempts: vec![done],
            ..Commit::default()
        })
        .await
        .unwrap();
    let rows = store.usage(A, DAY, DAY).await.unwrap();
    assert_eq!(
        counters(&rows, "wf_1"),
        [
            ("egress_requests".into(), 1),
            ("runs".into(), 1),
            ("steps".into(), 1),
            ("wall_ms".into(), 4),
        ],
        "counted once"
    );
}

/// A commit that fails (here: a new run whose id exists) counts nothing of
/// what it carried, and the counters of another workflow and day are apart.
pub async fn usage_failed_commit_counts_nothing<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[]).await;
    let mut other = run(A, "run_2", "wf_2");
    other.created_at = 86_400_000 + 5;
    let s = step(&other, "a", Status::Running);
    let c = Commit {
        runs: vec![(other.clone(), None), (r.clone(), None)],
        steps: vec![s.clone()],
        attempts: vec![finished(
            &s,
            1,
            86_400_000 + 9,
            json!({"wall_time_us": 1_000}),
        )],
        ..Commit::default()
    };
    duplicate(store.commit(&c).await, "a commit re-creating run_1");
    put_run(&*store, &other, &[s]).await;
    let rows = store.usage(A, DAY, "1970-01-02").await.unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.day.as_str(),
                r.workflow_id.as_str(),
                r.counter.as_str(),
                r.value,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1970-01-01", "wf_1", "runs", 1),
            ("1970-01-02", "wf_2", "runs", 1)
        ],
        "the failed commit counted nothing; by day then workflow"
    );
}

/// Absurd usage (a plugin reporting `u64::MAX`) is capped per attempt at
/// [`crate::usage::ATTEMPT_CAP`], and adding it again the same day
/// neither overflows nor fails the commit (which would re-run the step).
pub async fn usage_huge_values_saturate<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let s = step(&r, "a", Status::Running);
    put_run(&*store, &r, std::slice::from_ref(&s)).await;
    let huge = json!({"llm_cost_micros": u64::MAX, "llm_input_tokens": u64::MAX,
        "egress_bytes_in": u64::MAX, "egress_bytes_out": u64::MAX});
    let mut cur = r.clone();
    for n in 1..=3 {
        let (r2, e) = next(&cur);
        let c = Commit {
            runs: vec![(r2.clone(), e)],
            attempts: vec![finished(&s, n, 5_000, huge.clone())],
            ..Commit::default()
        };
        store
            .commit(&c)
            .await
            .unwrap_or_else(|e| panic!("commit {n} of a huge usage failed: {e}"));
        cur = r2;
    }
    let rows = store.usage(A, DAY, DAY).await.unwrap();
    let get = |k: &str| {
        rows.iter()
            .find(|r| r.counter == k)
            .map(|r| r.value)
            .unwrap_or_default()
    };
    let cap = crate::usage::ATTEMPT_CAP;
    assert_eq!(
        get("llm_cost_micros"),
        3 * cap,
        "capped per attempt, summed"
    );
    assert_eq!(get("llm_input_tokens"), 3 * cap);
    assert_eq!(get("egress_bytes"), 6 * cap);
    assert_eq!(get("steps"), 3);
}
