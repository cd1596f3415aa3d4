//! Workflows through the API: create (JSON and YAML), validation problems by
//! path, versions, activation, deletion; the route table matches the router;
//! the OpenAPI document is snapshot-tested.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use weft_api::routes::ROUTES;
use weft_tests::TestApp;

#[tokio::test]
async fn workflows_are_versioned_activated_and_deleted() {
    let app = TestApp::builder().memory().start().await;
    let yaml = b"name: hello\nsteps:\n  - id: r\n    kind: respond\n    body: {hi: '{{ trigger.body }}'}\n".to_vec();
    let wf = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/yaml",
            Some(yaml),
        )
        .await
        .expect(201);
    let id = wf["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (wf["version"].as_u64(), wf["active"].as_bool()),
        (Some(1), Some(false))
    );
    assert!(wf["webhook_url"].as_str().unwrap().contains("/hooks/"));

    let v2 = json!({"name": "hello2", "steps": [{"id": "r", "kind": "respond", "body": "v2"}]});
    let updated = app
        .call("PUT", &format!("/v1/workflows/{id}"), Some(v2))
        .await
        .expect(200);
    assert_eq!(
        (updated["version"].as_u64(), updated["name"].as_str()),
        (Some(2), Some("hello2"))
    );
    let first = app
        .get(&format!("/v1/workflows/{id}/versions/1"))
        .await
        .expect(200);
    assert_eq!(
        first["definition"]["name"], "hello",
        "old versions stay readable"
    );

    let active = app
        .post(&format!("/v1/workflows/{id}/activate"), json!(null))
        .await
        .expect(200);
    assert_eq!(active["active"], true);
    let hook = wf["webhook_url"].as_str().unwrap();
    let answer = app
        .call_as("", "POST", hook, Some(json!(1)))
        .await
        .expect(200);
    assert_eq!(answer, "v2", "new runs use the current version");
    app.post(&format!("/v1/workflows/{id}/deactivate"), json!(null))
        .await
        .expect(200);
    assert_eq!(
        app.call_as("", "POST", hook, Some(json!(1))).await.status,
        404
    );

    let list = app.get("/v1/workflows?limit=1").await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    app.call("DELETE", &format!("/v1/workflows/{id}"), None)
        .await
        .expect(204);
    assert_eq!(app.get(&format!("/v1/workflows/{id}")).await.status, 404);
}

#[tokio::test]
async fn a_bad_definition_is_refused_with_every_problem_by_path() {
    let app = TestApp::builder().memory().start().await;
    let def = json!({"name": "bad", "steps": [
        {"id": "a", "kind": "action", "connector": "nope", "action": "x"},
        {"id": "b", "kind": "action", "connector": "transform", "action": "jq", "input": {"filter": 3}},
        {"id": "c", "kind": "respond", "body": "{{ steps.zz.output }}", "after": ["d"]},
        {"id": "d", "kind": "merge", "after": ["c"]},
        {"id": "e", "kind": "subworkflow", "workflow": "wf_missing"}
    ]});
    let r = app.post("/v1/workflows", def.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_workflow"),
        "{}",
        r.body
    );
    let paths: Vec<&str> = r.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    for want in [
        "/steps/0/connector",
        "/steps/1/input/filter",
        "/steps/4/workflow",
    ] {
        assert!(paths.contains(&want), "missing {want} in {paths:?}");
    }
    let text = r.body.to_string();
    assert!(text.contains("cycle"), "the cycle is named: {text}");
    let v = app.post("/v1/workflows/validate", def).await;
    assert_eq!(v.status, 400);
    let ok = app
        .post(
            "/v1/workflows/validate",
            json!({"name": "ok", "steps": [{"id": "r", "kind": "respond"}]}),
        )
        .await
        .expect(200);
    assert_eq!(ok["valid"], true);
    assert!(
        app.get("/v1/workflows").await.expect(200)["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn the_router_serves_exactly_the_route_table_and_documents_it() {
    let app = TestApp::builder().memory().start().await;
    for r in ROUTES {
        let path = r
            .path
            .replace("{version}", "1")
            .replace('{', "x")
            .replace('}', "");
        let got = app.call_as("", r.method, &path, None).await;
        let fallback = got.body["error"]["message"] == "route not found";
        let routed = if r.role.is_some() {
            got.status == 401
        } else {
            got.status != 405 && !fallback
        };
        assert!(
            routed,
            "{} {} is in the table but not served: {} {}",
            r.method, r.path, got.status, got.body
        );
    }
    let unknown = app.get("/v1/nope").await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let doc = app
        .call_as("", "GET", "/openapi.json", None)
        .await
        .expect(200);
    let n: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(n, ROUTES.len());
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn health_readiness_metrics_and_connectors() {
    let app = TestApp::builder().start().await;
    app.call_as("", "GET", "/healthz", None).await.expect(200);
    assert_eq!(
        app.call_as("", "GET", "/readyz", None).await.expect(200)["store"],
        "ok"
    );
    let metrics = app.call_as("", "GET", "/metrics", None).await.expect(200);
    let text = metrics.as_str().unwrap();
    assert!(
        text.contains("# TYPE weft_step_duration_seconds histogram"),
        "{text}"
    );
    let connectors = app.get("/v1/connectors").await.expect(200);
    let names: Vec<&str> = connectors["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["http", "transform"]);
    let jq = &connectors["items"][1]["actions"][0];
    assert_eq!(jq["name"], "jq");
    assert!(jq["input_schema"].is_object());
}
