//! `weft connectors`: what workflows on this server can use.

use super::ServerArgs;
use super::http::Cli;
use super::output::{cut, out};
use serde::Deserialize;
use serde_json::{Map, Value};
use weft_types::HostPattern;

/// Runs `weft connectors`.
///
/// # Errors
/// Refusals from the server ([`weft_client::Error::Api`]); unreachable servers.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let c = Cli::new(&args)?;
    let connectors = c.api.list_connectors().await?;
    if c.raw(&weft_model::List::from(connectors.clone()))? {
        return Ok(());
    }
    if connectors.is_empty() {
        out!("no connectors (start the server with --plugins DIR)");
        return Ok(());
    }
    for (n, con) in connectors.iter().enumerate() {
        if n > 0 {
            out!();
        }
        out!(
            "{} {}  {}  ({})",
            con.name,
            con.version,
            con.description,
            con.source
        );
        let caps = &con.capabilities;
        if !caps.hosts.is_empty() {
            out!("  outbound hosts: {}", hosts(&caps.hosts));
        }
        for slot in &caps.credentials {
            out!(
                "  credential slot `{}`{} (hosts {}): {}",
                slot.name,
                if slot.optional { ", optional" } else { "" },
                hosts(&slot.hosts),
                cut(&slot.description, 100)
            );
        }
        let width = con
            .actions
            .iter()
            .map(|a| a.name.chars().count())
            .max()
            .unwrap_or(0);
        for a in &con.actions {
            out!("  action {:<width$}  {}", a.name, cut(&a.description, 100));
            let fields = input_fields(&a.input_schema);
            if !fields.is_empty() {
                out!("         {:<width$}  input: {fields}", "");
            }
        }
    }
    out!("\n(schemas: --json; `*` marks required input fields)");
    Ok(())
}

fn hosts(hs: &[HostPattern]) -> String {
    hs.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The part of an object's JSON Schema the listing shows.
#[derive(Deserialize)]
struct ObjectSchema {
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    required: Vec<String>,
}

/// The input schema's properties, required ones first and marked `*`.
fn input_fields(schema: &Value) -> String {
    let Ok(s) = ObjectSchema::deserialize(schema) else {
        return String::new();
    };
    let mut fields: Vec<String> = s
        .required
        .iter()
        .filter(|r| s.properties.contains_key(*r))
        .map(|r| format!("{r}*"))
        .collect();
    fields.extend(
        s.properties
            .keys()
            .filter(|k| !s.required.contains(k))
            .cloned(),
    );
    fields.join(", ")
}
