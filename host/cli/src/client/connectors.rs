//! `weft connectors`: what workflows on this server can use.

use super::ServerArgs;
use super::http::Client;
use super::output::{cut, out, s};
use serde_json::Value;

/// Runs `weft connectors`.
///
/// # Errors
/// [`super::http::ApiError`] for refusals; unreachable servers.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let c = Client::new(&args)?;
    let v = c.get(&["v1", "connectors"], &[]).await?;
    if c.raw(&v)? {
        return Ok(());
    }
    let items = v.get("items").and_then(Value::as_array);
    if items.is_none_or(Vec::is_empty) {
        out!("no connectors (start the server with --plugins DIR)");
        return Ok(());
    }
    for (n, con) in items.into_iter().flatten().enumerate() {
        if n > 0 {
            out!();
        }
        out!(
            "{} {}  {}  ({})",
            s(con, "name"),
            s(con, "version"),
            s(con, "description"),
            s(con, "source")
        );
        let caps = con.get("capabilities").unwrap_or(&Value::Null);
        let hosts = strings(caps.get("hosts"));
        if !hosts.is_empty() {
            out!("  outbound hosts: {hosts}");
        }
        for slot in caps
            .get("credentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let optional = slot.get("optional").and_then(Value::as_bool) == Some(true);
            out!(
                "  credential slot `{}`{} (hosts {}): {}",
                s(slot, "name"),
                if optional { ", optional" } else { "" },
                strings(slot.get("hosts")),
                cut(s(slot, "description"), 100)
            );
        }
        let actions = con.get("actions").and_then(Value::as_array);
        let width = actions
            .into_iter()
            .flatten()
            .map(|a| s(a, "name").chars().count())
            .max()
            .unwrap_or(0);
        for a in actions.into_iter().flatten() {
            out!(
                "  action {:<width$}  {}",
                s(a, "name"),
                cut(s(a, "description"), 100)
            );
            let fields = input_fields(a.get("input_schema"));
            if !fields.is_empty() {
                out!("         {:<width$}  input: {fields}", "");
            }
        }
    }
    out!("\n(schemas: --json; `*` marks required input fields)");
    Ok(())
}

fn strings(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|xs| {
            xs.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The input schema's properties, required ones first and marked `*`.
fn input_fields(schema: Option<&Value>) -> String {
    let Some(props) = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .and_then(|s| s.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields: Vec<String> = required
        .iter()
        .filter(|r| props.contains_key(**r))
        .map(|r| format!("{r}*"))
        .collect();
    fields.extend(
        props
            .keys()
            .filter(|k| !required.contains(&k.as_str()))
            .cloned(),
    );
    fields.join(", ")
}
