//! `input_schema`, `output_schema` and `mcp` at save.

use super::*;
use crate::definition::from_value;
use serde_json::json;

fn problems(extra: Value, respond: Value) -> Vec<String> {
    let limits = DefinitionLimits::default();
    let mut def = json!({
        "name": "refund lookup",
        "steps": [{"id": "r", "kind": "respond", "body": {"status": "ok"}}]
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        def[k] = v.clone();
    }
    for (k, v) in respond.as_object().into_iter().flatten() {
        def["steps"][0][k] = v.clone();
    }
    let def = from_value(def, &limits).unwrap();
    check(&def, &Vec::new(), &limits)
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn object() -> Value {
    json!({"type": "object", "required": ["order_id"],
           "properties": {"order_id": {"type": "string"}}})
}

#[test]
fn a_full_contract_passes() {
    let ok = problems(
        json!({"input_schema": object(),
               "mcp": {"expose": true, "name": "lookup_refund", "description": "Looks up a refund."}}),
        json!({"output_schema": {"type": "object", "properties": {"status": {"type": "string"}}}}),
    );
    assert_eq!(ok, Vec::<String>::new());
    // Not exposed: any schema that compiles; exposed without schemas: fine.
    assert!(problems(json!({"input_schema": {"type": "array"}}), json!({})).is_empty());
    assert!(problems(json!({"mcp": {"expose": true}}), json!({})).is_empty());
    assert!(problems(json!({"mcp": {"name": "x y"}}), json!({})).len() == 1);
}

#[test]
fn schemas_that_do_not_compile_are_refused_with_their_path() {
    let got = problems(
        json!({"input_schema": {"type": "strnig"}}),
        json!({"output_schema": {"properties": {"a": {"pattern": "("}}}}),
    );
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with("/input_schema: not a usable JSON Schema"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("/steps/0/output_schema: not a usable JSON Schema"),
        "{got:?}"
    );
}

#[test]
fn an_exposed_workflow_needs_object_schemas() {
    assert_eq!(
        problems(
            json!({"input_schema": {"type": "string"}, "mcp": {"expose": true}}),
            json!({"output_schema": {"type": ["object", "null"]}}),
        ),
        [
            "/input_schema/type: a workflow exposed over MCP (`mcp.expose: true`) needs `type: object` here: MCP's inputSchema is an object schema",
            "/steps/0/output_schema/type: a workflow exposed over MCP (`mcp.expose: true`) needs `type: object` here: MCP's outputSchema is an object schema",
        ]
    );
}

#[test]
fn tool_names_and_descriptions_are_bounded() {
    assert_eq!(
        problems(
            json!({"mcp": {"expose": true, "name": "look up", "description": " "}}),
            json!({})
        ),
        [
            "/mcp/name: `look up` is not a tool name: 1 to 64 letters, digits, `_` or `-`",
            "/mcp/description: must not be blank (leave it out to use the workflow's description)",
        ]
    );
    let long = "é".repeat(1_001);
    assert_eq!(
        problems(
            json!({"mcp": {"expose": true, "description": long}}),
            json!({})
        ),
        ["/mcp/description: is 1001 characters, more than 1000"]
    );
    assert!(
        problems(
            json!({"mcp": {"description": "é".repeat(1_000)}}),
            json!({})
        )
        .is_empty()
    );
    assert_eq!(problems(json!({"mcp": {"name": ""}}), json!({})).len(), 1);
}

/// A schedule's runs get `{scheduled_at, fired_at}`: a schema that refuses
/// it is refused at save, at the schedule.
#[test]
fn a_schedule_must_fit_the_input_schema() {
    let schedule = json!({"cron": "0 * * * *"});
    assert_eq!(
        problems(
            json!({"input_schema": object(), "triggers": {"schedule": schedule}}),
            json!({})
        ),
        [
            "/triggers/schedule: a scheduled run's trigger.body is {scheduled_at, fired_at} (Unix milliseconds), and input_schema refuses it (/order_id is required); make the schema accept it, or start this workflow another way"
        ]
    );
    let open = json!({"type": "object", "properties": {"order_id": {"type": "string"}}});
    assert!(
        problems(
            json!({"input_schema": open, "triggers": {"schedule": schedule}}),
            json!({})
        )
        .is_empty()
    );
    // A broken schema is reported once, at the schema.
    assert_eq!(
        problems(
            json!({"input_schema": {"type": 1}, "triggers": {"schedule": schedule}}),
            json!({})
        )
        .len(),
        1
    );
}

/// The example of docs/WORKFLOWS.md's "Input schema" section is valid and
/// does what the text around it says.
#[test]
fn the_documented_contract_example_holds() {
    let doc = include_str!("../../../../docs/WORKFLOWS.md");
    let section = &doc[doc.find("## Input schema").unwrap()..];
    let start = section.find("```yaml\n").unwrap() + 8;
    let yaml = &section[start..start + section[start..].find("```").unwrap()];
    let limits = DefinitionLimits::default();
    let def = crate::definition::parse(yaml.as_bytes(), crate::Format::Yaml, &limits).unwrap();
    validate(&def, &Vec::new(), &limits).unwrap();
    assert_eq!(
        crate::input::tool_name(&def).as_deref(),
        Some("lookup_refund")
    );
    assert!(crate::input::check(&def, &json!({"order_id": "ord_1", "reason": "late"})).is_ok());
    let p = crate::input::check(&def, &json!({"reason": "lost"})).unwrap_err();
    assert_eq!(
        crate::input::summary(&p),
        "the input does not match the workflow's input_schema: /order_id is required (and 1 more problem)"
    );
    assert_eq!(
        p[1].message,
        "must be one of \"damaged\", \"late\", \"other\", got \"lost\""
    );
}
