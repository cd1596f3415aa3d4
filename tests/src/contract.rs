//! The OpenAPI document as a checker of real answers: every answer a test gets
//! through [`crate::TestApp`] is matched to its documented operation and must
//! have a documented status, the documented content type and a body that
//! validates against the documented schema. The operations seen are recorded,
//! so a test can show that every documented route was exercised.

use jsonschema::Validator;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

/// The document, its operations, compiled schemas and what was seen.
struct Contract {
    doc: Value,
    /// (method, path template) of every documented operation.
    ops: Vec<(String, String)>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
    seen: Mutex<BTreeSet<(String, String, u16)>>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    let doc = weft_api::openapi::document();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            ops.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    Contract {
        doc,
        ops,
        validators: Mutex::new(HashMap::new()),
        seen: Mutex::new(BTreeSet::new()),
    }
});

/// Whether `path` (no query) fits `template` (`/v1/runs/{id}`).
fn fits(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// The documented operation `method path` answers to, if any.
pub fn operation(method: &str, path: &str) -> Option<(String, String)> {
    let path = path.split('?').next().unwrap_or_default();
    let candidates: Vec<&(String, String)> = CONTRACT
        .ops
        .iter()
        .filter(|(m, t)| m == method && fits(t, path))
        .collect();
    // A literal segment wins over a parameter (`/v1/workflows/validate`).
    candidates
        .into_iter()
        .min_by_key(|(_, t)| t.matches('{').count())
        .cloned()
}

fn validator(schema: &Value) -> Arc<Validator> {
    let key = schema.to_string();
    let mut cache = CONTRACT.validators.lock().unwrap();
    if let Some(v) = cache.get(&key) {
        return Arc::clone(v);
    }
    // Refs point into the document's components: give the schema a root
    // that carries them.
    let mut root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": CONTRACT.doc["components"].clone(),
    });
    for (k, v) in schema.as_object().into_iter().flatten() {
        root[k] = v.clone();
    }
    let v = Arc::new(
        jsonschema::validator_for(&root)
            .unwrap_or_else(|e| panic!("the document's schema {schema} does not compile: {e}")),
    );
    cache.insert(key, Arc::clone(&v));
    v
}

/// Checks one answer against the document.
///
/// # Errors
/// What does not match, naming the operation and the status: an undocumented
/// route or status, another content type, a body the schema refuses.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(), String> {
    let Some((m, template)) = operation(method, path) else {
        // Unknown routes answer the not-found envelope; anything else is an
        // answer the document does not describe.
        return if status == 404 {
            Ok(())
        } else {
            Err(format!(
                "{method} {path} answered {status} but is not in the document"
            ))
        };
    };
    let what = format!("{m} {template} answering {status}");
    let op = &CONTRACT.doc["paths"][&template][m.to_ascii_lowercase()];
    let resp = match &op["responses"][status.to_string()] {
        Value::Null => &op["responses"]["default"],
        r => r,
    };
    if resp.is_null() {
        return Err(format!("{what}: the status is not documented"));
    }
    CONTRACT
        .seen
        .lock()
        .unwrap()
        .insert((m.clone(), template.clone(), status));
    let Some(content) = resp.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{what}: documented without a body, answered {} bytes",
                body.len()
            ))
        };
    };
    let ct = content_type.unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if content.contains_key("*/*") {
        return Ok(());
    }
    if content.contains_key("text/plain") && media == "text/plain" {
        return Ok(());
    }
    if content.contains_key("text/csv") && media == "text/csv" {
        return Ok(());
    }
    let Some(schema) = content.get("application/json").map(|c| &c["schema"]) else {
        return Err(format!(
            "{what}: answered `{ct}`, documented {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if media != "application/json" {
        return Err(format!(
            "{what}: answered `{ct}`, documented application/json"
        ));
    }
    let instance: Value =
        serde_json::from_slice(body).map_err(|e| format!("{what}: the body is not JSON ({e})"))?;
    let errors: Vec<String> = validator(schema)
        .iter_errors(&instance)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: the body does not fit the documented schema:\n  {}\nbody: {instance}",
            errors.join("\n  ")
        ))
    }
}

/// Every documented operation (method, path template).
pub fn operations() -> Vec<(String, String)> {
    CONTRACT.ops.clone()
}

/// The (method, path template, status) answers checked so far in this process.
pub fn seen() -> BTreeSet<(String, String, u16)> {
    CONTRACT.seen.lock().unwrap().clone()
}

#[cfg(test)]
mod tests {
    use super::check;

    const JSON: Option<&str> = Some("application/json");

    /// Method, path, status, content type, body, and what the error must say.
    type Case = (
        &'static str,
        &'static str,
        u16,
        Option<&'static str>,
        &'static [u8],
        &'static str,
    );

    #[test]
    fn a_documented_answer_passes() {
        let page = br#"{"items": [], "next": "run_0190a1b2c3d4e5f60718293a4b5c"}"#;
        check("GET", "/v1/runs?limit=5", 200, JSON, page).unwrap();
        check("DELETE", "/v1/keys/key_1", 204, None, b"").unwrap();
        check(
            "GET",
            "/metrics",
            200,
            Some("text/plain; version=0.0.4"),
            b"x 1",
        )
        .unwrap();
        // Unknown routes answer 404 whatever they are.
        check("GET", "/nope", 404, JSON, b"{}").unwrap();
    }

    #[test]
    fn every_kind_of_misfit_is_named() {
        let cases: [Case; 6] = [
            (
                "GET",
                "/v1/runs/run_1",
                200,
                JSON,
                br#"{"id": 5}"#,
                "at `/id`",
            ),
            (
                "GET",
                "/v1/runs/run_1",
                418,
                JSON,
                b"{}",
                "status is not documented",
            ),
            (
                "GET",
                "/v1/runs",
                200,
                Some("text/html"),
                b"<p>",
                "documented application/json",
            ),
            (
                "DELETE",
                "/v1/keys/key_1",
                204,
                None,
                b"{}",
                "without a body",
            ),
            ("GET", "/v2/else", 200, JSON, b"{}", "not in the document"),
            (
                "GET",
                "/v1/runs",
                401,
                JSON,
                b"{\"error\": 1}",
                "does not fit",
            ),
        ];
        for (method, path, status, ct, body, want) in cases {
            let e = check(method, path, status, ct, body).unwrap_err();
            assert!(e.contains(want), "{method} {path} {status}: {e}");
        }
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        assert_eq!(
            super::operation("POST", "/v1/workflows/validate"),
            Some(("POST".into(), "/v1/workflows/validate".into()))
        );
        assert_eq!(
            super::operation("GET", "/v1/workflows/wf_1/versions/2"),
            Some(("GET".into(), "/v1/workflows/{id}/versions/{version}".into()))
        );
    }
}
