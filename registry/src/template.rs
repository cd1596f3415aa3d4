//! Workflow templates (docs/REGISTRY.md, section 9): a workflow definition
//! with metadata and parameters that are **placed by JSON pointer**, never by
//! text substitution, so the template's own `{{ trigger.body }}` expressions
//! are never touched.
//!
//! ```
//! use serde_json::json;
//! use weft_registry::Template;
//!
//! let doc = json!({
//!     "name": "echo", "description": "Answers with a greeting.", "category": "demo",
//!     "difficulty": "beginner",
//!     "parameters": {"type": "object", "properties": {
//!         "greeting": {"type": "string", "default": "Hello"}
//!     }},
//!     "placements": {"greeting": ["/vars/greeting"]},
//!     "examples": [{"title": "default", "parameters": {}}],
//!     "definition": {"name": "echo", "vars": {"greeting": "Hi"}, "steps": [
//!         {"id": "reply", "kind": "respond", "body": "{{ vars.greeting }}, {{ trigger.body }}"}
//!     ]}
//! });
//! let template = Template::parse(doc.to_string().as_bytes()).unwrap();
//! template.check(&Vec::<weft_types::Manifest>::new()).unwrap();
//! let def = template.instantiate(&json!({"greeting": "Bonjour"})).unwrap();
//! assert_eq!(def["vars"]["greeting"], "Bonjour");
//! assert_eq!(def["steps"][0]["body"], "{{ vars.greeting }}, {{ trigger.body }}");
//! ```

mod check;
mod params;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use weft_engine::template::pointer_escape;
use weft_types::Problem;

/// The largest template document accepted, in bytes (a definition may be
/// 1 MiB; the metadata, schema and examples get another MiB).
pub const MAX_BYTES: usize = 2 * 1024 * 1024;

/// Most problems reported for one document.
const MAX_PROBLEMS: usize = 100;

/// A template document, parsed and checked for consistency ([`Template::parse`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// `[a-z0-9-]`, 1–64 characters; the package name it is published under.
    pub name: String,
    /// What it does, for the template's page (several sentences welcome).
    pub description: String,
    /// One category, e.g. `ai`, `alerting`, `integration`, `approval`, `reporting`.
    pub category: String,
    /// Search keywords.
    pub tags: Vec<String>,
    /// How much the user has to know to adapt it.
    pub difficulty: Difficulty,
    /// Connector name -> semver range it needs (`{"slack": "^0.1"}`).
    pub requires: BTreeMap<String, String>,
    /// A JSON Schema of type `object`; each of its `properties` is a parameter.
    pub parameters: Value,
    /// Parameter -> JSON pointers into `definition` where its value goes.
    pub placements: BTreeMap<String, Vec<String>>,
    /// Parameter sets that work, shown as examples and checked at publish.
    pub examples: Vec<Example>,
    /// The workflow definition (docs/WORKFLOWS.md) the parameters are placed in.
    pub definition: Value,
}

/// How much the user has to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    /// Fill the parameters and run.
    Beginner,
    /// Reads well with some knowledge of the connectors.
    Intermediate,
    /// Expect to edit the definition.
    Advanced,
}

/// One set of parameters that works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// What this example shows.
    pub title: String,
    /// The parameters (defaults fill what is left out).
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// Every problem of a template, or of a use of it, each with its JSON path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", list(.0))]
pub struct Problems(pub Vec<Problem>);

fn list(problems: &[Problem]) -> String {
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    shown.join("; ")
}

const FIELDS: [&str; 10] = [
    "name",
    "description",
    "category",
    "tags",
    "difficulty",
    "requires",
    "parameters",
    "placements",
    "examples",
    "definition",
];
const REQUIRED: [&str; 6] = [
    "name",
    "description",
    "category",
    "difficulty",
    "parameters",
    "definition",
];

impl Template {
    /// Parses a template document (JSON) and checks it is consistent in
    /// itself: known fields of the right types, a valid `name`, `requires`
    /// ranges that parse, a compilable parameter schema of type `object`,
    /// every parameter placed and every placement a declared parameter at a
    /// pointer that exists in the definition (no two overlapping), and every
    /// example satisfying the schema. Whether the definition is a valid
    /// workflow is [`Template::check`]'s question (it needs a catalogue).
    ///
    /// # Errors
    /// [`Problems`], every one found (at most 100), each with its JSON path
    /// in the document (`/placements/channel/0`, `/examples/1/parameters/url`).
    pub fn parse(bytes: &[u8]) -> Result<Self, Problems> {
        if bytes.len() > MAX_BYTES {
            return Err(one(
                "",
                format!(
                    "template is {} bytes, more than the limit of {MAX_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| one("", format!("template is not valid JSON: {e}")))?;
        let Value::Object(doc) = doc else {
            return Err(one("", "a template must be a JSON object"));
        };
        let mut out = Vec::new();
        for key in doc.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            out.push(Problem::new(
                format!("/{}", pointer_escape(key)),
                format!(
                    "unknown field `{key}`, expected one of {}",
                    FIELDS.join(", ")
                ),
            ));
        }
        for key in REQUIRED.iter().filter(|k| !doc.contains_key(**k)) {
            out.push(Problem::new("", format!("missing field `{key}`")));
        }
        let t = Self {
            name: field(&doc, "name", &mut out),
            description: field(&doc, "description", &mut out),
            category: field(&doc, "category", &mut out),
            tags: field(&doc, "tags", &mut out),
            difficulty: field::<Option<Difficulty>>(&doc, "difficulty", &mut out)
                .unwrap_or(Difficulty::Beginner),
            requires: field(&doc, "requires", &mut out),
            parameters: field(&doc, "parameters", &mut out),
            placements: field(&doc, "placements", &mut out),
            examples: field(&doc, "examples", &mut out),
            definition: field(&doc, "definition", &mut out),
        };
        if out.is_empty() {
            t.consistency(&mut out);
        }
        finish(out).map(|()| t)
    }

    /// The definition with `params` placed: the parameters are checked
    /// against the schema (after the schema's `default`s fill the absent
    /// ones), then each value replaces what the definition holds at each of
    /// its pointers. A string value goes in as it is: if it holds `{{ }}`,
    /// it is an expression of the resulting workflow, validated with it. A
    /// parameter left out that has no default leaves the definition's own
    /// value at its pointers.
    ///
    /// # Errors
    /// [`Problems`] naming each parameter and what is wrong with it
    /// (`/channel: parameter `channel`: "" is shorter than 1 character`).
    pub fn instantiate(&self, params: &Value) -> Result<Value, Problems> {
        let params = match params {
            Value::Null => Map::new(),
            Value::Object(m) => m.clone(),
            other => {
                return Err(one(
                    "",
                    format!(
                        "parameters must be a JSON object, not {}",
                        weft_engine::template::type_name(other)
                    ),
                ));
            }
        };
        let params = params::with_defaults(&self.parameters, params);
        let mut out = Vec::new();
        params::validate(&self.parameters, &params, "", &mut out);
        finish(out)?;
        let mut def = self.definition.clone();
        for (name, pointers) in &self.placements {
            let Some(value) = params.get(name) else {
                continue;
            };
            for pointer in pointers {
                // Checked at parse: every pointer exists and none is inside another.
                if let Some(slot) = def.pointer_mut(pointer) {
                    *slot = value.clone();
                }
            }
        }
        Ok(def)
    }

    /// The required connectors the tenant lacks, as (name, range): `has`
    /// answers the version of a connector the tenant can use (bundled or
    /// installed), `None` when it has none. A version outside the range
    /// counts as missing, so the caller can name the install (or upgrade)
    /// that would provide it.
    pub fn missing_connectors(
        &self,
        has: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        self.requires
            .iter()
            .filter(|(name, range)| !check::satisfies(range, has(name).as_deref()))
            .map(|(n, r)| (n.clone(), r.clone()))
            .collect()
    }

    /// The metadata shown on the template's page and in search: everything
    /// but the definition and placements.
    pub fn metadata(&self) -> Value {
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "tags": self.tags,
            "difficulty": self.difficulty,
            "requires": self.requires,
            "parameters": self.parameters,
            "examples": self.examples,
        })
    }

    fn consistency(&self, out: &mut Vec<Problem>) {
        if self.name.is_empty()
            || self.name.len() > 64
            || !self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            out.push(Problem::new(
                "/name",
                format!(
                    "`{}` is not a template name (1-64 of a-z, 0-9, `-`)",
                    self.name
                ),
            ));
        }
        if self.description.trim().is_empty() {
            out.push(Problem::new("/description", "must not be blank"));
        }
        check::requires(&self.requires, out);
        if !self.definition.is_object() {
            out.push(Problem::new(
                "/definition",
                "a workflow definition must be an object",
            ));
        }
        let declared = params::declared(&self.parameters, out);
        self.placement_problems(&declared, out);
        for (i, example) in self.examples.iter().enumerate() {
            let params = params::with_defaults(&self.parameters, example.parameters.clone());
            params::validate(
                &self.parameters,
                &params,
                &format!("/examples/{i}/parameters"),
                out,
            );
        }
    }

    fn placement_problems(&self, declared: &[String], out: &mut Vec<Problem>) {
        let mut all: Vec<(&str, &str)> = Vec::new();
        for (name, pointers) in &self.placements {
            let at = format!("/placements/{}", pointer_escape(name));
            if !declared.contains(name) {
                out.push(Problem::new(
                    &at,
                    format!("placement of `{name}`, which /parameters/properties does not declare"),
                ));
            }
            if pointers.is_empty() {
                out.push(Problem::new(&at, format!("`{name}` is placed nowhere")));
            }
            for (i, pointer) in pointers.iter().enumerate() {
                let at = format!("{at}/{i}");
                if !pointer.starts_with('/') {
                    out.push(Problem::new(
                        at,
                        format!(
                            "`{pointer}` is not a JSON pointer into the definition (it starts with `/`)"
                        ),
                    ));
                } else if self.definition.pointer(pointer).is_none() {
                    out.push(Problem::new(
                        at,
                        format!("`{pointer}` does not exist in the definition"),
                    ));
                } else if let Some((other, p)) = all
                    .iter()
                    .find(|(_, p)| contains(p, pointer) || contains(pointer, p))
                {
                    out.push(Problem::new(
                        at,
                        format!("`{pointer}` overlaps `{p}`, where `{other}` is placed"),
                    ));
                } else {
                    all.push((name, pointer));
                }
            }
        }
        for name in declared
            .iter()
            .filter(|n| !self.placements.contains_key(*n))
        {
            out.push(Problem::new(
                format!("/parameters/properties/{}", pointer_escape(name)),
                format!("parameter `{name}` is placed nowhere (give it pointers in /placements)"),
            ));
        }
    }
}

/// Whether pointer `outer` is `inner` or one of its ancestors.
fn contains(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// One field of the document, typed; a missing one is the type's default
/// (a missing required field was reported already), a wrongly typed one is
/// reported with its path.
fn field<T: DeserializeOwned + Default>(
    doc: &Map<String, Value>,
    key: &str,
    out: &mut Vec<Problem>,
) -> T {
    let Some(value) = doc.get(key) else {
        return T::default();
    };
    serde_path_to_error::deserialize::<_, T>(value).unwrap_or_else(|e| {
        let mut path = format!("/{key}");
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => {
                    path.push_str(&format!("/{}", pointer_escape(key)));
                }
                _ => {}
            }
        }
        out.push(Problem::new(path, e.into_inner().to_string()));
        T::default()
    })
}

fn one(path: &str, message: impl Into<String>) -> Problems {
    Problems(vec![Problem::new(path, message)])
}

fn finish(mut out: Vec<Problem>) -> Result<(), Problems> {
    if out.is_empty() {
        return Ok(());
    }
    if out.len() > MAX_PROBLEMS {
        let more = out.len() - MAX_PROBLEMS;
        out.truncate(MAX_PROBLEMS);
        out.push(Problem::new("", format!("... and {more} more problems")));
    }
    Err(Problems(out))
}
