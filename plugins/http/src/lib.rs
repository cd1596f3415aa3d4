//! `http`: make one HTTP request to any host the tenant allows.
//!
//! Action `request`. The optional `auth` credential slot (hosts `*`) lets a
//! tenant bind a secret for the hosts of their choice; the request uses it when
//! the input sets `"credential": true`.
//!
//! Trigger `new-items` (`triggers.poll`): GET a JSON endpoint, take the
//! array at `items` (a JSON pointer; the body itself by default) and name each
//! item by the value at `id` (a JSON pointer into the item, e.g. `/id`); the
//! host starts a run per item whose id the workflow has not seen.
//!
//! Every request carries the step's idempotency key (stable across retries of
//! one step) as the `Idempotency-Key` header, so a server that supports it
//! applies a retried effect once; a header of that name in the input (or in
//! `config.default_headers`) wins, and an empty key sends none.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_sdk::http::{Request, Response, is_json_content_type, redact_url};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Http;

/// The credential slot this connector declares.
const AUTH_SLOT: &str = "auth";

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    /// Resolves `url` values that start with `/`.
    base_url: Option<String>,
    /// Sent with every request unless the input sets the same header.
    default_headers: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default = "default_method")]
    method: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    query: BTreeMap<String, QueryValue>,
    json: Option<Value>,
    text: Option<String>,
    #[serde(default)]
    credential: bool,
    timeout_ms: Option<u32>,
    #[serde(default = "yes")]
    fail_on_status: bool,
}

fn default_method() -> String {
    "GET".into()
}

fn yes() -> bool {
    true
}

/// A query value: a scalar, or a list of scalars for a repeated parameter.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum QueryValue {
    One(Scalar),
    Many(Vec<Scalar>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Self::Str(s) => s,
            Self::Num(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

impl Connector for Http {
    fn manifest() -> Manifest {
        Manifest::new("http", env!("CARGO_PKG_VERSION"), "Make an HTTP request.")
            .action(
                Action::new(
                    "request",
                    "Send one HTTP request and return its status, headers and body.",
                )
                .input_schema(input_schema())
                .output_schema(output_schema()),
            )
            .host("*")
            .credential(
                CredentialSlot::new(
                    AUTH_SLOT,
                    "Secret the host injects into requests to the hosts the tenant binds it to \
                     (used when the input sets `credential: true`).",
                )
                .host("*")
                .optional(true),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "description": "Prefix for `url` values that start with `/`."},
                    "default_headers": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Headers sent with every request unless the input sets them."
                    }
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        match call.action() {
            "request" => request(
                &call.config()?,
                call.input()?,
                &call.context().idempotency_key,
            ),
            other => Err(Error::unknown_action(other)),
        }
    }
}

/// The header that carries the step's idempotency key.
const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

fn request(config: &Config, input: Input, idempotency_key: &str) -> Result<Value> {
    let fail_on_status = input.fail_on_status;
    let (req, method) = prepare(config, input, idempotency_key)?;
    let where_ = format!("{method} {}", redact_url(&req.url()));
    let response = req.send().map_err(|e| Error::from(e).context(&where_))?;
    if fail_on_status && response.status() >= 400 {
        // `status_error` names the URL (without its query); add the method.
        let e = response.status_error();
        return Err(Error {
            message: format!("{method} {}", e.message),
            ..e
        });
    }
    Ok(output(response))
}

/// The request the input describes (not sent yet), and its method.
fn prepare(config: &Config, input: Input, idempotency_key: &str) -> Result<(Request, String)> {
    let url = resolve_url(config.base_url.as_deref(), &input.url)?;
    let method = input.method.trim().to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
        return Err(Error::invalid_input(format!(
            "input.method: `{}` is not an HTTP method",
            input.method
        )));
    }
    if input.json.is_some() && input.text.is_some() {
        return Err(Error::invalid_input(
            "input: set either `json` or `text` as the body, not both",
        ));
    }

    let mut req = Request::new(method.clone(), url);
    for (name, value) in &config.default_headers {
        if !input.headers.keys().any(|n| n.eq_ignore_ascii_case(name)) {
            req = req.header(name, value);
        }
    }
    for (name, value) in &input.headers {
        req = req.header(name, value);
    }
    for (name, value) in input.query {
        match value {
            QueryValue::One(v) => req = req.query(&name, v.into_string()),
            QueryValue::Many(vs) => {
                for v in vs {
                    req = req.query(&name, v.into_string());
                }
            }
        }
    }
    if let Some(json) = &input.json {
        req = req.json(json);
    } else if let Some(text) = input.text {
        if !req.has_header("content-type") {
            req = req.header("content-type", "text/plain; charset=utf-8");
        }
        req = req.body(text);
    }
    if input.credential {
        req = req.credential(AUTH_SLOT);
    }
    if !idempotency_key.is_empty() && !req.has_header(IDEMPOTENCY_HEADER) {
        req = req.header(IDEMPOTENCY_HEADER, idempotency_key);
    }
    if let Some(ms) = input.timeout_ms {
        req = req.timeout_ms(ms);
    }
    Ok((req, method))
}

/// `url` as given when absolute, else joined to the configured base URL.
fn resolve_url(base_url: Option<&str>, url: &str) -> Result<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(url.to_string());
    }
    match base_url {
        Some(base) if url.starts_with('/') => Ok(format!("{}{url}", base.trim_end_matches('/'))),
        Some(_) => Err(Error::invalid_input(format!(
            "input.url: `{url}` is neither an absolute http(s) URL nor a path starting with `/`"
        ))),
        None => Err(Error::invalid_input(format!(
            "input.url: `{url}` is not an absolute http(s) URL (set config.base_url to use paths)"
        ))),
    }
}

fn output(response: Response) -> Value {
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let name = name.to_ascii_lowercase();
        match headers.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            _ => {
                headers.insert(name, Value::String(value.clone()));
            }
        }
    }
    let (body, encoding) = decode_body(response.header("content-type"), response.body());
    json!({
        "status": response.status(),
        "headers": headers,
        "body": body,
        "body_encoding": encoding,
        "url": response.url(),
    })
}

/// JSON when the content type says so and it parses, else UTF-8 text, else base64.
fn decode_body(content_type: Option<&str>, body: &[u8]) -> (Value, &'static str) {
    if content_type.is_some_and(is_json_content_type) {
        if body.iter().all(u8::is_ascii_whitespace) {
            return (Value::Null, "json");
        }
        if let Ok(value) = serde_json::from_slice(body) {
            return (value, "json");
        }
    }
    match std::str::from_utf8(body) {
        Ok(text) => (Value::String(text.to_string()), "text"),
        Err(_) => (
            Value::String(base64::engine::general_purpose::STANDARD.encode(body)),
            "base64",
        ),
    }
}

fn input_schema() -> Value {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["url"],
        "properties": {
            "method": {"type": "string", "default": "GET", "description": "HTTP method, e.g. GET, POST."},
            "url": {"type": "string", "description": "Absolute http(s) URL, or a path joined to config.base_url."},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Request headers. `Idempotency-Key` is set to the step's idempotency key unless given here."
            },
            "query": {
                "type": "object",
                "description": "Query parameters, percent-encoded and appended to the URL; a list repeats the name.",
                "additionalProperties": {"anyOf": [scalar, {"type": "array", "items": scalar}]}
            },
            "json": {"description": "JSON body; sets content-type application/json unless given."},
            "text": {"type": "string", "description": "Text body; sets content-type text/plain unless given."},
            "credential": {"type": "boolean", "default": false, "description": "Use the tenant's `auth` credential."},
            "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 4294967295u64},
            "fail_on_status": {
                "type": "boolean",
                "default": true,
                "description": "Fail the step on status >= 400 (classified: 401/403 auth, 429 rate-limited, 5xx transient, other 4xx invalid input)."
            }
        }
    })
}

fn output_schema() -> Value {
    json!({
        "type": "object",
        "required": ["status", "headers", "body", "body_encoding", "url"],
        "properties": {
            "status": {"type": "integer"},
            "headers": {
                "type": "object",
                "description": "Lower-case names; repeated headers joined with \", \".",
                "additionalProperties": {"type": "string"}
            },
            "body": {"description": "Parsed JSON for JSON content types, else text, else base64."},
            "body_encoding": {"enum": ["json", "text", "base64"]},
            "url": {"type": "string", "description": "The requested URL, query included."}
        }
    })
}

/// `new-items`' config.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PollConfig {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    items: String,
    #[serde(default = "default_id")]
    id: String,
    #[serde(default)]
    newest_first: bool,
    #[serde(default)]
    credential: bool,
}

fn default_id() -> String {
    "/id".into()
}

impl weft_sdk::Trigger for Http {
    fn triggers() -> Vec<weft_sdk::TriggerDef> {
        vec![
            weft_sdk::TriggerDef::new(
                "new-items",
                "Poll a JSON endpoint (GET) and start a run for every item with an id not seen before.",
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["url"],
                "properties": {
                    "url": {"type": "string", "description": "The endpoint (http or https)."},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "items": {"type": "string", "description": "JSON pointer to the array of items in the answer; empty (default): the answer is the array."},
                    "id": {"type": "string", "description": "JSON pointer to an item's id inside the item (default `/id`): its dedupe key."},
                    "newest_first": {"type": "boolean", "description": "The endpoint lists newest first (runs still start oldest first)."},
                    "credential": {"type": "boolean", "description": "Send the `auth` credential bound to the endpoint's host."}
                }
            }))
            .item_schema(json!({"description": "One item of the endpoint's array, as it answered."})),
        ]
    }

    fn poll(poll: weft_sdk::Poll) -> Result<weft_sdk::PollResult> {
        if poll.trigger() != "new-items" {
            return Err(Error::invalid_input(format!(
                "the http connector has no trigger `{}` (it has: new-items)",
                poll.trigger()
            )));
        }
        let c: PollConfig = poll.config()?;
        for (what, p) in [("items", &c.items), ("id", &c.id)] {
            if !(p.is_empty() || p.starts_with('/')) {
                return Err(Error::invalid_input(format!(
                    "config.{what}: `{p}` is not a JSON pointer (it starts with `/`, e.g. `/data`)"
                )));
            }
        }
        let mut req = Request::get(&c.url).header("accept", "application/json");
        for (k, v) in &c.headers {
            req = req.header(k, v);
        }
        if c.credential {
            req = req.credential(AUTH_SLOT);
        }
        let body: Value = req.send()?.error_for_status()?.json()?;
        let list = match body.pointer(&c.items) {
            Some(Value::Array(a)) => a.clone(),
            Some(other) => {
                return Err(Error::permanent(format!(
                    "{}: the value at `{}` is {}, not an array of items",
                    redact_url(&c.url),
                    c.items,
                    kind(other)
                )));
            }
            None => {
                return Err(Error::permanent(format!(
                    "{}: the answer has nothing at `{}`",
                    redact_url(&c.url),
                    c.items
                )));
            }
        };
        let mut items = Vec::with_capacity(list.len());
        for (i, item) in list.into_iter().enumerate() {
            let key = match item.pointer(&c.id) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => {
                    return Err(Error::permanent(format!(
                        "{}: item {i} has no string or number at `{}` (set `id` to where an item's id is)",
                        redact_url(&c.url),
                        c.id
                    )));
                }
            };
            items.push(weft_sdk::PollItem::new(key, item));
        }
        if c.newest_first {
            items.reverse();
        }
        Ok(weft_sdk::PollResult {
            items,
            next_cursor: None,
        })
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

weft_sdk::export!(Http, trigger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_against_base() {
        assert_eq!(
            resolve_url(None, "https://a/b").ok(),
            Some("https://a/b".to_string())
        );
        assert_eq!(
            resolve_url(Some("http://127.0.0.1:9/api/"), "/x").ok(),
            Some("http://127.0.0.1:9/api/x".to_string())
        );
        assert!(resolve_url(None, "/x").is_err());
        assert!(resolve_url(Some("http://h"), "x").is_err());
    }

    fn input(v: Value) -> Input {
        serde_json::from_value(v).unwrap()
    }

    fn headers_named<'a>(req: &'a Request, name: &str) -> Vec<&'a str> {
        req.headers()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn the_idempotency_key_is_sent_unless_the_input_sets_the_header() {
        let config = Config::default();
        let (req, method) = prepare(
            &config,
            input(json!({"method": "post", "url": "https://a/charge", "json": {"n": 1}})),
            "run_1:charge",
        )
        .unwrap();
        assert_eq!(method, "POST");
        assert_eq!(headers_named(&req, "idempotency-key"), ["run_1:charge"]);

        let mine = json!({"url": "https://a/x", "headers": {"idempotency-key": "mine"}});
        let (req, _) = prepare(&config, input(mine), "run_1:charge").unwrap();
        assert_eq!(
            headers_named(&req, "Idempotency-Key"),
            ["mine"],
            "the input wins"
        );

        let config = Config {
            default_headers: BTreeMap::from([("Idempotency-Key".into(), "cfg".into())]),
            ..Config::default()
        };
        let (req, _) = prepare(&config, input(json!({"url": "https://a/x"})), "k").unwrap();
        assert_eq!(headers_named(&req, "idempotency-key"), ["cfg"]);

        let (req, _) =
            prepare(&Config::default(), input(json!({"url": "https://a/x"})), "").unwrap();
        assert!(
            headers_named(&req, "idempotency-key").is_empty(),
            "no key, no header"
        );
    }

    #[test]
    fn bodies_decode_by_content_type() {
        assert_eq!(
            decode_body(Some("application/json; charset=utf-8"), b"{\"a\":1}"),
            (json!({"a": 1}), "json")
        );
        assert_eq!(
            decode_body(Some("application/json"), b""),
            (Value::Null, "json")
        );
        assert_eq!(
            decode_body(Some("application/json"), b"nope"),
            (json!("nope"), "text")
        );
        assert_eq!(
            decode_body(None, b"{\"a\":1}"),
            (json!("{\"a\":1}"), "text")
        );
        assert_eq!(decode_body(None, &[0xff, 0x00]), (json!("/wA="), "base64"));
    }
}
