//! The `code` step end to end on `weft serve` (TestApp, SQLite): a script
//! runs in the bundled `code` connector (Boa in the real sandbox) on its
//! items, and its hostile cases fail with named reasons without touching
//! other runs: an endless loop (the deadline), a memory bomb (the memory
//! limit), the network without a grant (an egress denial), a thrown error
//! (`script_error` with line and column), a syntax error (refused at save).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::{Value, json};
use weft_model::Run;
use weft_tests::{StandIn, TestApp, step};
use weft_types::{ErrorKind, Reason, Status};

async fn app() -> TestApp {
    TestApp::builder().plugin("weft_plugin_code").start().await
}

/// A workflow of one code step (`code`) with `extra` fields on the step.
fn one_step(name: &str, code: &str, extra: Value) -> Value {
    let mut s = json!({"id": "script", "kind": "code", "code": code});
    for (k, v) in extra.as_object().unwrap() {
        s[k] = v.clone();
    }
    json!({"name": name, "steps": [s]})
}

async fn run_once(app: &TestApp, def: Value, body: Value) -> Run {
    let wf = app.workflow(def).await;
    let id = app.start_run(&wf.id, body).await;
    app.finished(&id).await
}

/// The failure of the step `script` of a failed run.
fn failure(run: &Run) -> weft_types::Failure {
    assert_eq!(run.status, Status::Failed, "{run:#?}");
    step(run, "script").error.clone().expect("the step failed")
}

#[tokio::test]
async fn a_webhook_runs_a_script_on_its_items_and_responds() {
    let app = app().await;
    let def = json!({
        "name": "code-e2e",
        "vars": {"currency": "EUR"},
        "steps": [
            {"id": "orders", "kind": "code",
             "code": "console.log('got', items.length, 'orders');\n\
                      return items.filter(o => o.paid).map((o, i) => ({\n  id: o.id,\n  \
                      total: o.qty * o.price,\n  currency: vars.currency,\n  rank: i + 1,\n}));"},
            {"id": "summary", "kind": "code", "items": "steps.orders.output",
             "code": "const sum = items.reduce((a, o) => a + o.total, 0);\n\
                      console.warn('first is', steps.orders.output[0].id);\n\
                      return { count: items.length, sum, from: trigger.body.length };"},
            {"id": "reply", "kind": "respond", "status": 200,
             "body": {"orders": "{{ steps.orders.output }}", "summary": "{{ steps.summary.output[0] }}"}}
        ]
    });
    let wf = app.workflow(def).await;
    let body = json!([
        {"id": "a", "paid": true, "qty": 2, "price": 5},
        {"id": "b", "paid": false, "qty": 1, "price": 99},
        {"id": "c", "paid": true, "qty": 1, "price": 7.5}
    ]);
    let resp = app.call_as("", "POST", wf.hook_url(), Some(body)).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body,
        json!({
            "orders": [
                {"id": "a", "total": 10, "currency": "EUR", "rank": 1},
                {"id": "c", "total": 7.5, "currency": "EUR", "rank": 2}
            ],
            "summary": {"count": 2, "sum": 17.5, "from": 3}
        })
    );
    // console.* went to the steps' logs.
    let runs = app
        .get(&format!("/v1/runs?workflow_id={}", wf.id))
        .await
        .expect(200);
    let run: Run = app
        .get(&format!(
            "/v1/runs/{}",
            runs["items"][0]["id"].as_str().unwrap()
        ))
        .await
        .typed(200);
    let logs = &step(&run, "orders").attempts[0].logs;
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert_eq!(logs[0].message, "got 3 orders");
    let logs = &step(&run, "summary").attempts[0].logs;
    assert_eq!(logs[0].message, "first is a");
    assert_eq!(logs[0].level, weft_types::log::Level::Warn);
}

#[tokio::test]
async fn a_code_step_in_a_loop_sees_its_item_and_index() {
    let app = app().await;
    let def = json!({
        "name": "code-loop",
        "steps": [
            {"id": "each", "kind": "loop", "items": "trigger.body.words", "body": [
                {"id": "shout", "kind": "code", "items": "item",
                 "code": "return { word: item.toUpperCase(), index, seen: items.length };"}
            ]}
        ]
    });
    let run = run_once(&app, def, json!({"words": ["ab", "cd"]})).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "each").output,
        Some(json!([
            [{"word": "AB", "index": 0, "seen": 1}],
            [{"word": "CD", "index": 1, "seen": 1}]
        ]))
    );
}

#[tokio::test]
async fn a_thrown_error_is_a_script_error_with_its_line_and_column() {
    let app = app().await;
    let code = "const x = items.length;\nif (x > 0) {\n    throw new Error('no items wanted');\n}\nreturn [];";
    let run = run_once(&app, one_step("throws", code, json!({})), json!([1])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(f.message.contains("no items wanted"), "{}", f.message);
    assert!(
        f.message.contains("line 3, column"),
        "the line of the throw: {}",
        f.message
    );
    // A type error inside the engine is located too.
    let code = "return [\n  items[0].missing.field\n];";
    let run = run_once(&app, one_step("typeerror", code, json!({})), json!([{}])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(f.message.contains("line 2"), "{}", f.message);
    assert!(f.message.contains("TypeError"), "{}", f.message);
}

#[tokio::test]
async fn a_syntax_error_is_refused_when_the_workflow_is_saved() {
    let app = app().await;
    let code = "const a = 1;\nreturn items.map(x => x +);";
    let r = app
        .post("/v1/workflows", one_step("syntax", code, json!({})))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_workflow"),
        "{}",
        r.body
    );
    let problem = &r.body["error"]["details"][0];
    assert_eq!(problem["path"], "/steps/0/code", "{}", r.body);
    let message = problem["message"].as_str().unwrap();
    assert!(
        message.starts_with("syntax error at line 2, column "),
        "{message}"
    );
    // The same through the validate route, and inside a loop body.
    let def = json!({"name": "syntax-loop", "steps": [
        {"id": "each", "kind": "loop", "items": "trigger.body", "body": [
            {"id": "inner", "kind": "code", "code": "return {"}
        ]}
    ]});
    let r = app.post("/v1/workflows/validate", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let problem = &r.body["error"]["details"][0];
    assert_eq!(problem["path"], "/steps/0/body/0/code", "{}", r.body);
    // An unclosed brace is reported at the script's end, not past it.
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .starts_with("syntax error at line 1, column 9: SyntaxError: "),
        "{problem}"
    );
}

#[tokio::test]
async fn another_language_is_refused_by_name() {
    let app = app().await;
    let def = one_step("py", "return items", json!({"language": "python"}));
    let r = app.post("/v1/workflows", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let problem = &r.body["error"]["details"][0];
    assert_eq!(problem["path"], "/steps/0/language");
    assert!(
        problem["message"].as_str().unwrap().contains("`python`"),
        "{problem}"
    );
}

#[tokio::test]
async fn an_endless_loop_is_stopped_at_the_deadline_and_others_run_on() {
    let app = app().await;
    let spin = one_step(
        "spin",
        "let n = 0;\nwhile (true) { n++; }",
        json!({"timeout_ms": 1500}),
    );
    let wf = app.workflow(spin).await;
    let spinning = app.start_run(&wf.id, json!([])).await;
    // A second workflow's run completes meanwhile.
    let ok = one_step("fine", "return items.map(x => x * 2)", json!({}));
    let run = run_once(&app, ok, json!([1, 2])).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(step(&run, "script").output, Some(json!([2, 4])));

    let run = app.finished(&spinning).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::DeadlineExceeded), "{f:?}");
    assert_eq!(f.kind, ErrorKind::LimitExceeded);
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_at_the_memory_limit() {
    let app = app().await;
    for (name, code) in [
        (
            "strings",
            "let s = 'x';\nconst keep = [];\nwhile (true) { s = s + s; keep.push(s); }",
        ),
        (
            "arrays",
            "const keep = [];\nwhile (true) { keep.push(new Array(1e6).fill(1.5)); }",
        ),
    ] {
        let run = run_once(&app, one_step(name, code, json!({})), json!([])).await;
        let f = failure(&run);
        assert_eq!(f.reason, Some(Reason::MemoryLimit), "{name}: {f:?}");
    }
    // The connector still serves the next step.
    let ok = one_step("after", "return [items.length]", json!({}));
    let run = run_once(&app, ok, json!([1, 2, 3])).await;
    assert_eq!(step(&run, "script").output, Some(json!([3])));
}

#[tokio::test]
async fn the_network_needs_a_grant_on_the_step() {
    let app = app().await;
    let (server, inbox) = StandIn::scripted(|_| {
        (
            [("content-type", "application/json")],
            r#"{"pong":true}"#.to_owned(),
        )
            .into_response()
    })
    .await;
    let code = format!(
        "const r = http.send({{ method: 'POST', url: '{}', body: {{ n: items.length }} }});\n\
         return [{{ status: r.status, pong: r.json.pong }}];",
        server.url("/ping")
    );
    let run = run_once(&app, one_step("denied", &code, json!({})), json!([1])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(f.message.contains("egress denied"), "{}", f.message);
    assert!(f.message.contains("line 1"), "{}", f.message);
    assert_eq!(inbox.len(), 0, "nothing reached the server");

    let granted = one_step("granted", &code, json!({"hosts": ["127.0.0.1"]}));
    let run = run_once(&app, granted, json!([1, 2])).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "script").output,
        Some(json!([{"status": 200, "pong": true}]))
    );
    let seen = inbox.only();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.json(), json!({"n": 2}));
}

#[tokio::test]
async fn a_script_reading_a_step_that_is_not_upstream_is_refused() {
    let app = app().await;
    let def = json!({"name": "not-upstream", "steps": [
        {"id": "first", "kind": "code", "code": "return steps.later.output;"},
        {"id": "later", "kind": "code", "code": "return steps['ghost'];"}
    ]});
    let r = app.post("/v1/workflows", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    let messages: Vec<(&str, &str)> = details
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            (
                "/steps/0/code",
                "the script reads `steps.later`, but step `later` is not upstream of `first`"
            ),
            (
                "/steps/1/code",
                "the script reads `steps.ghost`, but there is no step `ghost`"
            ),
        ]
    );
}

#[tokio::test]
async fn endless_recursion_is_stopped_by_the_interpreter_not_a_crash() {
    let app = app().await;
    let code = "function down(n) { return down(n + 1) + 1; }\nreturn [down(0)];";
    let run = run_once(&app, one_step("recurse", code, json!({})), json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(
        f.message.starts_with(
            "script error at line 1, column 31: RuntimeLimitError: reached the maximum number \
             of recursive calls"
        ),
        "{}",
        f.message
    );
    // The stack is cut to its innermost frames.
    assert!(f.message.lines().count() <= 10, "{}", f.message);
    assert!(f.message.ends_with("more"), "{}", f.message);
}
