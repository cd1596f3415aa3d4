//! `commit`: optimistic concurrency, atomicity, upserts, schedule ticks.

use super::*;

/// A commit creates a run with its steps and journal; `load_run`, `get_run`
/// and `list_attempts` read them back exactly.
pub async fn commit_creates_and_loads<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.load_run(A, "run_1").await.unwrap(), None);
    let r = run(A, "run_1", "wf_1");
    let (sa, sb) = (
        step(&r, "a", Status::Running),
        step(&r, "b", Status::Pending),
    );
    let a1 = attempt(&sa, 1);
    let c = Commit {
        runs: vec![(r.clone(), None)],
        steps: vec![sb.clone(), sa.clone()],
        attempts: vec![a1.clone()],
        schedule: None,
        outbox: Vec::new(),
        delivery: None,
        poll: None,
    };
    store.commit(&c).await.unwrap();
    let state = store.load_run(A, "run_1").await.unwrap().expect("the run");
    assert_eq!(state.run, r);
    assert_eq!(state.steps, vec![sa.clone(), sb], "steps by key");
    assert_eq!(state.step("a"), Some(&sa));
    assert_eq!(store.get_run(A, "run_1").await.unwrap(), Some(r));
    assert_eq!(store.list_attempts(A, "run_1").await.unwrap(), vec![a1]);
    assert_eq!(store.list_attempts(A, "run_2").await.unwrap(), vec![]);
}

/// A new run (`expected_seq: None`) whose id exists is `Duplicate`, and its
/// commit writes nothing.
pub async fn commit_new_run_conflicts<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[step(&r, "a", Status::Pending)]).await;
    let mut again = run(A, "run_1", "wf_2");
    again.seq = 7;
    let c = create(&again, &[step(&again, "z", Status::Pending)]);
    duplicate(store.commit(&c).await, "creating a run that exists");
    let state = store.load_run(A, "run_1").await.unwrap().unwrap();
    assert_eq!(state.run, r, "the existing run is untouched");
    assert_eq!(ids(&state.steps, |s| &s.key), ["a"], "no step was written");
}

/// An update applies only when the stored `seq` is the expected one and the
/// new `seq` is greater; otherwise `Stale` and nothing changes. An update
/// of a missing run is `Stale` and creates nothing.
pub async fn commit_seq_must_match_and_increase<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[]).await;
    let (mut moved, _) = next(&r);
    moved.status = Status::Waiting;
    for (seq, expected, what) in [
        (2, 0, "an expected seq behind the stored one"),
        (3, 2, "an expected seq ahead of the stored one"),
        (1, 1, "a seq that does not increase"),
        (0, 1, "a seq that decreases"),
    ] {
        let mut m = moved.clone();
        m.seq = seq;
        let c = Commit {
            runs: vec![(m, Some(expected))],
            ..Commit::default()
        };
        stale(store.commit(&c).await, what);
        assert_eq!(
            store.get_run(A, "run_1").await.unwrap(),
            Some(r.clone()),
            "{what}"
        );
    }
    let c = Commit {
        runs: vec![(moved.clone(), Some(1))],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    assert_eq!(
        store.get_run(A, "run_1").await.unwrap(),
        Some(moved.clone())
    );
    stale(store.commit(&c).await, "the same update twice");
    let mut jump = moved.clone();
    jump.seq = 10;
    let c = Commit {
        runs: vec![(jump.clone(), Some(2))],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    assert_eq!(
        store.get_run(A, "run_1").await.unwrap(),
        Some(jump),
        "any greater seq"
    );

    let ghost = run(A, "run_2", "wf_1");
    let c = Commit {
        runs: vec![next(&ghost)],
        ..Commit::default()
    };
    stale(store.commit(&c).await, "updating a missing run");
    assert_eq!(store.get_run(A, "run_2").await.unwrap(), None);
}

/// A commit that fails on any part — a stale run last in the list, a run
/// that exists, a schedule tick taken — writes nothing at all: not its other
/// runs, new or updated, nor its steps, attempts or schedule advance.
pub async fn commit_is_atomic<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    put_workflow(&*store, A, "wf_1").await;
    let s = schedule(A, "wf_1", 5_000);
    store
        .set_active(A, "wf_1", true, Some(&s), 100)
        .await
        .unwrap();
    let r1 = run(A, "run_1", "wf_1");
    let r2 = run(A, "run_2", "wf_1");
    let s1 = step(&r1, "a", Status::Pending);
    put_run(&*store, &r1, std::slice::from_ref(&s1)).await;
    put_run(&*store, &r2, &[]).await;

    let r3 = run(A, "run_3", "wf_1");
    let (mut r1_next, r1_seq) = next(&r1);
    r1_next.status = Status::Completed;
    let mut s1_done = s1.clone();
    s1_done.status = Status::Running;
    s1_done.attempt = 1;
    let good = Commit {
        runs: vec![(r1_next, r1_seq), (r3.clone(), None)],
        steps: vec![s1_done.clone(), step(&r3, "x", Status::Pending)],
        attempts: vec![attempt(&s1_done, 1)],
        schedule: Some(ScheduleAdvance {
            tenant_id: A.into(),
            workflow_id: "wf_1".into(),
            expected: 5_000,
            next: 6_000,
        }),
        outbox: Vec::new(),
        delivery: None,
        poll: None,
    };
    let mut stale = good.clone();
    let mut r2_stale = next(&r2).0;
    r2_stale.seq = 7; // after the expected 5, but the stored seq is 1
    stale.runs.push((r2_stale, Some(5)));
    let mut exists = good.clone();
    exists.runs.push((run(A, "run_2", "wf_1"), None));
    let mut tick_taken = good.clone();
    if let Some(a) = tick_taken.schedule.as_mut() {
        a.expected = 4_000;
    }
    for (c, what, lost_race) in [
        (stale, "a stale run last", true),
        (exists, "an existing run last", false),
        (tick_taken, "a schedule tick already taken", true),
    ] {
        if lost_race {
            super::stale(store.commit(&c).await, what);
        } else {
            duplicate(store.commit(&c).await, what);
        }
        let state = store.load_run(A, "run_1").await.unwrap().unwrap();
        assert_eq!(state.run, r1, "{what}: the valid update was not applied");
        assert_eq!(state.steps, vec![s1.clone()], "{what}: no step written");
        assert_eq!(
            store.list_attempts(A, "run_1").await.unwrap(),
            vec![],
            "{what}"
        );
        assert_eq!(
            store.load_run(A, "run_3").await.unwrap(),
            None,
            "{what}: no new run"
        );
        assert_eq!(
            store.get_run(A, "run_2").await.unwrap(),
            Some(r2.clone()),
            "{what}"
        );
        assert_eq!(
            store.due_schedules(10_000, 10).await.unwrap(),
            vec![s.clone()],
            "{what}: the schedule did not advance"
        );
    }
    store.commit(&good).await.unwrap();
    assert_eq!(store.get_run(A, "run_3").await.unwrap(), Some(r3));
    assert_eq!(store.due_schedules(5_999, 10).await.unwrap(), vec![]);
}

/// Steps are replaced by (tenant, run, key) and attempts by (tenant, run,
/// step key, attempt): a later commit updates rows, never duplicates them.
pub async fn commit_upserts_steps_and_attempts<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let s = step(&r, "a", Status::Pending);
    put_run(&*store, &r, std::slice::from_ref(&s)).await;

    let (r2, e2) = next(&r);
    let mut running = s.clone();
    running.status = Status::Running;
    running.attempt = 1;
    running.due_at = Some(9_000);
    let a1 = attempt(&running, 1);
    let c = Commit {
        runs: vec![(r2.clone(), e2)],
        steps: vec![running.clone()],
        attempts: vec![a1.clone()],
        schedule: None,
        outbox: Vec::new(),
        delivery: None,
        poll: None,
    };
    store.commit(&c).await.unwrap();

    let (r3, e3) = next(&r2);
    let mut done = running.clone();
    done.status = Status::Completed;
    done.output = Some(json!({ "ok": true }));
    done.due_at = None;
    done.updated_at = 2_000;
    let mut a1_done = a1.clone();
    a1_done.status = Status::Completed;
    a1_done.output = done.output.clone();
    a1_done.usage = Some(json!({ "wall_ms": 12 }));
    a1_done.finished_at = Some(2_000);
    let c = Commit {
        runs: vec![(r3.clone(), e3)],
        steps: vec![done.clone()],
        attempts: vec![a1_done.clone()],
        schedule: None,
        outbox: Vec::new(),
        delivery: None,
        poll: None,
    };
    store.commit(&c).await.unwrap();
    let state = store.load_run(A, "run_1").await.unwrap().unwrap();
    assert_eq!(state.run, r3);
    assert_eq!(state.steps, vec![done], "the step row was replaced");
    assert_eq!(
        store.list_attempts(A, "run_1").await.unwrap(),
        vec![a1_done],
        "the attempt row was replaced"
    );
}

/// Steps of a run that does not exist (or is another tenant's), and attempts
/// of a step that does not exist, are refused with `NotFound`; the commit
/// writes nothing.
pub async fn commit_refuses_orphans<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[step(&r, "a", Status::Pending)]).await;
    let fresh_run = run(A, "run_2", "wf_1");
    let ghost = run(A, "run_9", "wf_1");
    let theirs = run(B, "run_1", "wf_1");
    let mut orphan_attempt = attempt(&step(&r, "zz", Status::Running), 1);
    orphan_attempt.step_key = "zz".into();
    let cases = [
        (
            create(&fresh_run, &[step(&ghost, "a", Status::Pending)]),
            "a step of a missing run",
        ),
        (
            create(&fresh_run, &[step(&theirs, "b", Status::Pending)]),
            "a step of another tenant's run",
        ),
        (
            Commit {
                attempts: vec![orphan_attempt],
                ..create(&fresh_run, &[])
            },
            "an attempt of a missing step",
        ),
    ];
    for (c, what) in cases {
        not_found(store.commit(&c).await, what);
        assert_eq!(
            store.get_run(A, "run_2").await.unwrap(),
            None,
            "{what}: no run written"
        );
        let state = store.load_run(A, "run_1").await.unwrap().unwrap();
        assert_eq!(ids(&state.steps, |s| &s.key), ["a"], "{what}");
        assert_eq!(
            store.list_attempts(A, "run_1").await.unwrap(),
            vec![],
            "{what}"
        );
    }
    assert_eq!(store.get_run(B, "run_1").await.unwrap(), None);
}

/// Two commits consuming the same schedule tick: the first wins, the second is
/// `Stale` and its run is not created. Advancing a schedule that does not
/// exist (or is another tenant's) is `Stale`.
pub async fn commit_schedule_tick_once<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    put_workflow(&*store, A, "wf_1").await;
    put_workflow(&*store, A, "wf_2").await;
    let s = schedule(A, "wf_1", 5_000);
    store
        .set_active(A, "wf_1", true, Some(&s), 100)
        .await
        .unwrap();
    let tick = |run_id: &str, tenant: &str, workflow: &str| Commit {
        schedule: Some(ScheduleAdvance {
            tenant_id: tenant.into(),
            workflow_id: workflow.into(),
            expected: 5_000,
            next: 6_000,
        }),
        ..create(&run(A, run_id, "wf_1"), &[])
    };
    stale(
        store.commit(&tick("run_0", B, "wf_1")).await,
        "another tenant's schedule",
    );
    stale(
        store.commit(&tick("run_0", A, "wf_2")).await,
        "a workflow without a schedule",
    );
    store.commit(&tick("run_1", A, "wf_1")).await.unwrap();
    stale(
        store.commit(&tick("run_2", A, "wf_1")).await,
        "the same tick twice",
    );
    assert!(store.get_run(A, "run_1").await.unwrap().is_some());
    assert_eq!(store.get_run(A, "run_2").await.unwrap(), None);
    assert_eq!(store.get_run(A, "run_0").await.unwrap(), None);
    let mut advanced = s.clone();
    advanced.next_fire_at = 6_000;
    assert_eq!(
        store.due_schedules(10_000, 10).await.unwrap(),
        vec![advanced]
    );
}

/// Resume tokens are unique across all steps of all tenants: a commit giving a
/// second step a token in use is `Duplicate`; re-writing the token's own step is not.
pub async fn commit_resume_token_unique<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut w = step(&r, "wait", Status::Waiting);
    w.resume_token = Some("tok_1".into());
    put_run(&*store, &r, std::slice::from_ref(&w)).await;
    for other in [run(A, "run_2", "wf_1"), run(B, "run_3", "wf_1")] {
        let mut s = step(&other, "wait", Status::Waiting);
        s.resume_token = Some("tok_1".into());
        duplicate(
            store.commit(&create(&other, &[s])).await,
            "a resume token in use",
        );
        assert_eq!(
            store.get_run(&other.tenant_id, &other.id).await.unwrap(),
            None
        );
    }
    let (r2, e2) = next(&r);
    let mut again = w.clone();
    again.updated_at = 5_000;
    let c = Commit {
        runs: vec![(r2, e2)],
        steps: vec![again.clone()],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    assert_eq!(
        store.step_by_resume_token("tok_1").await.unwrap(),
        Some(again)
    );
}
