//! The OpenAPI 3.1 document, generated from [`crate::routes::ROUTES`] and the
//! wire types' JSON Schemas (`weft-model`, JSON Schema 2020-12, which OpenAPI
//! 3.1 uses as it is): every named type is under `#/components/schemas`, every
//! query type's fields are parameters, every answer has its status and media
//! type, every error the envelope.

use crate::routes::{Content, ROUTES, Route};
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// Where named schemas go, and what `$ref`s point to.
const COMPONENTS: &str = "/components/schemas";

/// The document served at `/openapi.json`.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = COMPONENTS.into();
    settings.meta_schema = None;
    let mut g = settings.into_generator();
    let error = g.subschema_for::<weft_model::ErrorBody>().to_value();
    let mut paths = Map::new();
    for r in ROUTES {
        let op = operation(r, &mut g, &error);
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    let schemas = g.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Weft API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key: weft_..."},
                "operatorKey": {"type": "http", "scheme": "bearer", "description": "An operator key: weft_op_... (operator routes only)"},
            },
            "schemas": schemas,
        }
    })
}

fn operation(r: &Route, g: &mut SchemaGenerator, error: &Value) -> Value {
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if let Some(query) = r.query {
        params.extend(query_params(query(g).to_value()));
    }
    let mut responses = Map::new();
    for a in r.ok {
        let key = if a.status == 0 {
            "default".to_owned()
        } else {
            a.status.to_string()
        };
        let mut resp = json!({"description": a.description});
        match a.content {
            Content::Json(schema) => {
                resp["content"] = json!({"application/json": {"schema": schema(g).to_value()}});
            }
            Content::Text => {
                resp["content"] = json!({"text/plain": {"schema": {"type": "string"}}})
            }
            Content::Csv => resp["content"] = json!({"text/csv": {"schema": {"type": "string"}}}),
            Content::Any => resp["content"] = json!({"*/*": {"schema": {}}}),
            Content::Empty => {}
        }
        responses.insert(key, resp);
    }
    for status in r.errors() {
        let mut resp = json!({
            "description": if status == 401 && r.role.is_none() {
                // No API key on this route: a signed webhook's check.
                "The webhook's signature check failed (`invalid_signature`, the failed check in `reason`: `missing_header`, `malformed_header`, `bad_signature`, `stale_timestamp`, `secret_unavailable`); no run was started."
            } else {
                error_description(status)
            },
            "content": {"application/json": {"schema": error}},
        });
        if matches!(status, 429 | 503) {
            resp["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }});
        }
        responses.insert(status.to_string(), resp);
    }
    let mut description = String::new();
    if let Some(role) = r.role {
        description = format!("Needs an API key of role `{}` or above", role.as_str());
        match r.scope {
            Some(s) => {
                description += &format!("; a scoped key needs the scope `{}`.", s.pattern());
            }
            None => description += "; no scoped key may call it.",
        }
    }
    let mut op = json!({
        "operationId": r.op,
        "summary": r.summary,
        "tags": [r.tag],
        "responses": responses,
    });
    if !description.is_empty() {
        op["description"] = json!(description);
    }
    if !params.is_empty() {
        op["parameters"] = Value::Array(params);
    }
    if let Some(body) = r.body {
        let schema = (body.schema)(g).to_value();
        let content: Map<String, Value> = body
            .content
            .iter()
            .map(|ct| ((*ct).to_owned(), json!({"schema": schema})))
            .collect();
        op["requestBody"] = json!({"required": body.required, "content": content});
    }
    if r.role.is_some() {
        // OpenAPI 3.1: a non-OAuth scheme's list names roles; here, the
        // scope a scoped key needs (none: no scoped key may call it).
        let scopes: Vec<String> = r.scope.iter().map(|s| s.pattern()).collect();
        op["security"] = json!([{"apiKey": scopes}]);
        if let Some(s) = r.scope {
            op["x-weft-scope"] = json!(s.pattern());
        }
    }
    if r.operator {
        op["security"] = json!([{"operatorKey": []}]);
        op["description"] = json!(
            "Needs an operator key (`weft_op_…`); a tenant's API key is refused (403 `wrong_principal`)."
        );
    }
    op
}

/// A query type's properties as `in: query` parameters (never `null`: an
/// absent parameter is how a value is left out).
fn query_params(schema: Value) -> Vec<Value> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema["properties"].as_object() else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, prop)| {
            let mut prop = not_null(prop.clone());
            let description = prop
                .as_object_mut()
                .and_then(|o| o.remove("description"))
                .unwrap_or(Value::Null);
            let mut p = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": prop,
            });
            if !description.is_null() {
                p["description"] = description;
            }
            p
        })
        .collect()
}

/// `T` from the schema of an `Option<T>`.
fn not_null(mut schema: Value) -> Value {
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            schema["type"] = types[0].clone();
        }
    }
    let any_of = schema.get("anyOf").and_then(Value::as_array).map(|alts| {
        alts.iter()
            .filter(|a| a.get("type").is_none_or(|t| t != "null"))
            .cloned()
            .collect::<Vec<_>>()
    });
    if let Some(mut alts) = any_of
        && alts.len() == 1
        && let Some(obj) = schema.as_object_mut()
    {
        obj.remove("anyOf");
        if let (Some(Value::Object(inner)), obj) = (alts.pop(), obj) {
            obj.extend(inner);
        }
    }
    schema
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "A malformed body or query (`invalid_request`, naming the parameter or field), or an invalid definition (`invalid_workflow`, with every problem in `details`)."
        }
        401 => "No valid API key (`unauthenticated`).",
        403 => {
            "The key's role is too low (`forbidden`), or its scopes do not allow this (`scope`)."
        }
        404 => "Unknown (or another tenant's) id or token (`not_found`).",
        408 => "The body did not all arrive within the request timeout (`request_timeout`).",
        409 => "The state does not allow it (`conflict`).",
        413 => "The body is over the limit (`payload_too_large`).",
        422 => {
            "The run failed or was cancelled and no `respond` step answered (`run_failed`, with `run_id`); a run's input does not match the workflow's `input_schema` (`invalid_input`, naming the field, every problem in `details`, no run started); or a check with its own code refused the request."
        }
        429 => "The tenant's rate limit or quota is reached (`rate_limited`, `quota_exceeded`).",
        503 => {
            "The store, the queue or Redis does not answer, or the answer took longer than the request timeout (`unavailable`)."
        }
        _ => "An error.",
    }
}
