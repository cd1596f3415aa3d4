//! `sheets`: read, append and update cell values through the Google Sheets
//! API v4 (<https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets.values>),
//! with the `google` OAuth2 credential (scope
//! `https://www.googleapis.com/auth/spreadsheets`) the host injects as a
//! bearer for `sheets.googleapis.com`. Errors: `weft_google_api::problem`.
//!
//! Trigger `new-rows`: the rows of a range after the last row seen. Key
//! `g{generation}:{row}` (the row number); the first poll only counts (unless
//! `include_existing`). The cursor keeps the row count and fingerprints of the
//! last 16 rows seen: the new rows are those after the last of them still in
//! the sheet, so rows deleted or inserted above do not repeat or hide rows;
//! when that row moved, the generation goes up (row numbers shifted, so the
//! keys must be new). If all 16 are gone or edited, the rows after the old
//! count are new.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use weft_google_api::Config;
use weft_sdk::http::{Request, encode_query_component};
use weft_sdk::{
    Action, Call, Connector, Error, Manifest, Poll, PollItem, PollResult, Result, Trigger,
    TriggerDef,
};

struct Sheets;

const HOST: &str = "sheets.googleapis.com";
const DEFAULT_BASE_URL: &str = "https://sheets.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";
/// The host's bound on items per poll.
const MAX_ITEMS: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Read {
    spreadsheet_id: String,
    range: String,
    #[serde(default)]
    value_render_option: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Write {
    spreadsheet_id: String,
    range: String,
    values: Vec<Vec<Value>>,
    #[serde(default)]
    value_input_option: Option<String>,
    #[serde(default)]
    insert_data_option: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowsConfig {
    spreadsheet_id: String,
    range: String,
    #[serde(default = "yes")]
    header: bool,
    #[serde(default)]
    include_existing: bool,
    #[serde(default)]
    base_url: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
struct Cursor {
    /// Rows seen (the next poll's rows start after them).
    rows: usize,
    /// Bumped whenever row numbers shift: part of every key.
    generation: u32,
    /// Fingerprints of the last rows seen (at most [`TAIL`]), to find where
    /// the sheet continues after rows were deleted or inserted above.
    tail: Vec<String>,
}

/// Rows fingerprinted in the cursor.
const TAIL: usize = 16;

/// A row's FNV-1a 64-bit hash of its JSON, in hex.
fn fingerprint(row: &Value) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in row.to_string().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

const RENDER: [&str; 3] = ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"];
const INPUT: [&str; 2] = ["USER_ENTERED", "RAW"];
const INSERT: [&str; 2] = ["OVERWRITE", "INSERT_ROWS"];

impl Connector for Sheets {
    fn manifest() -> Manifest {
        Manifest::new(
            "sheets",
            env!("CARGO_PKG_VERSION"),
            "Google Sheets: read, append and update cell values; start a run per new row.",
        )
        .action(
            Action::new("read-range", "The values of a range (A1 notation), row by row.")
                .input_schema(read_schema())
                .output_schema(values_schema()),
        )
        .action(
            Action::new(
                "rows-as-objects",
                "The rows of a range as objects keyed by its first row (the header).",
            )
            .input_schema(read_schema())
            .output_schema(json!({
                "type": "object", "required": ["range", "rows"],
                "properties": {"range": {"type": "string"}, "rows": {"type": "array", "items": {"type": "object"}}}
            })),
        )
        .action(
            Action::new("append-rows", "Append rows after the table found in a range.")
                .input_schema(write_schema(true))
                .output_schema(json!({"type": "object", "required": ["spreadsheetId", "updates"]})),
        )
        .action(
            Action::new("update-range", "Overwrite the values of a range.")
                .input_schema(write_schema(false))
                .output_schema(json!({"type": "object", "required": ["spreadsheetId", "updatedRange"]})),
        )
        .host(HOST)
        .credential(weft_google_api::slot(HOST, SCOPE))
        .config_schema(weft_google_api::config_schema(DEFAULT_BASE_URL))
    }

    fn invoke(call: Call) -> Result<Value> {
        let config: Config = call.config()?;
        match call.action() {
            "read-range" => read(&config, &call.input()?),
            "rows-as-objects" => {
                let values = read(&config, &call.input()?)?;
                let rows = values["values"].as_array().cloned().unwrap_or_default();
                let objects = match rows.split_first() {
                    Some((header, rest)) => rest.iter().map(|r| record(header, r)).collect(),
                    None => Vec::new(),
                };
                Ok(json!({"range": values["range"], "rows": objects}))
            }
            "append-rows" => {
                let input: Write = call.input()?;
                let mut req = write(&config, &input, ":append", "POST")?;
                if let Some(opt) = &input.insert_data_option {
                    one_of("input.insert_data_option", opt, &INSERT)?;
                    req = req.query("insertDataOption", opt);
                }
                config.send(req)?.json()
            }
            "update-range" => {
                let input: Write = call.input()?;
                if input.insert_data_option.is_some() {
                    return Err(Error::invalid_input(
                        "input.insert_data_option: only append-rows inserts rows",
                    ));
                }
                config.send(write(&config, &input, "", "PUT")?)?.json()
            }
            other => Err(Error::unknown_action(other)),
        }
    }
}

impl Trigger for Sheets {
    fn triggers() -> Vec<TriggerDef> {
        vec![
            TriggerDef::new(
                "new-rows",
                "Start a run for every row appended to a range since the last poll.",
            )
            .config_schema(json!({
                "type": "object", "additionalProperties": false,
                "required": ["spreadsheet_id", "range"],
                "properties": {
                    "spreadsheet_id": {"type": "string", "minLength": 1},
                    "range": {"type": "string", "minLength": 1, "description": "A1 notation, e.g. `Orders` or `Orders!A:F`."},
                    "header": {"type": "boolean", "default": true, "description": "The range's first row names the columns (then each item has `record`)."},
                    "include_existing": {"type": "boolean", "default": false, "description": "The first poll starts a run per row already there."},
                    "base_url": {"type": "string", "default": DEFAULT_BASE_URL}
                }
            }))
            .item_schema(json!({
                "type": "object", "required": ["row", "values"],
                "properties": {
                    "row": {"type": "integer", "description": "1-based row number within the range."},
                    "values": {"type": "array"},
                    "record": {"type": "object", "description": "The values keyed by the header row (when `header`)."}
                }
            })),
        ]
    }

    fn poll(poll: Poll) -> Result<PollResult> {
        if poll.trigger() != "new-rows" {
            return Err(Error::invalid_input(format!(
                "the sheets connector has no trigger `{}` (it has: new-rows)",
                poll.trigger()
            )));
        }
        let c: RowsConfig = poll.config()?;
        let first = poll.cursor().is_none();
        let mut cursor: Cursor = poll
            .cursor()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let config = Config {
            base_url: c.base_url.clone(),
            timeout_ms: None,
        };
        let answer = read(
            &config,
            &Read {
                spreadsheet_id: c.spreadsheet_id.clone(),
                range: c.range.clone(),
                value_render_option: None,
            },
        )?;
        let rows = answer["values"].as_array().cloned().unwrap_or_default();
        let header = if c.header { rows.first() } else { None };
        let floor = usize::from(header.is_some());
        let start = if first {
            if c.include_existing {
                floor
            } else {
                rows.len()
            }
        } else {
            // The last row seen that is still there: rows after it are new.
            // Found elsewhere than where it was (rows deleted or inserted
            // above), the row numbers shifted: a new generation of keys.
            match rows
                .iter()
                .rposition(|r| cursor.tail.contains(&fingerprint(r)))
            {
                Some(i) => {
                    if i + 1 != cursor.rows {
                        cursor.generation += 1;
                    }
                    i + 1
                }
                None => {
                    if rows.len() != cursor.rows {
                        cursor.generation += 1;
                    }
                    cursor.rows.min(rows.len())
                }
            }
        }
        .max(floor);
        let mut items = Vec::new();
        let mut end = start;
        for (i, row) in rows.iter().enumerate().skip(start).take(MAX_ITEMS) {
            let n = i + 1;
            let mut payload = json!({"row": n, "values": row});
            if let Some(h) = header {
                payload["record"] = record(h, row);
            }
            items.push(PollItem::new(
                format!("g{}:{n}", cursor.generation),
                payload,
            ));
            end = n;
        }
        cursor.rows = end.max(start);
        cursor.tail = rows[cursor.rows.saturating_sub(TAIL)..cursor.rows]
            .iter()
            .map(fingerprint)
            .collect();
        Ok(PollResult {
            items,
            next_cursor: Some(
                serde_json::to_string(&cursor).map_err(|e| Error::permanent(e.to_string()))?,
            ),
        })
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{field}: `{value}` is not one of {}",
            allowed.join(", ")
        )))
    }
}

/// `/v4/spreadsheets/{id}/values/{range}{tail}`, both percent-encoded.
fn values_path(id: &str, range: &str, tail: &str) -> Result<String> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
    {
        return Err(Error::invalid_input(format!(
            "input.spreadsheet_id: `{id}` is not a spreadsheet id (letters, digits, `-`, `_`: the part of the sheet's URL after /d/)"
        )));
    }
    if range.trim().is_empty() {
        return Err(Error::invalid_input("input.range: must not be empty"));
    }
    Ok(format!(
        "/v4/spreadsheets/{id}/values/{}{tail}",
        encode_query_component(range)
    ))
}

fn read(config: &Config, input: &Read) -> Result<Value> {
    let path = values_path(&input.spreadsheet_id, &input.range, "")?;
    let mut req = Request::get(config.url(DEFAULT_BASE_URL, &path));
    if let Some(opt) = &input.value_render_option {
        one_of("input.value_render_option", opt, &RENDER)?;
        req = req.query("valueRenderOption", opt);
    }
    let mut answer: Value = config.send(req)?.json()?;
    // An empty range has no `values` at all.
    if answer.get("values").is_none() {
        answer["values"] = json!([]);
    }
    Ok(answer)
}

fn write(config: &Config, input: &Write, tail: &str, method: &str) -> Result<Request> {
    let path = values_path(&input.spreadsheet_id, &input.range, tail)?;
    if input.values.is_empty() {
        return Err(Error::invalid_input("input.values: no rows to write"));
    }
    let opt = input
        .value_input_option
        .as_deref()
        .unwrap_or("USER_ENTERED");
    one_of("input.value_input_option", opt, &INPUT)?;
    Ok(Request::new(method, config.url(DEFAULT_BASE_URL, &path))
        .query("valueInputOption", opt)
        .json(&json!({"range": input.range, "majorDimension": "ROWS", "values": input.values})))
}

/// `row` keyed by `header` (a header cell that is empty or repeated gets the
/// column letter).
fn record(header: &Value, row: &Value) -> Value {
    let names = header.as_array().cloned().unwrap_or_default();
    let cells = row.as_array().cloned().unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        let mut key = match name {
            Value::String(s) if !s.trim().is_empty() => s.clone(),
            Value::Null => column(i),
            other if other.as_str().is_none() => other.to_string(),
            _ => column(i),
        };
        if out.contains_key(&key) {
            key = column(i);
        }
        out.insert(key, cells.get(i).cloned().unwrap_or(json!("")));
    }
    Value::Object(out)
}

/// The column letter of 0-based `i` (0 -> A, 26 -> AA).
fn column(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn read_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "required": ["spreadsheet_id", "range"],
        "properties": {
            "spreadsheet_id": {"type": "string", "minLength": 1, "description": "The id in the sheet's URL (after /d/)."},
            "range": {"type": "string", "minLength": 1, "description": "A1 notation, e.g. `Orders!A1:D`."},
            "value_render_option": {"enum": RENDER, "default": "FORMATTED_VALUE"}
        }
    })
}

fn write_schema(append: bool) -> Value {
    let mut s = json!({
        "type": "object", "additionalProperties": false,
        "required": ["spreadsheet_id", "range", "values"],
        "properties": {
            "spreadsheet_id": {"type": "string", "minLength": 1},
            "range": {"type": "string", "minLength": 1},
            "values": {"type": "array", "minItems": 1, "items": {"type": "array"}, "description": "Rows of cells."},
            "value_input_option": {"enum": INPUT, "default": "USER_ENTERED", "description": "USER_ENTERED parses like typing (formulas, dates); RAW stores as given."}
        }
    });
    if append {
        s["properties"]["insert_data_option"] = json!({"enum": INSERT, "default": "OVERWRITE"});
    }
    s
}

fn values_schema() -> Value {
    json!({
        "type": "object", "required": ["range", "values"],
        "properties": {
            "range": {"type": "string"},
            "majorDimension": {"type": "string"},
            "values": {"type": "array", "items": {"type": "array"}}
        }
    })
}

weft_sdk::export!(Sheets, trigger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_columns() {
        assert_eq!(column(0), "A");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(
            record(&json!(["name", "", "name"]), &json!(["a", "b"])),
            json!({"name": "a", "B": "b", "C": ""})
        );
    }

    #[test]
    fn ids_and_ranges_are_checked_and_encoded() {
        assert_eq!(
            values_path("1BxiM_v-2", "Class Data!A2:E", ":append").unwrap(),
            "/v4/spreadsheets/1BxiM_v-2/values/Class%20Data%21A2%3AE:append"
        );
        assert!(values_path("a/b", "A1", "").is_err());
        assert!(values_path("abc", " ", "").is_err());
    }
}
