//! Credential bindings: a step's own `credentials`, connector-wide grants
//! (`grants.credentials: {"connector/slot": name}`) and the older
//! workflow-wide grants by slot name, which are an error when two connectors
//! of the workflow declare the slot (whatever else binds it) and a warning
//! otherwise. The rule a step
//! is held to at run time is [`crate::credentials::for_step`].

use super::{Catalog, Checker, is_slot_name};
use crate::credentials::{Refusal, receivers, split_key};
use crate::template::pointer_escape;
use weft_types::{Definition, Problem, StepDef, StepKind};

/// Longest credential name a binding may give (as `POST /v1/credentials` allows).
const MAX_NAME: usize = 100;

fn name_problem(credential: &str) -> Option<&'static str> {
    (credential.trim().is_empty() || credential.len() > MAX_NAME)
        .then_some("must name a credential of the tenant (1-100 characters)")
}

impl<'a> Checker<'a> {
    /// Checks `grants.credentials` and every action step's `credentials`.
    pub(super) fn credentials(&mut self) {
        let def = self.def;
        for (key, credential) in &def.grants.credentials {
            let path = format!("/grants/credentials/{}", pointer_escape(key));
            if let Some(msg) = name_problem(credential) {
                self.problem(&path, msg);
            }
            match split_key(key) {
                (None, slot) if !is_slot_name(slot) => {
                    self.problem(
                        &path,
                        format!("credential slot `{slot}` is not an identifier"),
                    );
                }
                (None, slot) => {
                    let connectors = receivers(def, slot, self.catalog);
                    if connectors.len() > 1 {
                        let refusal = Refusal::Ambiguous {
                            slot: slot.to_owned(),
                            credential: credential.clone(),
                            connectors: connectors.into_iter().map(str::to_owned).collect(),
                        };
                        self.problem(&path, refusal.to_string());
                    }
                }
                (Some(connector), slot) => self.connector_grant(&path, connector, slot),
            }
        }
        self.step_credentials(&def.steps, "/steps");
    }

    /// A `connector/slot` key: the connector exists and declares the slot.
    fn connector_grant(&mut self, path: &str, connector: &str, slot: &str) {
        if !is_slot_name(connector) || !is_slot_name(slot) {
            self.problem(
                path,
                format!(
                    "`{connector}/{slot}` is not `connector/slot` (lower-case letters, digits, `-` or `_` on each side)"
                ),
            );
            return;
        }
        match self.catalog.connector(connector) {
            None => self.problem(path, format!("unknown connector `{connector}`")),
            Some(m) if m.credential(slot).is_none() => {
                let refusal = Refusal::Undeclared {
                    connector: connector.to_owned(),
                    slot: slot.to_owned(),
                    declared: m
                        .capabilities
                        .credentials
                        .iter()
                        .map(|c| c.name.clone())
                        .collect(),
                };
                self.problem(path, refusal.to_string());
            }
            Some(_) => {}
        }
    }

    fn step_credentials(&mut self, steps: &'a [StepDef], base: &str) {
        for (i, s) in steps.iter().enumerate() {
            let path = format!("{base}/{i}");
            match &s.kind {
                StepKind::Action(a) => {
                    let manifest = self.catalog.connector(&a.connector);
                    for (slot, credential) in &a.credentials {
                        let p = format!("{path}/credentials/{}", pointer_escape(slot));
                        if let Some(msg) = name_problem(credential) {
                            self.problem(&p, msg);
                        }
                        // An unknown connector is reported at `/connector`.
                        let Some(m) = manifest else { continue };
                        if m.credential(slot).is_none() {
                            let refusal = Refusal::Undeclared {
                                connector: a.connector.clone(),
                                slot: slot.clone(),
                                declared: m
                                    .capabilities
                                    .credentials
                                    .iter()
                                    .map(|c| c.name.clone())
                                    .collect(),
                            };
                            self.problem(&p, refusal.to_string());
                        }
                    }
                }
                StepKind::Code(c) => self.code_credentials(&path, c),
                StepKind::Loop(l) => self.step_credentials(&l.body, &format!("{path}/body")),
                _ => {}
            }
        }
    }
}

impl Checker<'_> {
    /// A code step's `credentials`: names the script uses (slot names of
    /// this step alone), each a stored credential; sent only to the step's
    /// `hosts`, so a step that binds one and grants no host is refused.
    fn code_credentials(&mut self, path: &str, c: &weft_types::CodeStep) {
        for (name, credential) in &c.credentials {
            let p = format!("{path}/credentials/{}", pointer_escape(name));
            if !is_slot_name(name) {
                self.problem(
                    &p,
                    format!(
                        "`{name}` is not a name a script can use for a credential (lower-case \
                         letters, digits, `-` or `_`)"
                    ),
                );
            }
            if let Some(msg) = name_problem(credential) {
                self.problem(&p, msg);
            }
        }
        if !c.credentials.is_empty() && c.hosts.is_empty() {
            self.problem(
                format!("{path}/credentials"),
                "a code step's credentials are sent only to its `hosts`, and it grants none: \
                 list the hosts the script calls (e.g. `hosts: [api.github.com]`)",
            );
        }
    }
}

/// What is allowed but worth changing in a definition: each workflow-wide
/// credential grant by slot name that reaches a single connector (bind it to
/// the step or the connector instead) or no connector at all.
pub fn warnings(def: &Definition, catalog: &dyn Catalog) -> Vec<Problem> {
    let mut out = Vec::new();
    for (key, credential) in &def.grants.credentials {
        let (None, slot) = split_key(key) else {
            continue;
        };
        let path = format!("/grants/credentials/{}", pointer_escape(slot));
        match receivers(def, slot, catalog).as_slice() {
            [] => out.push(Problem::new(
                path,
                format!(
                    "no step's connector declares credential slot `{slot}`: this grant reaches no step"
                ),
            )),
            [connector] => {
                let steps: Vec<String> = steps_of(def, connector, slot);
                if steps.is_empty() {
                    out.push(Problem::new(
                        path,
                        format!(
                            "every step of `{connector}` binds credential slot `{slot}` otherwise: this grant reaches no step"
                        ),
                    ));
                    continue;
                }
                out.push(Problem::new(
                    path,
                    format!(
                        "a workflow-wide grant by slot name reaches any connector that declares `{slot}`; \
                         only `{connector}` does today (steps: {}). Bind it where it is used: \
                         `credentials: {{{slot}: {credential}}}` on the step, or \
                         `grants.credentials: {{\"{connector}/{slot}\": {credential}}}`",
                        steps.join(", ")
                    ),
                ));
            }
            _ => {} // an error of `check`
        }
    }
    out
}

/// Ids of the action steps of `connector` that the bare grant of `slot` reaches.
fn steps_of(def: &Definition, connector: &str, slot: &str) -> Vec<String> {
    let mut out = Vec::new();
    if def
        .grants
        .credentials
        .contains_key(&format!("{connector}/{slot}"))
    {
        return out;
    }
    let mut stack: Vec<&[StepDef]> = vec![&def.steps];
    while let Some(list) = stack.pop() {
        for s in list {
            match &s.kind {
                StepKind::Action(a)
                    if a.connector == connector && !a.credentials.contains_key(slot) =>
                {
                    out.push(format!("`{}`", s.id));
                }
                StepKind::Loop(l) => stack.push(&l.body),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
