//! Creating the steps whose dependencies are done, running control steps on the
//! spot, driving loops, and finishing the run.

use super::context::{Located, Reads};
use super::render::{expr, over, render};
use super::{CHILD_RECHECK_MS, Due, MAX_DEPTH, MAX_LOOP_ITEMS, Plan, Start, TRIGGER, until};
use crate::eval::{json_eq, truthy};
use crate::{Graph, template};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use weft_types::{
    CodeStep, ErrorKind, Failure, LoopStep, Parent, Reason, Response, RunFailure, Status, Step,
    StepDef, StepKind, Trigger, WaitUntil,
};

/// A loop iteration's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Iteration {
    NotStarted,
    Active,
    Done,
}

impl Plan<'_> {
    /// Creates every ready step (repeatedly, until nothing moves) and finishes the
    /// run when every step is terminal.
    pub(super) fn advance(&mut self) {
        let def = self.def;
        // Each pass creates or finishes at least one step, so this ends; the bound
        // is a guard against a bug, not a limit users meet.
        for _ in 0..=def.steps.len() + 2 {
            if !self.live() {
                return;
            }
            let before = self.moves;
            self.advance_list("", &def.steps, &[]);
            if self.moves == before {
                break;
            }
        }
        self.settle();
    }

    fn advance_list(&mut self, prefix: &str, list: &[StepDef], frames: &[(String, usize)]) {
        let graph = match self.graph(list) {
            Ok(g) => g,
            Err(problems) => {
                let msg = format!("definition does not form a graph: {problems:?}");
                self.fail_run(Failure::new(ErrorKind::Permanent, msg).into());
                return;
            }
        };
        // A test run (`until`) runs only its step and that step's
        // dependencies at the top level; the rest is skipped when ready.
        let reach = match (&self.run.until, prefix.is_empty()) {
            (Some(u), true) => until::reach(&graph, u),
            _ => None,
        };
        for &i in graph.order() {
            if !self.live() {
                return;
            }
            let s = &list[i];
            let key = format!("{prefix}{}", s.id);
            if let Some(row) = self.steps.get(&key) {
                if let (Status::Running, StepKind::Loop(l)) = (row.status, &s.kind) {
                    self.advance_loop(&key, s, l, frames);
                }
                continue;
            }
            let deps = graph.dependencies(i);
            let mut live = deps.is_empty();
            let mut ready = true;
            for &d in deps {
                let dep_key = format!("{prefix}{}", list[d].id);
                // A branching step's edges are in its output.
                let row = if list[d].kind.branch_targets().is_empty() {
                    self.steps.get(&dep_key)
                } else {
                    self.full(&dep_key)
                };
                match row {
                    Some(r) if r.status.is_terminal() => live |= edge_live(&list[d], r, &s.id),
                    _ => {
                        ready = false;
                        break;
                    }
                }
            }
            if !ready {
                continue;
            }
            let mut row = Step::new(&self.run, &key, Status::Skipped, self.now);
            if !live || reach.as_ref().is_some_and(|r| !r[i]) {
                self.put(row);
                continue;
            }
            let located = Located {
                def: s,
                list,
                prefix: prefix.to_owned(),
                frames: frames.to_vec(),
            };
            row.status = Status::Pending;
            let used = self.budget.used();
            if let Err(e) = self.create(row, &located) {
                // What the step had rendered is dropped with it.
                self.budget.restore(used);
                self.failures.push(e.clone());
                self.fail_step(&key, s, e);
            }
        }
    }

    /// The graph of `list` (the top level or a loop body of the plan's
    /// definition), built once per plan: a decision walks each list at
    /// least twice and a loop body once per iteration it advances.
    fn graph(&mut self, list: &[StepDef]) -> Result<Arc<Graph>, Vec<weft_types::Problem>> {
        let at = list.as_ptr() as usize;
        if let Some(g) = self.graphs.get(&at) {
            return Ok(g.clone());
        }
        let g = Arc::new(Graph::build(list)?);
        self.graphs.insert(at, g.clone());
        Ok(g)
    }

    /// Creates a code step's row: its input is what the `code` connector's
    /// `run` action takes (the script, not templated; its items; the names
    /// the script reads), charged to the budget like a rendered input.
    fn create_code(
        &mut self,
        mut row: Step,
        at: &Located<'_>,
        c: &CodeStep,
    ) -> Result<(), Failure> {
        let items_src = match &c.items {
            Some(s) => s.clone(),
            None => {
                let graph = self.graph(at.list).map_err(|_| {
                    Failure::of(Reason::Template, "/items: the step graph does not build")
                })?;
                let i = graph.index_of(&at.def.id).unwrap_or(0);
                crate::code::default_items(&graph, i).ok_or_else(|| {
                    Failure::of(
                        Reason::Template,
                        "/items: a code step that runs after several steps must say which items it takes",
                    )
                })?
            }
        };
        let reads = Reads::of(at.def).with_expr(&items_src);
        let ctx = self.context(at, &reads);
        let budget = &mut self.budget;
        let items = expr(&items_src, &ctx, "items", budget)?;
        let mut input = json!({
            "code": c.code,
            "items": items,
            "trigger": ctx["trigger"],
            "steps": ctx["steps"],
            "vars": ctx["vars"],
        });
        if let Some(item) = ctx.get("item") {
            input["item"] = item.clone();
            input["index"] = ctx["index"].clone();
        }
        budget.weigh(&input).map_err(|e| over("input", e))?;
        row.input = Some(input);
        row.attempt = 1;
        row.due_at = Some(self.now);
        self.due.push(Due {
            key: row.key.clone(),
            attempt: 1,
            delay_ms: 0,
        });
        self.put(row);
        Ok(())
    }

    /// Creates the row of a ready, live step; control steps finish at once.
    /// Everything it renders or copies is charged to the plan's budget first.
    fn create(&mut self, mut row: Step, at: &Located<'_>) -> Result<(), Failure> {
        if let StepKind::Code(c) = &at.def.kind {
            return self.create_code(row, at, c);
        }
        let ctx = self.context(at, &Reads::of(at.def));
        let key = row.key.clone();
        let budget = &mut self.budget;
        match &at.def.kind {
            // Created by `create_code`, before this match.
            StepKind::Code(_) => {}
            StepKind::Action(a) => {
                row.input = Some(render(&a.input, &ctx, "input", budget)?);
                row.attempt = 1;
                row.due_at = Some(self.now);
                self.due.push(Due {
                    key: key.clone(),
                    attempt: 1,
                    delay_ms: 0,
                });
                self.put(row);
            }
            StepKind::Condition(c) => {
                let result = truthy(&expr(&c.condition, &ctx, "if", budget)?);
                let next = if result { &c.then } else { &c.otherwise };
                self.done(row, json!({"result": result, "next": next}));
            }
            StepKind::Switch(sw) => {
                let value = expr(&sw.value, &ctx, "value", budget)?;
                let next = sw
                    .cases
                    .iter()
                    .find(|c| json_eq(&c.equals, &value))
                    .map_or(&sw.default, |c| &c.next);
                self.done(row, json!({"value": value, "next": next}));
            }
            StepKind::Merge => {
                let mut out = Map::new();
                for id in at.def.after.iter().flatten() {
                    let dep_key = format!("{}{id}", at.prefix);
                    let dep = self.lean.read(&self.steps, &self.changed, &dep_key);
                    let v = match dep.and_then(|d| d.output.as_ref()) {
                        Some(o) => budget
                            .copy(o)
                            .map_err(|e| over(&format!("after: the output of `{id}`"), e))?,
                        None => Value::Null,
                    };
                    out.insert(id.clone(), v);
                }
                self.done(row, Value::Object(out));
            }
            StepKind::Respond(r) => {
                let body = render(&r.body, &ctx, "body", budget)?;
                let mut headers = BTreeMap::new();
                for (name, v) in &r.headers {
                    let field = format!("headers/{}", template::pointer_escape(name));
                    let v = render(&Value::String(v.clone()), &ctx, &field, budget)?;
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    headers.insert(name.clone(), text);
                }
                // The step's output is a second copy of the response.
                budget.weigh(&body).map_err(|e| over("body", e))?;
                for (name, text) in &headers {
                    let bytes = crate::budget::len(name) + crate::budget::len(text);
                    budget
                        .charge(bytes + 6, 1)
                        .map_err(|e| over("headers", e))?;
                }
                let response = Response {
                    status: r.status.unwrap_or(200),
                    headers,
                    body,
                };
                let out = json!(response);
                if self.run.response.is_none() {
                    self.run.response = Some(response);
                }
                self.done(row, out);
            }
            StepKind::Wait(w) => {
                row.status = Status::Waiting;
                if let Some(ms) = w.duration_ms {
                    row.due_at = Some(self.now.saturating_add(clamp(ms)));
                    self.due.push(Due {
                        key: key.clone(),
                        attempt: 0,
                        delay_ms: ms,
                    });
                } else if w.until == Some(WaitUntil::Resume) {
                    row.resume_token = Some(self.ids.token());
                    row.due_at = at.def.timeout_ms.map(|t| self.now.saturating_add(clamp(t)));
                    if let Some(t) = at.def.timeout_ms {
                        self.due.push(Due {
                            key: key.clone(),
                            attempt: 0,
                            delay_ms: t,
                        });
                    }
                }
                self.put(row);
            }
            StepKind::Subworkflow(sw) => {
                if self.run.depth + 1 > MAX_DEPTH {
                    return Err(Failure::of(
                        Reason::DepthLimit,
                        format!("sub-workflows nest deeper than {MAX_DEPTH} levels"),
                    ));
                }
                let input = render(&sw.input, &ctx, "input", budget)?;
                // Kept twice: the step's input and the child run's trigger.
                budget.weigh(&input).map_err(|e| over("input", e))?;
                let child = self.ids.id("run");
                row.status = Status::Waiting;
                row.input = Some(input.clone());
                row.child_run_id = Some(child.clone());
                row.due_at = Some(self.now.saturating_add(CHILD_RECHECK_MS));
                self.starts.push(Start {
                    run_id: child,
                    workflow_id: sw.workflow.clone(),
                    input,
                    trigger: Trigger::Subworkflow,
                    parent: Parent {
                        run_id: self.run.id.clone(),
                        step_key: key,
                    },
                    depth: self.run.depth + 1,
                });
                self.put(row);
            }
            StepKind::Loop(l) => {
                let items = match expr(&l.items, &ctx, "items", budget)? {
                    Value::Array(items) => items,
                    other => {
                        return Err(Failure::new(
                            ErrorKind::InvalidInput,
                            format!(
                                "/items: expected an array, got {}",
                                crate::eval::type_name(&other)
                            ),
                        ));
                    }
                };
                if items.len() > MAX_LOOP_ITEMS {
                    return Err(Failure::new(
                        ErrorKind::LimitExceeded,
                        format!(
                            "/items: {} items, more than the limit of {MAX_LOOP_ITEMS}",
                            items.len()
                        ),
                    ));
                }
                row.status = Status::Running;
                row.input = Some(Value::Array(items));
                self.put(row);
                self.advance_loop(&key, at.def, l, &at.frames);
            }
        }
        Ok(())
    }

    fn done(&mut self, mut row: Step, output: Value) {
        row.status = Status::Completed;
        row.output = Some(output);
        self.put(row);
    }

    fn advance_loop(&mut self, key: &str, def: &StepDef, l: &LoopStep, frames: &[(String, usize)]) {
        let n = self
            .steps
            .get(key)
            .and_then(|r| r.input.as_ref())
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let mut frames = frames.to_vec();
        frames.push((key.to_owned(), 0));
        // Every iteration's state from one walk over the loop's own rows;
        // afterwards only the iterations this decision advances are looked
        // at again, so a finished iteration is not re-checked.
        let mut states = self.iterations(key, &l.body, n);
        let mut active = states.iter().filter(|s| **s == Iteration::Active).count();
        let parallelism = l.parallelism.max(1) as usize;
        for (i, slot) in states.iter_mut().enumerate() {
            if !self.live() {
                return;
            }
            let state = *slot;
            if state == Iteration::Done || (state == Iteration::NotStarted && active >= parallelism)
            {
                continue;
            }
            if let Some(f) = frames.last_mut() {
                f.1 = i;
            }
            self.advance_list(&format!("{key}[{i}]."), &l.body, &frames);
            let after = self.iteration(key, &l.body, i);
            *slot = after;
            match (state, after) {
                (Iteration::Active, Iteration::Done) => active -= 1,
                (Iteration::NotStarted, Iteration::Active) => active += 1,
                _ => {}
            }
        }
        if active > 0 || states.iter().any(|s| *s != Iteration::Done) {
            return;
        }
        let last = l.body.last().map(|b| b.id.as_str()).unwrap_or_default();
        let used = self.budget.used();
        let mut outputs = Vec::with_capacity(n);
        for i in 0..n {
            let row = self
                .lean
                .read(&self.steps, &self.changed, &format!("{key}[{i}].{last}"));
            match row
                .and_then(|r| r.output.as_ref())
                .map(|o| self.budget.copy(o))
            {
                None => outputs.push(Value::Null),
                Some(Ok(v)) => outputs.push(v),
                Some(Err(e)) => {
                    self.budget.restore(used);
                    let what = format!("output: the iterations' outputs (at item {i})");
                    let e = over(&what, e);
                    self.failures.push(e.clone());
                    self.fail_step(key, def, e);
                    return;
                }
            }
        }
        self.update(key, |r| {
            r.status = Status::Completed;
            r.output = Some(Value::Array(outputs));
        });
    }

    /// The state of each of the `n` iterations of the loop `key`, from one
    /// ordered walk over the rows whose keys start with `key[`: a row
    /// `key[i].id` for each body step `id` (deeper rows, of a nested loop's
    /// iterations, are passed over).
    fn iterations(&self, key: &str, body: &[StepDef], n: usize) -> Vec<Iteration> {
        // (rows seen, rows terminal) per iteration.
        let mut seen = vec![(0usize, 0usize); n];
        let prefix = format!("{key}[");
        let rows = self
            .steps
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix.as_str()));
        for (k, row) in rows {
            let Some((index, id)) = k[prefix.len()..].split_once("].") else {
                continue;
            };
            let Ok(i) = index.parse::<usize>() else {
                continue;
            };
            if i >= n || !body.iter().any(|b| b.id == id) {
                continue;
            }
            seen[i].0 += 1;
            if row.status.is_terminal() {
                seen[i].1 += 1;
            }
        }
        seen.into_iter()
            .map(|(rows, terminal)| match rows {
                0 => Iteration::NotStarted,
                _ if rows == body.len() && terminal == rows => Iteration::Done,
                _ => Iteration::Active,
            })
            .collect()
    }

    fn iteration(&self, key: &str, body: &[StepDef], i: usize) -> Iteration {
        let mut any = false;
        let mut all_done = true;
        for b in body {
            match self.steps.get(&format!("{key}[{i}].{}", b.id)) {
                Some(r) => {
                    any = true;
                    all_done &= r.status.is_terminal();
                }
                None => all_done = false,
            }
        }
        match (any, all_done) {
            (false, _) => Iteration::NotStarted,
            (true, true) => Iteration::Done,
            (true, false) => Iteration::Active,
        }
    }

    /// A step failed for good: recorded as its output with `continue_on_fail`,
    /// else the run fails.
    pub(super) fn fail_step(&mut self, key: &str, def: &StepDef, err: Failure) {
        let exists = self.steps.contains_key(key);
        if !exists {
            self.put(Step::new(&self.run, key, Status::Failed, self.now));
        }
        let keep_going = def.continue_on_fail;
        self.update(key, |r| {
            r.status = Status::Failed;
            r.error = Some(err.clone());
            r.due_at = None;
            if keep_going {
                r.output = Some(json!({"error": err}));
            }
        });
        if !keep_going {
            self.fail_run(RunFailure {
                failure: err,
                step: Some(key.to_owned()),
            });
        }
    }

    /// Fails the run: other live steps are cancelled, the error workflow starts.
    pub(super) fn fail_run(&mut self, error: RunFailure) {
        if self.run.status.is_terminal() {
            return;
        }
        self.end(Status::Failed, error.clone());
        // A test run (`until`) starts no error workflow: nothing was meant
        // to happen for real.
        if let Some(wf) = &self.def.error_workflow
            && self.run.trigger != Trigger::Error
            && self.run.until.is_none()
            && self.run.depth < MAX_DEPTH
        {
            self.starts.push(Start {
                run_id: self.ids.id("run"),
                workflow_id: wf.clone(),
                input: json!({
                    "run_id": self.run.id,
                    "workflow_id": self.run.workflow_id,
                    "version": self.run.version,
                    "error": error,
                }),
                trigger: Trigger::Error,
                parent: Parent {
                    run_id: self.run.id.clone(),
                    step_key: String::new(),
                },
                depth: self.run.depth + 1,
            });
        }
    }

    /// Ends the run in `status`, cancelling every step still live.
    pub(super) fn end(&mut self, status: Status, error: RunFailure) {
        self.run.status = status;
        self.run.error = Some(error);
        self.run.finished_at = Some(self.now);
        let live: Vec<String> = self
            .steps
            .values()
            .filter(|s| !s.status.is_terminal())
            .map(|s| s.key.clone())
            .collect();
        for key in live {
            if let Some(child) = self.steps.get(&key).and_then(|s| s.child_run_id.clone()) {
                self.cancel_children.push(child);
            }
            self.update(&key, |s| {
                s.status = Status::Cancelled;
                s.due_at = None;
            });
        }
    }

    /// Completes the run when every step is terminal.
    fn settle(&mut self) {
        if !self.live() || self.steps.values().any(|s| !s.status.is_terminal()) {
            return;
        }
        let output = match &self.run.until {
            // A test run's result is its step's output (none if skipped).
            Some(u) => self.full(u).and_then(|r| r.output.clone()),
            None => {
                let last = self
                    .def
                    .steps
                    .iter()
                    .rev()
                    .filter_map(|s| self.steps.get(&s.id))
                    .find(|r| r.status == Status::Completed || r.status == Status::Failed)
                    .map(|r| r.key.clone());
                let output = last
                    .and_then(|k| self.full(&k))
                    .and_then(|r| r.output.clone());
                // The trigger's payload only when the last step has no
                // output (not when it was read lean: the decision is void).
                if output.is_none() && self.lean.missing.borrow().is_empty() {
                    self.full(TRIGGER).and_then(|t| t.output.clone())
                } else {
                    output
                }
            }
        };
        self.run.status = Status::Completed;
        self.run.output = output;
        self.run.finished_at = Some(self.now);
    }
}

/// Whether the edge from a finished dependency to `target` carries control.
fn edge_live(dep: &StepDef, row: &Step, target: &str) -> bool {
    match row.status {
        Status::Completed => {
            if dep.kind.branch_targets().contains(&target) {
                row.output
                    .as_ref()
                    .and_then(|o| o.get("next"))
                    .and_then(Value::as_array)
                    .is_some_and(|next| next.iter().any(|n| n == target))
            } else {
                true
            }
        }
        Status::Failed => dep.continue_on_fail,
        _ => false,
    }
}

/// Milliseconds as a timestamp offset, saturating.
pub(super) fn clamp(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}
