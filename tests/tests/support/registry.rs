//! Shared by the registry tests: a publisher as its author drives it over
//! the API, and runs of a tenant's workflows.
#![allow(dead_code)]

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use weft_registry::sign::{SecretKey, generate, statement};
use weft_tests::TestApp;

/// A publisher as its author drives it: a tenant's key and a signing key.
pub struct Author<'a> {
    pub app: &'a TestApp,
    pub key: String,
    pub publisher: String,
    pub signing: SecretKey,
}

pub fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<'a> Author<'a> {
    /// A tenant with publisher `name` and one registered signing key.
    pub async fn new(app: &'a TestApp, name: &str) -> Self {
        let key = app.tenant(name).await;
        app.call_as(
            &key,
            "POST",
            "/v1/registry/publishers",
            Some(json!({"name": name})),
        )
        .await
        .expect(201);
        let (signing, public) = generate().unwrap();
        let added = app
            .call_as(
                &key,
                "POST",
                &format!("/v1/registry/publishers/{name}/keys"),
                Some(json!({"public_key": public})),
            )
            .await
            .expect(201);
        assert_eq!(added["key_id"], signing.key_id());
        Self {
            app,
            key,
            publisher: name.to_owned(),
            signing,
        }
    }

    /// Uploads `bytes`; the answer's status.
    pub async fn upload(&self, bytes: &[u8]) -> u16 {
        self.app
            .raw(
                &self.key,
                "PUT",
                &format!("/v1/registry/blobs/sha256:{}", sha(bytes)),
                "application/wasm",
                Some(bytes.to_vec()),
            )
            .await
            .status
    }

    /// Uploads and publishes `bytes` as `name@version`, signed over `signed`
    /// (the real digest unless a test forges it).
    pub async fn publish_signed(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
        signed: &str,
    ) -> weft_tests::Resp {
        self.upload(bytes).await;
        let sig = self
            .signing
            .sign(&statement(&self.publisher, name, version, signed));
        self.app
            .call_as(
                &self.key,
                "POST",
                &format!("/v1/registry/packages/{}/{name}/versions", self.publisher),
                Some(json!({
                    "version": version, "digest": format!("sha256:{}", sha(bytes)),
                    "license": "Apache-2.0", "readme": format!("# {name}\n\nGreets people politely."),
                    "keywords": ["greeting", "demo"], "key_id": self.signing.key_id(), "signature": sig
                })),
            )
            .await
    }

    pub async fn publish(&self, name: &str, version: &str, bytes: &[u8]) -> weft_tests::Resp {
        self.publish_signed(name, version, bytes, &sha(bytes)).await
    }
}

pub fn greeter_workflow(extra: Value) -> Value {
    let mut steps = vec![
        json!({"id": "hi", "kind": "action", "connector": "greeter", "action": "greet",
        "input": {"name": "{{ trigger.body.name }}"}}),
    ];
    if let Value::Array(more) = extra {
        steps.extend(more);
    }
    json!({"name": "greet", "steps": steps})
}

pub async fn run_as(app: &TestApp, key: &str, wf: &str, name: &str) -> weft_model::Run {
    let id = app
        .call_as(
            key,
            "POST",
            &format!("/v1/workflows/{wf}/runs"),
            Some(json!({"input": {"name": name}})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    until_as(app, key, &id, |r| r.status.is_terminal()).await
}

pub async fn until_as(
    app: &TestApp,
    key: &str,
    id: &str,
    pred: impl Fn(&weft_model::Run) -> bool,
) -> weft_model::Run {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let run: weft_model::Run = app
            .call_as(key, "GET", &format!("/v1/runs/{id}"), None)
            .await
            .typed(200);
        if pred(&run) {
            return run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run never got there: {run:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
