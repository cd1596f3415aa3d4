//! A template's parameters: a JSON Schema of type `object`, checked with the
//! `jsonschema` crate as the engine compiles every schema it is given
//! (`weft_engine::input::compile`; every keyword of its draft, `default` filled by us).
//! Offline: a `$ref` outside the schema is refused, never fetched. Patterns
//! use the `regex` engine (linear time) with a size limit, so a published
//! schema cannot make a use of it slow.

use serde_json::{Map, Value};
use weft_engine::input::{MAX_MESSAGE, compile};
use weft_types::Problem;

/// The parameter names (`properties` of the schema), reporting at
/// `/parameters` what makes the schema unusable.
pub(super) fn declared(schema: &Value, out: &mut Vec<Problem>) -> Vec<String> {
    if schema.get("type") != Some(&Value::String("object".into())) {
        out.push(Problem::new(
            "/parameters/type",
            "the parameters' schema must have `\"type\": \"object\"` (each property is a parameter)",
        ));
    }
    if let Err(e) = compile(schema) {
        out.push(Problem::new(
            "/parameters",
            format!("not a usable JSON Schema: {e}"),
        ));
    }
    match schema.get("properties") {
        None => Vec::new(),
        Some(Value::Object(props)) => props.keys().cloned().collect(),
        Some(_) => {
            out.push(Problem::new(
                "/parameters/properties",
                "must be an object (parameter name -> schema)",
            ));
            Vec::new()
        }
    }
}

/// `params` with the `default` of each absent parameter that has one.
pub(super) fn with_defaults(schema: &Value, mut params: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, prop) in props {
            if let Some(default) = prop.get("default")
                && !params.contains_key(name)
            {
                params.insert(name.clone(), default.clone());
            }
        }
    }
    params
}

/// Checks `params` against the schema; each problem's path is `prefix` plus
/// the pointer into the parameters, and its message names the parameter.
pub(super) fn validate(
    schema: &Value,
    params: &Map<String, Value>,
    prefix: &str,
    out: &mut Vec<Problem>,
) {
    let validator = match compile(schema) {
        Ok(v) => v,
        Err(e) => {
            out.push(Problem::new(
                prefix,
                format!("the parameters' schema is not usable: {e}"),
            ));
            return;
        }
    };
    let instance = Value::Object(params.clone());
    for e in validator.iter_errors(&instance).take(super::MAX_PROBLEMS) {
        let at = e.instance_path().to_string();
        let message = weft_engine::input::clip(e.to_string(), MAX_MESSAGE);
        let message = match first_segment(&at) {
            Some(name) => format!("parameter `{name}`: {message}"),
            None => message,
        };
        out.push(Problem::new(format!("{prefix}{at}"), message));
    }
}

fn first_segment(pointer: &str) -> Option<String> {
    let seg = pointer.strip_prefix('/')?.split('/').next()?;
    Some(seg.replace("~1", "/").replace("~0", "~"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn first_segment_unescapes() {
        assert_eq!(first_segment("/a~1b/0"), Some("a/b".into()));
        assert_eq!(first_segment(""), None);
    }

    #[test]
    fn a_remote_ref_is_refused_not_fetched() {
        let mut out = Vec::new();
        declared(
            &json!({"type": "object", "properties": {"a": {"$ref": "https://example.invalid/s.json"}}}),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].path, "/parameters");
    }
}
