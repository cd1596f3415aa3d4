//! A template against a connector catalogue: the connectors it uses are the
//! ones it requires, at versions in range, and its definition validates once
//! each example's parameters (or the defaults) are placed.

use super::{Problems, Template, finish, pointer_escape};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use weft_engine::{Catalog, DefinitionLimits, definition, validate};
use weft_types::Problem;

impl Template {
    /// Checks the template against `catalog` (the connectors a tenant can
    /// use, or at publish the ones it names): every connector an action step
    /// uses is in `requires`, every required connector is used and is in the
    /// catalogue at a version in its range, and for each example (or, with
    /// none, the defaults alone) the placed definition parses and validates
    /// as a workflow (docs/WORKFLOWS.md).
    ///
    /// # Errors
    /// [`Problems`], every one found: paths into the document
    /// (`/definition/steps/1/input/channel`), each definition problem naming
    /// the example it was found with.
    pub fn check(&self, catalog: &dyn Catalog) -> Result<(), Problems> {
        let mut out = Vec::new();
        let mut used = BTreeMap::new();
        connectors(self.definition.get("steps"), "/definition/steps", &mut used);
        for (name, at) in &used {
            if !self.requires.contains_key(name) {
                out.push(Problem::new(
                    at,
                    format!(
                        "connector `{name}` is used but not in /requires (add `\"{name}\": \"^<major>.<minor>\"`)"
                    ),
                ));
            }
        }
        for (name, range) in &self.requires {
            let at = format!("/requires/{}", pointer_escape(name));
            if !used.contains_key(name) {
                out.push(Problem::new(
                    &at,
                    format!("no step uses connector `{name}`"),
                ));
            }
            match catalog.connector(name) {
                None => out.push(Problem::new(
                    at,
                    format!("connector `{name}` is not in the catalogue"),
                )),
                Some(m) if !satisfies(range, Some(&m.version)) => out.push(Problem::new(
                    at,
                    format!(
                        "the catalogue's `{name}` is version {}, outside `{range}`",
                        m.version
                    ),
                )),
                Some(_) => {}
            }
        }
        let sets: Vec<(String, serde_json::Map<String, Value>, String)> =
            if self.examples.is_empty() {
                vec![(String::new(), serde_json::Map::new(), "the defaults".into())]
            } else {
                self.examples
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        (
                            format!("/examples/{i}/parameters"),
                            e.parameters.clone(),
                            format!("example {i} (`{}`)", e.title),
                        )
                    })
                    .collect()
            };
        let limits = DefinitionLimits::default();
        let mut seen = BTreeSet::new();
        for (prefix, params, which) in sets {
            let def = match self.instantiate(&Value::Object(params)) {
                Ok(def) => def,
                Err(Problems(ps)) => {
                    out.extend(
                        ps.into_iter()
                            .map(|p| Problem::new(format!("{prefix}{}", p.path), p.message)),
                    );
                    continue;
                }
            };
            let problems = match definition::from_value(def, &limits) {
                Ok(def) => validate::check(&def, catalog, &limits),
                Err(e) => e.problems(),
            };
            for p in problems {
                if seen.insert((p.path.clone(), p.message.clone())) {
                    out.push(Problem::new(
                        format!("/definition{}", p.path),
                        format!("{} (with the parameters of {which})", p.message),
                    ));
                }
            }
        }
        finish(out)
    }
}

/// Reports at `/requires/<name>` each range that is not a semver range.
/// Most connectors a template may require (each is looked up at publish
/// and at use: the bound keeps that work small).
pub const MAX_REQUIRES: usize = 32;

pub(super) fn requires(requires: &BTreeMap<String, String>, out: &mut Vec<Problem>) {
    if requires.len() > MAX_REQUIRES {
        out.push(Problem::new(
            "/requires",
            format!(
                "{} connectors; a template requires at most {MAX_REQUIRES}",
                requires.len()
            ),
        ));
        return;
    }
    for (name, range) in requires {
        if let Err(e) = semver::VersionReq::parse(range) {
            out.push(Problem::new(
                format!("/requires/{}", pointer_escape(name)),
                format!("`{range}` is not a semver range (e.g. `^0.1`): {e}"),
            ));
        }
    }
}

/// Whether `version` is in `range` (false when either does not parse, or
/// there is no version).
pub(super) fn satisfies(range: &str, version: Option<&str>) -> bool {
    let (Ok(req), Some(Ok(v))) = (
        semver::VersionReq::parse(range),
        version.map(semver::Version::parse),
    ) else {
        return false;
    };
    req.matches(&v)
}

/// The connectors of the action steps under `steps` (loop bodies included),
/// each with the path of its first use.
fn connectors(steps: Option<&Value>, at: &str, used: &mut BTreeMap<String, String>) {
    let Some(Value::Array(steps)) = steps else {
        return;
    };
    for (i, step) in steps.iter().enumerate() {
        let here = format!("{at}/{i}");
        if step.get("kind").and_then(Value::as_str) == Some("action")
            && let Some(name) = step.get("connector").and_then(Value::as_str)
        {
            used.entry(name.to_string())
                .or_insert_with(|| format!("{here}/connector"));
        }
        connectors(step.get("body"), &format!("{here}/body"), used);
    }
}
