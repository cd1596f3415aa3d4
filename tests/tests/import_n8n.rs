//! `weft import n8n` on real n8n exports (tests/fixtures/n8n, recorded by
//! scripts/n8n-fixtures with n8n 1.123): each imported workflow is saved on
//! `weft serve` (TestApp, SQLite), started as n8n's was, with the same input
//! and a stand-in answering as n8n's did, and must answer what n8n answered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use axum::{
    Json, Router,
    extract::Path,
    routing::{get, post},
};
use serde_json::{Value, json};
use weft_engine::import::n8n::{Options, import};
use weft_tests::{StandIn, TestApp};
use weft_types::Status;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/n8n")
}

fn read(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The order API record.mjs served to n8n, answering the same.
async fn stand_in() -> StandIn {
    StandIn::start(
        Router::new()
            .route(
                "/orders/{id}",
                get(|Path(id): Path<String>| async move {
                    Json(json!({"id": id, "status": "shipped", "items": [{"sku": "A1", "qty": 2}, {"sku": "B7", "qty": 1}]}))
                }),
            )
            // OpenAI's chat completions, answering the text n8n's stand-in
            // answered (https://platform.openai.com/docs/api-reference/chat/object).
            .route(
                "/v1/chat/completions",
                post(|Json(req): Json<Value>| async move {
                    Json(json!({
                        "id": "chatcmpl-fixture", "object": "chat.completion", "created": 1765000000,
                        "model": req["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "Summary: 118 characters of input."}}],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
                    }))
                }),
            )
            .route(
                "/items",
                get(|| async {
                    Json(json!([{"id": 1, "name": "alpha"}, {"id": 2, "name": "beta"}, {"id": 3, "name": "gamma"}]))
                }),
            ),
    )
    .await
}

/// The export `name`, pointed at `stand_in` instead of record.mjs's, imported.
fn imported(name: &str, stand_in: &StandIn, options: &Options) -> Value {
    let text = std::fs::read_to_string(fixtures().join(format!("exports/{name}.json"))).unwrap();
    let text = text.replace("127.0.0.1:5691", &format!("127.0.0.1:{}", stand_in.port()));
    let export: Value = serde_json::from_str(&text).unwrap();
    let out = import(&export, options).unwrap_or_else(|e| panic!("{name}: {e}"));
    out.definition
}

async fn app() -> TestApp {
    TestApp::builder()
        .plugin("weft_plugin_code")
        .plugin("weft_plugin_slack")
        .plugin("weft_plugin_llm")
        .start()
        .await
}

/// Imports, saves and runs one fixture; asserts n8n's answer.
async fn replay(app: &TestApp, stand_in: &StandIn, name: &str, options: &Options) {
    let expected = read(fixtures().join(format!("expected/{name}.json")));
    let def = imported(name, stand_in, options);
    let wf = app.workflow(def.clone()).await;
    match expected["trigger"].as_str().unwrap() {
        "webhook" => {
            let resp = app
                .call_as("", "POST", wf.hook_url(), Some(expected["input"].clone()))
                .await;
            assert_eq!(
                (resp.status, &resp.body),
                (
                    expected["status"].as_u64().unwrap() as u16,
                    &expected["output"]
                ),
                "{name}: n8n answered {}, the import {}; definition: {def:#}",
                expected["output"],
                resp.body
            );
        }
        _ => {
            let id = app.start_run(&wf.id, Value::Null).await;
            let run = app.finished(&id).await;
            assert_eq!(run.status, Status::Completed, "{name}: {run:#?}");
            assert_eq!(
                run.output.as_ref(),
                Some(&expected["output"]),
                "{name}: definition {def:#}"
            );
        }
    }
}

#[tokio::test]
async fn imported_webhook_workflows_answer_what_n8n_answered() {
    let app = app().await;
    let stand_in = stand_in().await;
    for name in [
        "webhook-set-respond",
        "webhook-if",
        "webhook-switch",
        "webhook-code",
        "webhook-code-per-item",
        "webhook-http",
        "webhook-merge",
        "webhook-loop",
        "webhook-wait",
    ] {
        replay(&app, &stand_in, name, &Options::default()).await;
    }
}

#[tokio::test]
async fn imported_manual_and_scheduled_workflows_end_with_n8n_items() {
    let app = app().await;
    let stand_in = stand_in().await;
    for name in ["manual-set-code", "schedule-http"] {
        replay(&app, &stand_in, name, &Options::default()).await;
    }
    // The schedule became a cron schedule.
    let def = imported("schedule-http", &stand_in, &Options::default());
    assert_eq!(def["triggers"]["schedule"]["cron"], "0 */6 * * *");
}

#[tokio::test]
async fn an_execute_workflow_node_calls_the_imported_sub_workflow() {
    let app = app().await;
    let stand_in = stand_in().await;
    let child_export = read(fixtures().join("exports/subworkflow-order-total.json"));
    let child = import(&child_export, &Options::default()).unwrap();
    let child = app.workflow(child.definition).await;
    let mut options = Options::default();
    options.workflows.insert(
        child_export["id"].as_str().unwrap().to_owned(),
        child.id.clone(),
    );
    replay(&app, &stand_in, "webhook-execute-workflow", &options).await;
    // Without the mapping, the report says what to do, and the step names it.
    let export = read(fixtures().join("exports/webhook-execute-workflow.json"));
    let out = import(&export, &Options::default()).unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.node == "Execute Workflow" && n.message.contains("import it first")),
        "{:#?}",
        out.notes
    );
}

#[tokio::test]
async fn an_openai_node_becomes_an_llm_step_with_the_responses_shape() {
    let app = app().await;
    let stand_in = stand_in().await;
    let expected = read(fixtures().join("expected/webhook-openai.json"));
    let mut def = imported("webhook-openai", &stand_in, &Options::default());
    // What the user does after the import: create the credential the report
    // names, bind it, and point the connector at the API (n8n kept the base
    // URL in its credential, which an export does not carry).
    let host = format!("127.0.0.1:{}", stand_in.port());
    app.post(
        "/v1/credentials",
        json!({"name": "openai", "secret": "sk-test", "hosts": [host], "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    def["grants"] = json!({"hosts": [host], "credentials": {"llm/api-key": "openai"}});
    for step in def["steps"].as_array_mut().unwrap() {
        if step["connector"] == "llm" {
            step["config"] = json!({"base_url": stand_in.url("/v1")});
        }
    }
    let wf = app.workflow(def).await;
    let resp = app
        .call_as("", "POST", wf.hook_url(), Some(expected["input"].clone()))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    // n8n's answer, but for the ids the Responses API made up.
    let mut want = expected["output"].clone();
    want["output"][0].as_object_mut().unwrap().remove("id");
    assert_eq!(resp.body, want);
}

#[tokio::test]
async fn what_cannot_be_run_here_is_imported_and_reported() {
    let app = app().await;
    // Slack: saved as a slack step whose credential is a slot to bind.
    let export = read(fixtures().join("exports/webhook-slack.json"));
    let out = import(&export, &Options::default()).unwrap();
    assert!(
        out.notes
            .iter()
            .any(|n| n.message.contains("slack/bot-token")),
        "{:#?}",
        out.notes
    );
    let steps = out.definition["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["connector"] == "slack" && s["action"] == "post-message")
    );
    app.workflow(out.definition).await;
    // Not an export at all.
    let err = import(&json!({"name": "x"}), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("no `nodes`"), "{err}");
}

#[tokio::test]
async fn the_api_imports_an_export_without_storing_it() {
    let app = app().await;
    let export = read(fixtures().join("exports/webhook-set-respond.json"));
    let out = app
        .post("/v1/workflows/import/n8n", json!({"export": export}))
        .await
        .expect(200);
    assert!(
        out["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["node"] == "Webhook" && n["message"].as_str().unwrap().contains("`greet`")),
        "{out:#}"
    );
    // Nothing was stored; the definition saves and answers as n8n did.
    let listed = app.get("/v1/workflows").await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "{listed:#}");
    let wf = app.workflow(out["definition"].clone()).await;
    let resp = app
        .call_as(
            "",
            "POST",
            wf.hook_url(),
            Some(json!({"name": "Ada", "plan": "pro"})),
        )
        .await;
    assert_eq!(
        resp.body,
        json!({"greeting": "Hello, Ada!", "plan": "PRO", "vip": true})
    );
    // Not an export: 400 naming why; an unknown field: named too.
    let bad = app
        .post("/v1/workflows/import/n8n", json!({"export": {"name": "x"}}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no `nodes` list"),
        "{}",
        bad.body
    );
    let bad = app
        .post(
            "/v1/workflows/import/n8n",
            json!({"export": export, "extra": 1}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("extra"),
        "{}",
        bad.body
    );
}
