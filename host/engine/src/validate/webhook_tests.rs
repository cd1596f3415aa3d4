//! `triggers.webhook.signature` and `triggers.webhook.dedupe` at save.

use super::*;
use crate::definition::from_value;
use serde_json::json;

fn with(webhook: Value) -> Vec<String> {
    let limits = DefinitionLimits::default();
    let def = json!({
        "name": "w",
        "triggers": {"webhook": webhook},
        "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
    });
    let def = from_value(def, &limits).unwrap();
    check(&def, &Vec::new(), &limits)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn good_settings_pass() {
    for v in [
        json!({"signature": {"scheme": "stripe", "credential": "stripe-signing"},
               "dedupe": {"body": "/id"}}),
        json!({"signature": {"scheme": "slack", "credential": "s", "tolerance_ms": 60000}}),
        json!({"signature": {"scheme": "github", "credential": "gh"}, "dedupe": {}}),
        json!({"signature": {"scheme": "standard", "credential": "svix"}, "dedupe": {}}),
        json!({"dedupe": {"header": "Idempotency-Key"}}),
    ] {
        assert_eq!(with(v.clone()), Vec::<String>::new(), "{v}");
    }
}

#[test]
fn bad_settings_name_their_path() {
    assert_eq!(
        with(json!({"signature": {"scheme": "github", "credential": " ", "tolerance_ms": 1000}})),
        vec![
            "/triggers/webhook/signature/credential: must name a credential of the tenant (1-100 characters)",
            "/triggers/webhook/signature/tolerance_ms: a `github` signature covers no timestamp, so there is no replay window to set (and `X-GitHub-Delivery` is not signed either: a `github` webhook has no replay protection, see docs/WORKFLOWS.md)",
        ]
    );
    assert_eq!(
        with(
            json!({"signature": {"scheme": "stripe", "credential": "s", "tolerance_ms": 3_600_001u64}})
        ),
        vec![
            "/triggers/webhook/signature/tolerance_ms: must be at most 3600000 ms (the deployment's limit `max_webhook_tolerance_ms`)"
        ]
    );
    assert_eq!(
        with(json!({"signature": {"scheme": "slack", "credential": "s", "tolerance_ms": 0}})),
        vec!["/triggers/webhook/signature/tolerance_ms: must be positive"]
    );
    assert_eq!(
        with(json!({"dedupe": {"header": "Bad Header"}})),
        vec!["/triggers/webhook/dedupe/header: `Bad Header` is not an HTTP header name"]
    );
    assert_eq!(
        with(json!({"dedupe": {"body": "id"}})),
        vec![
            "/triggers/webhook/dedupe/body: must be a JSON pointer into the body, such as `/id` (at most 200 characters)"
        ]
    );
    assert_eq!(
        with(json!({"dedupe": {"header": "a", "body": "/id"}})),
        vec!["/triggers/webhook/dedupe: set one of `header` and `body`, not both"]
    );
    let none = with(json!({"signature": {"scheme": "stripe", "credential": "s"}, "dedupe": {}}));
    assert_eq!(none.len(), 1);
    assert!(
        none[0].starts_with("/triggers/webhook/dedupe: name where the delivery id is"),
        "{none:?}"
    );
}

#[test]
fn unknown_fields_and_schemes_are_refused_with_their_path() {
    let limits = DefinitionLimits::default();
    let def = json!({
        "name": "w",
        "triggers": {"webhook": {"signature": {"scheme": "paypal", "credential": "x"}}},
        "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
    });
    let e = from_value(def, &limits).unwrap_err().problems();
    assert_eq!(e[0].path, "/triggers/webhook/signature/scheme", "{e:?}");
    assert!(e[0].message.contains("paypal"), "{e:?}");
}

#[test]
fn a_stored_tolerance_over_the_limit_is_clamped() {
    let limits = DefinitionLimits {
        max_webhook_tolerance_ms: 10_000,
        ..DefinitionLimits::default()
    };
    let mut def = from_value(
        json!({
            "name": "w",
            "triggers": {"webhook": {"signature": {"scheme": "slack", "credential": "s", "tolerance_ms": 99_999}}},
            "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
        }),
        &limits,
    )
    .unwrap();
    limits.clamp(&mut def);
    let sig = def.triggers.webhook.and_then(|w| w.signature).unwrap();
    assert_eq!(sig.tolerance_ms(), Some(10_000));
}
