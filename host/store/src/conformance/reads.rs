//! Reading runs back: ordering, filters, pagination, the sweeper's queries.

use super::*;
use std::collections::BTreeMap;

/// `load_run` returns the run's steps — and only its own, not those of a run
/// whose id extends it — ordered by key (byte order).
pub async fn load_run_steps_by_key<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r1 = run(A, "run_1", "wf_1");
    let r10 = run(A, "run_10", "wf_1");
    let keys = [
        "each[2].fetch",
        "b",
        "each[10].fetch",
        "a",
        "B",
        "é",
        "a.b",
        "a[0]",
    ];
    let steps: Vec<Step> = keys.iter().map(|k| step(&r1, k, Status::Pending)).collect();
    put_run(&*store, &r1, &steps).await;
    put_run(&*store, &r10, &[step(&r10, "a", Status::Pending)]).await;
    let mut sorted: Vec<&str> = keys.to_vec();
    sorted.sort_unstable();
    let state = store.load_run(A, "run_1").await.unwrap().unwrap();
    assert_eq!(
        ids(&state.steps, |s| &s.key),
        sorted,
        "steps by key, this run's only"
    );
    let state = store.load_run(A, "run_10").await.unwrap().unwrap();
    assert_eq!(ids(&state.steps, |s| &s.key), ["a"]);
}

/// `load_run_lean` gives every step row `load_run` gives, in the same
/// order and with the same status, attempt, times and links; a step not
/// terminal, and a terminal one listed in `full`, whole; any other terminal
/// step without its `input`, `output` and `error` (what a decision does not
/// read unless it asks, `weft_engine::run::Plan::lean`).
pub async fn load_run_lean_leaves_out_finished_data<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let with = |key: &str, status: Status| {
        let mut s = step(&r, key, status);
        s.input = Some(json!({"in": key}));
        s.output = Some(json!({"out": key}));
        s.error = Some(weft_types::Failure::new(
            weft_types::ErrorKind::Transient,
            format!("error of {key}"),
        ));
        s.attempt = 2;
        s.due_at = Some(5_000);
        s.updated_at = 2_000;
        s
    };
    let mut waiting = with("w", Status::Waiting);
    waiting.resume_token = Some("tok_lean".into());
    waiting.child_run_id = Some("run_child".into());
    let steps = vec![
        with("a", Status::Completed),
        with("b", Status::Failed),
        with("c", Status::Skipped),
        with("d", Status::Cancelled),
        with("each[0].x", Status::Completed),
        with("p", Status::Pending),
        with("r", Status::Running),
        waiting,
    ];
    put_run(&*store, &r, &steps).await;
    let whole = store.load_run(A, "run_1").await.unwrap().unwrap();
    let full = ["b".to_owned(), "each[0].x".to_owned(), "zz".to_owned()];
    let lean = store
        .load_run_lean(A, "run_1", &full)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lean.run, whole.run, "the run row");
    assert_eq!(
        ids(&lean.steps, |s| &s.key),
        ids(&whole.steps, |s| &s.key),
        "every row, by key"
    );
    for (l, w) in lean.steps.iter().zip(&whole.steps) {
        if w.status.is_terminal() && !full.contains(&w.key) {
            let expected = Step {
                input: None,
                output: None,
                error: None,
                ..w.clone()
            };
            assert_eq!(l, &expected, "{}: left out its data only", w.key);
        } else {
            assert_eq!(l, w, "{}: whole", w.key);
        }
    }
    // Nothing listed: every terminal row is lean; another tenant sees nothing.
    let lean = store.load_run_lean(A, "run_1", &[]).await.unwrap().unwrap();
    let stripped = lean.steps.iter().filter(|s| s.output.is_none()).count();
    assert_eq!(stripped, 5, "the five terminal rows");
    assert!(
        store
            .load_run_lean(B, "run_1", &[])
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .load_run_lean(A, "run_2", &[])
            .await
            .unwrap()
            .is_none()
    );
}

/// `list_runs` filters by workflow, by status or both, and pages newest
/// (greatest id) first with `before`; another tenant's runs never show.
pub async fn list_runs_filters_and_pages<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let spec = [
        ("run_03", "wf_1", Status::Completed),
        ("run_01", "wf_1", Status::Running),
        ("run_05", "wf_2", Status::Completed),
        ("run_02", "wf_2", Status::Failed),
        ("run_06", "wf_1", Status::Completed),
        ("run_04", "wf_1", Status::Waiting),
    ];
    for (id, wf, status) in spec {
        let mut r = run(A, id, wf);
        r.status = status;
        put_run(&*store, &r, &[]).await;
    }
    put_run(&*store, &run(B, "run_07", "wf_1"), &[]).await;
    let list = |workflow: Option<&str>, status: Option<Status>, before: Option<&str>, limit| {
        let store = store.clone();
        let filter = RunFilter {
            workflow_id: workflow.map(str::to_owned),
            status,
            ..RunFilter::default()
        };
        let page = Page {
            before: before.map(str::to_owned),
            limit,
        };
        async move {
            let got = store.list_runs(A, &filter, &page).await.unwrap();
            ids(&got, |r| &r.id)
        }
    };
    let all = ["run_06", "run_05", "run_04", "run_03", "run_02", "run_01"];
    assert_eq!(list(None, None, None, 100).await, all);
    assert_eq!(list(None, None, None, 4).await, all[..4]);
    assert_eq!(list(None, None, Some("run_03"), 4).await, all[4..]);
    assert_eq!(
        list(Some("wf_1"), None, None, 100).await,
        ["run_06", "run_04", "run_03", "run_01"]
    );
    assert_eq!(
        list(None, Some(Status::Completed), None, 100).await,
        ["run_06", "run_05", "run_03"]
    );
    assert_eq!(
        list(Some("wf_1"), Some(Status::Completed), None, 1).await,
        ["run_06"]
    );
    assert_eq!(
        list(Some("wf_1"), Some(Status::Completed), Some("run_06"), 1).await,
        ["run_03"]
    );
    assert_eq!(
        list(Some("wf_1"), Some(Status::Completed), Some("run_03"), 1).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(Some("wf_9"), None, None, 100).await,
        Vec::<String>::new()
    );
    let got = store
        .list_runs(A, &RunFilter::default(), &Page::first(1))
        .await
        .unwrap();
    let mut expected = run(A, "run_06", "wf_1");
    expected.status = Status::Completed;
    assert_eq!(got, vec![expected], "whole rows");
}

/// The journal lists by step key, then attempt number (numerically).
pub async fn list_attempts_by_step_then_attempt<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let (a, b) = (
        step(&r, "a", Status::Running),
        step(&r, "b", Status::Running),
    );
    let c = Commit {
        attempts: vec![
            attempt(&b, 1),
            attempt(&a, 10),
            attempt(&a, 2),
            attempt(&a, 1),
        ],
        ..create(&r, &[b.clone(), a.clone()])
    };
    store.commit(&c).await.unwrap();
    let got = store.list_attempts(A, "run_1").await.unwrap();
    let order: Vec<(String, u32)> = got
        .iter()
        .map(|x| (x.step_key.clone(), x.attempt))
        .collect();
    let want = [("a", 1), ("a", 2), ("a", 10), ("b", 1)].map(|(k, n)| (k.to_owned(), n));
    assert_eq!(order, want);
    assert_eq!(got[2], attempt(&a, 10));
}

/// `due_steps`: non-terminal steps whose `due_at` is at or before `at`, from
/// every tenant, earliest first, at most `limit`.
pub async fn due_steps_earliest_first<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r1 = run(A, "run_1", "wf_1");
    let r2 = run(B, "run_2", "wf_1");
    let due = |r: &Run, key: &str, status, due_at: Option<i64>| {
        let mut s = step(r, key, status);
        s.due_at = due_at;
        s
    };
    let steps = vec![
        due(&r1, "p", Status::Pending, Some(100)),
        due(&r1, "r", Status::Running, Some(50)),
        due(&r1, "w", Status::Waiting, Some(300)),
        due(&r1, "c", Status::Completed, Some(10)),
        due(&r1, "f", Status::Failed, Some(10)),
        due(&r1, "x", Status::Cancelled, Some(10)),
        due(&r1, "s", Status::Skipped, Some(10)),
        due(&r1, "n", Status::Pending, None),
        due(&r1, "later", Status::Pending, Some(301)),
    ];
    put_run(&*store, &r1, &steps).await;
    put_run(&*store, &r2, &[due(&r2, "y", Status::Pending, Some(75))]).await;
    let keys = |v: Vec<Step>| -> Vec<String> { ids(&v, |s| &s.key) };
    assert_eq!(
        keys(store.due_steps(300, 100).await.unwrap()),
        ["r", "y", "p", "w"]
    );
    assert_eq!(keys(store.due_steps(300, 2).await.unwrap()), ["r", "y"]);
    assert_eq!(
        keys(store.due_steps(49, 100).await.unwrap()),
        Vec::<String>::new()
    );
    let got = store.due_steps(75, 100).await.unwrap();
    assert_eq!(
        got[1],
        due(&r2, "y", Status::Pending, Some(75)),
        "whole rows, any tenant"
    );

    let (r1b, e) = next(&r1);
    let mut finished = due(&r1, "r", Status::Completed, Some(50));
    finished.output = Some(json!(1));
    let c = Commit {
        runs: vec![(r1b, e)],
        steps: vec![finished],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    assert_eq!(
        keys(store.due_steps(300, 100).await.unwrap()),
        ["y", "p", "w"],
        "a step that became terminal is no longer due"
    );
}

/// `overdue_runs`: non-terminal runs whose deadline is at or before `at`, from
/// every tenant, earliest first, at most `limit`.
pub async fn overdue_runs_not_terminal<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let spec = [
        (A, "run_1", Status::Running, Some(100)),
        (A, "run_2", Status::Completed, Some(50)),
        (A, "run_3", Status::Waiting, Some(200)),
        (A, "run_4", Status::Pending, None),
        (B, "run_5", Status::Pending, Some(150)),
        (B, "run_6", Status::Running, Some(1_000)),
        (B, "run_7", Status::Cancelled, Some(10)),
    ];
    for (t, id, status, deadline) in spec {
        let mut r = run(t, id, "wf_1");
        r.status = status;
        r.deadline_at = deadline;
        put_run(&*store, &r, &[]).await;
    }
    let list = |at, limit| {
        let store = store.clone();
        async move { ids(&store.overdue_runs(at, limit).await.unwrap(), |r| &r.id) }
    };
    assert_eq!(list(200, 100).await, ["run_1", "run_5", "run_3"]);
    assert_eq!(list(200, 2).await, ["run_1", "run_5"]);
    assert_eq!(list(99, 100).await, Vec::<String>::new());
    let got = store.overdue_runs(150, 100).await.unwrap();
    assert_eq!(got[1].tenant_id, B);
    assert_eq!(got[1].deadline_at, Some(150));
}

/// `count_runs` counts every tenant's runs by status.
pub async fn count_runs_by_status<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let counts = |v: Vec<(Status, u64)>| -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for (s, n) in v {
            assert!(m.insert(s.as_str(), n).is_none(), "{s} counted twice");
        }
        m.retain(|_, n| *n > 0);
        m
    };
    assert_eq!(counts(store.count_runs().await.unwrap()), BTreeMap::new());
    let spec = [
        (A, Status::Running),
        (A, Status::Running),
        (B, Status::Running),
        (A, Status::Completed),
        (B, Status::Failed),
        (B, Status::Failed),
        (A, Status::Waiting),
    ];
    for (n, (t, status)) in spec.into_iter().enumerate() {
        let mut r = run(t, &format!("run_{n}"), "wf_1");
        r.status = status;
        put_run(&*store, &r, &[]).await;
    }
    let want = BTreeMap::from([
        ("completed", 1),
        ("failed", 2),
        ("running", 3),
        ("waiting", 1),
    ]);
    assert_eq!(counts(store.count_runs().await.unwrap()), want);
}

/// `step_by_resume_token` finds the step from any tenant, and no longer once a
/// commit has cleared its token.
pub async fn step_by_resume_token_any_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(B, "run_1", "wf_1");
    let mut w = step(&r, "wait", Status::Waiting);
    w.resume_token = Some("tok_b".into());
    w.due_at = Some(10_000);
    put_run(
        &*store,
        &r,
        &[w.clone(), step(&r, "other", Status::Pending)],
    )
    .await;
    assert_eq!(
        store.step_by_resume_token("tok_b").await.unwrap(),
        Some(w.clone())
    );
    assert_eq!(store.step_by_resume_token("tok_").await.unwrap(), None);
    assert_eq!(store.step_by_resume_token("").await.unwrap(), None);
    let (r2, e) = next(&r);
    let mut resumed = w.clone();
    resumed.status = Status::Completed;
    resumed.resume_token = None;
    let c = Commit {
        runs: vec![(r2, e)],
        steps: vec![resumed],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    assert_eq!(store.step_by_resume_token("tok_b").await.unwrap(), None);
}
