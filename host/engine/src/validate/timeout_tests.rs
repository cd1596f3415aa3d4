//! H2: every time limit of a definition is capped at save (a problem naming
//! the limit) and clamped at run time for definitions stored before.

use super::*;
use crate::definition::from_value;
use serde_json::json;

fn problems(def: Value) -> Vec<String> {
    let limits = DefinitionLimits::default();
    let def = from_value(def, &limits).unwrap();
    check(&def, &Vec::<Manifest>::new(), &limits)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn absurd_timeouts_are_refused_naming_the_limit() {
    let def = json!({
        "name": "absurd",
        "timeout_ms": u64::MAX,
        "triggers": {"webhook": {"timeout_ms": u64::MAX}},
        "steps": [
            {"id": "w", "kind": "wait", "until": "resume", "timeout_ms": u64::MAX},
            {"id": "l", "kind": "loop", "items": "{{ trigger.body }}", "body": [
                {"id": "r", "kind": "respond", "body": 1, "timeout_ms": u64::MAX,
                 "retry": {"initial_interval_ms": u64::MAX, "max_interval_ms": u64::MAX}}
            ]}
        ]
    });
    let got = problems(def);
    let day = 24 * 3_600_000u64;
    assert_eq!(
        got,
        [
            format!("/timeout_ms: must be at most {} ms (the deployment's limit `max_run_timeout_ms`)", 7 * day),
            "/triggers/webhook/timeout_ms: must be between 1 and 300000".to_owned(),
            format!("/steps/0/timeout_ms: must be at most {} ms (the deployment's limit `max_wait_ms`)", 366 * day),
            "/steps/1/body/0/timeout_ms: must be at most 3600000 ms (the deployment's limit `max_step_timeout_ms`)".to_owned(),
            format!("/steps/1/body/0/retry/initial_interval_ms: must be at most {} ms (the deployment's limit `max_wait_ms`)", 366 * day),
            format!("/steps/1/body/0/retry/max_interval_ms: must be at most {} ms (the deployment's limit `max_wait_ms`)", 366 * day),
        ],
    );
}

#[test]
fn timeouts_at_the_limits_are_accepted_and_the_limits_are_the_deployments() {
    let def = json!({
        "name": "edge", "timeout_ms": MAX_RUN_TIMEOUT,
        "steps": [{"id": "r", "kind": "respond", "body": 1, "timeout_ms": 3_600_000}]
    });
    assert_eq!(problems(def.clone()), Vec::<String>::new());
    let strict = DefinitionLimits {
        max_step_timeout_ms: 1_000,
        max_run_timeout_ms: 2_000,
        ..DefinitionLimits::default()
    };
    let parsed = from_value(def, &strict).unwrap();
    let got: Vec<String> = check(&parsed, &Vec::<Manifest>::new(), &strict)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        [
            "/timeout_ms: must be at most 2000 ms (the deployment's limit `max_run_timeout_ms`)",
            "/steps/0/timeout_ms: must be at most 1000 ms (the deployment's limit `max_step_timeout_ms`)",
        ]
    );
}

const MAX_RUN_TIMEOUT: u64 = crate::MAX_RUN_TIMEOUT_MS;

#[test]
fn a_stored_definition_is_clamped_at_run_time() {
    let limits = DefinitionLimits::default();
    // As an old version would be stored: parsed without validation.
    let mut def: Definition = serde_json::from_value(json!({
        "name": "old",
        "timeout_ms": u64::MAX,
        "triggers": {"webhook": {"timeout_ms": u64::MAX}},
        "steps": [
            {"id": "a", "kind": "action", "connector": "x", "action": "y", "timeout_ms": u64::MAX,
             "retry": {"initial_interval_ms": u64::MAX, "max_interval_ms": u64::MAX}},
            {"id": "w", "kind": "wait", "until": "resume", "timeout_ms": u64::MAX},
            {"id": "d", "kind": "wait", "duration_ms": u64::MAX},
            {"id": "l", "kind": "loop", "items": "{{ trigger.body }}", "body": [
                {"id": "b", "kind": "action", "connector": "x", "action": "y", "timeout_ms": 5}
            ]},
            {"id": "c", "kind": "action", "connector": "x", "action": "y"}
        ]
    }))
    .unwrap();
    limits.clamp(&mut def);
    let wait = limits.max_wait_ms;
    assert_eq!(def.timeout_ms, Some(MAX_RUN_TIMEOUT));
    assert_eq!(
        def.triggers.webhook.unwrap().timeout_ms,
        Some(MAX_WEBHOOK_TIMEOUT_MS)
    );
    let a = &def.steps[0];
    assert_eq!(a.timeout_ms, Some(crate::MAX_STEP_TIMEOUT_MS));
    let r = a.retry.as_ref().unwrap();
    assert_eq!(
        (r.initial_interval_ms, r.max_interval_ms),
        (Some(wait), Some(wait))
    );
    assert_eq!(def.steps[1].timeout_ms, Some(wait));
    let StepKind::Wait(d) = &def.steps[2].kind else {
        panic!("a wait")
    };
    assert_eq!(d.duration_ms, Some(wait));
    let StepKind::Loop(l) = &def.steps[3].kind else {
        panic!("a loop")
    };
    assert_eq!(
        l.body[0].timeout_ms,
        Some(5),
        "values within the limits stay"
    );
    assert_eq!(def.steps[4].timeout_ms, None, "unset stays unset");
}

#[test]
fn a_poll_interval_under_the_deployments_minimum_is_refused_and_raised() {
    let limits = DefinitionLimits {
        min_poll_interval_ms: 60_000,
        ..DefinitionLimits::default()
    };
    let doc = json!({
        "name": "often",
        "triggers": {"poll": {"connector": "http", "trigger": "new-items", "interval_ms": 5_000}},
        "steps": [{"id": "r", "kind": "respond", "body": 1}]
    });
    let mut def = from_value(doc, &limits).unwrap();
    let problems: Vec<String> = check(&def, &Vec::<Manifest>::new(), &limits)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        problems.contains(
            &"/triggers/poll/interval_ms: must be between 60000 (the deployment's limit \
              `min_poll_interval_ms`) and 86400000 (one day)"
                .to_owned()
        ),
        "{problems:?}"
    );
    // A version saved under a lower minimum polls at the deployment's.
    limits.clamp(&mut def);
    assert_eq!(
        def.triggers.poll.as_ref().unwrap().interval_ms,
        Some(60_000)
    );
    // The floor of every deployment holds whatever the setting says.
    let lax = DefinitionLimits {
        min_poll_interval_ms: 0,
        ..DefinitionLimits::default()
    };
    assert_eq!(lax.min_poll_interval(), MIN_POLL_INTERVAL_MS);
}
