use super::*;

fn err(src: &str, format: Format) -> String {
    parse(src.as_bytes(), format, &DefinitionLimits::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn json_and_yaml_give_the_same_definition() {
    let json = r#"{"name": "w", "steps": [{"id": "a", "kind": "wait", "duration_ms": 10},
        {"id": "b", "kind": "respond", "status": 201, "body": {"x": "{{ steps.a.output }}"}}]}"#;
    let yaml = "name: w\nsteps:\n  - id: a\n    kind: wait\n    duration_ms: 10\n  - id: b\n    kind: respond\n    status: 201\n    body:\n      x: '{{ steps.a.output }}'\n";
    let l = DefinitionLimits::default();
    let a = parse(json.as_bytes(), Format::Json, &l).unwrap();
    assert_eq!(a, parse(yaml.as_bytes(), Format::Yaml, &l).unwrap());
    assert_eq!(a.steps.len(), 2);
}

#[test]
fn shape_errors_have_paths() {
    assert_eq!(
        err(
            r#"{"name": "w", "steps": [{"id": "a", "kind": "wiat"}, {"id": "b"}, {"id": "c", "kind": "merge", "retyr": {}, "input": 1}]}"#,
            Format::Json
        ),
        "invalid workflow definition: /steps/0/kind: unknown step kind `wiat` (expected action, condition, switch, loop, merge, subworkflow, wait, respond or code); /steps/1: missing field `kind`; /steps/2/input: unknown field `input` in a `merge` step; /steps/2/retyr: unknown field `retyr` in a `merge` step"
    );
    assert_eq!(
        err(
            r#"{"name": "w", "steps": [{"id": "a", "kind": "loop", "items": "x", "body": [{"id": "b", "kind": "wait", "retry": {"max_attempts": "3"}}]}]}"#,
            Format::Json
        ),
        "invalid workflow definition: /steps/0/body/0/retry/max_attempts: invalid type: string \"3\", expected u32"
    );
    assert_eq!(
        err(r#"{"name": "w", "stpes": []}"#, Format::Json),
        "invalid workflow definition: /stpes: unknown field `stpes`, expected one of `name`, `version`, `description`, `vars`, `timeout_ms`, `error_workflow`, `grants`, `triggers`, `input_schema`, `mcp`, `steps`"
    );
    assert_eq!(
        err(
            r#"{"name": "w", "grants": {"hosts": ["a b"]}, "steps": []}"#,
            Format::Json
        ),
        "invalid workflow definition: /grants/hosts/0: invalid host pattern `a b`: only ASCII letters, digits, `-` and `_` are allowed (a `*` only as `*.` at the start)"
    );
    assert_eq!(
        err(
            "name: w\nsteps:\n  - id: a\n    kind: wait\n    duration_ms: '5'\n    after: 3\n",
            Format::Yaml
        ),
        "invalid workflow definition: /steps/0/after: invalid type: integer `3`, expected a sequence; /steps/0/duration_ms: invalid type: string \"5\", expected u64"
    );
    assert_eq!(
        err("name: [w\n", Format::Yaml),
        "definition is not valid YAML: line 1 column 7: unclosed bracket '['"
    );
    assert_eq!(
        err("[1]", Format::Json),
        "invalid workflow definition: a definition must be an object"
    );
    assert_eq!(
        err(r#"{"name": "#, Format::Json),
        "definition is not valid JSON: EOF while parsing a value at line 1 column 9"
    );
}

#[test]
fn bombs_are_refused_early() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        err(&deep, Format::Json),
        "definition nests deeper than 64 levels (at byte 64)"
    );
    assert_eq!(
        err(r#"{"a": "[[[[", "b": [[]]}"#, Format::Json),
        "invalid workflow definition: /a: unknown field `a`, expected one of `name`, `version`, `description`, `vars`, `timeout_ms`, `error_workflow`, `grants`, `triggers`, `input_schema`, `mcp`, `steps`"
    );
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(
        parse(&big, Format::Json, &DefinitionLimits::default()).unwrap_err(),
        Error::TooLarge {
            size: 1_048_577,
            limit: 1_048_576
        }
    );
    let many: Vec<String> = (0..1001)
        .map(|i| format!(r#"{{"id": "s{i}", "kind": "merge"}}"#))
        .collect();
    assert_eq!(
        err(
            &format!(r#"{{"name": "w", "steps": [{}]}}"#, many.join(",")),
            Format::Json
        ),
        "invalid workflow definition: /steps: more than 1000 steps (counting loop bodies)"
    );
    let yaml_deep = format!("name: w\nsteps: {}{}\n", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        err(&yaml_deep, Format::Yaml),
        "definition is not valid YAML: line 2 column 72: recursion limit exceeded"
    );
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        laughs.push_str(&format!(
            "l{i}: &l{i} [*{}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}]\n",
            if prev == 0 {
                "a".to_string()
            } else {
                format!("l{prev}")
            }
        ));
    }
    assert_eq!(
        err(&laughs, Format::Yaml),
        "definition is not valid YAML: line 4 column 45: budget breached: RecordedAnchorEvents { recorded_anchor_events: 10001 }"
    );
    assert_eq!(
        from_value(
            serde_json::json!({"x": [[[[1]]]]}),
            &DefinitionLimits {
                max_depth: 3,
                ..DefinitionLimits::default()
            }
        )
        .unwrap_err(),
        Error::TooDeep {
            limit: 3,
            offset: 0
        }
    );
}

#[test]
fn a_float_in_json_is_stored_as_written_to_the_last_digit() {
    // Shortest round-trip forms at 17 significant digits: a parser that is not
    // correctly rounded (serde_json without `float_roundtrip`) moves some of them
    // by one unit in the last place, silently changing a user's data.
    for lit in [
        "-1.6454314262508272e-81",
        "0.30000000000000004",
        "2.2250738585072014e-308",
        "9007199254740993.0",
        "1.7976931348623157e308",
        "8.988465674311579e307",
    ] {
        let src = format!(
            r#"{{"name": "w", "steps": [{{"id": "r", "kind": "respond", "body": {{"x": {lit}}}}}]}}"#
        );
        let def = parse(src.as_bytes(), Format::Json, &DefinitionLimits::default()).unwrap();
        let back = serde_json::to_value(&def).unwrap();
        let x = &back["steps"][0]["body"]["x"];
        let want: f64 = lit.parse().unwrap();
        assert_eq!(x.as_f64(), Some(want), "{lit} came back as {x}");
    }
}
