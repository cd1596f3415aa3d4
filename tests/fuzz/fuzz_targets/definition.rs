//! The workflow definition parser and validator: any bytes, as JSON (first
//! byte even) or YAML (odd), answer with a definition or an error; a parsed
//! definition validates without panicking and round-trips through JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_engine::{DefinitionLimits, Format, definition, validate};
use weft_types::Manifest;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let format = if first % 2 == 0 {
        Format::Json
    } else {
        Format::Yaml
    };
    let limits = DefinitionLimits::default();
    let Ok(def) = definition::parse(rest, format, &limits) else {
        return;
    };
    let catalog: Vec<Manifest> = Vec::new();
    let _ = validate::validate(&def, &catalog, &limits);
    // What parsed is stored as JSON and read back: it must parse, and come
    // back the same (floats may move by one unit in the last place: serde_json
    // without `float_roundtrip` does not round every 17-digit float exactly).
    let json = serde_json::to_vec(&def).expect("a definition serializes");
    let again = definition::parse(&json, Format::Json, &limits)
        .unwrap_or_else(|e| panic!("its own JSON does not parse: {e}"));
    let (a, b) = (
        serde_json::to_value(&again).expect("serializes"),
        serde_json::to_value(&def).expect("serializes"),
    );
    assert!(same(&a, &b), "{a} != {b}");
});

fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x != y => (x - y).abs() <= x.abs().max(y.abs()) * 1e-15,
            _ => x == y || x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
