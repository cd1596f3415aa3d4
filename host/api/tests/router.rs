//! The router in-process (the fast tier): `weft_api::router(state)` driven with
//! `tower::ServiceExt::oneshot`, no socket, over the in-memory store and queue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;
use weft_api::{AppState, router};
use weft_model::{ErrorBody, Workflow};
use weft_worker::{Connectors, Handle, Parts};

/// A state over memory adapters, and the owner key of its bootstrap tenant.
async fn state() -> (AppState, String) {
    let keyring = weft_vault::Keyring::generate().unwrap();
    let queue = weft_queue::memory::Handle::start(weft_queue::memory::Options::default()).unwrap();
    let handle = Handle::new(Parts {
        store: Arc::new(weft_store::memory::Memory::new()),
        queue: Arc::new(queue),
        sandbox: weft_sandbox::Sandbox::new(weft_sandbox::Options::default()).unwrap(),
        connectors: Arc::new(Connectors::new()),
        keyring: Arc::new(keyring),
        options: weft_worker::Options::default(),
        slots: None,
        registry: None,
        blobs: None,
    });
    let app = weft_app::App::new(handle, Arc::new(weft_engine::DefinitionLimits::default()));
    let key = app.tenants().bootstrap().await.unwrap().owner_key.unwrap();
    (AppState::new(app, "http://weft.test"), key)
}

async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, String, Value) {
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, ct, body)
}

fn get(path: &str, key: Option<&str>) -> Request<Body> {
    let mut r = Request::get(path);
    if let Some(k) = key {
        r = r.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    r.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn without_a_key_the_admin_api_refuses_with_the_envelope() {
    let (state, _) = state().await;
    let (status, ct, body) = call(&state, get("/v1/workflows", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ct, "application/json");
    let e: ErrorBody = serde_json::from_value(body).unwrap();
    assert_eq!(e.error.code, "unauthenticated");
    let (status, _, _) = call(&state, get("/v1/workflows", Some("weft_nope"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_routes_and_ids_answer_the_not_found_envelope() {
    let (state, key) = state().await;
    let (status, _, body) = call(&state, get("/nope", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error": {"code": "not_found", "message": "route not found"}})
    );
    let (status, _, body) = call(&state, get("/v1/runs/run_1", Some(&key))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["message"], "run not found");
}

#[tokio::test]
async fn the_document_is_served_and_names_every_route() {
    let (state, _) = state().await;
    let (status, _, doc) = call(&state, get("/openapi.json", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc, weft_api::openapi::document());
    for r in weft_api::routes::ROUTES {
        assert!(
            doc["paths"][r.path][r.method.to_ascii_lowercase()].is_object(),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn a_workflow_is_created_from_yaml_and_read_back() {
    let (state, key) = state().await;
    let yaml = "name: hello\nsteps:\n  - id: answer\n    kind: respond\n    body: hi\n";
    let req = Request::post("/v1/workflows")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/yaml")
        .body(Body::from(yaml))
        .unwrap();
    let (status, _, body) = call(&state, req).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Workflow = serde_json::from_value(body).unwrap();
    assert_eq!(
        (created.name.as_str(), created.version, created.active),
        ("hello", 1, false)
    );
    assert!(created.hook_url().starts_with("http://weft.test/hooks/"));
    let path = format!("/v1/workflows/{}", created.id);
    let (status, _, body) = call(&state, get(&path, Some(&key))).await;
    assert_eq!(status, StatusCode::OK);
    let got: Workflow = serde_json::from_value(body).unwrap();
    assert_eq!(got.id, created.id);
    assert_eq!(got.definition.unwrap()["steps"][0]["id"], "answer");
}

#[tokio::test]
async fn a_malformed_query_value_is_refused_naming_it() {
    let (state, key) = state().await;
    for (path, param, value) in [
        ("/v1/runs?before=zzz", "before", "zzz"),
        (
            "/v1/runs?before=wf_0190a1b2c3d4e5f60718293a4b5c",
            "before",
            "wf_0190a1b2c3d4e5f60718293a4b5c",
        ),
        ("/v1/runs?limit=ten", "limit", "ten"),
        ("/v1/runs?status=done", "status", "done"),
        ("/v1/runs?colour=red", "colour", "red"),
        (
            "/v1/workflows?before=run_0190a1b2c3d4e5f60718293a4b5c",
            "before",
            "run_0190a1b2c3d4e5f60718293a4b5c",
        ),
        ("/v1/workflows?limit=-1", "limit", "-1"),
        ("/v1/audit?limit=x", "limit", "x"),
    ] {
        let (status, _, body) = call(&state, get(path, Some(&key))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(&format!("`{param}`")) && msg.contains(&format!("`{value}`")),
            "{path}: {msg}"
        );
    }
    let ok = "/v1/runs?before=run_0190a1b2c3d4e5f60718293a4b5c&limit=5&status=failed";
    let (status, _, body) = call(&state, get(ok, Some(&key))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref") {
                out.push(r);
            }
            o.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_routes_types_are_in_the_document_and_every_ref_resolves() {
    use weft_api::routes::{Content, ROUTES};
    let doc = weft_api::openapi::document();
    let mut g = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.to_ascii_lowercase()];
        let what = format!("{} {}", r.method, r.path);
        if let Some(body) = r.body {
            let want = (body.schema)(&mut g).to_value();
            for ct in body.content {
                assert_eq!(
                    op["requestBody"]["content"][ct]["schema"], want,
                    "{what}: body"
                );
            }
        }
        if let Some(query) = r.query {
            let schema = query(&mut g).to_value();
            for name in schema["properties"].as_object().unwrap().keys() {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == *name && p["in"] == "query"));
                assert!(declared, "{what}: query parameter `{name}` missing");
            }
        }
        for a in r.ok {
            let key = if a.status == 0 {
                "default".to_owned()
            } else {
                a.status.to_string()
            };
            let resp = &op["responses"][&key];
            assert!(resp.is_object(), "{what}: answer {key} missing");
            match a.content {
                Content::Json(schema) => assert_eq!(
                    resp["content"]["application/json"]["schema"],
                    schema(&mut g).to_value(),
                    "{what}: answer {key}"
                ),
                Content::Text => assert!(resp["content"]["text/plain"].is_object(), "{what}"),
                Content::Csv => assert!(resp["content"]["text/csv"].is_object(), "{what}"),
                Content::Any => assert!(resp["content"]["*/*"].is_object(), "{what}"),
                Content::Empty => assert!(resp.get("content").is_none(), "{what}: 204 has no body"),
            }
        }
        for status in r.errors() {
            let s = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
            assert_eq!(s["$ref"], "#/components/schemas/Error", "{what}: {status}");
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(
        all.len() > 40,
        "the document lost its schemas: {}",
        all.len()
    );
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
}

#[tokio::test]
async fn the_console_answers_gets_outside_the_api_and_nothing_else() {
    let (state, _) = state().await;
    let console = weft_console::Console::from_files([
        ("index.html", &b"<!doctype html><title>Weft</title>"[..]),
        ("assets/app-1.js", &b"1"[..]),
    ])
    .unwrap();
    let state = state.with_console(Arc::new(console));
    for path in ["/", "/workflows/wf_1", "/assets/app-1.js"] {
        let resp = router(state.clone())
            .oneshot(get(path, None))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert!(
            resp.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'"),
            "{path}"
        );
    }
    // The API's own prefixes keep the JSON envelope, and so does every
    // method but GET and HEAD.
    for req in [
        get("/v1/nothing", None),
        get("/hooks", None),
        get("/resume/x/y", None),
        Request::post("/").body(Body::empty()).unwrap(),
        Request::delete("/workflows").body(Body::empty()).unwrap(),
    ] {
        let what = format!("{} {}", req.method(), req.uri());
        let resp = router(state.clone()).oneshot(req).await.unwrap();
        assert_eq!(
            resp.headers()["x-content-type-options"],
            "nosniff",
            "{what}"
        );
        let (status, ct, body) = (
            resp.status(),
            resp.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_owned(),
            serde_json::from_slice::<Value>(&resp.into_body().collect().await.unwrap().to_bytes())
                .unwrap(),
        );
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
        assert!(ct.starts_with("application/json"), "{what}: {ct}");
        assert_eq!(body["error"]["code"], "not_found", "{what}");
    }
    // A missing hashed file is a plain 404, not the application.
    let (status, ct, _) = call(&state, get("/assets/gone-2.js", None)).await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::NOT_FOUND, "text/plain; charset=utf-8")
    );
}
