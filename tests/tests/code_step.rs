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

/// A stand-in that answers with the `authorization` header it got (a server
/// that reflects it: the host's scrubber must keep it from the script).
async fn reflecting() -> (StandIn, weft_tests::Inbox) {
    StandIn::scripted(|r| {
        let auth = r.header("authorization").unwrap_or_default().to_owned();
        (
            [("content-type", "application/json")],
            json!({"you_sent": auth, "path": r.uri}).to_string(),
        )
            .into_response()
    })
    .await
}

const SECRET: &str = "ghp_s3cret-token-4711";

async fn store_credential(app: &TestApp, name: &str, hosts: &[&str]) {
    app.post(
        "/v1/credentials",
        json!({"name": name, "secret": SECRET, "hosts": hosts, "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn a_bound_credential_is_injected_by_the_host_and_the_script_never_sees_it() {
    let app = app().await;
    store_credential(&app, "my-gh-token", &["127.0.0.1"]).await;
    let (server, inbox) = reflecting().await;
    // Everything the script can reach, stringified: its names, the
    // responses (a server that reflects the header), the globals.
    let code = format!(
        "const sent = http.send({{ url: '{a}', credential: 'github' }});\n\
         const res = await fetch('{b}', {{ credential: 'github', headers: {{ 'x-n': '2' }} }});\n\
         const text = await res.text();\n\
         const names = Object.getOwnPropertyNames(globalThis);\n\
         const all = JSON.stringify({{ sent, status: res.status, headers: res.headers, text, items, \
         trigger, steps, vars, names, http: Object.keys(http) }});\n\
         console.log(all);\n\
         return [{{ all, ok: res.ok, reflected: sent.json.you_sent }}];",
        a = server.url("/one"),
        b = server.url("/two"),
    );
    let def = one_step(
        "inject",
        &code,
        json!({"hosts": ["127.0.0.1"], "credentials": {"github": "my-gh-token"}}),
    );
    let run = run_once(&app, def, json!([{"n": 1}])).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    // The stand-in saw the header on both requests.
    let seen = inbox.all();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {SECRET}").as_str()),
            "{}",
            r.uri
        );
    }
    assert_eq!(seen[1].header("x-n"), Some("2"));
    // The script saw a scrubbed reflection, never the secret.
    let out = step(&run, "script").output.clone().unwrap();
    assert_eq!(out[0]["ok"], true);
    let reflected = out[0]["reflected"].as_str().unwrap();
    assert!(reflected.starts_with("Bearer "), "{reflected}");
    let all = out[0]["all"].as_str().unwrap();
    assert!(all.contains("\"status\":200"), "{all}");
    let whole = serde_json::to_string(&run).unwrap();
    assert!(!whole.contains(SECRET), "the run holds the secret: {whole}");
    assert!(!whole.contains("s3cret"), "{whole}");
}

#[tokio::test]
async fn a_credential_name_the_step_does_not_bind_is_a_clear_error() {
    let app = app().await;
    store_credential(&app, "my-gh-token", &["127.0.0.1"]).await;
    let (server, inbox) = reflecting().await;
    let code = format!(
        "const r = await fetch('{}', {{ credential: 'gitlab' }});\nreturn [r.status];",
        server.url("/x")
    );
    let def = one_step(
        "unbound",
        &code,
        json!({"hosts": ["127.0.0.1"], "credentials": {"github": "my-gh-token"}}),
    );
    let run = run_once(&app, def, json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(
        f.message.contains(
            "no credential `gitlab` is bound to this step (bind one with \
             `credentials: {gitlab: <stored credential>}` on the code step)"
        ),
        "{}",
        f.message
    );
    assert!(f.message.contains("line 1"), "{}", f.message);
    assert_eq!(inbox.len(), 0, "nothing was sent");

    // A name bound to a credential the tenant does not have.
    let def = one_step(
        "missing",
        "return [];",
        json!({"hosts": ["127.0.0.1"], "credentials": {"github": "nope"}}),
    );
    let run = run_once(&app, def, json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::MissingCredential), "{f:?}");
    assert!(f.message.contains("`nope`"), "{}", f.message);
}

#[tokio::test]
async fn a_credential_is_not_sent_to_a_host_it_is_not_for() {
    let app = app().await;
    // The credential is for api.github.com; the step may reach 127.0.0.1.
    store_credential(&app, "gh-only", &["api.github.com"]).await;
    let (server, inbox) = reflecting().await;
    let code = format!(
        "const r = http.send({{ url: '{}', credential: 'github' }});\nreturn [r.status];",
        server.url("/x")
    );
    let def = one_step(
        "elsewhere",
        &code,
        json!({"hosts": ["127.0.0.1"], "credentials": {"github": "gh-only"}}),
    );
    let run = run_once(&app, def, json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(
        f.message
            .contains("credential `github` is not bound to host `127.0.0.1:"),
        "{}",
        f.message
    );
    assert!(f.message.contains("step's `hosts`"), "{}", f.message);
    assert_eq!(inbox.len(), 0, "nothing was sent");
    assert!(!serde_json::to_string(&run).unwrap().contains(SECRET));

    // The credential covers the host, the step does not grant it: the
    // egress policy refuses first.
    store_credential(&app, "loopback", &["127.0.0.1"]).await;
    let def = one_step(
        "ungranted",
        &code,
        json!({"hosts": ["example.com"], "credentials": {"github": "loopback"}}),
    );
    let run = run_once(&app, def, json!([])).await;
    let f = failure(&run);
    assert!(f.message.contains("egress denied"), "{}", f.message);
    assert_eq!(inbox.len(), 0, "nothing was sent");
}

#[tokio::test]
async fn credentials_without_hosts_or_with_bad_names_are_refused_at_save() {
    let app = app().await;
    let def = one_step(
        "nohosts",
        "return [];",
        json!({"credentials": {"github": "my-gh-token", "Bad Name": "x"}}),
    );
    let r = app.post("/v1/workflows", def).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    let paths: Vec<&str> = details
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["/steps/0/credentials/Bad Name", "/steps/0/credentials"],
        "{}",
        r.body
    );
    assert!(
        details[1]["message"]
            .as_str()
            .unwrap()
            .contains("sent only to its `hosts`, and it grants none"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn await_and_fetch_work_at_the_top_level() {
    let app = app().await;
    let (server, inbox) = StandIn::scripted(|r| {
        (
            [("content-type", "application/json")],
            json!({"path": r.uri, "body": String::from_utf8_lossy(&r.body)}).to_string(),
        )
            .into_response()
    })
    .await;
    let code = format!(
        "async function get(path) {{\n\
         \x20 const r = await fetch('{base}' + path, {{ method: 'post', body: JSON.stringify({{ p: path }}), \
         headers: {{ 'content-type': 'application/json' }} }});\n\
         \x20 if (!r.ok) throw new Error('status ' + r.status);\n\
         \x20 return (await r.json()).path;\n\
         }}\n\
         const paths = await Promise.all(items.map(i => get('/item/' + i)));\n\
         const later = await new Promise(resolve => Promise.resolve(7).then(resolve));\n\
         return paths.map(p => ({{ p, later }}));",
        base = server.url("")
    );
    let def = one_step("fetch", &code, json!({"hosts": ["127.0.0.1"]}));
    let run = run_once(&app, def, json!([1, 2])).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "script").output,
        Some(json!([{"p": "/item/1", "later": 7}, {"p": "/item/2", "later": 7}]))
    );
    let seen = inbox.all();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].json(), json!({"p": "/item/1"}));

    // A script that returns a promise without `await` gets it awaited.
    let run = run_once(
        &app,
        one_step(
            "promise",
            "return Promise.resolve(items.map(x => x + 1));",
            json!({}),
        ),
        json!([1, 2]),
    )
    .await;
    assert_eq!(step(&run, "script").output, Some(json!([2, 3])));
}

#[tokio::test]
async fn rejected_and_unsettled_promises_fail_as_script_errors() {
    let app = app().await;
    // Awaited: the rejection is the step's failure, with its line.
    let code = "const x = 1;\nawait Promise.resolve();\nthrow new Error('after await');";
    let run = run_once(&app, one_step("awaited", code, json!({})), json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(
        f.message.starts_with("script error at line 3, column"),
        "{}",
        f.message
    );
    assert!(f.message.contains("after await"), "{}", f.message);

    // Not awaited: still a failure, not a lost error.
    let code =
        "async function later() {\n  throw new Error('nobody waits');\n}\nlater();\nreturn [1];";
    let run = run_once(&app, one_step("unawaited", code, json!({})), json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(
        f.message
            .contains("a promise was rejected and nothing awaited it: Error: nobody waits"),
        "{}",
        f.message
    );
    assert!(f.message.contains("line 2"), "{}", f.message);

    // A rejection handled later in the script is not one.
    let code = "const p = Promise.reject(new Error('caught'));\n\
                const got = await p.catch(e => e.message);\nreturn [got];";
    let run = run_once(&app, one_step("handled", code, json!({})), json!([])).await;
    assert_eq!(step(&run, "script").output, Some(json!(["caught"])));

    // Never settles: named, not an empty output.
    let code = "await new Promise(() => {});\nreturn [1];";
    let run = run_once(&app, one_step("forever", code, json!({})), json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert!(f.message.contains("never finished"), "{}", f.message);
}

#[tokio::test]
async fn an_endless_async_loop_is_stopped_at_the_deadline() {
    let app = app().await;
    let code = "async function spin() {\n  while (true) { await null; }\n}\nawait spin();";
    let run = run_once(
        &app,
        one_step("spin-async", code, json!({"timeout_ms": 1500})),
        json!([]),
    )
    .await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::DeadlineExceeded), "{f:?}");
}

#[tokio::test]
async fn fetch_without_a_grant_is_an_egress_denial_the_script_can_catch() {
    let app = app().await;
    let (server, inbox) = reflecting().await;
    let url = server.url("/x");
    // Uncaught: the step fails with the denial, located.
    let code = format!("const r = await fetch('{url}');\nreturn [r.status];");
    let run = run_once(&app, one_step("fetch-denied", &code, json!({})), json!([])).await;
    let f = failure(&run);
    assert_eq!(f.reason, Some(Reason::ScriptError), "{f:?}");
    assert_eq!(f.kind, ErrorKind::Permanent);
    assert!(
        f.message.contains("http.send: egress denied: ")
            && f.message
                .contains("(a code step reaches only the hosts in its `hosts`)"),
        "{}",
        f.message
    );
    assert!(f.message.contains("line 1"), "{}", f.message);
    // Caught: the script decides (the promise rejects with an Error).
    let code = format!(
        "try {{ await fetch('{url}'); return ['sent']; }}\n\
         catch (e) {{ return [{{ denied: e.message.includes('egress denied'), name: e.name }}]; }}"
    );
    let run = run_once(&app, one_step("fetch-caught", &code, json!({})), json!([])).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        step(&run, "script").output,
        Some(json!([{"denied": true, "name": "Error"}]))
    );
    assert_eq!(inbox.len(), 0, "nothing reached the server");
}
