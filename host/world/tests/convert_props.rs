//! Properties of the conversions across the WIT boundary (`weft_world`): a
//! valid manifest survives the trip through the generated WIT types
//! unchanged, whatever a plugin's `describe` returns is answered with a
//! manifest that validates or an error (never a panic), and the context of an
//! attempt reaches the plugin field for field.

use proptest::prelude::*;
use serde_json::{Value, json};
use weft_types::{ActionSpec, Capabilities, CredentialSlot, HostPattern, Manifest, StepContext};
use weft_world::{context_to_wit, manifest_from_wit, wit_types as wit};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{1,12}"
}

fn host() -> impl Strategy<Value = HostPattern> {
    "(\\*|(\\*\\.)?[a-z0-9-]{1,8}(\\.[a-z]{2,4}){0,2}|10\\.0\\.0\\.[0-9]|\\[::1\\])(:[1-9][0-9]{0,3})?"
        .prop_filter_map("a host pattern", |s| s.parse::<HostPattern>().ok())
}

/// A JSON Schema (any JSON object or boolean will do for the boundary).
fn schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        any::<bool>().prop_map(Value::Bool),
        ("[a-z]{1,6}", any::<String>(), any::<i64>())
            .prop_map(|(k, d, n)| json!({"type": "object", "properties": {k: {"description": d, "minimum": n}}})),
    ]
}

fn manifest() -> impl Strategy<Value = Manifest> {
    let action =
        (ident(), any::<String>(), schema(), schema()).prop_map(|(name, description, i, o)| {
            ActionSpec {
                name,
                description,
                input_schema: i,
                output_schema: o,
            }
        });
    let slot = (
        ident(),
        any::<String>(),
        prop::collection::vec(host(), 1..3),
        any::<bool>(),
    )
        .prop_map(|(name, description, hosts, optional)| CredentialSlot {
            name,
            description,
            hosts,
            optional,
        });
    (
        ident(),
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}",
        any::<String>(),
        prop::collection::vec(action, 1..4),
        prop::collection::vec(host(), 0..4),
        prop::collection::vec(slot, 0..3),
        any::<bool>(),
        prop::option::of(schema().prop_filter("an object", Value::is_object)),
    )
        .prop_map(
            |(
                name,
                version,
                description,
                mut actions,
                hosts,
                mut credentials,
                state,
                config_schema,
            )| {
                // Names are unique within a manifest.
                let mut seen = std::collections::HashSet::new();
                actions.retain(|a| seen.insert(a.name.clone()));
                let mut seen = std::collections::HashSet::new();
                credentials.retain(|c| seen.insert(c.name.clone()));
                Manifest {
                    name,
                    version,
                    description,
                    actions,
                    capabilities: Capabilities {
                        hosts,
                        credentials,
                        state,
                    },
                    config_schema,
                    triggers: Vec::new(),
                }
            },
        )
}

/// What a guest's `describe` returns for `m` (the SDK's side of the boundary).
fn to_wit(m: &Manifest) -> wit::Manifest {
    let hosts = |h: &[HostPattern]| h.iter().map(ToString::to_string).collect();
    wit::Manifest {
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        actions: m
            .actions
            .iter()
            .map(|a| wit::Action {
                name: a.name.clone(),
                description: a.description.clone(),
                input_schema: a.input_schema.to_string(),
                output_schema: a.output_schema.to_string(),
            })
            .collect(),
        capabilities: wit::Capabilities {
            hosts: hosts(&m.capabilities.hosts),
            credentials: m
                .capabilities
                .credentials
                .iter()
                .map(|c| wit::CredentialSlot {
                    name: c.name.clone(),
                    description: c.description.clone(),
                    hosts: hosts(&c.hosts),
                    optional: c.optional,
                })
                .collect(),
            state: m.capabilities.state,
        },
        config_schema: m
            .config_schema
            .as_ref()
            .map_or(String::new(), Value::to_string),
    }
}

/// Anything a hostile guest could return.
fn any_wit_manifest() -> impl Strategy<Value = wit::Manifest> {
    let text = || {
        prop_oneof![
            any::<String>(),
            Just(String::new()),
            Just("{}".to_string()),
            "[\\[\\]{}\":, a-z0-9]{0,12}"
        ]
    };
    let action = (text(), text(), text(), text()).prop_map(
        |(name, description, input_schema, output_schema)| wit::Action {
            name,
            description,
            input_schema,
            output_schema,
        },
    );
    let slot = (
        text(),
        text(),
        prop::collection::vec(text(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(name, description, hosts, optional)| wit::CredentialSlot {
            name,
            description,
            hosts,
            optional,
        });
    (
        (text(), text(), text()),
        prop::collection::vec(action, 0..3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(slot, 0..3),
        any::<bool>(),
        text(),
    )
        .prop_map(
            |((name, version, description), actions, hosts, credentials, state, config_schema)| {
                wit::Manifest {
                    name,
                    version,
                    description,
                    actions,
                    capabilities: wit::Capabilities {
                        hosts,
                        credentials,
                        state,
                    },
                    config_schema,
                }
            },
        )
}

proptest! {
    #![proptest_config(config(500))]

    #[test]
    fn a_valid_manifest_crosses_the_boundary_unchanged(m in manifest()) {
        prop_assert_eq!(m.validate().map_err(|e| e.to_string()), Ok(()));
        let back = manifest_from_wit(to_wit(&m)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, m);
    }

    #[test]
    fn whatever_describe_returns_is_a_valid_manifest_or_an_error(w in any_wit_manifest()) {
        if let Ok(m) = manifest_from_wit(w) {
            prop_assert_eq!(m.validate().map_err(|e| e.to_string()), Ok(()));
            // And it crosses again unchanged.
            prop_assert_eq!(manifest_from_wit(to_wit(&m)).map_err(|e| e.to_string()), Ok(m));
        }
    }

    #[test]
    fn the_context_reaches_the_plugin_field_for_field(
        (workflow_id, run_id, step_id, idempotency_key) in (any::<String>(), any::<String>(), any::<String>(), any::<String>()),
        attempt in any::<u32>(),
        deadline in any::<u64>(),
    ) {
        let ctx = StepContext { workflow_id, run_id, step_id, attempt, idempotency_key };
        let w = context_to_wit(&ctx, deadline);
        let back = StepContext {
            workflow_id: w.workflow_id,
            run_id: w.run_id,
            step_id: w.step_id,
            attempt: w.attempt,
            idempotency_key: w.idempotency_key,
        };
        prop_assert_eq!(back, ctx);
        prop_assert_eq!(w.deadline_unix_ms, deadline);
    }
}

#[test]
fn every_error_kind_and_level_maps_to_its_namesake() {
    use weft_types::ErrorKind as K;
    for (w, d) in [
        (wit::ErrorKind::InvalidInput, K::InvalidInput),
        (wit::ErrorKind::Auth, K::Auth),
        (wit::ErrorKind::RateLimited, K::RateLimited),
        (wit::ErrorKind::Transient, K::Transient),
        (wit::ErrorKind::Permanent, K::Permanent),
    ] {
        assert_eq!(K::from(w), d);
    }
    use weft_types::log::Level as L;
    use weft_world::log::Level as W;
    for (w, d) in [
        (W::Trace, L::Trace),
        (W::Debug, L::Debug),
        (W::Info, L::Info),
        (W::Warn, L::Warn),
        (W::Error, L::Error),
    ] {
        assert_eq!(L::from(w), d);
    }
}
