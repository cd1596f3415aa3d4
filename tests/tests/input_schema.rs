//! A workflow's `input_schema`, end to end: every start with a body is
//! checked before the run exists (by hand, test runs, webhooks, dedupe,
//! sub-workflows), a refusal is 422 `invalid_input` naming the field and
//! stores nothing; the new fields round-trip through the API in JSON and
//! YAML; a broken schema is refused at save with its path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_model::Run;
use weft_tests::{TestApp, step};

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["order_id"],
        "properties": {
            "order_id": {"type": "string", "description": "the order's id, like ord_123"},
            "amount": {"type": "number", "minimum": 0}
        }
    })
}

/// A refund lookup: exposed over MCP, with an input and an output schema.
fn lookup() -> Value {
    json!({
        "name": "refund lookup",
        "input_schema": schema(),
        "mcp": {"expose": true, "name": "lookup_refund", "description": "Looks up a refund."},
        "steps": [{
            "id": "answer", "kind": "respond",
            "output_schema": {"type": "object", "properties": {"order": {"type": "string"}}},
            "body": {"order": "{{ trigger.body.order_id }}"}
        }]
    })
}

async fn runs_of(app: &TestApp, workflow_id: &str) -> usize {
    app.get(&format!("/v1/runs?workflow_id={workflow_id}&limit=100"))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

/// A 422 `invalid_input` whose message names `path` and whose details hold it.
#[track_caller]
fn refused(resp: weft_tests::Resp, path: &str, message: &str) {
    let body = resp.clone().expect(422);
    assert_eq!(resp.code(), "invalid_input", "{body}");
    let text = body["error"]["message"].as_str().unwrap();
    let field = if path.is_empty() { "the body" } else { path };
    assert!(
        text.starts_with(&format!(
            "the input does not match the workflow's input_schema: {field} {message}"
        )),
        "{text}"
    );
    assert_eq!(
        body["error"]["details"][0],
        json!({"path": path, "message": message})
    );
}

#[tokio::test]
async fn a_manual_start_is_checked_before_the_run_exists() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(lookup()).await;
    let runs = format!("/v1/workflows/{}/runs", wf.id);

    refused(
        app.post(&runs, json!({"input": {"amount": 3}})).await,
        "/order_id",
        "is required",
    );
    refused(
        app.post(&runs, json!({"input": {"order_id": 42}})).await,
        "/order_id",
        "must be a string, got 42",
    );
    refused(
        app.post(
            &format!("{runs}?wait_ms=5000"),
            json!({"input": {"order_id": "o", "amount": -1}}),
        )
        .await,
        "/amount",
        "must be at least 0, got -1",
    );
    // An empty body is `{"input": null}`: refused too, as the body itself.
    let none = app.call("POST", &runs, None).await.expect(422);
    assert_eq!(
        none["error"]["message"],
        "the input does not match the workflow's input_schema: the body must be an object, got null"
    );
    // A test run (`until`) is a start like any other.
    refused(
        app.post(&runs, json!({"input": {}, "until": "answer"}))
            .await,
        "/order_id",
        "is required",
    );
    assert_eq!(
        runs_of(&app, &wf.id).await,
        0,
        "no refused start left a run"
    );

    let run: Run = app
        .post(
            &format!("{runs}?wait_ms=10000"),
            json!({"input": {"order_id": "ord_7"}}),
        )
        .await
        .typed(201);
    let run = app.finished(&run.id).await;
    // A respond step's output is its answer: status, headers, body.
    assert_eq!(run.output.unwrap()["body"], json!({"order": "ord_7"}));
    assert_eq!(runs_of(&app, &wf.id).await, 1);
}

#[tokio::test]
async fn a_webhook_caller_gets_the_422_and_no_run_starts() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(lookup()).await;
    let hook = wf.webhook_url.clone().unwrap();

    refused(
        app.hook(&hook, &[], br#"{"order": "ord_1"}"#).await,
        "/order_id",
        "is required",
    );
    refused(
        app.hook(&hook, &[], b"").await,
        "",
        "must be an object, got null",
    );
    let answer = app.hook(&hook, &[], br#"{"order_id": "ord_1"}"#).await;
    assert_eq!(answer.expect(200), json!({"order": "ord_1"}));
    assert_eq!(
        runs_of(&app, &wf.id).await,
        1,
        "only the good call started a run"
    );

    // With dedupe, a refused delivery is not recorded: its id is still free.
    let mut def = lookup();
    def["triggers"] = json!({"webhook": {"dedupe": {"header": "Idempotency-Key"}}});
    let deduped = app.workflow(def).await;
    let hook = deduped.webhook_url.clone().unwrap();
    let id = [("idempotency-key", "d1".to_owned())];
    refused(
        app.hook(&hook, &id, b"{}").await,
        "/order_id",
        "is required",
    );
    let answer = app.hook(&hook, &id, br#"{"order_id": "ord_2"}"#).await;
    assert_eq!(answer.expect(200), json!({"order": "ord_2"}));
}

#[tokio::test]
async fn a_sub_workflow_step_fails_naming_the_field_its_child_refuses() {
    let app = TestApp::builder().memory().start().await;
    let child = app.workflow(lookup()).await;
    let parent = app
        .workflow(json!({"name": "parent", "steps": [
            {"id": "call", "kind": "subworkflow", "workflow": child.id,
             "input": {"body": {"order_id": "{{ trigger.body.id }}"}}}
        ]}))
        .await;

    let ok = app.start_run(&parent.id, json!({"id": "ord_3"})).await;
    let ok = app.finished(&ok).await;
    assert_eq!(ok.output.unwrap()["body"], json!({"order": "ord_3"}));

    let bad = app.start_run(&parent.id, json!({"id": 3})).await;
    let bad = app.finished(&bad).await;
    assert_eq!(bad.status.as_str(), "failed");
    let call = step(&bad, "call");
    let error = call.error.as_ref().unwrap();
    assert_eq!(
        (error.kind.as_str(), error.reason.map(|r| r.as_str())),
        ("invalid_input", Some("input_schema")),
        "{error:?}"
    );
    assert!(
        error.message.ends_with(
            "failed: the input does not match the workflow's input_schema: /order_id must be a string, got 3"
        ),
        "{}",
        error.message
    );
    // The child run is there to read, failed before any step of it ran.
    let child_run: Run = app
        .get(&format!(
            "/v1/runs/{}",
            call.child_run_id.as_deref().unwrap()
        ))
        .await
        .typed(200);
    assert_eq!(child_run.trigger.as_str(), "subworkflow");
    let why = child_run.error.as_ref().unwrap();
    assert_eq!(why.failure.reason.map(|r| r.as_str()), Some("input_schema"));
    let steps = child_run.steps.unwrap_or_default();
    assert!(
        steps.iter().all(|s| s.status.as_str() == "cancelled"),
        "nothing of the child ran: {steps:#?}"
    );

    // An input without `body` gets a hint about the shape.
    let flat = app
        .workflow(json!({"name": "flat", "steps": [
            {"id": "call", "kind": "subworkflow", "workflow": child.id,
             "input": {"order_id": "ord_4"}}
        ]}))
        .await;
    let run = app.start_run(&flat.id, json!(null)).await;
    let run = app.finished(&run).await;
    let message = &step(&run, "call").error.as_ref().unwrap().message;
    assert!(
        message.contains("put the body under `input.body`"),
        "{message}"
    );
}

#[tokio::test]
async fn the_contract_round_trips_and_a_broken_one_is_refused_at_save() {
    let app = TestApp::builder().memory().start().await;
    let wf = app.workflow(lookup()).await;
    let got = app
        .get(&format!("/v1/workflows/{}", wf.id))
        .await
        .expect(200);
    assert_eq!(got["definition"], lookup(), "JSON in, the same JSON out");

    let yaml = b"name: from yaml
input_schema:
  type: object
  required: [order_id]
  properties:
    order_id: {type: string}
mcp: {expose: true, description: Looks up a refund.}
steps:
  - id: answer
    kind: respond
    output_schema: {type: object}
    body: {ok: true}
"
    .to_vec();
    let made = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/yaml",
            Some(yaml),
        )
        .await
        .expect(201);
    let got = app
        .get(&format!("/v1/workflows/{}", made["id"].as_str().unwrap()))
        .await
        .expect(200);
    let def = &got["definition"];
    assert_eq!(def["input_schema"]["required"], json!(["order_id"]));
    assert_eq!(
        def["mcp"],
        json!({"expose": true, "description": "Looks up a refund."})
    );
    assert_eq!(def["steps"][0]["output_schema"], json!({"type": "object"}));

    let mut broken = lookup();
    broken["input_schema"] = json!({"type": "strnig"});
    broken["mcp"]["name"] = json!("look up");
    let resp = app.post("/v1/workflows", broken).await;
    let body = resp.clone().expect(400);
    assert_eq!(resp.code(), "invalid_workflow");
    let paths: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["/input_schema", "/input_schema/type", "/mcp/name"],
        "{body}"
    );

    // The runs list filters by the MCP trigger like any other.
    let none = app.get("/v1/runs?trigger=mcp").await.expect(200);
    assert_eq!(none["items"], json!([]));
}
