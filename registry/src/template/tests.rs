#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use serde_json::json;
use weft_types::{ActionSpec, Manifest};

fn doc() -> Value {
    json!({
        "name": "alert",
        "description": "Posts to Slack when the body says so.",
        "category": "alerting",
        "tags": ["slack"],
        "difficulty": "beginner",
        "requires": {"slack": "^0.1"},
        "parameters": {
            "type": "object",
            "required": ["channel"],
            "additionalProperties": false,
            "properties": {
                "channel": {"type": "string", "minLength": 1, "pattern": "^[#CD]"},
                "threshold": {"type": "integer", "minimum": 1, "default": 10}
            }
        },
        "placements": {
            "channel": ["/steps/1/input/channel"],
            "threshold": ["/vars/threshold"]
        },
        "examples": [{"title": "ops", "parameters": {"channel": "#ops"}}],
        "definition": {
            "name": "alert",
            "vars": {"threshold": 0},
            "steps": [
                {"id": "gate", "kind": "condition", "if": "trigger.body.n > vars.threshold", "then": ["post"]},
                {"id": "post", "kind": "action", "connector": "slack", "action": "post-message",
                 "input": {"channel": "CHANNEL", "text": "n is {{ trigger.body.n }}"}}
            ]
        }
    })
}

fn parse(v: &Value) -> Result<Template, Problems> {
    Template::parse(v.to_string().as_bytes())
}

fn problems(v: &Value) -> Vec<String> {
    parse(v)
        .expect_err("should be refused")
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn slack(version: &str) -> Vec<Manifest> {
    vec![Manifest {
        name: "slack".into(),
        version: version.into(),
        description: "Slack".into(),
        actions: vec![ActionSpec {
            name: "post-message".into(),
            description: "post".into(),
            input_schema: json!({"type": "object", "required": ["channel"],
                "properties": {"channel": {"type": "string"}, "text": {"type": "string"}}}),
            output_schema: json!({}),
        }],
        capabilities: Default::default(),
        config_schema: None,
        triggers: Vec::new(),
    }]
}

#[test]
fn places_parameters_by_pointer_and_leaves_expressions_alone() {
    let t = parse(&doc()).unwrap();
    t.check(&slack("0.1.3")).unwrap();
    let def = t.instantiate(&json!({"channel": "#ops"})).unwrap();
    assert_eq!(def["steps"][1]["input"]["channel"], "#ops");
    assert_eq!(def["vars"]["threshold"], 10, "the default is placed");
    assert_eq!(
        def["steps"][1]["input"]["text"],
        "n is {{ trigger.body.n }}"
    );
    assert_eq!(def["steps"][0]["if"], "trigger.body.n > vars.threshold");
    // A value that looks like an expression is placed as the value it is,
    // and nothing else in the definition changes.
    let def = t
        .instantiate(&json!({"channel": "#{{ vars.threshold }}", "threshold": 3}))
        .unwrap();
    assert_eq!(def["steps"][1]["input"]["channel"], "#{{ vars.threshold }}");
    let mut expected = doc()["definition"].clone();
    expected["steps"][1]["input"]["channel"] = json!("#{{ vars.threshold }}");
    expected["vars"]["threshold"] = json!(3);
    assert_eq!(def, expected);
}

#[test]
fn bad_parameters_name_the_parameter_and_what_is_wrong() {
    let t = parse(&doc()).unwrap();
    let err = t
        .instantiate(&json!({"channel": "ops", "threshold": 0, "extra": 1}))
        .unwrap_err();
    let got: Vec<String> = err.0.iter().map(ToString::to_string).collect();
    assert!(
        got.iter()
            .any(|p| p.starts_with("/channel: parameter `channel`: ") && p.contains("^[#CD]")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("/threshold: parameter `threshold`: 0 is less than")),
        "{got:?}"
    );
    assert!(got.iter().any(|p| p.contains("extra")), "{got:?}");
    let err = t.instantiate(&json!({})).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert!(
        err.0[0]
            .message
            .contains("\"channel\" is a required property")
    );
    let err = t.instantiate(&json!([1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "parameters must be a JSON object, not array"
    );
}

#[test]
fn every_shape_problem_is_reported_with_its_path() {
    let mut d = doc();
    d["colour"] = json!("red");
    d["tags"] = json!(["a", 2]);
    d["difficulty"] = json!("expert");
    d["examples"] = json!([{"title": "x", "params": {}}]);
    d.as_object_mut().unwrap().remove("category");
    let got = problems(&d);
    assert!(
        got.iter()
            .any(|p| p.starts_with("/colour: unknown field `colour`")),
        "{got:?}"
    );
    assert!(
        got.contains(&"missing field `category`".to_string()),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("/tags/1: invalid type: integer `2`")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("/difficulty: unknown variant `expert`")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("/examples/0/params: ") && p.contains("unknown field `params`")),
        "{got:?}"
    );
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(
        Template::parse(b"[1]").unwrap_err().to_string(),
        "a template must be a JSON object"
    );
    assert!(
        Template::parse(b"{")
            .unwrap_err()
            .to_string()
            .starts_with("template is not valid JSON")
    );
}

#[test]
fn placement_problems_are_each_named() {
    let mut d = doc();
    d["placements"] = json!({
        "channel": ["/steps/1/input/chanel", "steps/1/input/text"],
        "ghost": ["/name"],
        "threshold": ["/vars", "/vars/threshold"]
    });
    d["parameters"]["properties"]["unplaced"] = json!({"type": "string"});
    assert_eq!(
        problems(&d),
        vec![
            "/placements/channel/0: `/steps/1/input/chanel` does not exist in the definition",
            "/placements/channel/1: `steps/1/input/text` is not a JSON pointer into the definition (it starts with `/`)",
            "/placements/ghost: placement of `ghost`, which /parameters/properties does not declare",
            "/placements/threshold/1: `/vars/threshold` overlaps `/vars`, where `threshold` is placed",
            "/parameters/properties/unplaced: parameter `unplaced` is placed nowhere (give it pointers in /placements)",
        ]
    );
}

#[test]
fn requires_schema_and_examples_are_checked_at_parse() {
    let mut d = doc();
    d["requires"] = json!({"slack": "one point oh"});
    d["examples"] = json!([
        {"title": "ok", "parameters": {"channel": "#ops"}},
        {"title": "bad", "parameters": {"channel": "ops", "threshold": "high"}}
    ]);
    d["name"] = json!("Alert Me");
    let got = problems(&d);
    assert!(
        got[0].starts_with("/name: `Alert Me` is not a template name"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("/requires/slack: `one point oh` is not a semver range"),
        "{got:?}"
    );
    assert!(
        got[2].starts_with("/examples/1/parameters/channel: parameter `channel`: "),
        "{got:?}"
    );
    assert!(got[3].starts_with("/examples/1/parameters/threshold: parameter `threshold`: \"high\" is not of type \"integer\""), "{got:?}");
    assert_eq!(got.len(), 4, "{got:?}");

    let mut d = doc();
    d["parameters"]["type"] = json!("array");
    d["parameters"]["properties"]["channel"]["minLength"] = json!("one");
    let got = problems(&d);
    assert!(
        got[0].starts_with("/parameters/type: the parameters' schema must have"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("/parameters: not a usable JSON Schema"),
        "{got:?}"
    );
}

#[test]
fn check_names_connectors_and_definition_problems() {
    let t = parse(&doc()).unwrap();
    assert_eq!(
        t.check(&slack("0.2.0")).unwrap_err().to_string(),
        "/requires/slack: the catalogue's `slack` is version 0.2.0, outside `^0.1`"
    );
    assert_eq!(
        t.check(&Vec::<Manifest>::new()).unwrap_err().0[0].to_string(),
        "/requires/slack: connector `slack` is not in the catalogue"
    );

    let mut d = doc();
    d["requires"] = json!({"llm": "^0.1"});
    let got: Vec<String> = parse(&d)
        .unwrap()
        .check(&slack("0.1.0"))
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        got,
        vec![
            "/definition/steps/1/connector: connector `slack` is used but not in /requires (add `\"slack\": \"^<major>.<minor>\"`)",
            "/requires/llm: no step uses connector `llm`",
            "/requires/llm: connector `llm` is not in the catalogue",
        ]
    );

    // A placement that lands where the workflow cannot take it: the
    // definition no longer validates once the example is placed.
    let mut d = doc();
    d["placements"]["channel"] = json!(["/steps/1/action"]);
    let err = parse(&d).unwrap().check(&slack("0.1.0")).unwrap_err();
    assert_eq!(
        err.0.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec![
            "/definition/steps/1/action: connector `slack` has no action `#ops` (it has: post-message) (with the parameters of example 0 (`ops`))",
        ]
    );
}

#[test]
fn missing_connectors_lists_absent_and_out_of_range() {
    let mut d = doc();
    d["requires"] = json!({"slack": "^0.1", "llm": "^1"});
    let t = Template {
        requires: serde_json::from_value(d["requires"].clone()).unwrap(),
        ..parse(&doc()).unwrap()
    };
    let has = |v: Option<&'static str>| {
        move |name: &str| (name == "slack").then_some(v).flatten().map(String::from)
    };
    assert_eq!(
        t.missing_connectors(has(Some("0.1.9"))),
        vec![("llm".to_string(), "^1".to_string())]
    );
    assert_eq!(
        t.missing_connectors(has(Some("0.2.0"))),
        vec![
            ("llm".to_string(), "^1".to_string()),
            ("slack".to_string(), "^0.1".to_string())
        ]
    );
    assert_eq!(t.missing_connectors(has(None)).len(), 2);
}

#[test]
fn oversize_documents_are_refused_before_parsing() {
    let big = vec![b' '; MAX_BYTES + 1];
    assert!(
        Template::parse(&big)
            .unwrap_err()
            .to_string()
            .contains("more than the limit")
    );
}

#[test]
fn at_most_32_connectors_are_required() {
    let mut d = doc();
    let many: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("c{i}"), json!("^0.1"))).collect();
    d["requires"] = Value::Object(many);
    let e = Template::parse(&serde_json::to_vec(&d).unwrap()).unwrap_err();
    assert!(
        e.0.iter()
            .any(|p| p.path == "/requires" && p.message.contains("at most 32")),
        "{e}"
    );
}
