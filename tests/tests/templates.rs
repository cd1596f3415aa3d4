//! The starter templates (`registry/templates/`) against the real bundled
//! connectors: each parses, each example places into a definition that
//! validates against the manifests the built components describe, and one
//! runs end to end. A template whose placements are broken fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::{Json, Router, http::StatusCode, routing::get};
use serde_json::{Value, json};
use std::path::PathBuf;
use weft_model::Status;
use weft_registry::Template;
use weft_tests::{StandIn, TestApp, TestSandbox};
use weft_types::Manifest;

const STARTERS: [&str; 5] = [
    "approval-flow",
    "http-fan-out",
    "llm-webhook-summary",
    "nightly-report",
    "slack-alert-on-condition",
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../registry/templates")
}

fn raw(name: &str) -> Value {
    let bytes = std::fs::read(dir().join(format!("{name}.json"))).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn parse(doc: &Value) -> Template {
    Template::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

/// The manifests the four bundled components describe in the sandbox.
async fn bundled() -> Vec<Manifest> {
    let sandbox = TestSandbox::new().build();
    let mut out = Vec::new();
    for name in ["http", "llm", "slack", "transform"] {
        let plugin = sandbox.plugin(&format!("weft_plugin_{name}")).await;
        out.push(plugin.manifest().clone());
    }
    out
}

#[tokio::test]
async fn every_starter_template_checks_against_the_bundled_connectors() {
    let catalog = bundled().await;
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let expected: Vec<String> = STARTERS.iter().map(|n| format!("{n}.json")).collect();
    assert_eq!(names, expected);
    for name in STARTERS {
        let bytes = std::fs::read(dir().join(format!("{name}.json"))).unwrap();
        let t = Template::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.name, name, "the file is named after the template");
        assert!(t.examples.len() >= 2, "{name}: at least two examples");
        t.check(&catalog).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Every bundled connector it needs is there at a version in range.
        let has = |c: &str| {
            catalog
                .iter()
                .find(|m| m.name == c)
                .map(|m| m.version.clone())
        };
        assert_eq!(t.missing_connectors(has), vec![], "{name}");
        // Each placement changes the definition: no parameter is placed
        // where its example value is already written.
        for example in &t.examples {
            let def = t
                .instantiate(&Value::Object(example.parameters.clone()))
                .unwrap();
            for (param, value) in &example.parameters {
                for pointer in &t.placements[param] {
                    assert_eq!(def.pointer(pointer), Some(value), "{name}: {param}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_starter_with_a_broken_placement_fails_the_check() {
    let catalog = bundled().await;
    // A pointer that is not in the definition: refused at parse.
    let mut doc = raw("llm-webhook-summary");
    doc["placements"]["credential"] = json!(["/steps/0/credentials/api_key"]);
    let err = Template::parse(doc.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/placements/credential/0: `/steps/0/credentials/api_key` does not exist in the definition"
    );
    // A pointer that exists but where the value does not fit: the placed
    // definition no longer validates against the llm connector's schema.
    let mut doc = raw("llm-webhook-summary");
    doc["placements"]["host"] = json!(["/steps/0/input/temperature"]);
    let err = parse(&doc).check(&catalog).unwrap_err().to_string();
    assert!(
        err.starts_with("/definition/steps/0/input/temperature: expected number, found string (with the parameters of example 0"),
        "{err}"
    );
    // A step of a connector the template does not require.
    let mut doc = raw("slack-alert-on-condition");
    doc["requires"] = json!({"http": "^0.1"});
    let err = parse(&doc).check(&catalog).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "/definition/steps/1/connector: connector `slack` is used but not in /requires"
        ),
        "{err}"
    );
    // A parameter that lands in the wrong step: the condition is an
    // expression, a Slack channel is not.
    let mut doc = raw("slack-alert-on-condition");
    doc["placements"]["channel"] = json!(["/steps/0/if"]);
    doc["placements"]["condition"] = json!(["/steps/1/input/channel"]);
    let err = parse(&doc).check(&catalog).unwrap_err().to_string();
    assert!(err.contains("/definition/steps/0/if: "), "{err}");
}

/// `http-fan-out`, used with its parameters pointing at a stand-in, runs
/// and answers every URL's result, a failing one included.
#[tokio::test]
async fn http_fan_out_runs_and_collects_every_result() {
    let app = TestApp::builder().memory().start().await;
    let stand_in = StandIn::start(
        Router::new()
            .route("/a", get(|| async { Json(json!({"up": true})) }))
            .route("/b", get(|| async { (StatusCode::BAD_GATEWAY, "down") })),
    )
    .await;
    let t = parse(&raw("http-fan-out"));
    let urls = [stand_in.url("/a"), stand_in.url("/b"), stand_in.url("/a")];
    let def = t
        .instantiate(&json!({
            "urls": urls,
            "hosts": [format!("127.0.0.1:{}", stand_in.port())],
            "parallelism": 2,
        }))
        .unwrap();
    let wf = app.workflow(def).await;
    let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    let results = &run.response.as_ref().unwrap().body["results"];
    assert_eq!(
        results,
        &json!([
            {"url": urls[0], "status": 200, "ok": true, "body": {"up": true}, "error": null},
            {"url": urls[1], "status": 502, "ok": false, "body": "down", "error": null},
            {"url": urls[2], "status": 200, "ok": true, "body": {"up": true}, "error": null},
        ])
    );
    // Bad parameters are refused naming the parameter, before any workflow exists.
    let err = t
        .instantiate(&json!({"urls": ["ftp://x"], "hosts": []}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/urls/0: parameter `urls`: "), "{err}");
    assert!(err.contains("/hosts: parameter `hosts`: "), "{err}");
}
