//! Semantic validation of a parsed definition: every problem, each with its path.

use crate::graph::Graph;
use crate::retry::Policy;

use crate::template::pointer_escape;
use crate::{DefinitionLimits, Error, Result, schema};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use weft_types::{Definition, Manifest, Problem, StepDef, StepKind};

/// Longest script a code step may hold, in bytes (the `code` connector's own limit).
const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// Where validation looks up connectors (bundled and installed for the tenant).
pub trait Catalog {
    /// The manifest of the connector called `name`.
    fn connector(&self, name: &str) -> Option<&Manifest>;
}

impl Catalog for [Manifest] {
    fn connector(&self, name: &str) -> Option<&Manifest> {
        self.iter().find(|m| m.name == name)
    }
}

impl Catalog for Vec<Manifest> {
    fn connector(&self, name: &str) -> Option<&Manifest> {
        self.as_slice().connector(name)
    }
}

impl Catalog for HashMap<String, Manifest> {
    fn connector(&self, name: &str) -> Option<&Manifest> {
        self.get(name)
    }
}

impl Catalog for BTreeMap<String, Manifest> {
    fn connector(&self, name: &str) -> Option<&Manifest> {
        self.get(name)
    }
}

/// Validates a definition.
///
/// # Errors
/// [`Error::Invalid`] with every problem found (at most [`DefinitionLimits::max_problems`]).
pub fn validate(def: &Definition, catalog: &dyn Catalog, limits: &DefinitionLimits) -> Result<()> {
    let problems = check(def, catalog, limits);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(problems))
    }
}

/// Every problem of a definition (empty when it is valid).
pub fn check(def: &Definition, catalog: &dyn Catalog, limits: &DefinitionLimits) -> Vec<Problem> {
    let mut c = Checker {
        catalog,
        limits,
        def,
        out: Vec::new(),
        all: HashMap::new(),
    };
    c.workflow();
    let max = limits.max_problems;
    if c.out.len() > max {
        let more = c.out.len() - max;
        c.out.truncate(max);
        c.out
            .push(Problem::new("", format!("... and {more} more problems")));
    }
    c.out
}

/// What templates of one step can read: its ancestors in its list, what the
/// enclosing loop step could read, and `item`/`index` inside loop bodies.
#[derive(Default)]
struct Scope<'s> {
    graph: Option<&'s Graph>,
    ancestors: Vec<bool>,
    parent: Option<&'s Scope<'s>>,
    in_loop: bool,
}

impl Scope<'_> {
    fn sees(&self, id: &str) -> bool {
        let here = self.graph.and_then(|g| g.index_of(id));
        here.is_some_and(|j| self.ancestors.get(j).copied().unwrap_or(false))
            || self.parent.is_some_and(|p| p.sees(id))
    }
}

struct Checker<'a> {
    catalog: &'a dyn Catalog,
    limits: &'a DefinitionLimits,
    def: &'a Definition,
    out: Vec<Problem>,
    /// Every step id in the definition -> (path of its step list, index).
    all: HashMap<&'a str, (String, usize)>,
}

fn is_ident(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && s.len() <= 64
}

/// A credential slot name as a manifest may declare it (`weft_types::Manifest`):
/// 1-64 lower-case letters, digits, `-` or `_` (the bundled `llm` and `slack`
/// connectors declare `api-key` and `bot-token`).
fn is_slot_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn count(steps: &[StepDef]) -> usize {
    steps
        .iter()
        .map(|s| {
            1 + if let StepKind::Loop(l) = &s.kind {
                count(&l.body)
            } else {
                0
            }
        })
        .sum()
}

impl<'a> Checker<'a> {
    fn problem(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.out.push(Problem::new(path, message));
    }

    /// A time limit over the deployment's maximum, naming the limit.
    fn at_most(&mut self, path: &str, value: Option<u64>, max: u64, limit: &str) {
        if value.is_some_and(|v| v > max) {
            self.problem(
                path,
                format!("must be at most {max} ms (the deployment's limit `{limit}`)"),
            );
        }
    }

    fn workflow(&mut self) {
        let d = self.def;
        if d.name.trim().is_empty() || d.name.len() > 200 {
            self.problem("/name", "must be 1 to 200 characters");
        }
        if d.timeout_ms == Some(0) {
            self.problem("/timeout_ms", "must be positive");
        }
        self.at_most(
            "/timeout_ms",
            d.timeout_ms,
            self.limits.max_run_timeout_ms,
            "max_run_timeout_ms",
        );
        if d.error_workflow
            .as_deref()
            .is_some_and(|w| w.trim().is_empty())
        {
            self.problem("/error_workflow", "must not be empty");
        }
        self.credentials();
        self.triggers();
        self.contract();
        if d.steps.is_empty() {
            self.problem("/steps", "a workflow needs at least one step");
        }
        if count(&d.steps) > self.limits.max_steps {
            self.problem(
                "/steps",
                format!(
                    "more than {} steps (counting loop bodies)",
                    self.limits.max_steps
                ),
            );
            return;
        }
        self.list(&d.steps, "/steps".into(), &Scope::default(), 0);
    }

    fn list(&mut self, steps: &'a [StepDef], base: String, outer: &Scope, loops: usize) {
        let (graph, problems) = Graph::build_lenient(steps);
        for p in problems {
            self.problem(format!("{base}{}", p.path), p.message);
        }
        for (i, s) in steps.iter().enumerate() {
            let path = format!("{base}/{i}");
            if !is_ident(&s.id) {
                self.problem(format!("{path}/id"), format!("step id `{}` must be a letter or `_` followed by letters, digits or `_` (at most 64)", s.id));
            }
            match self.all.get(s.id.as_str()) {
                Some((other, j)) if *other != base => {
                    let msg = format!("duplicate step id `{}` (also at {other}/{j})", s.id);
                    self.problem(format!("{path}/id"), msg);
                }
                Some(_) => {} // same list: the graph reported it
                None => {
                    self.all.insert(&s.id, (base.clone(), i));
                }
            }
            let scope = Scope {
                graph: Some(&graph),
                ancestors: graph.ancestors(i),
                parent: Some(outer),
                in_loop: outer.in_loop,
            };
            self.step(s, i, &path, &graph, &scope, loops);
        }
    }

    fn step(
        &mut self,
        s: &'a StepDef,
        i: usize,
        path: &str,
        graph: &Graph,
        scope: &Scope,
        loops: usize,
    ) {
        if let Some(spec) = &s.retry
            && let Err(bad) = Policy::from_spec(spec)
        {
            for (field, msg) in bad {
                self.problem(format!("{path}/retry/{field}"), msg);
            }
        }
        if s.timeout_ms == Some(0) {
            self.problem(format!("{path}/timeout_ms"), "must be positive");
        }
        let (max, name) = match s.kind {
            StepKind::Wait(_) => (self.limits.max_wait_ms, "max_wait_ms"),
            _ => (self.limits.max_step_timeout_ms, "max_step_timeout_ms"),
        };
        self.at_most(&format!("{path}/timeout_ms"), s.timeout_ms, max, name);
        if let Some(r) = &s.retry {
            let max = self.limits.max_wait_ms;
            for (field, v) in [
                ("initial_interval_ms", r.initial_interval_ms),
                ("max_interval_ms", r.max_interval_ms),
            ] {
                self.at_most(&format!("{path}/retry/{field}"), v, max, "max_wait_ms");
            }
        }
        let targets = |field: &str, ids: &[String], this: &mut Self| {
            for (k, t) in ids.iter().enumerate() {
                let p = format!("{path}/{field}/{k}");
                match graph.index_of(t) {
                    None => this.problem(p, format!("unknown step `{t}`")),
                    Some(j) if j == i => {
                        this.problem(p, format!("step `{t}` cannot branch to itself"))
                    }
                    Some(j) if !graph.dependencies(j).contains(&i) => {
                        this.problem(
                            p,
                            format!(
                                "step `{t}` is a branch target of `{}` but does not come after it",
                                s.id
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
        };
        match &s.kind {
            StepKind::Action(a) => {
                self.templates(&a.input, &format!("{path}/input"), s, scope);
                self.templates(&a.config, &format!("{path}/config"), s, scope);
                self.action(path, &a.connector, &a.action, &a.input, &a.config);
                self.version(path, a);
            }
            StepKind::Code(c) => {
                if let Some(lang) = c.language.as_deref()
                    && lang != weft_types::CodeStep::JAVASCRIPT
                {
                    self.problem(
                        format!("{path}/language"),
                        format!("`{lang}` is not a language a code step runs; use `javascript`"),
                    );
                }
                if c.code.trim().is_empty() {
                    self.problem(format!("{path}/code"), "must not be empty");
                } else if c.code.len() > MAX_SCRIPT_BYTES {
                    self.problem(
                        format!("{path}/code"),
                        format!(
                            "the script is {} bytes, over the limit of {MAX_SCRIPT_BYTES}",
                            c.code.len()
                        ),
                    );
                }
                // What the script names (a lexical scan) must be there, as
                // for a template: else it reads `undefined`.
                for id in crate::code::reads(&c.code).steps {
                    if !scope.sees(&id) {
                        let msg = if self.exists(&id) {
                            format!(
                                "the script reads `steps.{id}`, but step `{id}` is not upstream of `{}`",
                                s.id
                            )
                        } else {
                            format!("the script reads `steps.{id}`, but there is no step `{id}`")
                        };
                        self.problem(format!("{path}/code"), msg);
                    }
                }
                match &c.items {
                    Some(items) => self.expression(items, &format!("{path}/items"), s, scope),
                    None if graph.dependencies(i).len() > 1 => self.problem(
                        format!("{path}/items"),
                        "a code step that runs after several steps must say which items it \
                         takes (e.g. `items: steps.<id>.output`)",
                    ),
                    None => {}
                }
            }
            StepKind::Condition(c) => {
                self.expression(&c.condition, &format!("{path}/if"), s, scope);
                targets("then", &c.then, self);
                targets("else", &c.otherwise, self);
            }
            StepKind::Switch(w) => {
                self.expression(&w.value, &format!("{path}/value"), s, scope);
                for (k, c) in w.cases.iter().enumerate() {
                    targets(&format!("cases/{k}/next"), &c.next, self);
                }
                targets("default", &w.default, self);
            }
            StepKind::Loop(l) => {
                self.expression(&l.items, &format!("{path}/items"), s, scope);
                let max = self.limits.max_parallelism;
                if !(1..=max).contains(&l.parallelism) {
                    self.problem(
                        format!("{path}/parallelism"),
                        format!("must be between 1 and {max}"),
                    );
                }
                if loops + 1 > self.limits.max_loop_nesting {
                    self.problem(
                        format!("{path}/body"),
                        format!("loops nest deeper than {}", self.limits.max_loop_nesting),
                    );
                } else if l.body.is_empty() {
                    self.problem(format!("{path}/body"), "a loop needs at least one step");
                } else {
                    let inner = Scope {
                        parent: Some(scope),
                        in_loop: true,
                        ..Scope::default()
                    };
                    self.list(&l.body, format!("{path}/body"), &inner, loops + 1);
                }
            }
            StepKind::Merge => {
                if s.after.as_ref().is_none_or(Vec::is_empty) {
                    self.problem(
                        path,
                        "a merge step must list the steps it waits for in `after`",
                    );
                }
            }
            StepKind::Subworkflow(w) => {
                if w.workflow.trim().is_empty() {
                    self.problem(format!("{path}/workflow"), "must not be empty");
                }
                self.templates(&w.input, &format!("{path}/input"), s, scope);
            }
            StepKind::Wait(w) => match (w.duration_ms, w.until) {
                (Some(_), Some(_)) => {
                    self.problem(path, "a wait step takes `duration_ms` or `until`, not both")
                }
                (None, None) => {
                    self.problem(path, "a wait step needs `duration_ms` or `until: resume`")
                }
                (Some(d), None) if d > self.limits.max_wait_ms => {
                    self.at_most(
                        &format!("{path}/duration_ms"),
                        Some(d),
                        self.limits.max_wait_ms,
                        "max_wait_ms",
                    );
                }
                _ => {}
            },
            StepKind::Respond(r) => {
                if r.status.is_some_and(|c| !(100..=599).contains(&c)) {
                    self.problem(
                        format!("{path}/status"),
                        "must be an HTTP status (100 to 599)",
                    );
                }
                for (name, v) in &r.headers {
                    let p = format!("{path}/headers/{}", pointer_escape(name));
                    let token = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                    if !token {
                        self.problem(&p, format!("`{name}` is not a valid header name"));
                    } else if !weft_types::RespondStep::header_allowed(name) {
                        self.problem(
                            &p,
                            format!(
                                "`{name}` is the server's own header; a workflow cannot set it"
                            ),
                        );
                    }
                    self.templates(&Value::String(v.clone()), &p, s, scope);
                }
                self.templates(&r.body, &format!("{path}/body"), s, scope);
                if let Some(schema) = &r.output_schema {
                    self.output_schema(schema, path);
                }
            }
        }
    }

    /// A step's `version` range parses and the catalogue's connector is in it.
    fn version(&mut self, path: &str, a: &weft_types::ActionStep) {
        let Some(range) = &a.version else {
            return;
        };
        if let Err(e) = semver::VersionReq::parse(range) {
            self.problem(
                format!("{path}/version"),
                format!("`{range}` is not a semver range (e.g. `^1` or `=1.2.3`): {e}"),
            );
            return;
        }
        if let Some(m) = self.catalog.connector(&a.connector)
            && !a.accepts(&m.version)
        {
            self.problem(
                format!("{path}/version"),
                format!(
                    "connector `{}` is at {}, outside this step's `{range}` (install or upgrade a version in it, or change the range)",
                    a.connector, m.version
                ),
            );
        }
    }

    fn action(&mut self, path: &str, connector: &str, action: &str, input: &Value, config: &Value) {
        let Some(manifest) = self.catalog.connector(connector) else {
            self.problem(
                format!("{path}/connector"),
                format!("unknown connector `{connector}`"),
            );
            return;
        };
        let Some(spec) = manifest.action(action) else {
            let names: Vec<&str> = manifest
                .actions
                .iter()
                .take(20)
                .map(|a| a.name.as_str())
                .collect();
            self.problem(
                format!("{path}/action"),
                format!(
                    "connector `{connector}` has no action `{action}` (it has: {})",
                    names.join(", ")
                ),
            );
            return;
        };
        let limit = self.limits.max_problems + 1;
        schema::check(
            &spec.input_schema,
            input,
            &format!("{path}/input"),
            &mut self.out,
            limit,
        );
        if let (Some(cs), false) = (&manifest.config_schema, config.is_null()) {
            schema::check(cs, config, &format!("{path}/config"), &mut self.out, limit);
        }
    }
}

mod contract;
mod credentials;
mod refs;
mod triggers;

/// What is allowed but worth changing in a definition (the validate route's
/// and the save answer's `warnings`): credential grants
/// ([`credentials::warnings`]) and webhook dedupe ids the signature does not
/// cover ([`triggers::warnings`]).
pub fn warnings(def: &Definition, catalog: &dyn Catalog) -> Vec<Problem> {
    let mut out = credentials::warnings(def, catalog);
    out.extend(triggers::warnings(def));
    out
}
pub use triggers::{MAX_WEBHOOK_TIMEOUT_MS, MIN_POLL_INTERVAL_MS};

#[cfg(test)]
mod contract_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeout_tests;
#[cfg(test)]
mod webhook_tests;
