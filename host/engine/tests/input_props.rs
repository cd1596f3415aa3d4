//! Properties of a workflow's declared input (`weft_engine::input`): any
//! body against any of a family of schemas is accepted or refused with at
//! most the cap of problems, each a JSON pointer that exists in the body (or
//! its parent, for a missing property) and a message in words; and any
//! workflow name gives a valid tool name.

use proptest::prelude::*;
use serde_json::{Value, json};
use weft_engine::input::{self, MAX_PROBLEMS};
use weft_types::Definition;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z@._ 0-9-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map("[a-z_/~]{1,5}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Schemas with the keywords people write: types, required, enums, bounds,
/// patterns, formats, nested objects and arrays, additionalProperties.
fn schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({"type": "string"})),
        Just(json!({"type": "string", "minLength": 2, "maxLength": 5})),
        Just(json!({"type": "string", "pattern": "^[a-z]+$"})),
        Just(json!({"type": "string", "format": "email"})),
        Just(json!({"type": "integer", "minimum": 0})),
        Just(json!({"type": ["number", "null"], "exclusiveMaximum": 10})),
        Just(json!({"enum": ["a", "b", 1]})),
        Just(json!({"const": true})),
        Just(json!({"type": "boolean"})),
        Just(json!({})),
        Just(json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map("[a-z_/~]{1,5}", inner.clone(), 0..4),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(props, closed, require)| {
                    let required: Vec<&String> = if require {
                        props.keys().collect()
                    } else {
                        Vec::new()
                    };
                    json!({"type": "object", "properties": props, "required": required,
                           "additionalProperties": !closed})
                }),
            (inner, 0u64..3).prop_map(|(items, min)| {
                json!({"type": "array", "items": items, "minItems": min, "uniqueItems": min == 2})
            }),
        ]
    })
}

fn def(schema: Value) -> Option<Definition> {
    serde_json::from_value(json!({"name": "w", "input_schema": schema, "steps": []})).ok()
}

/// The value at `pointer`, or at its parent (a missing property is named
/// below the object that lacks it).
fn located(body: &Value, pointer: &str) -> bool {
    if body.pointer(pointer).is_some() {
        return true;
    }
    let parent = pointer.rfind('/').map_or("", |i| &pointer[..i]);
    body.pointer(parent).is_some_and(Value::is_object)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_problem_is_located_and_bounded(schema in schema(), body in json_value()) {
        let mut unusable = Vec::new();
        input::schema_problems(&schema, "/input_schema", &mut unusable);
        prop_assert!(unusable.is_empty(), "{unusable:?}");
        let d = def(schema);
        prop_assert!(d.is_some(), "a definition with any schema parses");
        let Some(d) = d else { return Ok(()) };
        match input::check(&d, &body) {
            Ok(()) => {}
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                prop_assert!(problems.len() <= MAX_PROBLEMS + 1);
                for p in &problems {
                    prop_assert!(p.path.is_empty() || located(&body, &p.path), "{p:?} in {body}");
                    prop_assert!(!p.message.is_empty() && p.message.len() < 400, "{p:?}");
                }
                let summary = input::summary(&problems);
                prop_assert!(summary.starts_with("the input does not match the workflow's input_schema: "));
            }
        }
    }

    #[test]
    fn any_name_makes_a_valid_tool_name(name in "\\PC{0,100}") {
        let tool = input::snake_case(&name);
        prop_assert!(input::is_tool_name(&tool), "{name:?} -> {tool:?}");
        prop_assert!(!tool.starts_with('_') && !tool.ends_with('_') && !tool.contains("__"));
        prop_assert_eq!(input::snake_case(&tool), tool.clone(), "stable");
    }
}
