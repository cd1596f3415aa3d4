//! K1: a credential reaches only the step (or connector) it is bound to, never
//! another connector that declares a slot with the same name. Played end to
//! end: the bundled `llm` connector and the hostile fixture, which declares
//! `api-key` too, in one workflow; a loopback stand-in plays the LLM API and
//! records what each step sends.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use weft_model::{Validation, Workflow};
use weft_tests::{Inbox, StandIn, TestApp, step};
use weft_types::{Reason, Status};

const SECRET: &str = "sk-live-k1-2718281828459045";

/// The LLM API: a completion for the right key on its one route, 401 for a
/// wrong one; anything else (the thief's drop box) is recorded and 200.
async fn api() -> (StandIn, Inbox) {
    StandIn::scripted(|req| {
        if req.uri != "/v1/chat/completions" {
            return (StatusCode::OK, "{}").into_response();
        }
        if req.header("authorization") != Some(&format!("Bearer {SECRET}")) {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
        axum::Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }))
        .into_response()
    })
    .await
}

/// A server with `llm` and the hostile connector, and the tenant's `openai`
/// credential bound to the stand-in.
async fn app(api: &StandIn) -> TestApp {
    let app = TestApp::builder()
        .plugin("weft_plugin_llm")
        .plugin("fixture_hostile")
        .start()
        .await;
    app.post(
        "/v1/credentials",
        json!({"name": "openai", "secret": SECRET,
               "hosts": [format!("127.0.0.1:{}", api.port())],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    app
}

/// `steal` (the hostile connector asking for `api-key` on a request to the
/// same host) runs first, then `chat` (the real `llm` step).
fn workflow(api: &StandIn, grants: Value, chat_credentials: Value) -> Value {
    json!({
        "name": "summarise",
        "grants": {"hosts": ["127.0.0.1"], "credentials": grants},
        "steps": [
            {"id": "steal", "kind": "action", "connector": "hostile", "action": "http",
             "input": {"url": api.url("/steal"), "method": "POST", "body": "x", "credential": "api-key"}},
            {"id": "chat", "kind": "action", "connector": "llm", "action": "chat",
             "credentials": chat_credentials,
             "config": {"base_url": api.url("/v1"), "default_model": "gpt-test"},
             "input": {"messages": [{"role": "user", "content": "Say hello"}]}}
        ]
    })
}

/// Whether any request the stand-in received carries the secret, anywhere.
fn leaked(inbox: &Inbox, uri: &str) -> bool {
    inbox.all().iter().filter(|r| r.uri == uri).any(|r| {
        let headers = format!("{:?}", r.headers);
        headers.contains(SECRET) || r.uri.contains(SECRET) || r.text().contains(SECRET)
    })
}

#[tokio::test]
async fn k1_a_workflow_wide_grant_two_connectors_declare_is_refused_naming_the_slot_and_the_connectors()
 {
    let (api, _inbox) = api().await;
    let app = app(&api).await;
    // M1: `llm` binding the slot on its step (or by a connector grant) does
    // not leave the bare grant to the hostile connector.
    for (grants, chat) in [
        (json!({"api-key": "openai"}), json!({})),
        (json!({"api-key": "openai"}), json!({"api-key": "openai"})),
        (
            json!({"api-key": "openai", "llm/api-key": "openai"}),
            json!({}),
        ),
    ] {
        let def = workflow(&api, grants, chat);
        for path in ["/v1/workflows", "/v1/workflows/validate"] {
            let resp = app.post(path, def.clone()).await;
            assert_eq!(resp.code(), "invalid_workflow", "{path}: {:#}", resp.body);
            let body = resp.expect(400);
            let details = body["error"]["details"].as_array().unwrap();
            assert_eq!(details.len(), 1, "{details:#?}");
            assert_eq!(details[0]["path"], "/grants/credentials/api-key");
            let msg = details[0]["message"].as_str().unwrap();
            for needle in [
                "slot `api-key`",
                "`hostile`, `llm`",
                "`credentials: {api-key: openai}` on the step",
            ] {
                assert!(msg.contains(needle), "{needle} not in {msg}");
            }
        }
    }
}

#[tokio::test]
async fn k1_a_credential_bound_to_a_step_or_its_connector_reaches_only_that_step() {
    for (grants, chat) in [
        (json!({}), json!({"api-key": "openai"})),
        (json!({"llm/api-key": "openai"}), json!({})),
    ] {
        let (api, inbox) = api().await;
        let app = app(&api).await;
        let wf: Workflow = app
            .post("/v1/workflows", workflow(&api, grants.clone(), chat))
            .await
            .typed(201);
        let run = app
            .finished(&app.start_run(&wf.id, json!(null)).await)
            .await;
        assert_eq!(run.status, Status::Completed, "{grants}: {run:#?}");
        // The hostile step asked for `api-key` and got nothing to inject.
        let stolen = step(&run, "steal").output.clone().unwrap();
        assert_eq!(
            stolen["error"]["kind"], "credential-not-found",
            "{grants}: {stolen:#}"
        );
        assert!(!leaked(&inbox, "/steal"), "{grants}: the thief got the key");
        // The step it is bound to did get it.
        assert_eq!(step(&run, "chat").output.as_ref().unwrap()["content"], "hi");
        let chat = inbox
            .all()
            .into_iter()
            .find(|r| r.uri == "/v1/chat/completions")
            .unwrap();
        assert_eq!(
            chat.header("authorization"),
            Some(format!("Bearer {SECRET}").as_str())
        );
    }
}

#[tokio::test]
async fn k1_a_stored_ambiguous_grant_reaches_neither_connector() {
    // The second: M1, `llm` binds its own key on its step; the bare grant
    // still does not fall to the hostile connector.
    for chat in [json!({}), json!({"api-key": "openai"})] {
        let (api, inbox) = api().await;
        let app = app(&api).await;
        let wf: Workflow = app
            .post(
                "/v1/workflows",
                workflow(&api, json!({}), json!({"api-key": "openai"})),
            )
            .await
            .typed(201);
        // A version stored before the rule existed: written as it was, unvalidated.
        app.server
            .handle
            .store()
            .add_version(
                &weft_types::WorkflowVersion {
                    tenant_id: app.server.default_tenant.clone(),
                    workflow_id: wf.id.clone(),
                    version: 2,
                    definition: workflow(&api, json!({"api-key": "openai"}), chat.clone()),
                    created_at: weft_worker::now_ms(),
                },
                "summarise",
                weft_worker::now_ms(),
            )
            .await
            .unwrap();
        let run = app
            .finished(&app.start_run(&wf.id, json!(null)).await)
            .await;
        // The hostile component never ran with the grant: nothing reached the host.
        assert!(!leaked(&inbox, "/steal"), "the thief got the key: {run:#?}");
        assert_eq!(run.status, Status::Failed, "{run:#?}");
        assert_eq!(run.version, 2);
        let error = step(&run, "steal").error.clone().unwrap();
        assert_eq!(error.reason, Some(Reason::CredentialNotBound), "{error:#?}");
        for needle in ["`steal`", "ambiguous", "`hostile`, `llm`", "on the step"] {
            assert!(error.message.contains(needle), "{needle} not in {error:#?}");
        }
        assert!(inbox.is_empty(), "{chat}: {:?}", inbox.all());
    }
}

#[tokio::test]
async fn k1_an_unambiguous_workflow_wide_grant_still_works_with_a_warning() {
    let (api, inbox) = api().await;
    let app = app(&api).await;
    let mut def = workflow(&api, json!({"api-key": "openai"}), json!({}));
    // Only `llm` is left to declare `api-key`.
    def["steps"].as_array_mut().unwrap().remove(0);
    let v: Validation = app
        .post("/v1/workflows/validate", def.clone())
        .await
        .typed(200);
    assert_eq!(v.warnings.len(), 1, "{v:#?}");
    assert_eq!(v.warnings[0].path, "/grants/credentials/api-key");
    let msg = &v.warnings[0].message;
    assert!(
        msg.contains("only `llm` does today (steps: `chat`)") && msg.contains("\"llm/api-key\""),
        "{msg}"
    );
    let wf: Workflow = app.post("/v1/workflows", def).await.typed(201);
    let run = app
        .finished(&app.start_run(&wf.id, json!(null)).await)
        .await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        inbox.only().header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
}
