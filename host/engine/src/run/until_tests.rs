//! Test runs up to one step (`Run::until`), driven by hand.

use super::tests::{Fixed, apply, def, drive_run, new_run, status};
use super::*;
use serde_json::json;
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;
use weft_types::{ErrorKind, Failure, Status};

fn test_run(until: &str) -> Run {
    Run {
        until: Some(until.into()),
        ..new_run(json!({"n": 1, "xs": [1, 2]}))
    }
}

/// Runs `d` up to `until`, each action answering its input; the final state,
/// the actions that ran (in order) and the runs started.
fn drive_until(d: &Definition, until: &str) -> ((Run, Vec<Step>), Vec<String>, Vec<Start>) {
    let ran = Mutex::new(Vec::new());
    let (state, starts) = drive_run(d, RunLimits::default(), test_run(until), |key, c| {
        ran.lock().unwrap().push(key.to_owned());
        if key == "boom" {
            return Err(Failure::new(ErrorKind::Permanent, "no"));
        }
        Ok(c.input.clone())
    });
    (state, ran.into_inner().unwrap(), starts)
}

fn act(id: &str, input: serde_json::Value) -> serde_json::Value {
    json!({"id": id, "kind": "action", "connector": "c", "action": "x", "input": input})
}

#[test]
fn only_the_step_and_what_it_depends_on_run() {
    let d = def(json!({"name": "w", "steps": [
        act("a", json!({"n": "{{ trigger.n }}"})),
        act("b", json!({"m": "{{ steps.a.output.n }}"})),
        act("post", json!("to slack")),
        {"id": "reply", "kind": "respond", "body": "sent"},
        {"id": "side", "kind": "action", "connector": "c", "action": "x", "input": 0, "after": []},
        {"id": "join", "kind": "merge", "after": ["side", "b"]}
    ]}));
    let (s, ran, _) = drive_until(&d, "b");
    assert_eq!(ran, ["a", "b"], "nothing after b, nothing beside it");
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(s.0.output, Some(json!({"m": 1})), "the run's output is b's");
    assert_eq!(s.0.response, None, "the respond step did not answer");
    for skipped in ["post", "reply", "side", "join"] {
        assert_eq!(status(&s, skipped), Status::Skipped, "{skipped}");
    }
    assert_eq!(s.0.until.as_deref(), Some("b"), "the run keeps `until`");
}

#[test]
fn a_merge_runs_every_branch_it_joins() {
    let d = def(json!({"name": "w", "steps": [
        act("a", json!(1)),
        {"id": "side", "kind": "action", "connector": "c", "action": "x", "input": 2, "after": []},
        {"id": "join", "kind": "merge", "after": ["a", "side"]},
        act("after", json!(3))
    ]}));
    let (s, mut ran, _) = drive_until(&d, "join");
    ran.sort();
    assert_eq!(ran, ["a", "side"]);
    assert_eq!(s.0.output, Some(json!({"a": 1, "side": 2})));
    assert_eq!(status(&s, "after"), Status::Skipped);
}

#[test]
fn a_step_on_a_branch_not_taken_ends_the_run_with_no_output() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "c", "kind": "condition", "if": "trigger.n == 1", "then": ["yes"], "else": ["no"]},
        act("yes", json!("y")),
        act("no", json!("n"))
    ]}));
    let (s, ran, _) = drive_until(&d, "no");
    assert!(ran.is_empty(), "{ran:?}");
    assert_eq!(s.0.status, Status::Completed);
    assert_eq!(status(&s, "no"), Status::Skipped);
    assert_eq!(
        status(&s, "yes"),
        Status::Skipped,
        "not in the test's reach"
    );
    assert_eq!(s.0.output, None);
}

#[test]
fn a_failed_test_run_starts_no_error_workflow() {
    let d = def(json!({"name": "w", "error_workflow": "wf_alert", "steps": [
        act("boom", json!(1)),
        act("after", json!(2))
    ]}));
    let (s, ran, starts) = drive_until(&d, "boom");
    assert_eq!(ran, ["boom"]);
    assert_eq!(s.0.status, Status::Failed);
    assert!(starts.is_empty(), "no error workflow: {starts:?}");
    // The same failure in a real run starts it.
    let (real, starts) = drive_run(&d, RunLimits::default(), new_run(json!(1)), |_, _| {
        Err(Failure::new(ErrorKind::Permanent, "no"))
    });
    assert_eq!(real.0.status, Status::Failed);
    assert_eq!(
        starts
            .iter()
            .map(|s| s.workflow_id.as_str())
            .collect::<Vec<_>>(),
        ["wf_alert"]
    );
}

#[test]
fn a_loop_named_runs_its_body_for_every_item() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.xs", "body": [
            act("inner", json!("{{ item }}"))
        ]},
        act("after", json!(0))
    ]}));
    let (s, ran, _) = drive_until(&d, "each");
    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(ran.iter().all(|k| k.ends_with(".inner")), "{ran:?}");
    assert_eq!(s.0.output, Some(json!([1, 2])));
    assert_eq!(status(&s, "after"), Status::Skipped);
}

#[test]
fn a_retry_stays_a_test_run_and_a_rerun_stays_in_its_reach() {
    let d = def(json!({"name": "w", "steps": [
        act("a", json!(1)),
        act("b", json!(2)),
        act("c", json!(3))
    ]}));
    let (s, _, _) = drive_until(&d, "b");
    let ids = Fixed(AtomicU32::new(100));
    let mut again = s.0.clone();
    again.id = "run_2".into();
    again.status = Status::Pending;
    let e = Plan::rerun(
        &d,
        &ids,
        RunLimits::default(),
        10,
        again.clone(),
        &s.1,
        Some("c"),
    )
    .err()
    .unwrap();
    assert!(e.contains("test run up to `b`") && e.contains("`c`"), "{e}");
    let plan = Plan::rerun(&d, &ids, RunLimits::default(), 10, again, &s.1, Some("b")).unwrap();
    let dec = plan.finish();
    let mut state = (dec.run.clone(), Vec::new());
    apply(&mut state, &dec);
    assert_eq!(state.0.until.as_deref(), Some("b"));
    assert_eq!(status(&state, "a"), Status::Completed, "reused");
    assert_eq!(status(&state, "b"), Status::Pending, "runs again");
    assert!(
        state.1.iter().all(|r| r.key != "c"),
        "c waits for b, then is skipped"
    );
}
