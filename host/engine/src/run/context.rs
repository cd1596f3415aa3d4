//! Finding a step's definition from its key, and the template context it sees.

use super::Plan;
use serde_json::{Map, Value, json};
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

impl Plan<'_> {
    /// The template context of a step in `located`'s list: `trigger`, `vars`,
    /// `steps` (the outputs of finished steps in this list and the enclosing ones),
    /// and inside loops `item` and `index`.
    pub(super) fn context(&self, located: &Located<'_>) -> Value {
        let mut steps = Map::new();
        self.add_outputs(&mut steps, "", &self.def.steps);
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
                .steps
                .get(loop_key)
                .and_then(|s| s.input.as_ref())
                .and_then(|items| items.get(*i))
                .cloned()
                .unwrap_or(Value::Null);
            index = json!(i);
            prefix = format!("{prefix}{id}[{i}].");
            list = &l.body;
            self.add_outputs(&mut steps, &prefix, list);
        }
        let mut ctx = json!({
            "trigger": self.run.input,
            "vars": Value::Object(self.def.vars.clone()),
            "steps": Value::Object(steps),
        });
        if !located.frames.is_empty() {
            ctx["item"] = item;
            ctx["index"] = index;
        }
        ctx
    }

    fn add_outputs(&self, into: &mut Map<String, Value>, prefix: &str, list: &[StepDef]) {
        for s in list {
            if let Some(row) = self.steps.get(&format!("{prefix}{}", s.id))
                && matches!(
                    row.status,
                    Status::Completed | Status::Failed | Status::Skipped
                )
            {
                let output = row.output.clone().unwrap_or(Value::Null);
                into.insert(
                    s.id.clone(),
                    json!({"output": output, "status": row.status}),
                );
            }
        }
    }
}
