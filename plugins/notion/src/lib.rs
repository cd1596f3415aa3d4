//! `notion`: create pages and query databases through the Notion API
//! (<https://developers.notion.com/reference/intro>), with an integration token
//! the host injects as a bearer for `api.notion.com`, and the `Notion-Version`
//! this connector is written against.
//!
//! Errors are Notion's `{"object": "error", "status", "code", "message"}`
//! (<https://developers.notion.com/reference/status-codes>); `rate_limited` is a
//! 429 with `Retry-After` (<https://developers.notion.com/reference/request-limits>),
//! `conflict_error` (409) is retryable.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use weft_sdk::http::{Problem, Request, Response};
use weft_sdk::{Action, Call, Connector, CredentialSlot, Error, ErrorKind, Manifest, Result};

struct Notion;

const TOKEN_SLOT: &str = "token";
const DEFAULT_BASE_URL: &str = "https://api.notion.com";
const NOTION_VERSION: &str = "2022-06-28";

#[derive(Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    base_url: Option<String>,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePage {
    #[serde(default)]
    database_id: Option<String>,
    #[serde(default)]
    parent_page_id: Option<String>,
    properties: Map<String, Value>,
    #[serde(default)]
    children: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryDatabase {
    database_id: String,
    #[serde(default)]
    filter: Option<Value>,
    #[serde(default)]
    sorts: Option<Vec<Value>>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    start_cursor: Option<String>,
}

impl Connector for Notion {
    fn manifest() -> Manifest {
        Manifest::new("notion", env!("CARGO_PKG_VERSION"), "Notion pages and databases.")
            .action(
                Action::new("create-page", "Create a page in a database or under a page (POST /v1/pages).")
                    .input_schema(create_page_schema())
                    .output_schema(json!({"type": "object", "required": ["id", "url"]})),
            )
            .action(
                Action::new("query-database", "One page of a database's rows (POST /v1/databases/{id}/query).")
                    .input_schema(query_schema())
                    .output_schema(json!({
                        "type": "object",
                        "required": ["items", "next_cursor"],
                        "properties": {
                            "items": {"type": "array", "items": {"type": "object"}},
                            "next_cursor": {"type": ["string", "null"]}
                        }
                    })),
            )
            .host("api.notion.com")
            .credential(
                CredentialSlot::new(
                    TOKEN_SLOT,
                    "Notion internal integration secret (ntn_… or secret_…); share the pages and databases with the integration.",
                )
                .host("api.notion.com"),
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
            "create-page" => {
                let i: CreatePage = call.input()?;
                let parent = match (&i.database_id, &i.parent_page_id) {
                    (Some(db), None) => json!({"database_id": notion_id("input.database_id", db)?}),
                    (None, Some(page)) => {
                        json!({"page_id": notion_id("input.parent_page_id", page)?})
                    }
                    _ => {
                        return Err(Error::invalid_input(
                            "input: exactly one of `database_id` and `parent_page_id` is required",
                        ));
                    }
                };
                let mut body = json!({"parent": parent, "properties": i.properties});
                if let Some(children) = i.children {
                    body["children"] = json!(children);
                }
                send(&config, "/v1/pages", &body)
            }
            "query-database" => {
                let i: QueryDatabase = call.input()?;
                let id = notion_id("input.database_id", &i.database_id)?;
                let mut body = json!({});
                if let Some(f) = i.filter {
                    body["filter"] = f;
                }
                if let Some(s) = i.sorts {
                    body["sorts"] = json!(s);
                }
                if let Some(n) = i.page_size {
                    if !(1..=100).contains(&n) {
                        return Err(Error::invalid_input(format!(
                            "input.page_size: {n} is outside Notion's 1-100"
                        )));
                    }
                    body["page_size"] = json!(n);
                }
                if let Some(c) = i.start_cursor {
                    body["start_cursor"] = json!(c);
                }
                let list = send(&config, &format!("/v1/databases/{id}/query"), &body)?;
                Ok(json!({"items": list["results"], "next_cursor": list["next_cursor"]}))
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

/// A Notion id: 32 hex digits, with or without the UUID dashes.
fn notion_id(field: &str, id: &str) -> Result<String> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(id.to_owned())
    } else {
        Err(Error::invalid_input(format!(
            "{field}: `{id}` is not a Notion id (32 hex digits, dashes allowed)"
        )))
    }
}

fn send(config: &Config, path: &str, body: &Value) -> Result<Value> {
    let base = config.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let mut req = Request::post(format!("{}{path}", base.trim_end_matches('/')))
        .header("notion-version", NOTION_VERSION)
        .json(body)
        .credential(TOKEN_SLOT);
    if let Some(ms) = config.timeout_ms {
        req = req.timeout_ms(ms);
    }
    req.fetch()?.error_for_status_with(problem)?.json()
}

/// Read Notion's error object (see the module docs).
fn problem(response: &Response) -> Problem {
    let body = response.json_or_null();
    let message = body["message"]
        .as_str()
        .map(|m| match body["code"].as_str() {
            Some(code) => format!("Notion `{code}`: {m}"),
            None => m.to_owned(),
        });
    let kind = match body["code"].as_str() {
        Some("conflict_error") => Some(ErrorKind::Transient),
        Some("rate_limited") => Some(ErrorKind::RateLimited),
        _ => None,
    };
    Problem {
        message,
        kind,
        retry_after_ms: None,
    }
}

fn create_page_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["properties"],
        "properties": {
            "database_id": {"type": "string", "description": "Create a row in this database."},
            "parent_page_id": {"type": "string", "description": "Or: create a sub-page of this page."},
            "properties": {"type": "object", "description": "Notion property values, e.g. {\"Name\": {\"title\": [{\"text\": {\"content\": \"…\"}}]}}."},
            "children": {"type": "array", "items": {"type": "object"}, "description": "Block objects for the page body."}
        },
        "oneOf": [{"required": ["database_id"]}, {"required": ["parent_page_id"]}]
    })
}

fn query_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["database_id"],
        "properties": {
            "database_id": {"type": "string"},
            "filter": {"type": "object"},
            "sorts": {"type": "array", "items": {"type": "object"}},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
            "start_cursor": {"type": "string", "description": "The `next_cursor` of the previous page."}
        }
    })
}

weft_sdk::export!(Notion);
