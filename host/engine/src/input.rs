//! A workflow's declared input: its `input_schema` (a JSON Schema, draft
//! 2020-12, of `trigger.body`), checked on every start that carries a body
//! before the run is created, and how the workflow is named as an MCP tool.
//!
//! ```
//! use serde_json::json;
//! use weft_engine::input;
//!
//! let def: weft_types::Definition = serde_json::from_value(json!({
//!     "name": "Refund lookup",
//!     "input_schema": {"type": "object", "required": ["order_id"],
//!                      "properties": {"order_id": {"type": "string"}}},
//!     "mcp": {"expose": true},
//!     "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
//! })).unwrap();
//! assert!(input::check(&def, &json!({"order_id": "ord_1"})).is_ok());
//! let problems = input::check(&def, &json!({"order_id": 42})).unwrap_err();
//! assert_eq!(
//!     input::summary(&problems),
//!     "the input does not match the workflow's input_schema: /order_id must be a string, got 42"
//! );
//! assert_eq!(input::tool_name(&def).as_deref(), Some("refund_lookup"));
//! ```
//!
//! Schemas are compiled with the `jsonschema` crate, offline (a `$ref`
//! outside the schema is refused, never fetched), with `format` asserted and
//! `pattern` on a linear-time regex engine with a size limit. Compiled
//! schemas are kept in a bounded process-wide cache keyed by the schema's
//! text, so a start pays for the check, not for compiling.

use crate::template::pointer_escape;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{PatternOptions, ValidationError, Validator};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use weft_types::{Definition, Problem};

/// Most problems one check reports (then one more saying there are more).
pub const MAX_PROBLEMS: usize = 20;
/// Largest schema (`input_schema`, `output_schema`) as compact JSON, in bytes.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Deepest nesting of arrays and objects inside one schema.
pub const MAX_SCHEMA_DEPTH: usize = 32;
/// Longest MCP tool name (`mcp.name`, and the default one), in characters.
pub const MAX_TOOL_NAME: usize = 64;
/// Longest `mcp.description`, in characters.
pub const MAX_TOOL_DESCRIPTION: usize = 1_000;

/// The largest compiled `pattern`, in bytes.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// Longest value quoted in a message, in characters.
const MAX_QUOTE: usize = 40;
/// Longest message kept from the validator when no better one is known.
pub const MAX_MESSAGE: usize = 300;
/// Most compiled schemas kept, and the most bytes of schema text they hold.
const CACHE_ENTRIES: usize = 1_024;
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Checks a start's body against the workflow's `input_schema` (a workflow
/// without one accepts any body).
///
/// # Errors
/// Every problem (at most [`MAX_PROBLEMS`], then one saying there are
/// more), each at the JSON pointer inside the body (`/order_id`, `""` for
/// the body itself) with what is wrong ("is required", "must be a string,
/// got 42").
pub fn check(def: &Definition, body: &Value) -> Result<(), Vec<Problem>> {
    let Some(schema) = &def.input_schema else {
        return Ok(());
    };
    let validator = compiled(schema).map_err(|e| {
        vec![Problem::new(
            "",
            format!("the workflow's input_schema is not a usable JSON Schema: {e}"),
        )]
    })?;
    if validator.is_valid(body) {
        return Ok(());
    }
    let mut out = Vec::new();
    for e in validator.iter_errors(body) {
        if out.len() >= MAX_PROBLEMS {
            out.push(Problem::new(
                "",
                format!("... and more problems (at most {MAX_PROBLEMS} are listed)"),
            ));
            break;
        }
        problems_of(&e, &mut out);
    }
    out.truncate(MAX_PROBLEMS + 1);
    Err(out)
}

/// [`check`] of a run's trigger payload (`{"body": ...}`, plus `query` and
/// `headers` for a webhook): its `body`, `null` when it has none.
///
/// # Errors
/// As [`check`].
pub fn check_trigger(def: &Definition, trigger: &Value) -> Result<(), Vec<Problem>> {
    check(def, trigger.get("body").unwrap_or(&Value::Null))
}

/// One sentence for the API's `message`, naming the first problem: "the
/// input does not match the workflow's input_schema: /order_id is required"
/// (and how many more there are).
pub fn summary(problems: &[Problem]) -> String {
    let first = problems.first().map_or_else(
        || "it was refused".to_owned(),
        |p| {
            if p.path.is_empty() {
                format!("the body {}", p.message)
            } else {
                format!("{} {}", p.path, p.message)
            }
        },
    );
    let more = match problems.len() {
        0 | 1 => String::new(),
        2 => " (and 1 more problem)".to_owned(),
        n => format!(" (and {} more problems)", n - 1),
    };
    format!("the input does not match the workflow's input_schema: {first}{more}")
}

/// The name of the workflow's MCP tool, when it is exposed
/// (`mcp.expose: true`): `mcp.name`, else [`snake_case`] of its name.
pub fn tool_name(def: &Definition) -> Option<String> {
    let mcp = def.mcp.as_ref().filter(|m| m.expose)?;
    Some(match &mcp.name {
        Some(name) => name.clone(),
        None => snake_case(&def.name),
    })
}

/// A workflow name as a tool name: lower-case ASCII letters and digits
/// kept, every other run of characters one `_`, no `_` at either end, at
/// most [`MAX_TOOL_NAME`] characters; `workflow` when nothing is left.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    out.truncate(MAX_TOOL_NAME);
    let trimmed = out.trim_end_matches('_');
    if trimmed.is_empty() {
        "workflow".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Whether `name` may be a tool name: `^[A-Za-z0-9_-]{1,64}$`.
pub fn is_tool_name(name: &str) -> bool {
    (1..=MAX_TOOL_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reports at `path` what makes `schema` unusable: too large, too deep, or
/// not a JSON Schema that compiles (an unknown type, a bad pattern, a `$ref`
/// outside the schema).
pub fn schema_problems(schema: &Value, path: &str, out: &mut Vec<Problem>) {
    let size = serde_json::to_string(schema).map_or(usize::MAX, |s| s.len());
    if size > MAX_SCHEMA_BYTES {
        out.push(Problem::new(
            path,
            format!("the schema is {size} bytes, more than the limit of {MAX_SCHEMA_BYTES}"),
        ));
        return;
    }
    if nests_deeper(schema, MAX_SCHEMA_DEPTH) {
        out.push(Problem::new(
            path,
            format!("the schema nests deeper than {MAX_SCHEMA_DEPTH} levels"),
        ));
        return;
    }
    if !matches!(schema, Value::Object(_) | Value::Bool(_)) {
        out.push(Problem::new(
            path,
            "must be a JSON Schema: an object (or true/false)",
        ));
        return;
    }
    if let Err(e) = compiled(schema) {
        out.push(Problem::new(path, format!("not a usable JSON Schema: {e}")));
    }
}

fn nests_deeper(v: &Value, limit: usize) -> bool {
    match v {
        Value::Array(_) | Value::Object(_) if limit == 0 => true,
        Value::Array(a) => a.iter().any(|x| nests_deeper(x, limit - 1)),
        Value::Object(o) => o.values().any(|x| nests_deeper(x, limit - 1)),
        _ => false,
    }
}

/// Compiled schemas by their compact JSON text.
#[derive(Default)]
struct Cache {
    map: HashMap<String, Arc<Validator>>,
    bytes: usize,
}

static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

/// The compiled form of `schema`, from the cache or compiled now (and kept).
fn compiled(schema: &Value) -> Result<Arc<Validator>, String> {
    let key = serde_json::to_string(schema).map_err(|e| e.to_string())?;
    // A panic while holding the lock leaves a map that is still consistent.
    let lock = || {
        CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(v) = lock().map.get(&key) {
        return Ok(Arc::clone(v));
    }
    let validator = Arc::new(compile(schema)?);
    let mut cache = lock();
    if cache.map.len() >= CACHE_ENTRIES || cache.bytes + key.len() > CACHE_BYTES {
        *cache = Cache::default();
    }
    if key.len() <= CACHE_BYTES {
        cache.bytes += key.len();
        cache.map.insert(key, Arc::clone(&validator));
    }
    Ok(validator)
}

/// A JSON Schema compiled the one way Weft compiles a schema it was given
/// (a workflow's `input_schema`, a template's parameters): offline (a `$ref`
/// outside the schema is refused, never fetched), `format` checked, patterns
/// on the linear-time `regex` engine with a size limit. The error is the
/// validator's, clipped.
///
/// # Errors
/// The schema does not compile.
pub fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .offline()
        .should_validate_formats(true)
        .with_pattern_options(PatternOptions::regex().size_limit(PATTERN_SIZE_LIMIT))
        .build(schema)
        .map_err(|e| clip(e.to_string(), MAX_MESSAGE))
}

/// The problems one validator error stands for, in the body's terms.
fn problems_of(e: &ValidationError<'_>, out: &mut Vec<Problem>) {
    let at = e.instance_path().to_string();
    let value = e.instance();
    let named = |props: &[String], out: &mut Vec<Problem>, why: &str| {
        for p in props {
            out.push(Problem::new(
                format!("{at}/{}", pointer_escape(p)),
                why.to_owned(),
            ));
        }
    };
    let message = match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            out.push(Problem::new(
                format!("{at}/{}", pointer_escape(&name)),
                "is required",
            ));
            return;
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            named(unexpected, out, "is not an allowed property");
            return;
        }
        ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            named(unexpected, out, "is not an allowed property");
            return;
        }
        ValidationErrorKind::Type { kind } => {
            let wanted: Vec<&str> = match kind {
                TypeKind::Single(t) => vec![t.as_str()],
                TypeKind::Multiple(ts) => ts.iter().map(|t| t.as_str()).collect(),
            };
            let wanted: Vec<String> = wanted.into_iter().map(article).collect();
            format!("must be {}, got {}", wanted.join(" or "), quote(value))
        }
        ValidationErrorKind::Enum { options } => {
            let list: Vec<String> = match options.as_ref() {
                Value::Array(o) => o.iter().take(10).map(quote).collect(),
                other => vec![quote(other)],
            };
            format!("must be one of {}, got {}", list.join(", "), quote(value))
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("must be {}, got {}", quote(expected_value), quote(value))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("must be at least {limit} characters long")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("must be at most {limit} characters long")
        }
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}, got {value}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}, got {value}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("must be greater than {limit}, got {value}")
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("must be less than {limit}, got {value}")
        }
        ValidationErrorKind::MultipleOf { multiple_of } => {
            format!("must be a multiple of {multiple_of}, got {value}")
        }
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::MinProperties { limit } => {
            format!("must have at least {limit} properties")
        }
        ValidationErrorKind::MaxProperties { limit } => {
            format!("must have at most {limit} properties")
        }
        ValidationErrorKind::UniqueItems => "must not repeat an item".to_owned(),
        ValidationErrorKind::Pattern { pattern } => {
            format!(
                "must match the pattern `{}`",
                clip(pattern.clone(), MAX_QUOTE * 2)
            )
        }
        ValidationErrorKind::Format { format } => {
            format!("must be a valid {format}, got {}", quote(value))
        }
        ValidationErrorKind::FalseSchema => "is not allowed".to_owned(),
        ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
            "matches none of the shapes the schema allows here".to_owned()
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            "matches more than one of the shapes of `oneOf` here".to_owned()
        }
        ValidationErrorKind::Not { .. } => "matches a shape the schema refuses (`not`)".to_owned(),
        ValidationErrorKind::Contains => "must contain an item the schema allows".to_owned(),
        _ => clip(e.to_string(), MAX_MESSAGE),
    };
    out.push(Problem::new(at, message));
}

/// `string` -> `a string`, `integer` -> `an integer`; `null` stays `null`.
fn article(t: &str) -> String {
    match t {
        "null" => "null".to_owned(),
        "array" | "integer" | "object" => format!("an {t}"),
        _ => format!("a {t}"),
    }
}

/// A value as shown in a message: scalars as JSON (long strings cut),
/// arrays and objects by their kind.
fn quote(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::String(s) if s.chars().count() > MAX_QUOTE => {
            let cut: String = s.chars().take(MAX_QUOTE).collect();
            format!("{}...", Value::String(cut))
        }
        other => other.to_string(),
    }
}

/// `s` cut to at most `max` bytes (at a character boundary), with `...`
/// when it was cut: a validator's message quotes the value it refused.
pub fn clip(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
