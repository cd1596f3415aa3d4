use super::*;
use crate::DefinitionLimits;
use crate::definition::{Format, parse};

fn node(name: &str, kind: &str, params: Value) -> Value {
    json!({"name": name, "type": format!("n8n-nodes-base.{kind}"), "typeVersion": 1, "position": [0, 0], "parameters": params})
}

fn chain(nodes: &[Value]) -> Value {
    let mut connections = Map::new();
    for pair in nodes.windows(2) {
        connections.insert(
            pair[0]["name"].as_str().unwrap().to_owned(),
            json!({"main": [[{"node": pair[1]["name"], "type": "main", "index": 0}]]}),
        );
    }
    json!({"name": "t", "nodes": nodes, "connections": connections})
}

fn webhook() -> Value {
    node(
        "Webhook",
        "webhook",
        json!({"path": "p", "responseMode": "responseNode"}),
    )
}

#[test]
fn a_definition_that_parses_with_ids_from_node_names() {
    let export = chain(&[
        webhook(),
        node(
            "Edit Fields",
            "set",
            json!({"assignments": {"assignments": [
            {"name": "a.b", "type": "number", "value": "={{ $json.body.n + 1 }}"}]}}),
        ),
        node("Edit Fields 2", "set", json!({})),
        node("1 odd name!", "respondToWebhook", json!({})),
    ]);
    let out = import(&export, &Options::default()).unwrap();
    let ids: Vec<&str> = out.definition["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["edit_fields", "edit_fields_2", "node_1_odd_name"]);
    let text = serde_json::to_string(&out.definition).unwrap();
    parse(text.as_bytes(), Format::Json, &DefinitionLimits::default())
        .unwrap_or_else(|e| panic!("{e:?}: {text}"));
    let code = out.definition["steps"][0]["code"].as_str().unwrap();
    assert!(
        code.contains(r#"__set(out, "a.b", __as("number", ($json.body.n + 1)));"#),
        "{code}"
    );
}

#[test]
fn expressions_keep_one_value_or_join_text() {
    let mut b = Builder::scratch();
    assert_eq!(b.js_value(&json!("={{ $json.n }}")), "($json.n)");
    assert_eq!(
        b.js_value(&json!("=Hi {{ $json.name }}!")),
        r#""Hi " + __as('string', ($json.name)) + "!""#
    );
    assert_eq!(
        b.js_value(&json!("plain {{ not an expression }}")),
        r#""plain {{ not an expression }}""#
    );
    assert_eq!(b.js_value(&json!(42)), "42");
}

#[test]
fn node_references_become_steps() {
    let export = chain(&[
        webhook(),
        node("First", "set", json!({})),
        node(
            "Code",
            "code",
            json!({"jsCode": "return [{ json: { a: $('First').item.json.x, b: $('Webhook').first().json.body } }];"}),
        ),
    ]);
    let out = import(&export, &Options::default()).unwrap();
    let code = out.definition["steps"][1]["code"].as_str().unwrap();
    assert!(
        code.contains("__node(steps.first.output).item.json.x"),
        "{code}"
    );
    assert!(code.contains("__node(trigger).first().json.body"), "{code}");
}

#[test]
fn what_has_no_mapping_is_reported_by_node() {
    let mut export = chain(&[
        webhook(),
        node("Sheets", "googleSheets", json!({})),
        node("Later", "set", json!({})),
    ]);
    export["nodes"]
        .as_array_mut()
        .unwrap()
        .push(node("Alone", "set", json!({})));
    export["nodes"].as_array_mut().unwrap().push(
        json!({"name": "Off", "type": "n8n-nodes-base.set", "disabled": true, "parameters": {}}),
    );
    let out = import(&export, &Options::default()).unwrap();
    let notes: Vec<(&str, &str)> = out
        .notes
        .iter()
        .map(|n| (n.node.as_str(), n.message.as_str()))
        .collect();
    assert!(
        notes.iter().any(|(n, m)| *n == "Sheets"
            && m.contains("n8n-nodes-base.googleSheets")
            && m.contains("no Weft mapping")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|(n, m)| *n == "Alone" && m.contains("not reachable")),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|(n, _)| *n == "Off"), "{notes:?}");
    // The unmapped node still stands in the graph, so what follows runs.
    assert_eq!(out.definition["steps"][1]["after"], json!(["sheets"]));
}

#[test]
fn schedules_become_cron_expressions() {
    for (rule, cron) in [
        (json!({"field": "hours", "hoursInterval": 6}), "0 */6 * * *"),
        (
            json!({"field": "minutes", "minutesInterval": 15}),
            "*/15 * * * *",
        ),
        (
            json!({"field": "days", "triggerAtHour": 9, "triggerAtMinute": 30}),
            "30 9 */1 * *",
        ),
        (
            json!({"field": "weeks", "triggerAtDay": [1, 5], "triggerAtHour": 8}),
            "0 8 * * 1,5",
        ),
        (
            json!({"field": "cronExpression", "expression": "5 4 * * *"}),
            "5 4 * * *",
        ),
    ] {
        assert_eq!(
            schedule_cron(&json!({"rule": {"interval": [rule]}})).as_deref(),
            Some(cron)
        );
    }
    assert_eq!(schedule_cron(&json!({"rule": {}})), None);
}

#[test]
fn exports_without_nodes_or_trigger_are_refused_by_name() {
    let e = import(&json!({"nodes": "x"}), &Options::default()).unwrap_err();
    assert!(e.0.contains("no `nodes` list"), "{e}");
    let e = import(&chain(&[node("A", "set", json!({}))]), &Options::default()).unwrap_err();
    assert!(e.0.contains("no trigger node"), "{e}");
    let e = import(&json!({"nodes": [{"type": "x"}]}), &Options::default()).unwrap_err();
    assert!(e.0.contains("/nodes/0: a node without a `name`"), "{e}");
}
