use super::*;
use crate::definition::from_value;
use serde_json::json;
use weft_types::{ActionSpec, Capabilities};

fn catalog() -> Vec<Manifest> {
    vec![Manifest {
        name: "http".into(),
        version: "1.0.0".into(),
        description: "HTTP".into(),
        actions: vec![ActionSpec {
            name: "request".into(),
            description: "send".into(),
            input_schema: json!({
                "type": "object", "required": ["url"], "additionalProperties": false,
                "properties": {"url": {"type": "string"}, "method": {"enum": ["GET", "POST"]}, "body": {}}
            }),
            output_schema: json!({}),
        }],
        capabilities: Capabilities::default(),
        config_schema: None,
        triggers: Vec::new(),
    }]
}

fn problems(def: Value) -> Vec<String> {
    let limits = DefinitionLimits::default();
    let def = from_value(def, &limits).unwrap();
    check(&def, &catalog(), &limits)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_webhook_example_is_valid() {
    let def = json!({
        "name": "webhook → transform → respond",
        "vars": {"greeting": "Hello"},
        "steps": [
            {"id": "fetch", "kind": "action", "connector": "http", "action": "request",
             "input": {"url": "{{ trigger.body.url }}", "method": "POST", "body": {"n": "{{ trigger.body.n }}"}},
             "retry": {"max_attempts": 7}},
            {"id": "check", "kind": "condition", "if": "steps.fetch.output.status == 200", "then": ["each"], "else": ["fail"]},
            {"id": "each", "kind": "loop", "items": "{{ steps.fetch.output.items }}", "parallelism": 4, "body": [
                {"id": "ping", "kind": "action", "connector": "http", "action": "request",
                 "input": {"url": "{{ item.url }}", "body": "{{ index }} {{ steps.fetch.output.id }}"}},
                {"id": "pause", "kind": "wait", "duration_ms": 10}
            ]},
            {"id": "fail", "kind": "respond", "status": 502, "body": {"error": "{{ steps.fetch.output }}"}},
            {"id": "join", "kind": "merge", "after": ["each", "fail"]},
            {"id": "reply", "kind": "respond", "headers": {"x-greeting": "{{ vars.greeting }}"},
             "body": "{{ steps.each.output ?? steps.check.output }}"}
        ]
    });
    assert_eq!(problems(def), Vec::<String>::new());
}

#[test]
fn every_problem_is_listed_with_its_path() {
    let def = json!({
        "name": " ",
        "timeout_ms": 0,
        "grants": {"credentials": {"bad slot": "x"}},
        "steps": [
            {"id": "a", "kind": "action", "connector": "http", "action": "request",
             "input": {"method": "PUT", "extra": 1, "url": "{{ steps.nope.output }}"}},
            {"id": "b", "kind": "action", "connector": "smtp", "action": "send"},
            {"id": "c", "kind": "action", "connector": "http", "action": "get", "after": ["a", "ghost"]},
            {"id": "d", "kind": "respond", "status": 42, "body": "{{ steps.e.output }} {{ item }} {{ vars.v }}"},
            {"id": "e", "kind": "condition", "if": "steps.a.output.ok ==", "then": ["c", "e"], "else": ["zz"]},
            {"id": "f", "kind": "wait"},
            {"id": "g", "kind": "merge", "retry": {"max_attempts": 0}},
            {"id": "h-1", "kind": "loop", "items": "trigger.items", "parallelism": 65, "body": []},
            {"id": "a", "kind": "wait", "until": "resume", "after": []}
        ]
    });
    assert_eq!(
        problems(def),
        vec![
            "/name: must be 1 to 200 characters",
            "/timeout_ms: must be positive",
            "/grants/credentials/bad slot: credential slot `bad slot` is not an identifier",
            "/steps/8/id: duplicate step id `a`",
            "/steps/2/after/1: unknown step `ghost`",
            "/steps/0/input/url: template reads `steps.nope`, but there is no step `nope`",
            "/steps/0/input/extra: property `extra` is not allowed",
            "/steps/0/input/method: must be one of \"GET\", \"POST\"",
            "/steps/1/connector: unknown connector `smtp`",
            "/steps/2/action: connector `http` has no action `get` (it has: request)",
            "/steps/3/status: must be an HTTP status (100 to 599)",
            "/steps/3/body: template reads `vars.v`, but `vars` has no `v`",
            "/steps/3/body: template reads `steps.e`, but step `e` is not upstream of `d`",
            "/steps/3/body: template reads `item`, which is only defined inside a loop body",
            "/steps/4/if: expected an expression, found end of expression at position 20 in `steps.a.output.ok ==`",
            "/steps/4/then/0: step `c` is a branch target of `e` but does not come after it",
            "/steps/4/then/1: step `e` cannot branch to itself",
            "/steps/4/else/0: unknown step `zz`",
            "/steps/5: a wait step needs `duration_ms` or `until: resume`",
            "/steps/6/retry/max_attempts: must be at least 1",
            "/steps/6: a merge step must list the steps it waits for in `after`",
            "/steps/7/id: step id `h-1` must be a letter or `_` followed by letters, digits or `_` (at most 64)",
            "/steps/7/parallelism: must be between 1 and 64",
            "/steps/7/body: a loop needs at least one step",
        ]
    );
}

#[test]
fn cycles_are_named_and_scopes_follow_loops() {
    let def = json!({
        "name": "w",
        "steps": [
            {"id": "a", "kind": "wait", "duration_ms": 1, "after": ["c"]},
            {"id": "b", "kind": "wait", "duration_ms": 1},
            {"id": "c", "kind": "wait", "duration_ms": 1},
            {"id": "l", "kind": "loop", "items": "{{ item }}", "after": [], "body": [
                {"id": "x", "kind": "respond", "body": "{{ steps.l.output }}{{ steps.y.output }}"},
                {"id": "y", "kind": "loop", "items": "item.children", "after": ["outside"], "body": [
                    {"id": "b", "kind": "respond", "body": "{{ index }}"}
                ]}
            ]},
            {"id": "z", "kind": "respond", "body": "{{ steps.x.output }}"}
        ]
    });
    assert_eq!(
        problems(def),
        vec![
            "/steps/0/after: cycle: a -> b -> c -> a",
            "/steps/3/items: template reads `item`, which is only defined inside a loop body",
            "/steps/3/body/1/after/0: unknown step `outside`",
            "/steps/3/body/0/body: template reads `steps.l`, but step `l` is not upstream of `x`",
            "/steps/3/body/0/body: template reads `steps.y`, but step `y` is not upstream of `x`",
            "/steps/3/body/1/body/0/id: duplicate step id `b` (also at /steps/1)",
            "/steps/4/body: template reads `steps.x`, but step `x` is not upstream of `z`",
        ]
    );
}

#[test]
fn problems_are_capped() {
    let steps: Vec<Value> = (0..300)
        .map(|i| json!({"id": format!("s{i}"), "kind": "respond", "body": "{{ steps.nope }}"}))
        .collect();
    let got = problems(json!({"name": "w", "steps": steps}));
    assert_eq!(got.len(), 101);
    assert_eq!(got[100], "... and 200 more problems");
}

/// Fuzz-ish: every truncation and many single-character mutations of a valid
/// definition either parse and validate or are refused, never panic.
#[test]
fn mutated_definitions_never_panic() {
    let text = r#"{"name":"w","vars":{"k":"é"},"steps":[{"id":"a","kind":"action","connector":"http","action":"request","input":{"url":"{{ trigger.body['u'] ?? vars.k }}"}},{"id":"l","kind":"loop","items":"{{ steps.a.output }}","body":[{"id":"b","kind":"respond","body":"x {{ item.n > 1 && !index }} é"}]}]}"#;
    let limits = DefinitionLimits::default();
    let run = |t: &str| {
        for format in [crate::Format::Json, crate::Format::Yaml] {
            if let Ok(def) = crate::definition::parse(t.as_bytes(), format, &limits) {
                let _ = check(&def, &catalog(), &limits);
            }
        }
    };
    run(text);
    for (i, _) in text.char_indices() {
        run(&text[..i]);
        for c in ['{', '}', '"', '[', ']', '\'', '\\', '!', 'é', ' '] {
            let mut t = text.to_string();
            t.replace_range(
                i..i + text[i..].chars().next().map_or(1, char::len_utf8),
                &c.to_string(),
            );
            run(&t);
        }
    }
}

#[test]
fn the_documented_example_is_valid() {
    let doc = include_str!("../../../../docs/WORKFLOWS.md");
    let start = doc.find("```yaml\n").map(|i| i + 8).unwrap();
    let yaml = &doc[start..start + doc[start..].find("```").unwrap()];
    let limits = DefinitionLimits::default();
    let def = crate::definition::parse(yaml.as_bytes(), crate::Format::Yaml, &limits).unwrap();
    let transform = Manifest {
        name: "transform".into(),
        version: "0.1.0".into(),
        description: "jq".into(),
        actions: vec![ActionSpec {
            name: "jq".into(),
            description: "run a filter".into(),
            input_schema: json!({"type": "object", "additionalProperties": false, "required": ["filter"],
                "properties": {"filter": {"type": "string"}, "data": {}, "vars": {"type": "object"}}}),
            output_schema: json!({}),
        }],
        capabilities: Capabilities::default(),
        config_schema: None,
        triggers: Vec::new(),
    };
    validate(&def, &vec![transform], &limits).unwrap();
    let ctx = json!({"trigger": {"body": {}}, "vars": def.vars, "steps": {"names": {"output": {"result": ["Ada"]}}}});
    let weft_types::StepKind::Respond(r) = &def.steps[1].kind else {
        panic!("not respond")
    };
    assert_eq!(
        crate::render(&r.body, &ctx).unwrap(),
        json!({"message": "Hello, 1 people", "names": ["Ada"]})
    );
}

#[test]
fn a_thousand_step_chain_validates() {
    let steps: Vec<Value> = (0..1000)
        .map(|i| json!({"id": format!("s{i}"), "kind": "respond", "body": format!("{{{{ steps.s{}.output }}}}", i.max(1) - 1)}))
        .collect();
    let got = problems(json!({"name": "w", "steps": steps}));
    assert_eq!(
        got,
        vec!["/steps/0/body: template reads `steps.s0`, but step `s0` is not upstream of `s0`"]
    );
}

#[test]
fn triggers_are_checked() {
    let with = |triggers: Value| {
        problems(json!({
            "name": "t",
            "triggers": triggers,
            "steps": [{"id": "a", "kind": "wait", "duration_ms": 1}]
        }))
    };
    let ok = json!({
        "webhook": {"mode": "sync", "timeout_ms": 300000},
        "schedule": {"cron": "0 30 9 * * MON-FRI", "timezone": "Europe/Berlin", "missed": "once"}
    });
    assert_eq!(with(ok), Vec::<String>::new());
    assert_eq!(
        with(json!({"schedule": {"cron": "@hourly"}})),
        Vec::<String>::new()
    );
    assert_eq!(
        with(json!({
            "webhook": {"timeout_ms": 0},
            "schedule": {"cron": "0 0 30 2 *", "timezone": "Mars/Olympus"}
        })),
        vec![
            "/triggers/webhook/timeout_ms: must be between 1 and 300000",
            "/triggers/schedule/cron: cron expression never fires: day-of-month `30` does not occur in month `2`",
            "/triggers/schedule/timezone: unknown time zone `Mars/Olympus`",
        ]
    );
    assert_eq!(
        with(json!({
            "webhook": {"mode": "async", "timeout_ms": 300001},
            "schedule": {"cron": "*/0 * * * *", "timezone": "UTC"}
        })),
        vec![
            "/triggers/webhook/timeout_ms: must be between 1 and 300000",
            "/triggers/schedule/cron: minute field `*/0`: step 0 is not between 1 and 59",
        ]
    );
    let long = "1,".repeat(5000);
    assert_eq!(
        with(json!({"schedule": {"cron": long, "timezone": "America/New_York"}})),
        vec!["/triggers/schedule/cron: cron expression is longer than 256 bytes"]
    );
}

#[test]
fn a_respond_step_cannot_set_the_servers_own_headers() {
    let def = json!({"name": "h", "steps": [{"id": "r", "kind": "respond", "headers": {
        "Set-Cookie": "a=b",
        "Clear-Site-Data": "\"cookies\", \"storage\"",
        "service-worker-allowed": "/",
        "x-custom": "fine",
        "location": "/elsewhere"
    }}]});
    let found = problems(def);
    for name in ["Set-Cookie", "Clear-Site-Data", "service-worker-allowed"] {
        assert!(
            found
                .iter()
                .any(|p| p.contains(&format!("`{name}` is the server's own header"))),
            "{name}: {found:?}"
        );
    }
    assert_eq!(found.len(), 3, "{found:?}");
}
