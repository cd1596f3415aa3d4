//! Test runs up to one step (`Run::until`): the editor's "test step". Only
//! the named top-level step and the steps it depends on (transitively) run;
//! every other step is recorded `skipped` when it becomes ready, so the run
//! completes as soon as the named step ends, with that step's output. Steps
//! after it (a Slack post, a `respond`) never run. A loop named runs whole;
//! a step inside a loop body cannot be named (its iterations are the loop's).
//! A test run starts no error workflow and makes no notification event.

use crate::Graph;
use weft_types::{Definition, StepDef, StepKind};

/// Checks that `until` names a top-level step of `def`.
///
/// # Errors
/// What is wrong, naming the step: unknown, or inside a loop body (naming
/// the loop to test instead).
pub fn check_until(def: &Definition, until: &str) -> Result<(), String> {
    if def.steps.iter().any(|s| s.id == until) {
        return Ok(());
    }
    match enclosing_loop(&def.steps, until) {
        Some(outer) => Err(format!(
            "step `{until}` is inside the loop `{outer}`: a test run stops after a top-level \
             step; test `{outer}`, which runs its body for every item"
        )),
        None => Err(format!(
            "unknown step `{until}`: not a step of this workflow"
        )),
    }
}

/// The top-level loop whose body holds `id`, at any depth.
fn enclosing_loop<'d>(steps: &'d [StepDef], id: &str) -> Option<&'d str> {
    steps.iter().find_map(|s| match &s.kind {
        StepKind::Loop(l) if contains(&l.body, id) => Some(s.id.as_str()),
        _ => None,
    })
}

fn contains(steps: &[StepDef], id: &str) -> bool {
    steps.iter().any(|s| {
        s.id == id
            || match &s.kind {
                StepKind::Loop(l) => contains(&l.body, id),
                _ => false,
            }
    })
}

/// Which top-level steps of `graph` a run up to `until` runs: `until` and
/// every step it depends on. `None` when `until` is not in the graph (a
/// run never stored with such a name; then every step runs).
pub(super) fn reach(graph: &Graph, until: &str) -> Option<Vec<bool>> {
    let i = graph.index_of(until)?;
    let mut runs = graph.ancestors(i);
    runs[i] = true;
    Some(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: serde_json::Value) -> Definition {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn until_names_a_top_level_step() {
        let d = def(json!({"name": "t", "steps": [
            {"id": "a", "kind": "wait", "duration_ms": 1},
            {"id": "each", "kind": "loop", "items": "trigger.xs", "body": [
                {"id": "inner", "kind": "loop", "items": "item", "body": [
                    {"id": "deep", "kind": "wait", "duration_ms": 1}
                ]}
            ]}
        ]}));
        assert!(check_until(&d, "a").is_ok());
        assert!(check_until(&d, "each").is_ok());
        let e = check_until(&d, "deep").unwrap_err();
        assert!(e.contains("`deep`") && e.contains("loop `each`"), "{e}");
        let e = check_until(&d, "nope").unwrap_err();
        assert!(e.contains("unknown step `nope`"), "{e}");
    }

    #[test]
    fn the_reach_is_the_step_and_its_ancestors() {
        let d = def(json!({"name": "t", "steps": [
            {"id": "a", "kind": "wait", "duration_ms": 1},
            {"id": "b", "kind": "wait", "duration_ms": 1},
            {"id": "side", "kind": "wait", "duration_ms": 1, "after": []},
            {"id": "c", "kind": "merge", "after": ["b", "side"]},
            {"id": "d", "kind": "wait", "duration_ms": 1, "after": ["b"]}
        ]}));
        let g = Graph::build(&d.steps).unwrap();
        assert_eq!(reach(&g, "b").unwrap(), [true, true, false, false, false]);
        assert_eq!(reach(&g, "c").unwrap(), [true, true, true, true, false]);
        assert_eq!(reach(&g, "zz"), None);
    }
}
