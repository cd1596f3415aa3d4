//! `airtable`: list and create records through the Airtable Web API
//! (<https://airtable.com/developers/web/api/introduction>), with a personal
//! access token the host injects as a bearer for `api.airtable.com`.
//!
//! Errors are `{"error": {"type", "message"}}` or `{"error": "NOT_FOUND"}`
//! (<https://airtable.com/developers/web/api/errors>). A 429 means "wait 30
//! seconds" (<https://airtable.com/developers/web/api/rate-limits>), which is the
//! retry hint when no `Retry-After` comes with it.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_sdk::http::{Problem, Request, Response, encode_query_component};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, Manifest, Result};

struct Airtable;

const TOKEN_SLOT: &str = "token";
const DEFAULT_BASE_URL: &str = "https://api.airtable.com";
/// Airtable's documented wait after a 429.
const RATE_LIMIT_WAIT_MS: u64 = 30_000;
/// Airtable creates at most 10 records per request.
const MAX_CREATE: usize = 10;

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListRecords {
    base_id: String,
    table: String,
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    filter_by_formula: Option<String>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    offset: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRecords {
    base_id: String,
    table: String,
    records: Vec<Map<String, Value>>,
    #[serde(default)]
    typecast: bool,
}

impl Connector for Airtable {
    fn manifest() -> Manifest {
        Manifest::new("airtable", env!("CARGO_PKG_VERSION"), "Airtable records.")
            .action(
                Action::new("list-records", "One page of a table's records (GET /v0/{base}/{table}).")
                    .input_schema(list_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["items", "offset"],
                        "properties": {
                            "items": {"type": "array", "items": {"type": "object"}},
                            "offset": {"type": ["string", "null"], "description": "Pass back as `offset` for the next page; null on the last."}
                        }
                    })),
            )
            .action(
                Action::new("create-records", "Create 1 to 10 records (POST /v0/{base}/{table}).")
                    .input_schema(create_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["records"],
                        "properties": {"records": {"type": "array", "items": {"type": "object", "required": ["id", "fields"]}}}
                    })),
            )
            .host("api.airtable.com")
            .credential(
                CredentialSlot::new(
                    TOKEN_SLOT,
                    "Airtable personal access token (pat…) with data.records:read / data.records:write on the base.",
                )
                .host("api.airtable.com"),
            )
            .config_schema(json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL},
                    "timeout_ms": {"type": "integer", "minimum": 1}
                }
            }))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        match call.action() {
            "list-records" => {
                let i: ListRecords = call.input()?;
                let mut req = request(&config, "GET", &table_path(&i.base_id, &i.table)?);
                if let Some(v) = &i.view {
                    req = req.query("view", v);
                }
                if let Some(f) = &i.filter_by_formula {
                    req = req.query("filterByFormula", f);
                }
                if let Some(n) = i.page_size {
                    if !(1..=100).contains(&n) {
                        return Err(Error::invalid_input(format!(
                            "input.page_size: {n} is outside Airtable's 1-100"
                        )));
                    }
                    req = req.query("pageSize", n.to_string());
                }
                if let Some(o) = &i.offset {
                    req = req.query("offset", o);
                }
                let page: Value = send(req)?.json()?;
                Ok(json!({"items": page["records"], "offset": page["offset"]}))
            }
            "create-records" => {
                let i: CreateRecords = call.input()?;
                let path = table_path(&i.base_id, &i.table)?;
                if i.records.is_empty() || i.records.len() > MAX_CREATE {
                    return Err(Error::invalid_input(format!(
                        "input.records: {} records; Airtable creates 1 to {MAX_CREATE} per request",
                        i.records.len()
                    )));
                }
                let records: Vec<Value> = i
                    .records
                    .into_iter()
                    .map(|f| json!({"fields": f}))
                    .collect();
                let body = json!({"records": records, "typecast": i.typecast});
                send(request(&config, "POST", &path).json(&body))?.json()
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

/// `/v0/{base_id}/{table}`: the base id checked, the table name (or `tbl…` id)
/// percent-encoded as one path segment.
fn table_path(base_id: &str, table: &str) -> Result<String> {
    let ok = base_id.len() == 17
        && base_id.starts_with("app")
        && base_id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(Error::invalid_input(format!(
            "input.base_id: `{base_id}` is not an Airtable base id (app followed by 14 letters or digits)"
        )));
    }
    if table.is_empty() {
        return Err(Error::invalid_input("input.table: must not be empty"));
    }
    Ok(format!("/v0/{base_id}/{}", encode_query_component(table)))
}

fn request(config: &Config, method: &str, path: &str) -> Request {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req = Request::new(method, format!("{}{path}", base.trim_end_matches('/')))
        .credential(TOKEN_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req
}

fn send(req: Request) -> Result<Response> {
    req.fetch()?.error_for_status_with(problem)
}

/// Read Airtable's error answer (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let error = &body["error"];
    let message = match (
        error.as_str(),
        error["type"].as_str(),
        error["message"].as_str(),
    ) {
        (Some(code), _, _) => Some(format!("Airtable `{code}`")),
        (None, Some(t), Some(m)) => Some(format!("Airtable `{t}`: {m}")),
        (None, Some(t), None) => Some(format!("Airtable `{t}`")),
        _ => None,
    };
    let retry_after_ms = (response.status() == 429 && response.retry_after_ms().is_none())
        .then_some(RATE_LIMIT_WAIT_MS);
    Problem {
        message,
        kind: None,
        retry_after_ms,
    }
}

fn list_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["base_id", "table"],
        "properties": {
            "base_id": {"type": "string", "pattern": "^app[A-Za-z0-9]{14}$"},
            "table": {"type": "string", "minLength": 1, "description": "Table name or id (tbl…)."},
            "view": {"type": "string"},
            "filter_by_formula": {"type": "string", "description": "An Airtable formula, e.g. {Status} = 'Open'."},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
            "offset": {"type": "string"}
        }
    })
}

fn create_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["base_id", "table", "records"],
        "properties": {
            "base_id": {"type": "string", "pattern": "^app[A-Za-z0-9]{14}$"},
            "table": {"type": "string", "minLength": 1},
            "records": {"type": "array", "minItems": 1, "maxItems": MAX_CREATE, "items": {"type": "object"}, "description": "Each item: the record's fields by name."},
            "typecast": {"type": "boolean", "default": false, "description": "Let Airtable convert strings to select options, dates, ..."}
        }
    })
}

weft_sdk::export!(Airtable);
