//! Template checks: syntax, and that every reference is in scope.

use super::{Checker, Scope};
use crate::template::{Reference, Template, is_template, pointer_escape};
use serde_json::Value;
use weft_types::{StepDef, StepKind};

impl Checker<'_> {
    /// Checks every templated string in a JSON tree.
    pub(super) fn templates(&mut self, v: &Value, path: &str, s: &StepDef, scope: &Scope) {
        match v {
            Value::String(text) if is_template(text) => match Template::parse(text) {
                Ok(t) => self.references(&t, path, s, scope),
                Err(e) => self.problem(path, e.to_string()),
            },
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    self.templates(x, &format!("{path}/{i}"), s, scope);
                }
            }
            Value::Object(map) => {
                for (k, x) in map {
                    self.templates(x, &format!("{path}/{}", pointer_escape(k)), s, scope);
                }
            }
            _ => {}
        }
    }

    pub(super) fn expression(&mut self, text: &str, path: &str, s: &StepDef, scope: &Scope) {
        match Template::parse_expr(text) {
            Ok(t) => self.references(&t, path, s, scope),
            Err(e) => self.problem(path, e.to_string()),
        }
    }

    fn references(&mut self, t: &Template, path: &str, s: &StepDef, scope: &Scope) {
        for r in t.references() {
            match r {
                Reference::Step(id) if !scope.sees(&id) => {
                    let msg = if self.exists(&id) {
                        format!(
                            "template reads `steps.{id}`, but step `{id}` is not upstream of `{}`",
                            s.id
                        )
                    } else {
                        format!("template reads `steps.{id}`, but there is no step `{id}`")
                    };
                    self.problem(path, msg);
                }
                Reference::Var(Some(name)) if !self.def.vars.contains_key(&name) => {
                    self.problem(
                        path,
                        format!("template reads `vars.{name}`, but `vars` has no `{name}`"),
                    );
                }
                Reference::Item | Reference::Index if !scope.in_loop => {
                    let name = if r == Reference::Item {
                        "item"
                    } else {
                        "index"
                    };
                    self.problem(
                        path,
                        format!(
                            "template reads `{name}`, which is only defined inside a loop body"
                        ),
                    );
                }
                _ => {}
            }
        }
    }

    pub(super) fn exists(&self, id: &str) -> bool {
        fn find(steps: &[StepDef], id: &str) -> bool {
            steps
                .iter()
                .any(|s| s.id == id || matches!(&s.kind, StepKind::Loop(l) if find(&l.body, id)))
        }
        find(&self.def.steps, id)
    }
}
