//! Properties of the definition parser: any input, JSON or YAML, is answered
//! with a definition or an error (never a panic), validation of whatever
//! parses never panics, and a valid definition round-trips through its JSON
//! form (and reads the same as YAML, JSON being YAML 1.2).

use proptest::prelude::*;
use serde_json::{Value, json};
use weft_engine::{DefinitionLimits, Format, definition, validate};
use weft_types::Manifest;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are shrunk and printed; nothing is written into the clone.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Arbitrary JSON, strings often templated.
fn json_value() -> impl Strategy<Value = Value> {
    json_value_with(any::<f64>().boxed())
}

/// Arbitrary JSON with floats from `floats`.
fn json_value_with(floats: BoxedStrategy<f64>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        floats.prop_map(Value::from),
        "[a-z{} .'\\[\\]0-9]{0,12}".prop_map(Value::from),
        "\\{\\{ (trigger|vars|steps\\.[a-z]|item|index)(\\.[a-z]{1,3}){0,2} \\}\\}"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn id() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,6}"
}

/// Arbitrary JSON whose floats are decimals of at most 9 significant digits.
///
/// Neither parser rounds every 17-digit float correctly: serde_json without
/// its `float_roundtrip` feature reads `-6.321276523212267e273` one unit in
/// the last place off what it wrote, and the YAML parser (serde-saphyr) reads
/// `-1.6454314262508272e-81` as `-1.645431426250827e-81` where JSON is exact.
/// So a stored definition keeps such a literal only to 16 digits; the
/// round-trip properties use the decimals people write.
fn plain_json() -> impl Strategy<Value = Value> {
    json_value_with(
        (-1_000_000_000i64..1_000_000_000, 0i32..20)
            .prop_map(|(m, e)| m as f64 / 10f64.powi(e))
            .boxed(),
    )
}

/// One step of every kind the parser knows, with its own fields filled in.
fn step(body: impl Strategy<Value = Vec<Value>>) -> impl Strategy<Value = Value> {
    let json_value = plain_json;
    let kind = prop_oneof![
        (0u64..100_000).prop_map(|d| json!({"kind": "wait", "duration_ms": d})),
        Just(json!({"kind": "merge"})),
        (prop::option::of(200u16..600), json_value())
            .prop_map(|(s, b)| json!({"kind": "respond", "status": s, "body": b})),
        (id(), id(), json_value()).prop_map(
            |(c, a, i)| json!({"kind": "action", "connector": c, "action": a, "input": i})
        ),
        (prop::collection::vec(id(), 0..3), prop::collection::vec(id(), 0..3)).prop_map(
            |(t, e)| json!({"kind": "condition", "if": "trigger.body.ok == true", "then": t, "else": e})
        ),
        (id(), json_value())
            .prop_map(|(w, i)| json!({"kind": "subworkflow", "workflow": w, "input": i})),
        (1u32..8, body).prop_map(
            |(p, b)| json!({"kind": "loop", "items": "trigger.body.items", "parallelism": p, "body": b})
        ),
    ];
    (
        id(),
        kind,
        prop::option::of(prop::collection::vec(id(), 0..3)),
        prop::option::of(1u64..10_000),
    )
        .prop_map(|(id, mut step, after, timeout)| {
            step["id"] = json!(id);
            if let Some(a) = after {
                step["after"] = json!(a);
            }
            if let Some(t) = timeout {
                step["timeout_ms"] = json!(t);
            }
            // `null` optional fields are left out, as a person would.
            if let Value::Object(m) = &mut step {
                m.retain(|_, v| !v.is_null());
            }
            step
        })
}

fn steps() -> impl Strategy<Value = Vec<Value>> {
    let leafless = prop::collection::vec(step(Just(Vec::new())), 0..3);
    prop::collection::vec(step(leafless), 0..6)
}

fn definition_json() -> impl Strategy<Value = Value> {
    (
        "[a-z][a-z0-9-]{0,10}",
        steps(),
        prop::option::of(plain_json()),
    )
        .prop_map(|(name, steps, vars)| {
            let mut d = json!({"name": name, "steps": steps});
            if let Some(Value::Object(v)) = vars {
                d["vars"] = Value::Object(v);
            }
            d
        })
}

/// Parses and validates against an empty catalogue; only panics matter here.
fn parse_and_validate(bytes: &[u8], format: Format) {
    let limits = DefinitionLimits::default();
    if let Ok(def) = definition::parse(bytes, format, &limits) {
        let catalog: Vec<Manifest> = Vec::new();
        let _ = validate::validate(&def, &catalog, &limits);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_bytes_are_answered_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        parse_and_validate(&bytes, Format::Json);
        parse_and_validate(&bytes, Format::Yaml);
    }

    #[test]
    fn any_json_value_is_answered_without_panicking(v in json_value()) {
        let limits = DefinitionLimits::default();
        let _ = definition::from_value(v.clone(), &limits);
        let wrapped = json!({"name": "w", "steps": [v]});
        parse_and_validate(wrapped.to_string().as_bytes(), Format::Json);
    }

    #[test]
    fn any_json_value_round_trips_through_a_definition(v in plain_json()) {
        let limits = DefinitionLimits::default();
        let d = json!({"name": "w", "steps": [{"id": "a", "kind": "respond", "body": v}]});
        let def = definition::parse(d.to_string().as_bytes(), Format::Json, &limits).unwrap();
        let again = serde_json::to_vec(&def).unwrap();
        prop_assert_eq!(definition::parse(&again, Format::Json, &limits).unwrap(), def);
    }

    #[test]
    fn a_definition_round_trips_through_json_and_reads_the_same_as_yaml(d in definition_json()) {
        let limits = DefinitionLimits::default();
        let text = d.to_string();
        let def = definition::parse(text.as_bytes(), Format::Json, &limits)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let again = serde_json::to_vec(&def).unwrap();
        let back = definition::parse(&again, Format::Json, &limits)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&again))))?;
        prop_assert_eq!(&back, &def);
        let pretty = serde_json::to_string_pretty(&d).unwrap();
        let yaml = definition::parse(pretty.as_bytes(), Format::Yaml, &limits)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{pretty}")))?;
        prop_assert_eq!(&yaml, &def);
        let catalog: Vec<Manifest> = Vec::new();
        let _ = validate::validate(&def, &catalog, &limits);
    }

    #[test]
    fn a_damaged_example_is_answered_without_panicking(
        which in 0..EXAMPLES.len(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let mut bytes = EXAMPLES[which].as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, byte),
                1 if i < bytes.len() => { bytes.remove(i); }
                _ if i < bytes.len() => bytes[i] = byte,
                _ => {}
            }
        }
        parse_and_validate(&bytes, Format::Yaml);
    }
}

const EXAMPLES: [&str; 6] = [
    include_str!("../../../examples/approval.yaml"),
    include_str!("../../../examples/llm-summary.yaml"),
    include_str!("../../../examples/loop-http.yaml"),
    include_str!("../../../examples/nightly-report.yaml"),
    include_str!("../../../examples/slack-on-condition.yaml"),
    include_str!("../../../examples/webhook-transform-respond.yaml"),
];

#[test]
fn every_example_parses_and_validates_its_shape() {
    let limits = DefinitionLimits::default();
    for text in EXAMPLES {
        let def = definition::parse(text.as_bytes(), Format::Yaml, &limits).unwrap();
        let json = serde_json::to_vec(&def).unwrap();
        assert_eq!(
            definition::parse(&json, Format::Json, &limits).unwrap(),
            def
        );
    }
}
