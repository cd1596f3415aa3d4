#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn def(schema: Value) -> Definition {
    serde_json::from_value(json!({
        "name": "w",
        "input_schema": schema,
        "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
    }))
    .unwrap()
}

fn order() -> Definition {
    def(json!({
        "type": "object",
        "required": ["order_id"],
        "additionalProperties": false,
        "properties": {
            "order_id": {"type": "string", "pattern": "^ord_[0-9]+$"},
            "amount": {"type": "number", "minimum": 0, "maximum": 1000},
            "currency": {"enum": ["EUR", "USD"]},
            "email": {"type": "string", "format": "email"},
            "note": {"type": ["string", "null"], "maxLength": 5},
            "items": {"type": "array", "minItems": 1, "items": {"type": "integer"}}
        }
    }))
}

fn problems(d: &Definition, body: Value) -> Vec<String> {
    match check(d, &body) {
        Ok(()) => Vec::new(),
        Err(p) => p.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn no_schema_accepts_anything() {
    let d = serde_json::from_value::<Definition>(json!({"name": "w", "steps": []})).unwrap();
    assert!(check(&d, &json!(null)).is_ok());
    assert!(check(&d, &json!([1, {"a": 2}])).is_ok());
}

#[test]
fn a_good_body_passes() {
    let body = json!({"order_id": "ord_1", "amount": 12.5, "currency": "EUR",
                      "email": "a@example.com", "note": null, "items": [1, 2]});
    assert_eq!(problems(&order(), body), Vec::<String>::new());
}

#[test]
fn each_problem_names_its_field_and_what_is_wrong() {
    let d = order();
    assert_eq!(problems(&d, json!({})), ["/order_id: is required"]);
    assert_eq!(
        problems(&d, json!({"order_id": 42})),
        ["/order_id: must be a string, got 42"]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "x1"})),
        ["/order_id: must match the pattern `^ord_[0-9]+$`"]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "amount": -1})),
        ["/amount: must be at least 0, got -1"]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "currency": "GBP"})),
        ["/currency: must be one of \"EUR\", \"USD\", got \"GBP\""]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "email": "not-an-address"})),
        ["/email: must be a valid email, got \"not-an-address\""]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "note": 3})),
        ["/note: must be null or a string, got 3"]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "note": "too long"})),
        ["/note: must be at most 5 characters long"]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "items": [1, "2"]})),
        ["/items/1: must be an integer, got \"2\""]
    );
    assert_eq!(
        problems(&d, json!({"order_id": "ord_1", "a/b": 1})),
        ["/a~1b: is not an allowed property"]
    );
    assert_eq!(problems(&d, json!(null)), ["must be an object, got null"]);
}

#[test]
fn the_summary_names_the_first_field() {
    let d = order();
    let p = check(&d, &json!({"amount": 1})).unwrap_err();
    assert_eq!(
        summary(&p),
        "the input does not match the workflow's input_schema: /order_id is required"
    );
    let p = check(&d, &json!({"amount": "x"})).unwrap_err();
    assert_eq!(p.len(), 2, "{p:?}");
    assert_eq!(
        summary(&p),
        "the input does not match the workflow's input_schema: /amount must be a number, \
         got \"x\" (and 1 more problem)"
    );
    let p = check(&d, &json!([])).unwrap_err();
    assert_eq!(
        summary(&p),
        "the input does not match the workflow's input_schema: the body must be an object, \
         got an array"
    );
}

#[test]
fn problems_are_capped() {
    let d = def(json!({"type": "array", "items": {"type": "string"}}));
    let p = check(&d, &Value::Array(vec![json!(1); 500])).unwrap_err();
    assert_eq!(p.len(), MAX_PROBLEMS + 1);
    assert_eq!(p[0].path, "/0");
    assert!(
        p[MAX_PROBLEMS].message.starts_with("... and more problems"),
        "{p:?}"
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    let d = def(json!({"const": "x"}));
    let long = "y".repeat(5_000);
    let p = check(&d, &json!(long)).unwrap_err();
    assert!(p[0].message.len() < 120, "{}", p[0].message);
}

#[test]
fn the_trigger_payload_is_checked_by_its_body() {
    let d = order();
    assert!(check_trigger(&d, &json!({"body": {"order_id": "ord_9"}, "query": {}})).is_ok());
    let p = check_trigger(&d, &json!({"order_id": "ord_9"})).unwrap_err();
    assert_eq!(
        (p[0].path.as_str(), p[0].message.as_str()),
        ("", "must be an object, got null")
    );
}

#[test]
fn tool_names() {
    let exposed = |name: &str, mcp: Value| {
        serde_json::from_value::<Definition>(json!({"name": name, "mcp": mcp, "steps": []}))
            .unwrap()
    };
    assert_eq!(tool_name(&exposed("Refund lookup", json!({}))), None);
    assert_eq!(
        tool_name(&exposed(
            "Refund lookup",
            json!({"expose": false, "name": "x"})
        )),
        None
    );
    let on = json!({"expose": true});
    assert_eq!(
        tool_name(&exposed("Refund lookup", on.clone())).unwrap(),
        "refund_lookup"
    );
    assert_eq!(
        tool_name(&exposed("w", json!({"expose": true, "name": "Look-Up_2"}))).unwrap(),
        "Look-Up_2"
    );
    for (name, want) in [
        ("  Send: Slack -- message!  ", "send_slack_message"),
        ("Ünïcode café 2", "n_code_caf_2"),
        ("CamelCase42", "camelcase42"),
        ("***", "workflow"),
        ("", "workflow"),
    ] {
        assert_eq!(snake_case(name), want, "{name}");
    }
    let long = format!("{} tail", "a".repeat(63));
    assert_eq!(snake_case(&long), "a".repeat(63), "no `_` left at the cut");
    assert_eq!(snake_case(&"b".repeat(100)).len(), MAX_TOOL_NAME);
    assert!(is_tool_name("a-b_C9") && !is_tool_name("a.b") && !is_tool_name(""));
    assert!(!is_tool_name(&"a".repeat(65)));
}

#[test]
fn unusable_schemas_are_reported_at_their_path() {
    let report = |schema: Value| {
        let mut out = Vec::new();
        schema_problems(&schema, "/input_schema", &mut out);
        out.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert!(report(json!({"type": "object"})).is_empty());
    assert!(report(json!(true)).is_empty());
    let bad = report(json!({"type": "strnig"}));
    assert_eq!(bad.len(), 1);
    assert!(
        bad[0].starts_with("/input_schema: not a usable JSON Schema: "),
        "{bad:?}"
    );
    let remote = report(json!({"$ref": "https://example.invalid/s.json"}));
    assert_eq!(
        remote.len(),
        1,
        "a remote $ref is refused, not fetched: {remote:?}"
    );
    assert_eq!(
        report(json!("object")),
        ["/input_schema: must be a JSON Schema: an object (or true/false)"]
    );
    let mut deep = json!({"type": "string"});
    for _ in 0..20 {
        deep = json!({"properties": {"a": deep}});
    }
    assert_eq!(
        report(deep),
        [format!(
            "/input_schema: the schema nests deeper than {MAX_SCHEMA_DEPTH} levels"
        )]
    );
    let big = json!({"description": "x".repeat(MAX_SCHEMA_BYTES)});
    assert!(report(big)[0].contains("more than the limit of 65536"));
}

/// A start pays for the check, not for compiling: the schema is compiled once.
#[test]
fn a_small_schema_checks_in_microseconds() {
    let d = order();
    let body = json!({"order_id": "ord_1", "amount": 3, "currency": "EUR"});
    check(&d, &body).unwrap();
    let n = 2_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        check(&d, &body).unwrap();
    }
    let each = start.elapsed() / n;
    eprintln!("input::check of a small body: {each:?} each");
    // Debug builds are several times slower than release; compiling the
    // schema on each call takes milliseconds, so this bound tells the two apart.
    assert!(each < std::time::Duration::from_micros(200), "{each:?}");
}

/// A schema whose `$ref`s loop without reading the body compiles, and a
/// check with it ends (the validator does not recurse for ever).
#[test]
fn looping_refs_end() {
    let mut deep = json!({});
    for _ in 0..100 {
        deep = json!({"a": deep});
    }
    for s in [
        json!({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}),
        json!({"$ref": "#"}),
        json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}),
        json!({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}),
        json!({"type": "object", "properties": {"a": {"$ref": "#"}}, "additionalProperties": false}),
    ] {
        let mut out = Vec::new();
        schema_problems(&s, "/input_schema", &mut out);
        assert!(out.is_empty(), "{s}: {out:?}");
        assert!(check(&def(s.clone()), &deep).is_ok(), "{s}");
    }
}
