//! Finding a step's definition from its key, and the template context it sees.

use super::Plan;
use crate::template::{Reference, Template, is_template};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use weft_types::{Definition, Status, StepDef, StepKind};

/// Where a step key points in the definition.
#[derive(Debug, Clone)]
pub struct Located<'d> {
    /// The step's definition.
    pub def: &'d StepDef,
    /// The list it belongs to (top level or a loop body).
    pub list: &'d [StepDef],
    /// The key prefix of that list (`""`, `each[2].`).
    pub prefix: String,
    /// The enclosing loop iterations, outermost first: (loop step key, index).
    pub frames: Vec<(String, usize)>,
}

/// Finds the definition of the step `key` (`a`, `each[2].b`).
pub fn locate<'d>(def: &'d Definition, key: &str) -> Option<Located<'d>> {
    let mut list: &'d [StepDef] = &def.steps;
    let mut prefix = String::new();
    let mut frames = Vec::new();
    let mut segs = key.split('.').peekable();
    while let Some(seg) = segs.next() {
        if segs.peek().is_none() {
            let def = list.iter().find(|s| s.id == seg)?;
            return Some(Located {
                def,
                list,
                prefix,
                frames,
            });
        }
        let (id, rest) = seg.split_once('[')?;
        let index: usize = rest.strip_suffix(']')?.parse().ok()?;
        let step = list.iter().find(|s| s.id == id)?;
        let StepKind::Loop(l) = &step.kind else {
            return None;
        };
        frames.push((format!("{prefix}{id}"), index));
        prefix = format!("{prefix}{seg}.");
        list = &l.body;
    }
    None
}

/// What a step's own templates read (its `input`, `config`, `if`, `value`,
/// `items`, `body`, `headers`): the context is built with only these, so
/// rendering one step copies the outputs it reads, not every output of the
/// run. Step references are static (`steps.<id>`), so this is exact; a
/// template that does not parse reads nothing (rendering reports it).
#[derive(Debug, Default)]
pub(super) struct Reads {
    trigger: bool,
    vars: bool,
    steps: BTreeSet<String>,
}

impl Reads {
    /// What `def`'s own templates read (not its loop body's).
    pub(super) fn of(def: &StepDef) -> Self {
        let mut r = Self::default();
        match &def.kind {
            StepKind::Action(a) => {
                r.tree(&a.input);
                r.tree(&a.config);
            }
            StepKind::Condition(c) => r.expr(&c.condition),
            StepKind::Switch(sw) => r.expr(&sw.value),
            StepKind::Loop(l) => r.expr(&l.items),
            StepKind::Subworkflow(sw) => r.tree(&sw.input),
            StepKind::Respond(resp) => {
                r.tree(&resp.body);
                for v in resp.headers.values() {
                    r.text(v);
                }
            }
            StepKind::Code(c) => {
                if let Some(items) = &c.items {
                    r.expr(items);
                }
                let script = crate::code::reads(&c.code);
                r.trigger |= script.trigger;
                r.vars |= script.vars;
                r.steps.extend(script.steps);
            }
            StepKind::Wait(_) | StepKind::Merge => {}
        }
        r
    }

    /// Adds what the expression `s` reads (a code step's default items).
    pub(super) fn with_expr(mut self, s: &str) -> Self {
        self.expr(s);
        self
    }

    /// What an action step's `config` reads (rendered when it is claimed).
    pub(super) fn of_config(def: &StepDef) -> Self {
        let mut r = Self::default();
        if let StepKind::Action(a) = &def.kind {
            r.tree(&a.config);
        }
        r
    }

    fn tree(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.text(s),
            Value::Array(items) => items.iter().for_each(|x| self.tree(x)),
            Value::Object(map) => map.values().for_each(|x| self.tree(x)),
            _ => {}
        }
    }

    fn text(&mut self, s: &str) {
        if is_template(s)
            && let Ok(t) = Template::parse(s)
        {
            self.add(&t);
        }
    }

    fn expr(&mut self, s: &str) {
        if let Ok(t) = Template::parse_expr(s) {
            self.add(&t);
        }
    }

    fn add(&mut self, t: &Template) {
        for r in t.references() {
            match r {
                Reference::Trigger => self.trigger = true,
                Reference::Var(_) => self.vars = true,
                Reference::Step(id) => {
                    self.steps.insert(id);
                }
                Reference::Item | Reference::Index => {}
            }
        }
    }
}

impl Plan<'_> {
    /// The template context of a step in `located`'s list: `trigger`, `vars`,
    /// `steps` (the outputs of finished steps in this list and the enclosing ones),
    /// and inside loops `item` and `index`. Only what the step's templates
    /// read is copied in ([`Reads`]): the rest is left out (`null`), so the
    /// cost does not grow with the run's size.
    pub(super) fn context(&self, located: &Located<'_>, reads: &Reads) -> Value {
        let mut steps = Map::new();
        self.add_outputs(&mut steps, "", &self.def.steps, reads);
        let mut item = Value::Null;
        let mut index = Value::Null;
        let mut list: &[StepDef] = &self.def.steps;
        let mut prefix = String::new();
        for (loop_key, i) in &located.frames {
            let id = loop_key.rsplit('.').next().unwrap_or(loop_key);
            let Some(StepKind::Loop(l)) = list.iter().find(|s| s.id == id).map(|s| &s.kind) else {
                break;
            };
            item = self
                .full(loop_key)
                .and_then(|s| s.input.as_ref())
                .and_then(|items| items.get(*i))
                .cloned()
                .unwrap_or(Value::Null);
            index = json!(i);
            prefix = format!("{prefix}{id}[{i}].");
            list = &l.body;
            self.add_outputs(&mut steps, &prefix, list, reads);
        }
        let trigger = if reads.trigger {
            self.run.input.clone()
        } else {
            Value::Null
        };
        let vars = if reads.vars {
            Value::Object(self.def.vars.clone())
        } else {
            Value::Null
        };
        let mut ctx = json!({
            "trigger": trigger,
            "vars": vars,
            "steps": Value::Object(steps),
        });
        if !located.frames.is_empty() {
            ctx["item"] = item;
            ctx["index"] = index;
        }
        ctx
    }

    /// The outputs of the steps of `list` that `reads` names and that finished.
    fn add_outputs(
        &self,
        into: &mut Map<String, Value>,
        prefix: &str,
        list: &[StepDef],
        reads: &Reads,
    ) {
        for id in &reads.steps {
            if !list.iter().any(|s| &s.id == id) {
                continue;
            }
            if let Some(row) = self.full(&format!("{prefix}{id}"))
                && matches!(
                    row.status,
                    Status::Completed | Status::Failed | Status::Skipped
                )
            {
                let output = row.output.clone().unwrap_or(Value::Null);
                into.insert(id.clone(), json!({"output": output, "status": row.status}));
            }
        }
    }
}
