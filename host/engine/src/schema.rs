//! A small, bounded subset of JSON Schema, used to check step input against an
//! action's `input_schema` before the run.
//!
//! Supported keywords: `type` (one or a list; `integer` means a number without a
//! fraction), `enum`, `const`, `properties`, `required`, `additionalProperties`
//! (`false` or a schema), `items` (one schema), `minItems`/`maxItems`,
//! `minLength`/`maxLength` (in characters), `minimum`/`maximum`,
//! `exclusiveMinimum`/`exclusiveMaximum` (numbers). Other keywords (`$ref`, `anyOf`,
//! `pattern`, `format`, ...) are ignored, so the check never refuses what the
//! connector might accept for a reason it does not understand. A string containing
//! `{{` is a template: its value is unknown before the run and is not checked.
//! Recursion stops at [`MAX_DEPTH`].

use crate::template::{is_template, json_eq, pointer_escape, type_name};
use serde_json::Value;
use weft_types::Problem;

/// Deepest schema nesting followed; deeper parts are not checked.
pub const MAX_DEPTH: usize = 32;

/// Checks `value` against `schema`, appending problems (at most `limit` in `out`).
pub fn check(schema: &Value, value: &Value, path: &str, out: &mut Vec<Problem>, limit: usize) {
    walk(schema, value, path, out, limit, 0);
}

fn walk(
    schema: &Value,
    value: &Value,
    path: &str,
    out: &mut Vec<Problem>,
    limit: usize,
    depth: usize,
) {
    if out.len() >= limit || depth > MAX_DEPTH {
        return;
    }
    if matches!(value, Value::String(s) if is_template(s)) {
        return;
    }
    let s = match schema {
        Value::Bool(false) => {
            out.push(Problem::new(path, "no value is allowed here"));
            return;
        }
        Value::Object(s) => s,
        _ => return,
    };
    let mut report = |msg: String| {
        if out.len() < limit {
            out.push(Problem::new(path, msg));
        }
    };
    if let Some(t) = s.get("type") {
        let wanted: Vec<&str> = match t {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !wanted.is_empty() && !wanted.iter().any(|w| has_type(value, w)) {
            report(format!(
                "expected {}, found {}",
                wanted.join(" or "),
                type_name(value)
            ));
            return;
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.iter().any(|o| json_eq(o, value))
    {
        let list: Vec<String> = options.iter().take(10).map(Value::to_string).collect();
        report(format!("must be one of {}", list.join(", ")));
    }
    if let Some(c) = s.get("const")
        && !json_eq(c, value)
    {
        report(format!("must be {c}"));
    }
    match value {
        Value::String(text) => {
            let n = text.chars().count() as f64;
            bound(
                s,
                "minLength",
                |m| n < m,
                |m| format!("must be at least {m} characters long"),
                &mut report,
            );
            bound(
                s,
                "maxLength",
                |m| n > m,
                |m| format!("must be at most {m} characters long"),
                &mut report,
            );
        }
        Value::Number(num) => {
            let x = num.as_f64().unwrap_or(0.0);
            bound(
                s,
                "minimum",
                |m| x < m,
                |m| format!("must be at least {m}"),
                &mut report,
            );
            bound(
                s,
                "maximum",
                |m| x > m,
                |m| format!("must be at most {m}"),
                &mut report,
            );
            bound(
                s,
                "exclusiveMinimum",
                |m| x <= m,
                |m| format!("must be greater than {m}"),
                &mut report,
            );
            bound(
                s,
                "exclusiveMaximum",
                |m| x >= m,
                |m| format!("must be less than {m}"),
                &mut report,
            );
        }
        Value::Array(items) => {
            let n = items.len() as f64;
            bound(
                s,
                "minItems",
                |m| n < m,
                |m| format!("must have at least {m} items"),
                &mut report,
            );
            bound(
                s,
                "maxItems",
                |m| n > m,
                |m| format!("must have at most {m} items"),
                &mut report,
            );
            if let Some(item_schema) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(
                        item_schema,
                        v,
                        &format!("{path}/{i}"),
                        out,
                        limit,
                        depth + 1,
                    );
                }
            }
        }
        Value::Object(map) => {
            if let Some(Value::Array(req)) = s.get("required") {
                for r in req.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        report(format!("missing required property `{r}`"));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            let extra = s.get("additionalProperties");
            for (k, v) in map {
                let p = format!("{path}/{}", pointer_escape(k));
                match (props.and_then(|ps| ps.get(k)), extra) {
                    (Some(sub), _) => walk(sub, v, &p, out, limit, depth + 1),
                    (None, Some(Value::Bool(false))) => {
                        if out.len() < limit {
                            out.push(Problem::new(p, format!("property `{k}` is not allowed")));
                        }
                    }
                    (None, Some(sub @ Value::Object(_))) => walk(sub, v, &p, out, limit, depth + 1),
                    (None, _) => {}
                }
            }
        }
        _ => {}
    }
}

fn bound(
    s: &serde_json::Map<String, Value>,
    key: &str,
    fails: impl Fn(f64) -> bool,
    msg: impl Fn(&Value) -> String,
    report: &mut impl FnMut(String),
) {
    if let Some(limit) = s.get(key)
        && limit.as_f64().is_some_and(&fails)
    {
        report(msg(limit));
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match (t, v) {
        ("integer", Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => type_name(v) == t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Value, value: Value) -> Vec<String> {
        let mut out = Vec::new();
        check(&schema, &value, "/input", &mut out, 100);
        out.iter().map(ToString::to_string).collect()
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["url", "method"],
            "additionalProperties": false,
            "properties": {
                "url": {"type": "string", "minLength": 8, "maxLength": 200},
                "method": {"enum": ["GET", "POST"]},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "ratio": {"type": ["number", "null"], "exclusiveMaximum": 1},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}}
            }
        })
    }

    #[test]
    fn accepts_good_and_templated_input() {
        assert!(
            problems(
                schema(),
                json!({"url": "https://x.example", "method": "GET", "retries": 3.0, "ratio": null})
            )
            .is_empty()
        );
        assert!(problems(schema(), json!({"url": "{{ vars.url }}", "method": "{{ trigger.m }}", "tags": "{{ steps.a.output }}"})).is_empty());
        assert!(problems(json!({"anyOf": [], "$ref": "#/x"}), json!(1)).is_empty());
    }

    #[test]
    fn lists_every_problem_with_its_path() {
        let got = problems(
            schema(),
            json!({"url": "http:", "retries": 11, "ratio": 1, "tags": ["a", 2, "c"], "extra/x": 1}),
        );
        assert_eq!(
            got,
            vec![
                "/input: missing required property `method`",
                "/input/extra~1x: property `extra/x` is not allowed",
                "/input/ratio: must be less than 1",
                "/input/retries: must be at most 10",
                "/input/tags: must have at most 2 items",
                "/input/tags/1: expected string, found number",
                "/input/url: must be at least 8 characters long",
            ]
        );
        assert_eq!(
            problems(schema(), json!([])),
            vec!["/input: expected object, found array"]
        );
        assert_eq!(
            problems(
                json!({"properties": {"m": {"enum": ["a", 1]}}}),
                json!({"m": 2})
            ),
            vec!["/input/m: must be one of \"a\", 1"]
        );
        assert_eq!(
            problems(json!({"type": "integer"}), json!(1.5)),
            vec!["/input: expected integer, found number"]
        );
        assert_eq!(
            problems(json!(false), json!(1)),
            vec!["/input: no value is allowed here"]
        );
    }

    #[test]
    fn problem_count_is_capped() {
        let mut out = Vec::new();
        let v = Value::Array(vec![json!(1); 500]);
        check(&json!({"items": {"type": "string"}}), &v, "", &mut out, 10);
        assert_eq!(out.len(), 10);
    }
}
