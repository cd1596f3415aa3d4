//! K1: a credential reaches only the step or connector it is bound to.

use super::warnings;
use crate::credentials::{self, Refusal, Via};
use crate::definition::from_value;
use crate::{DefinitionLimits, validate::check};
use serde_json::{Value, json};
use weft_types::{ActionSpec, Capabilities, CredentialSlot, Definition, Manifest, StepKind};

/// `llm` and a third-party `thief` both declare `api-key`; `http` declares `auth`.
fn catalog() -> Vec<Manifest> {
    let manifest = |name: &str, slots: &[&str]| Manifest {
        name: name.into(),
        version: "1.0.0".into(),
        description: String::new(),
        actions: vec![ActionSpec {
            name: "go".into(),
            description: String::new(),
            input_schema: json!({}),
            output_schema: json!({}),
        }],
        capabilities: Capabilities {
            credentials: slots
                .iter()
                .map(|s| CredentialSlot {
                    name: (*s).into(),
                    description: String::new(),
                    hosts: Vec::new(),
                    optional: true,
                })
                .collect(),
            ..Capabilities::default()
        },
        config_schema: None,
        triggers: Vec::new(),
    };
    vec![
        manifest("llm", &["api-key"]),
        manifest("thief", &["api-key", "token"]),
        manifest("http", &["auth"]),
    ]
}

fn def(grants: Value, steps: Value) -> Definition {
    from_value(
        json!({"name": "w", "grants": {"credentials": grants}, "steps": steps}),
        &DefinitionLimits::default(),
    )
    .unwrap()
}

fn step(connector: &str, id: &str, credentials: Value) -> Value {
    json!({"id": id, "kind": "action", "connector": connector, "action": "go",
           "credentials": credentials})
}

fn errors(d: &Definition) -> Vec<String> {
    check(d, &catalog(), &DefinitionLimits::default())
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn warned(d: &Definition) -> Vec<String> {
    warnings(d, &catalog())
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// What the step with id `id` gets at run time (slot, credential, via).
fn granted(d: &Definition, id: &str) -> Result<Vec<(String, String, Via)>, Refusal> {
    let mut stack = vec![&d.steps];
    while let Some(list) = stack.pop() {
        for s in list {
            match &s.kind {
                StepKind::Action(a) if s.id == id => {
                    let cat = catalog();
                    let m = cat.iter().find(|m| m.name == a.connector).unwrap();
                    return credentials::for_step(d, a, m, &cat).map(|b| {
                        b.into_iter()
                            .map(|b| (b.slot.into(), b.credential.into(), b.via))
                            .collect()
                    });
                }
                StepKind::Loop(l) => stack.push(&l.body),
                _ => {}
            }
        }
    }
    panic!("no step {id}")
}

#[test]
fn a_step_binding_reaches_only_that_step() {
    let d = def(
        json!({}),
        json!([
            step("llm", "chat", json!({"api-key": "openai"})),
            step("thief", "steal", json!({}))
        ]),
    );
    assert_eq!(errors(&d), Vec::<String>::new());
    assert_eq!(warned(&d), Vec::<String>::new());
    assert_eq!(
        granted(&d, "chat").unwrap(),
        [("api-key".into(), "openai".into(), Via::Step)]
    );
    assert_eq!(granted(&d, "steal").unwrap(), []);
}

#[test]
fn a_binding_to_a_slot_the_connector_does_not_declare_is_an_error_with_its_path() {
    let d = def(
        json!({}),
        json!([{"id": "each", "kind": "loop", "items": "trigger.body", "body": [
            step("http", "call", json!({"api-key": "openai", "auth": ""}))
        ]}]),
    );
    assert_eq!(
        errors(&d),
        [
            "/steps/0/body/0/credentials/api-key: connector `http` declares no credential slot `api-key` (it declares: auth)",
            "/steps/0/body/0/credentials/auth: must name a credential of the tenant (1-100 characters)",
        ]
    );
    // Stored before the check (or the connector changed since): refused at run time.
    assert_eq!(
        granted(&d, "call").unwrap_err(),
        Refusal::Undeclared {
            connector: "http".into(),
            slot: "api-key".into(),
            declared: vec!["auth".into()]
        }
    );
}

#[test]
fn a_connector_grant_reaches_every_step_of_that_connector_only() {
    let d = def(
        json!({"llm/api-key": "openai"}),
        json!([
            step("llm", "a", json!({})),
            step("llm", "b", json!({})),
            step("thief", "steal", json!({}))
        ]),
    );
    assert_eq!(errors(&d), Vec::<String>::new());
    assert_eq!(warned(&d), Vec::<String>::new());
    for id in ["a", "b"] {
        assert_eq!(
            granted(&d, id).unwrap(),
            [("api-key".into(), "openai".into(), Via::Connector)]
        );
    }
    assert_eq!(granted(&d, "steal").unwrap(), []);
}

#[test]
fn connector_grants_name_a_known_connector_and_a_slot_it_declares() {
    let d = def(
        json!({"nope/api-key": "x", "llm/token": "x", "LLM/api key": "x"}),
        json!([step("llm", "a", json!({}))]),
    );
    assert_eq!(
        errors(&d),
        [
            "/grants/credentials/LLM~1api key: `LLM/api key` is not `connector/slot` (lower-case letters, digits, `-` or `_` on each side)",
            "/grants/credentials/llm~1token: connector `llm` declares no credential slot `token` (it declares: api-key)",
            "/grants/credentials/nope~1api-key: unknown connector `nope`",
        ]
    );
}

#[test]
fn an_ambiguous_workflow_wide_grant_is_refused_naming_the_slot_the_connectors_and_the_fix() {
    let d = def(
        json!({"api-key": "openai"}),
        json!([
            step("llm", "chat", json!({})),
            step("thief", "steal", json!({}))
        ]),
    );
    let errs = errors(&d);
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert!(e.starts_with("/grants/credentials/api-key: "), "{e}");
    for needle in [
        "slot `api-key`",
        "`llm`, `thief`",
        "`credentials: {api-key: openai}` on the step",
        "\"llm/api-key\"",
    ] {
        assert!(e.contains(needle), "{needle} not in {e}");
    }
    // Stored before the check: neither connector gets it at run time.
    for id in ["chat", "steal"] {
        assert!(
            matches!(granted(&d, id), Err(Refusal::Ambiguous { ref connectors, .. }) if connectors == &["llm", "thief"]),
            "{id}: {:?}",
            granted(&d, id)
        );
    }
}

#[test]
fn an_unambiguous_workflow_wide_grant_keeps_working_with_a_warning() {
    let d = def(
        json!({"api-key": "openai", "unused": "x"}),
        json!([
            step("llm", "chat", json!({})),
            step("http", "call", json!({}))
        ]),
    );
    assert_eq!(errors(&d), Vec::<String>::new());
    assert_eq!(
        warned(&d),
        [
            "/grants/credentials/api-key: a workflow-wide grant by slot name reaches any connector that declares `api-key`; only `llm` does today (steps: `chat`). Bind it where it is used: `credentials: {api-key: openai}` on the step, or `grants.credentials: {\"llm/api-key\": openai}`",
            "/grants/credentials/unused: no step's connector declares credential slot `unused`: this grant reaches no step",
        ]
    );
    assert_eq!(
        granted(&d, "chat").unwrap(),
        [("api-key".into(), "openai".into(), Via::Workflow)]
    );
    assert_eq!(granted(&d, "call").unwrap(), []);
}

#[test]
fn a_workflow_wide_grant_counts_connectors_bound_otherwise() {
    // M1: `llm` binds its own key (on a step, or by a connector grant); the
    // bare grant must not be left to `thief` as the one connector remaining.
    for (grants, chat) in [
        (json!({"api-key": "shared"}), json!({"api-key": "openai"})),
        (
            json!({"api-key": "shared", "llm/api-key": "openai"}),
            json!({}),
        ),
    ] {
        let d = def(
            grants.clone(),
            json!([step("llm", "chat", chat), step("thief", "steal", json!({}))]),
        );
        let errs = errors(&d);
        assert!(
            errs.len() == 1
                && errs[0].starts_with("/grants/credentials/api-key: ")
                && errs[0].contains("ambiguous")
                && errs[0].contains("`llm`, `thief`"),
            "{grants}: {errs:?}"
        );
        // Stored before the check: the thief gets nothing, `llm` keeps its own.
        assert!(
            matches!(granted(&d, "steal"), Err(Refusal::Ambiguous { ref connectors, .. }) if connectors == &["llm", "thief"]),
            "{grants}: {:?}",
            granted(&d, "steal")
        );
        assert_eq!(granted(&d, "chat").unwrap()[0].1, "openai", "{grants}");
    }
}

#[test]
fn a_workflow_wide_grant_every_step_binds_otherwise_warns_it_reaches_no_step() {
    for (grants, chat) in [
        (json!({"api-key": "shared"}), json!({"api-key": "openai"})),
        (
            json!({"api-key": "shared", "llm/api-key": "openai"}),
            json!({}),
        ),
    ] {
        let d = def(grants.clone(), json!([step("llm", "chat", chat)]));
        assert_eq!(errors(&d), Vec::<String>::new(), "{grants}");
        let w = warned(&d);
        assert!(
            w.len() == 1 && w[0].contains("`llm` binds") && w[0].contains("reaches no step"),
            "{grants}: {w:?}"
        );
        assert_eq!(granted(&d, "chat").unwrap()[0].1, "openai", "{grants}");
    }
}
