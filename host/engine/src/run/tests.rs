//! The plan driven by hand: a fake executor completes action steps.

use super::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use weft_types::{ErrorKind, Failure, Reason, Status, Trigger};

pub(super) struct Fixed(pub(super) AtomicU32);

impl Ids for Fixed {
    fn id(&self, prefix: &str) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}_{n}")
    }
    fn token(&self) -> String {
        "tok".into()
    }
    fn unit(&self) -> f64 {
        0.5
    }
}

pub(super) fn def(v: serde_json::Value) -> Definition {
    serde_json::from_value(v).unwrap()
}

pub(super) fn new_run(input: serde_json::Value) -> Run {
    Run {
        tenant_id: "t".into(),
        id: "run_1".into(),
        workflow_id: "wf".into(),
        version: 1,
        status: Status::Pending,
        trigger: Trigger::Manual,
        input,
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq: 0,
        created_at: 0,
        updated_at: 0,
        finished_at: None,
        until: None,
    }
}

/// Applies a decision to the "store" (run + rows).
pub(super) fn apply(state: &mut (Run, Vec<Step>), d: &Decision) {
    state.0 = d.run.clone();
    for s in &d.steps {
        match state.1.iter_mut().find(|r| r.key == s.key) {
            Some(r) => *r = s.clone(),
            None => state.1.push(s.clone()),
        }
    }
}

/// Decides `f` on the run's full rows, and again as the worker does on lean
/// rows (terminal rows without their input, output and error, loaded again
/// with the rows the plan says it missed), and checks that both decide the
/// same: a lean decision never depends on data it did not have.
pub(super) fn decide<R: PartialEq + std::fmt::Debug>(
    d: &Definition,
    ids: &Fixed,
    limits: RunLimits,
    now: i64,
    state: &(Run, Vec<Step>),
    f: impl FnMut(&mut Plan<'_>) -> R,
) -> (R, Decision) {
    let (answer, decision, _) = decide_lean(d, ids, limits, now, state, f);
    (answer, decision)
}

/// [`decide`], also returning the rows the lean decision had to load in full.
pub(super) fn decide_lean<R: PartialEq + std::fmt::Debug>(
    d: &Definition,
    ids: &Fixed,
    limits: RunLimits,
    now: i64,
    state: &(Run, Vec<Step>),
    mut f: impl FnMut(&mut Plan<'_>) -> R,
) -> (R, Decision, BTreeSet<String>) {
    let first_id = ids.0.load(Ordering::Relaxed);
    let mut p = Plan::load(d, ids, limits, now, state.0.clone(), state.1.clone());
    let answer = f(&mut p);
    let full = p.finish();
    let after = ids.0.load(Ordering::Relaxed);
    let mut keys = BTreeSet::new();
    loop {
        let lean_ids = Fixed(AtomicU32::new(first_id));
        let rows = state.1.iter().map(|s| lean_row(s, &keys)).collect();
        let mut p = Plan::load(d, &lean_ids, limits, now, state.0.clone(), rows).lean(keys.clone());
        let lean_answer = f(&mut p);
        let missing = p.missing();
        if missing.is_empty() {
            assert_eq!(lean_answer, answer, "the lean decision's answer");
            assert_eq!(p.finish(), full, "the lean decision");
            assert_eq!(lean_ids.0.load(Ordering::Relaxed), after);
            return (answer, full, keys);
        }
        assert!(
            !missing.is_subset(&keys),
            "asked again for rows it had: {missing:?}"
        );
        keys.extend(missing);
    }
}

/// A row as a lean load gives it: a terminal row's data left out, unless
/// its key is in `full`.
pub(super) fn lean_row(s: &Step, full: &BTreeSet<String>) -> Step {
    let mut s = s.clone();
    if s.status.is_terminal() && !full.contains(&s.key) {
        (s.input, s.output, s.error) = (None, None, None);
    }
    s
}

/// Runs every due action step with `exec` until nothing is due; returns the state.
fn drive(
    d: &Definition,
    input: serde_json::Value,
    exec: impl Fn(&str, &Claim) -> Result<serde_json::Value, Failure>,
) -> (Run, Vec<Step>) {
    drive_with(d, RunLimits::default(), input, exec)
}

/// [`drive`] with every decision rendering within `limits`.
pub(super) fn drive_with(
    d: &Definition,
    limits: RunLimits,
    input: serde_json::Value,
    exec: impl Fn(&str, &Claim) -> Result<serde_json::Value, Failure>,
) -> (Run, Vec<Step>) {
    drive_run(d, limits, new_run(input), exec).0
}

/// [`drive_with`] from `run` (pending); also every run the decisions started.
pub(super) fn drive_run(
    d: &Definition,
    limits: RunLimits,
    run: Run,
    exec: impl Fn(&str, &Claim) -> Result<serde_json::Value, Failure>,
) -> ((Run, Vec<Step>), Vec<Start>) {
    let ids = Fixed(AtomicU32::new(1));
    let first = Plan::start(d, &ids, limits, 0, run).finish();
    let mut starts = first.starts.clone();
    let mut state = (first.run.clone(), Vec::new());
    apply(&mut state, &first);
    let mut queue: Vec<Due> = first.due;
    let mut now = 0;
    while let Some(due) = queue.pop() {
        now += 1 + i64::try_from(due.delay_ms).unwrap();
        if due.attempt == 0 {
            let (_, dec) = decide(d, &ids, limits, now, &state, |p| p.wake(&due.key));
            apply(&mut state, &dec);
            queue.extend(dec.due);
            continue;
        }
        let (claim, dec) = decide(d, &ids, limits, now, &state, |p| {
            p.claim(&due.key, due.attempt, 1000)
        });
        let Some(claim) = claim else {
            continue;
        };
        apply(&mut state, &dec);
        let result = exec(&due.key, &claim);
        let (done, dec) = decide(d, &ids, limits, now, &state, |p| {
            p.complete(&due.key, due.attempt, now, Ran::result(result.clone()))
        });
        assert!(done);
        apply(&mut state, &dec);
        starts.extend(dec.starts.iter().cloned());
        queue.extend(dec.due);
    }
    (state, starts)
}

pub(super) fn status(state: &(Run, Vec<Step>), key: &str) -> Status {
    state
        .1
        .iter()
        .find(|s| s.key == key)
        .map(|s| s.status)
        .unwrap_or_else(|| panic!("no step {key}"))
}

pub(super) fn echo(_: &str, c: &Claim) -> Result<serde_json::Value, Failure> {
    Ok(c.input.clone())
}

#[test]
fn a_chain_passes_outputs_and_completes() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": {"n": "{{ trigger.n }}"}},
        {"id": "b", "kind": "action", "connector": "c", "action": "x", "input": {"m": "{{ steps.a.output.n }}"}},
        {"id": "r", "kind": "respond", "body": "{{ steps.b.output }}"}
    ]}));
    let s = drive(&d, json!({"n": 7}), echo);
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(s.0.response.as_ref().unwrap().body, json!({"m": 7}));
    assert_eq!(status(&s, TRIGGER), Status::Completed);
}

#[test]
fn a_condition_skips_the_branch_not_taken_and_merge_still_runs() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "c", "kind": "condition", "if": "trigger.ok", "then": ["yes"], "else": ["no"]},
        {"id": "yes", "kind": "action", "connector": "c", "action": "x", "input": 1},
        {"id": "no", "kind": "action", "connector": "c", "action": "x", "input": 2},
        {"id": "after_no", "kind": "action", "connector": "c", "action": "x", "input": 3},
        {"id": "m", "kind": "merge", "after": ["yes", "after_no"]}
    ]}));
    let s = drive(&d, json!({"ok": true}), echo);
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(status(&s, "yes"), Status::Completed);
    assert_eq!(status(&s, "no"), Status::Skipped);
    assert_eq!(status(&s, "after_no"), Status::Skipped);
    assert_eq!(status(&s, "m"), Status::Completed);
    assert_eq!(s.0.output, Some(json!({"yes": 1, "after_no": null})));
}

#[test]
fn a_loop_runs_each_item_with_bounded_parallelism() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.xs", "parallelism": 2, "body": [
            {"id": "double", "kind": "action", "connector": "c", "action": "x", "input": {"v": "{{ item }}", "i": "{{ index }}"}}
        ]}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let first = Plan::start(
        &d,
        &ids,
        RunLimits::default(),
        0,
        new_run(json!({"xs": [1, 2, 3]})),
    )
    .finish();
    assert_eq!(first.due.len(), 2, "parallelism 2 starts two iterations");
    let s = drive(&d, json!({"xs": [1, 2, 3]}), echo);
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(
        s.0.output,
        Some(json!([{"v": 1, "i": 0}, {"v": 2, "i": 1}, {"v": 3, "i": 2}]))
    );
    assert_eq!(status(&s, "each[2].double"), Status::Completed);
}

#[test]
fn transient_failures_retry_then_succeed_and_permanent_ones_fail_the_run() {
    let d = def(json!({"name": "w", "error_workflow": "wf_err", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "retry": {"max_attempts": 5}}
    ]}));
    let s = drive(&d, json!({}), |_, c| {
        if c.attempt < 3 {
            Err(Failure::new(ErrorKind::Transient, "flaky"))
        } else {
            Ok(json!(c.attempt))
        }
    });
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(s.0.output, Some(json!(3)));

    let ids = Fixed(AtomicU32::new(1));
    let mut p = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({})));
    p.claim("a", 1, 100).unwrap();
    assert!(p.complete(
        "a",
        1,
        0,
        Ran::result(Err(Failure::new(ErrorKind::Auth, "no")))
    ));
    let dec = p.finish();
    assert_eq!(dec.run.status, Status::Failed);
    assert_eq!(dec.run.error.as_ref().unwrap().step.as_deref(), Some("a"));
    assert_eq!(dec.starts.len(), 1, "the error workflow starts");
    assert_eq!(dec.starts[0].workflow_id, "wf_err");
    assert!(dec.finished);
}

#[test]
fn continue_on_fail_records_the_error_as_output() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "continue_on_fail": true},
        {"id": "b", "kind": "respond", "body": "{{ steps.a.output.error.kind }}"}
    ]}));
    let s = drive(&d, json!({}), |_, _| {
        Err(Failure::new(ErrorKind::InvalidInput, "bad"))
    });
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(status(&s, "a"), Status::Failed);
    assert_eq!(s.0.response.unwrap().body, "invalid_input");
}

#[test]
fn a_stale_or_duplicate_result_is_ignored() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let mut p = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({})));
    assert!(p.claim("a", 1, 100).is_some());
    assert!(
        p.claim("a", 1, 100).is_none(),
        "a held lease is not claimed twice"
    );
    assert!(p.complete("a", 1, 0, Ran::result(Ok(json!(1)))));
    assert!(
        !p.complete("a", 1, 0, Ran::result(Ok(json!(2)))),
        "second result dropped"
    );
    assert_eq!(p.run().output, Some(json!(1)));
}

#[test]
fn an_expired_lease_counts_as_a_failed_attempt() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let mut p = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({})));
    p.claim("a", 1, 100).unwrap();
    let dec = p.finish();
    let mut p = Plan::load(&d, &ids, RunLimits::default(), 200, dec.run, dec.steps);
    assert!(p.claim("a", 1, 100).is_none());
    let dec = p.finish();
    assert_eq!(
        dec.due,
        vec![Due {
            key: "a".into(),
            attempt: 2,
            delay_ms: 500
        }]
    );
}

#[test]
fn a_step_that_loses_its_worker_again_and_again_is_poison() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x",
         "retry": {"max_attempts": 10, "initial_interval_ms": 1}}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let mut p = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({})));
    p.claim("a", 1, 100).unwrap();
    let mut state = p.finish();
    let mut now = 0;
    for attempt in 1..=POISON_AFTER {
        // The lease lapses (the worker died); the sweeper's task finds it.
        now += 1_000;
        let mut p = Plan::load(
            &d,
            &ids,
            RunLimits::default(),
            now,
            state.run.clone(),
            state.steps.clone(),
        );
        assert!(p.claim("a", attempt, 100).is_none());
        let dec = p.finish();
        let step = dec.steps.iter().find(|s| s.key == "a").unwrap();
        let journal = dec.attempts.iter().find(|a| a.attempt == attempt).unwrap();
        assert_eq!(
            journal.status,
            Status::Failed,
            "the lost attempt is journaled"
        );
        if attempt < POISON_AFTER {
            assert_eq!(step.status, Status::Pending, "attempt {attempt} is retried");
            assert_eq!(step.error.as_ref().unwrap().lost, Some(attempt));
            now += 1_000;
            let mut p = Plan::load(
                &d,
                &ids,
                RunLimits::default(),
                now,
                dec.run.clone(),
                dec.steps.clone(),
            );
            p.claim("a", attempt + 1, 100).unwrap();
            state = p.finish();
        } else {
            assert_eq!(step.status, Status::Failed);
            assert!(step.error.as_ref().unwrap().is(Reason::Poison));
            assert_eq!(dec.run.status, Status::Failed);
        }
    }
}

#[test]
fn a_dead_lettered_task_fails_its_step_as_poison_once() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let mut p = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({})));
    assert!(p.poison("a", "dead-lettered"));
    assert!(
        !p.poison("a", "dead-lettered"),
        "a failed step stays as it is"
    );
    let dec = p.finish();
    assert_eq!(dec.run.status, Status::Failed);
    let step = dec.steps.iter().find(|s| s.key == "a").unwrap();
    assert!(step.error.as_ref().unwrap().is(Reason::Poison));
}

#[test]
fn waits_resume_and_time_out() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "approve", "kind": "wait", "until": "resume", "timeout_ms": 1000},
        {"id": "r", "kind": "respond", "body": "{{ steps.approve.output.payload }}"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({}))).finish();
    assert_eq!(dec.run.status, Status::Waiting);
    let row = dec.steps.iter().find(|s| s.key == "approve").unwrap();
    assert_eq!(row.status, Status::Waiting);
    assert_eq!(row.resume_token.as_deref(), Some("tok"));
    let mut p = Plan::load(
        &d,
        &ids,
        RunLimits::default(),
        10,
        dec.run.clone(),
        dec.steps.clone(),
    );
    assert!(!p.wake("approve"), "not due yet");
    assert!(p.resume("approve", json!("yes")));
    assert_eq!(p.run().response.as_ref().unwrap().body, "yes");
    let mut p = Plan::load(&d, &ids, RunLimits::default(), 1000, dec.run, dec.steps);
    assert!(p.wake("approve"));
    assert_eq!(p.run().status, Status::Failed);
}

#[test]
fn subworkflows_start_children_and_nest_boundedly() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "sub", "kind": "subworkflow", "workflow": "wf_child", "input": {"x": 1}}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({}))).finish();
    assert_eq!(dec.starts.len(), 1);
    let child_id = dec.starts[0].run_id.clone();
    let mut child = new_run(json!({"x": 1}));
    child.id = child_id;
    child.status = Status::Completed;
    child.output = Some(json!("done"));
    let mut p = Plan::load(
        &d,
        &ids,
        RunLimits::default(),
        5,
        dec.run.clone(),
        dec.steps.clone(),
    );
    assert!(p.child_done("sub", &child));
    assert_eq!(p.run().status, Status::Completed);
    assert_eq!(p.run().output, Some(json!("done")));

    // A child that refused its input (before it began) fails the step as
    // an input error naming the field; a failure inside the child does not.
    for (step, reason) in [
        (None, Reason::InputSchema),
        (Some("inner".to_owned()), Reason::SubworkflowFailed),
    ] {
        child.status = Status::Failed;
        child.error = Some(weft_types::RunFailure {
            failure: Failure::of(Reason::InputSchema, "… /x is required"),
            step,
        });
        let mut p = Plan::load(
            &d,
            &ids,
            RunLimits::default(),
            5,
            dec.run.clone(),
            dec.steps.clone(),
        );
        assert!(p.child_done("sub", &child));
        let f = p.step("sub").unwrap().error.clone().unwrap();
        assert_eq!(f.reason, Some(reason));
        assert!(
            f.message.ends_with("failed: … /x is required"),
            "{}",
            f.message
        );
        assert_eq!(p.run().status, Status::Failed);
    }

    let mut deep = new_run(json!({}));
    deep.depth = MAX_DEPTH;
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, deep).finish();
    assert!(dec.starts.is_empty());
    assert_eq!(dec.run.status, Status::Failed);
    assert!(dec.run.error.unwrap().failure.is(Reason::DepthLimit));
}

#[test]
fn cancel_and_timeout_end_the_run_and_cancel_live_steps() {
    let d = def(json!({"name": "w", "timeout_ms": 50, "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({}))).finish();
    assert_eq!(dec.run.deadline_at, Some(50));
    let mut p = Plan::load(
        &d,
        &ids,
        RunLimits::default(),
        10,
        dec.run.clone(),
        dec.steps.clone(),
    );
    assert!(!p.time_out());
    assert!(p.cancel("stop"));
    assert_eq!(p.step("a").unwrap().status, Status::Cancelled);
    let mut p = Plan::load(&d, &ids, RunLimits::default(), 60, dec.run, dec.steps);
    assert!(p.time_out());
    assert!(
        p.run()
            .error
            .as_ref()
            .unwrap()
            .failure
            .is(Reason::RunTimeout)
    );
}

#[test]
fn template_errors_fail_the_step_with_the_field_path() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": {"k": "{{ 1 < 'a' }}"}}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(json!({}))).finish();
    assert_eq!(dec.run.status, Status::Failed);
    let msg = dec.run.error.unwrap().failure.message;
    assert!(msg.starts_with("/input/k: cannot compare"), "{msg}");
}

#[test]
fn rerun_from_a_step_reuses_upstream_results() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": 1},
        {"id": "b", "kind": "action", "connector": "c", "action": "x", "input": "{{ steps.a.output }}"}
    ]}));
    let s = drive(&d, json!({}), echo);
    let ids = Fixed(AtomicU32::new(10));
    let mut run = new_run(json!({}));
    run.id = "run_2".into();
    let dec = Plan::rerun(
        &d,
        &ids,
        RunLimits::default(),
        5,
        run.clone(),
        &s.1,
        Some("b"),
    )
    .unwrap()
    .finish();
    assert_eq!(
        dec.due,
        vec![Due {
            key: "b".into(),
            attempt: 1,
            delay_ms: 0
        }]
    );
    let a = dec.steps.iter().find(|r| r.key == "a").unwrap();
    assert_eq!((a.status, a.run_id.as_str()), (Status::Completed, "run_2"));
    assert!(Plan::rerun(&d, &ids, RunLimits::default(), 5, run, &s.1, Some("zz")).is_err());
}

#[test]
fn a_lean_decision_loads_only_the_rows_it_reads() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": {"n": 1}},
        {"id": "each", "kind": "loop", "items": "trigger.xs", "body": [
            {"id": "b", "kind": "action", "connector": "c", "action": "x",
             "input": {"v": "{{ item }}", "a": "{{ steps.a.output.n }}"}}
        ]},
        {"id": "out", "kind": "respond", "body": "{{ steps.each.output }}"}
    ]}));
    let ids = Fixed(AtomicU32::new(1));
    let first = Plan::start(
        &d,
        &ids,
        RunLimits::default(),
        0,
        new_run(json!({"xs": [1, 2, 3]})),
    )
    .finish();
    let mut state = (first.run.clone(), Vec::new());
    apply(&mut state, &first);
    let mut queue = first.due;
    let mut loaded = Vec::new();
    let mut now = 0;
    while let Some(due) = queue.pop() {
        now += 1;
        let (claim, dec, keys) = decide_lean(&d, &ids, RunLimits::default(), now, &state, |p| {
            p.claim(&due.key, due.attempt, 1000)
        });
        assert!(keys.is_empty(), "a claim reads no finished row: {keys:?}");
        let claim = claim.unwrap();
        apply(&mut state, &dec);
        let (done, dec, keys) = decide_lean(&d, &ids, RunLimits::default(), now, &state, |p| {
            p.complete(
                &due.key,
                due.attempt,
                now,
                Ran::result(Ok(claim.input.clone())),
            )
        });
        assert!(done);
        loaded.push((due.key.clone(), keys));
        apply(&mut state, &dec);
        queue.extend(dec.due);
    }
    let set = |keys: &[&str]| {
        keys.iter()
            .map(|k| (*k).to_owned())
            .collect::<BTreeSet<_>>()
    };
    // Completing `a` creates the first iteration from `a`'s output, which
    // the decision itself wrote; completing an iteration starts the next
    // one, which reads `steps.a`, an old row; the last one starts none but
    // collects the earlier iterations' outputs, and the respond step reads
    // the loop's, written by the same decision.
    assert_eq!(
        loaded,
        [
            ("a".to_owned(), set(&[])),
            ("each[0].b".to_owned(), set(&["a"])),
            ("each[1].b".to_owned(), set(&["a"])),
            ("each[2].b".to_owned(), set(&["each[0].b", "each[1].b"])),
        ]
    );
    assert_eq!(state.0.status, Status::Completed);
    assert_eq!(
        state.0.response.as_ref().map(|r| r.body.clone()),
        Some(json!([{"v": 1, "a": 1}, {"v": 2, "a": 1}, {"v": 3, "a": 1}]))
    );
}
