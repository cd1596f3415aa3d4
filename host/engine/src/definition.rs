//! Parsing definitions from JSON or YAML, refusing bombs early.
//!
//! Order of checks, cheapest first: byte size; nesting depth (a byte scan for JSON
//! before any allocation; the parser's budget for YAML, which also bounds aliases and
//! nodes); step count; unknown fields of steps (all of them); then typed
//! deserialization (the first shape error, with its path).

use crate::template::pointer_escape;
use crate::{DefinitionLimits, Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;
use std::fmt;
use weft_types::{
    ActionStep, CodeStep, ConditionStep, Definition, LoopStep, Problem, RespondStep, RetrySpec,
    StepDef, SubworkflowStep, SwitchStep, WaitStep,
};

/// The syntax of a definition document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML 1.2 (same shape as JSON).
    Yaml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Yaml => "YAML",
        })
    }
}

/// Parses a definition document.
///
/// # Errors
/// [`Error::TooLarge`], [`Error::TooDeep`], [`Error::Syntax`], or [`Error::Invalid`]
/// for a document of the wrong shape. Semantic checks are [`crate::validate`]'s.
pub fn parse(bytes: &[u8], format: Format, limits: &DefinitionLimits) -> Result<Definition> {
    if bytes.len() > limits.max_bytes {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let value = match format {
        Format::Json => {
            json_depth(bytes, limits.max_depth)?;
            serde_json::from_slice::<Value>(bytes).map_err(|e| Error::Syntax {
                format,
                message: e.to_string(),
            })?
        }
        Format::Yaml => yaml(bytes, limits)?,
    };
    from_value(value, limits)
}

fn yaml(bytes: &[u8], limits: &DefinitionLimits) -> Result<Value> {
    let syntax = |message: String| Error::Syntax {
        format: Format::Yaml,
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| syntax(e.to_string()))?;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = limits.max_depth;
    budget.flow_nesting_limit = limits.max_depth;
    budget.max_nodes = limits.max_bytes / 2;
    budget.max_events = limits.max_bytes;
    // Anchors and aliases are rare in workflows; keep their expansion small (billion laughs).
    budget.max_aliases = 200;
    budget.max_anchors = 200;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = limits.max_bytes;
    budget.max_recorded_anchor_events = 10_000;
    budget.max_recorded_anchor_bytes = limits.max_bytes / 4;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Value>(text, options).map_err(|e| {
        // The parser's message comes with a source snippet; keep its first line.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        syntax(first.trim_start_matches("error: ").to_string())
    })
}

/// Scans JSON bytes for nesting deeper than `limit` without parsing them.
fn json_depth(bytes: &[u8], limit: usize) -> Result<()> {
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for (i, &c) in bytes.iter().enumerate() {
        if in_str {
            match c {
                _ if esc => esc = false,
                b'\\' => esc = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(Error::TooDeep { limit, offset: i });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn depth_exceeds(v: &Value, limit: usize) -> bool {
    match v {
        _ if limit == 0 => matches!(v, Value::Array(_) | Value::Object(_)),
        Value::Array(a) => a.iter().any(|x| depth_exceeds(x, limit - 1)),
        Value::Object(o) => o.values().any(|x| depth_exceeds(x, limit - 1)),
        _ => false,
    }
}

const COMMON: [&str; 6] = [
    "id",
    "kind",
    "after",
    "retry",
    "timeout_ms",
    "continue_on_fail",
];

fn kind_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "action" => &[
            "connector",
            "action",
            "input",
            "config",
            "credentials",
            "version",
        ],
        "condition" => &["if", "then", "else"],
        "switch" => &["value", "cases", "default"],
        "loop" => &["items", "parallelism", "body"],
        "merge" => &[],
        "subworkflow" => &["workflow", "input"],
        "wait" => &["duration_ms", "until"],
        "respond" => &["status", "headers", "body", "output_schema"],
        "code" => &["code", "language", "items", "hosts", "credentials"],
        _ => return None,
    })
}

/// Builds a definition from an already parsed JSON value (e.g. an API body).
///
/// # Errors
/// [`Error::TooDeep`] or [`Error::Invalid`].
pub fn from_value(value: Value, limits: &DefinitionLimits) -> Result<Definition> {
    if depth_exceeds(&value, limits.max_depth) {
        return Err(Error::TooDeep {
            limit: limits.max_depth,
            offset: 0,
        });
    }
    let mut problems = Vec::new();
    if !value.is_object() {
        return Err(Error::Invalid(vec![Problem::new(
            "",
            "a definition must be an object",
        )]));
    }
    let steps = value.get("steps").unwrap_or(&Value::Null);
    if count_steps(steps) > limits.max_steps {
        return Err(Error::Invalid(vec![Problem::new(
            "/steps",
            format!(
                "more than {} steps (counting loop bodies)",
                limits.max_steps
            ),
        )]));
    }
    step_fields(steps, "/steps", &mut problems, limits.max_problems);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    step_shapes(steps, "/steps", &mut problems, limits.max_problems);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    typed::<Definition>(&value, "").map_err(|p| Error::Invalid(vec![p]))
}

/// Deserializes with the failing field's JSON pointer (prefixed by `base`) in the problem.
fn typed<T: DeserializeOwned>(value: &Value, base: &str) -> std::result::Result<T, Problem> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let mut path = base.to_string();
        for seg in e.path().iter() {
            match seg {
                Segment::Seq { index } => path.push_str(&format!("/{index}")),
                Segment::Map { key } => path.push_str(&format!("/{}", pointer_escape(key))),
                Segment::Enum { .. } | Segment::Unknown => {}
            }
        }
        Problem::new(path, e.into_inner().to_string())
    })
}

/// The fields every step has; deserialized apart so errors carry exact paths
/// (serde loses them through `#[serde(flatten)]`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct Common {
    id: String,
    after: Option<Vec<String>>,
    retry: Option<RetrySpec>,
    timeout_ms: Option<u64>,
    #[serde(default)]
    continue_on_fail: bool,
}

/// Type-checks every step (body steps first), one problem per step part at most.
fn step_shapes(steps: &Value, base: &str, out: &mut Vec<Problem>, limit: usize) {
    let Value::Array(list) = steps else { return };
    for (i, step) in list.iter().enumerate() {
        if out.len() >= limit {
            return;
        }
        let path = format!("{base}/{i}");
        let Value::Object(map) = step else {
            out.push(Problem::new(path, "a step must be an object"));
            continue;
        };
        let (common, own): (Map<String, Value>, Map<String, Value>) = map
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .partition(|(k, _)| COMMON.contains(&k.as_str()) && k != "kind");
        if let Err(p) = typed::<Common>(&Value::Object(common), &path) {
            out.push(p);
        }
        let own = Value::Object(own);
        let result = match map.get("kind").and_then(Value::as_str) {
            Some("action") => typed::<ActionStep>(&own, &path).map(drop),
            Some("condition") => typed::<ConditionStep>(&own, &path).map(drop),
            Some("switch") => typed::<SwitchStep>(&own, &path).map(drop),
            Some("loop") => {
                if let Some(body) = map.get("body") {
                    step_shapes(body, &format!("{path}/body"), out, limit);
                }
                let mut shallow = own.clone();
                if let Some(b) = shallow.get_mut("body").filter(|b| b.is_array()) {
                    *b = Value::Array(Vec::new());
                }
                typed::<LoopStep>(&shallow, &path).map(drop)
            }
            Some("subworkflow") => typed::<SubworkflowStep>(&own, &path).map(drop),
            Some("wait") => typed::<WaitStep>(&own, &path).map(drop),
            Some("respond") => typed::<RespondStep>(&own, &path).map(drop),
            Some("code") => typed::<CodeStep>(&own, &path).map(drop),
            _ => typed::<StepDef>(step, &path).map(drop),
        };
        if let Err(p) = result {
            out.push(p);
        }
    }
}

fn count_steps(steps: &Value) -> usize {
    let Value::Array(list) = steps else { return 0 };
    list.iter()
        .map(|s| 1 + s.get("body").map_or(0, count_steps))
        .fold(0, usize::saturating_add)
}

/// Reports unknown and misplaced fields of every step, and unknown kinds.
fn step_fields(steps: &Value, base: &str, out: &mut Vec<Problem>, limit: usize) {
    let Value::Array(list) = steps else { return };
    for (i, step) in list.iter().enumerate() {
        let Value::Object(map) = step else { continue };
        let path = format!("{base}/{i}");
        let kind = match map.get("kind") {
            Some(Value::String(k)) => k.as_str(),
            Some(_) => continue, // typed deserialization names the type error
            None => {
                out.push(Problem::new(&path, "missing field `kind`"));
                continue;
            }
        };
        let Some(fields) = kind_fields(kind) else {
            out.push(Problem::new(
                format!("{path}/kind"),
                format!("unknown step kind `{kind}` (expected action, condition, switch, loop, merge, subworkflow, wait, respond or code)"),
            ));
            continue;
        };
        for key in map.keys() {
            if !COMMON.contains(&key.as_str())
                && !fields.contains(&key.as_str())
                && out.len() < limit
            {
                out.push(Problem::new(
                    format!("{path}/{}", pointer_escape(key)),
                    format!("unknown field `{key}` in a `{kind}` step"),
                ));
            }
        }
        if kind == "loop"
            && let Some(body) = map.get("body")
        {
            step_fields(body, &format!("{path}/body"), out, limit);
        }
    }
}

#[cfg(test)]
#[path = "definition_tests.rs"]
mod tests;
