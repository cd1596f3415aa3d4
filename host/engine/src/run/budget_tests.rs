//! The render budget in runs (H1): every way a definition multiplies data
//! fails its step with reason `render_limit`, naming the limit, before
//! anything of it is stored.

use super::tests::{Fixed, def, drive_with, echo, new_run, status};
use super::*;
use serde_json::json;
use std::sync::atomic::AtomicU32;
use weft_types::{ErrorKind, Failure, Reason, Status};

fn ids() -> Fixed {
    Fixed(AtomicU32::new(1))
}

fn limits(render_bytes: u64) -> RunLimits {
    RunLimits {
        render_bytes,
        ..RunLimits::default()
    }
}

/// A 100 KB trigger body.
fn big_body() -> Value {
    json!({"body": {"blob": "x".repeat(100_000)}})
}

/// `n` references to the whole trigger body.
fn references(n: usize) -> Value {
    Value::Array(vec![json!("{{ trigger.body }}"); n])
}

fn row<'a>(d: &'a Decision, key: &str) -> &'a Step {
    d.steps
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no step {key}"))
}

fn failure(d: &Decision, key: &str) -> Failure {
    row(d, key).error.clone().expect("the step failed")
}

/// The size of what the decision asks the store to write.
fn stored_bytes(d: &Decision) -> usize {
    serde_json::to_vec(&d.steps).unwrap().len()
        + serde_json::to_vec(&d.run).unwrap().len()
        + serde_json::to_vec(&d.starts.iter().map(|s| &s.input).collect::<Vec<_>>())
            .unwrap()
            .len()
}

#[test]
fn an_action_reading_a_large_body_hundreds_of_times_fails_before_anything_is_stored() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x",
         "input": {"copies": references(800)}}
    ]}));
    let ids = ids();
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(big_body())).finish();
    let a = row(&dec, "a");
    assert_eq!(a.status, Status::Failed);
    assert_eq!(a.input, None, "nothing rendered is kept");
    let e = failure(&dec, "a");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert_eq!(e.kind, ErrorKind::LimitExceeded);
    // 8 MiB holds 83 copies of a 100,002-byte value (and the array's commas).
    assert_eq!(
        e.message,
        "/input/copies/83: rendered data is over the budget of 8388608 bytes \
         (`render_bytes`) at position 2 in `{{ trigger.body }}`"
    );
    assert!(dec.due.is_empty(), "no task for a failed step");
    let labels: Vec<&str> = dec.failures.iter().map(Failure::label).collect();
    assert_eq!(labels, ["render_limit"], "counted in metrics");
    assert_eq!(dec.run.status, Status::Failed);
    let run_error = dec.run.error.as_ref().unwrap();
    assert_eq!(run_error.failure.reason, Some(Reason::RenderLimit));
    assert_eq!(run_error.step.as_deref(), Some("a"));
    // The trigger body twice (run input, `$trigger` output), not 80 MB.
    assert!(stored_bytes(&dec) < 300_000, "{}", stored_bytes(&dec));
}

#[test]
fn the_node_budget_counts_values_not_bytes() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": references(3)}
    ]}));
    let ids = ids();
    let small = RunLimits {
        render_nodes: 2_500,
        ..RunLimits::default()
    };
    let input = json!({"body": vec![0; 1_000]});
    let dec = Plan::start(&d, &ids, small, 0, new_run(input)).finish();
    let e = failure(&dec, "a");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(
        e.message.starts_with(
            "/input/2: rendered data is over the budget of 2500 JSON values (`render_nodes`)"
        ),
        "{}",
        e.message
    );
}

#[test]
fn a_respond_step_amplifying_its_body_or_headers_fails_and_answers_nothing() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "r", "kind": "respond", "body": {"copies": references(800)}}
    ]}));
    let ids = ids();
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(big_body())).finish();
    let e = failure(&dec, "r");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(e.message.starts_with("/body/copies/83: "), "{}", e.message);
    assert!(e.message.contains("8388608 bytes (`render_bytes`)"));
    assert_eq!(dec.run.response, None);
    assert!(!dec.responded);

    // Headers are rendered within the same budget.
    let text = format!(
        "{{{{ trigger.body.blob }}}}{}",
        "{{ trigger.body.blob }}".repeat(9)
    );
    let d = def(json!({"name": "w", "steps": [
        {"id": "r", "kind": "respond", "headers": {"x-big": text}, "body": null}
    ]}));
    let dec = Plan::start(&d, &ids, limits(500_000), 0, new_run(big_body())).finish();
    let e = failure(&dec, "r");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(
        e.message
            .starts_with("/headers/x-big: rendered data is over the budget of 500000 bytes"),
        "{}",
        e.message
    );

    // The step's output is a second copy of the response: it is charged too.
    let d = def(json!({"name": "w", "steps": [
        {"id": "r", "kind": "respond", "body": "{{ trigger.body }}"}
    ]}));
    let dec = Plan::start(&d, &ids, limits(150_000), 0, new_run(big_body())).finish();
    assert_eq!(
        failure(&dec, "r").message,
        "/body: rendered data is over the budget of 150000 bytes (`render_bytes`)"
    );
    let dec = Plan::start(&d, &ids, limits(250_000), 0, new_run(big_body())).finish();
    assert_eq!(dec.run.status, Status::Completed);
    assert_eq!(dec.run.response.unwrap().body, big_body()["body"]);
}

#[test]
fn a_subworkflow_input_is_charged_for_both_copies_and_starts_no_child_when_over() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "s", "kind": "subworkflow", "workflow": "wf_child", "input": {"x": references(100)}}
    ]}));
    let ids = ids();
    let dec = Plan::start(&d, &ids, RunLimits::default(), 0, new_run(big_body())).finish();
    let e = failure(&dec, "s");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(e.message.starts_with("/input/x/83: "), "{}", e.message);
    assert!(dec.starts.is_empty(), "no child run");
    assert!(stored_bytes(&dec) < 300_000);

    // One copy fits, the second (the child's trigger) does not.
    let d = def(json!({"name": "w", "steps": [
        {"id": "s", "kind": "subworkflow", "workflow": "wf_child", "input": "{{ trigger.body }}"}
    ]}));
    let dec = Plan::start(&d, &ids, limits(150_000), 0, new_run(big_body())).finish();
    assert_eq!(
        failure(&dec, "s").message,
        "/input: rendered data is over the budget of 150000 bytes (`render_bytes`)"
    );
    assert!(dec.starts.is_empty());
}

#[test]
fn a_merge_copying_large_outputs_fails() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": "{{ trigger.body }}"},
        {"id": "b", "kind": "action", "connector": "c", "action": "x", "input": "{{ trigger.body }}"},
        {"id": "m", "kind": "merge", "after": ["a", "b"]}
    ]}));
    // Each action renders 100 KB in its own decision (`b` runs after `a`);
    // the merge copies both in one.
    let s = drive_with(&d, limits(150_000), big_body(), echo);
    assert_eq!(status(&s, "a"), Status::Completed);
    assert_eq!(status(&s, "b"), Status::Completed);
    assert_eq!(status(&s, "m"), Status::Failed);
    let m = s.1.iter().find(|r| r.key == "m").unwrap();
    let e = m.error.as_ref().unwrap();
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert_eq!(
        e.message,
        "/after: the output of `b`: rendered data is over the budget of 150000 bytes (`render_bytes`)"
    );
    assert_eq!(m.output, None);
    assert_eq!(s.0.status, Status::Failed);

    let s = drive_with(&d, limits(250_000), big_body(), echo);
    assert_eq!(s.0.status, Status::Completed);
}

#[test]
fn loops_are_charged_for_their_items_their_iterations_and_their_output() {
    // The items list.
    let d = def(json!({"name": "w", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.xs", "body": [
            {"id": "b", "kind": "action", "connector": "c", "action": "x", "input": 1}
        ]}
    ]}));
    let xs = vec!["y".repeat(1_000); 200];
    let ids = ids();
    let dec = Plan::start(&d, &ids, limits(100_000), 0, new_run(json!({"xs": xs}))).finish();
    let e = failure(&dec, "each");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(
        e.message
            .starts_with("/items: rendered data is over the budget of 100000 bytes")
    );
    assert_eq!(row(&dec, "each").input, None);

    // Each iteration's input: parallel iterations render in one decision.
    let d = def(json!({"name": "w", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.xs", "parallelism": 64, "body": [
            {"id": "b", "kind": "action", "connector": "c", "action": "x", "input": "{{ trigger.body }}"}
        ]}
    ]}));
    let mut input = big_body();
    input["xs"] = json!(vec![0; 64]);
    let dec = Plan::start(&d, &ids, limits(1_000_000), 0, new_run(input)).finish();
    let e = failure(&dec, "each[9].b");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(e.message.starts_with("/input: "), "{}", e.message);
    assert!(row(&dec, "each[8].b").input.is_some(), "nine fit");
    assert_eq!(row(&dec, "each[9].b").input, None);
    assert_eq!(dec.run.status, Status::Failed);

    // The output: every iteration's last output, copied into the loop's. The
    // items take 10,601 bytes, each iteration 267; their outputs together do
    // not fit.
    let d = def(json!({"name": "w", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.xs", "body": [
            {"id": "b", "kind": "action", "connector": "c", "action": "x",
             "input": {"v": "{{ item }}", "pad": "p".repeat(200)}}
        ]}
    ]}));
    let xs = vec!["y".repeat(50); 200];
    let s = drive_with(&d, limits(20_000), json!({"xs": xs}), echo);
    assert_eq!(status(&s, "each[199].b"), Status::Completed);
    let each = s.1.iter().find(|r| r.key == "each").unwrap();
    assert_eq!(each.status, Status::Failed);
    assert_eq!(each.output, None);
    assert_eq!(
        each.error.as_ref().unwrap().message,
        "/output: the iterations' outputs (at item 74): rendered data is over the budget of \
         20000 bytes (`render_bytes`)"
    );
    assert_eq!(s.0.status, Status::Failed);
}

#[test]
fn a_config_rendered_at_claim_is_charged_too() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x", "input": 1,
         "config": {"copies": references(3)}}
    ]}));
    let ids = ids();
    let small = limits(250_000);
    let dec = Plan::start(&d, &ids, small, 0, new_run(big_body())).finish();
    let mut p = Plan::load(&d, &ids, small, 1, dec.run, dec.steps);
    assert!(p.claim("a", 1, 1_000).is_none());
    let dec = p.finish();
    let e = failure(&dec, "a");
    assert_eq!(e.reason, Some(Reason::RenderLimit));
    assert!(e.message.starts_with("/config/copies/2: "), "{}", e.message);
    assert!(dec.attempts.is_empty(), "no attempt was journaled");
}

#[test]
fn a_failed_step_gives_back_what_it_had_rendered() {
    // `big` fails (and continues); `small`, created in the same decision after
    // it, still has the budget `big` did not keep.
    let d = def(json!({"name": "w", "steps": [
        {"id": "big", "kind": "action", "connector": "c", "action": "x", "after": [],
         "continue_on_fail": true, "input": references(3)},
        {"id": "small", "kind": "action", "connector": "c", "action": "x", "after": [],
         "input": "{{ trigger.body }}"}
    ]}));
    let ids = ids();
    let dec = Plan::start(&d, &ids, limits(250_000), 0, new_run(big_body())).finish();
    assert_eq!(row(&dec, "big").status, Status::Failed);
    assert_eq!(failure(&dec, "big").reason, Some(Reason::RenderLimit));
    assert_eq!(row(&dec, "small").status, Status::Pending);
    assert_eq!(row(&dec, "small").input, Some(big_body()["body"].clone()));
}

#[test]
fn ordinary_workflows_stay_far_below_the_default_budget() {
    let d = def(json!({"name": "w", "steps": [
        {"id": "a", "kind": "action", "connector": "c", "action": "x",
         "input": {"n": "{{ trigger.n }}", "all": "{{ trigger }}", "text": "n={{ trigger.n }}"}},
        {"id": "c", "kind": "condition", "if": "steps.a.output.n > 1", "then": ["m"], "else": []},
        {"id": "m", "kind": "merge", "after": ["a", "c"]},
        {"id": "r", "kind": "respond", "headers": {"x-n": "{{ trigger.n }}"},
         "body": {"a": "{{ steps.m.output.a }}", "n": "{{ steps.a.output.n }}"}}
    ]}));
    let s = drive_with(&d, RunLimits::default(), json!({"n": 7}), echo);
    assert_eq!(s.0.status, Status::Completed);
    let body = s.0.response.unwrap().body;
    assert_eq!(body["n"], json!(7), "types are kept");
    assert_eq!(body["a"]["all"], json!({"n": 7}));
    assert_eq!(body["a"]["text"], json!("n=7"));
}
