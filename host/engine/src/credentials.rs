//! Which stored credential an action step gets, for which slot: the one rule
//! that validation (when a definition is saved) and the worker (when a step
//! runs) both apply, so a definition stored before the rule existed is held
//! to it too.
//!
//! A credential reaches a step only through a binding that names the step or
//! its connector, and only for a slot that connector declares:
//!
//! 1. the step's own `credentials: {slot: credential}`;
//! 2. a connector-wide grant, `grants.credentials: {"connector/slot": credential}`;
//! 3. the older workflow-wide grant by slot name, `grants.credentials:
//!    {slot: credential}`, only while exactly one connector of the workflow
//!    would receive it. When two connectors declare the slot, neither gets it
//!    (a hostile connector declaring `api-key` must not receive the key meant
//!    for `llm`).
//!
//! ```
//! use weft_engine::credentials::{self, Via};
//! use weft_types::{ActionStep, Capabilities, CredentialSlot, Manifest, StepKind};
//!
//! let slot = |name: &str| CredentialSlot {
//!     name: name.into(),
//!     description: String::new(),
//!     hosts: Vec::new(),
//!     optional: false,
//! };
//! let manifest = |name: &str| Manifest {
//!     name: name.into(),
//!     version: "1.0.0".into(),
//!     description: String::new(),
//!     actions: Vec::new(),
//!     capabilities: Capabilities { credentials: vec![slot("api-key")], ..Capabilities::default() },
//!     config_schema: None,
//!     triggers: Vec::new(),
//! };
//! let catalog = vec![manifest("llm"), manifest("other")];
//! let def: weft_types::Definition = serde_json::from_value(serde_json::json!({
//!     "name": "w",
//!     "grants": {"credentials": {"api-key": "openai"}},
//!     "steps": [
//!         {"id": "a", "kind": "action", "connector": "llm", "action": "chat",
//!          "credentials": {"api-key": "openai"}},
//!         {"id": "b", "kind": "action", "connector": "other", "action": "x"}
//!     ]
//! })).unwrap();
//! let step = |i: usize| match &def.steps[i].kind { StepKind::Action(a) => a, _ => unreachable!() };
//! // `a` binds it itself. The leftover workflow-wide grant would reach both
//! // `llm` and `other` (binding the slot on a step does not take `llm` out of
//! // the count), so `other` does not get it: saving is refused, and a stored
//! // definition fails `b` with `credential_not_bound`.
//! let a = credentials::for_step(&def, step(0), &catalog[0], &catalog).unwrap();
//! assert_eq!((a[0].credential, a[0].via), ("openai", Via::Step));
//! let b = credentials::for_step(&def, step(1), &catalog[1], &catalog);
//! assert!(matches!(b, Err(credentials::Refusal::Ambiguous { .. })));
//! ```

use crate::Catalog;
use std::collections::BTreeSet;
use std::fmt;
use weft_types::{ActionStep, Definition, Manifest, StepDef, StepKind};

/// Where a binding was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The step's own `credentials`.
    Step,
    /// `grants.credentials` keyed `connector/slot`.
    Connector,
    /// `grants.credentials` keyed by the bare slot name (the older form).
    Workflow,
}

/// One credential a step gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound<'d> {
    /// The slot of the step's connector.
    pub slot: &'d str,
    /// The name of the tenant's stored credential.
    pub credential: &'d str,
    /// Where the binding was written.
    pub via: Via,
}

/// Why a step's bindings cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The step binds a slot its connector does not declare.
    Undeclared {
        /// The step's connector.
        connector: String,
        /// The slot the step binds.
        slot: String,
        /// The slots the connector declares.
        declared: Vec<String>,
    },
    /// A workflow-wide grant by slot name reaches more than one connector.
    Ambiguous {
        /// The slot.
        slot: String,
        /// The credential granted.
        credential: String,
        /// The connectors that declare the slot, sorted.
        connectors: Vec<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Undeclared {
                connector,
                slot,
                declared,
            } => {
                let list = if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.join(", ")
                };
                write!(
                    f,
                    "connector `{connector}` declares no credential slot `{slot}` (it declares: {list})"
                )
            }
            Self::Ambiguous {
                slot,
                credential,
                connectors,
            } => {
                let names: Vec<String> = connectors.iter().map(|c| format!("`{c}`")).collect();
                let first = connectors.first().map_or("connector", String::as_str);
                write!(
                    f,
                    "the workflow-wide grant of credential `{credential}` to slot `{slot}` is ambiguous: \
                     connectors {} all declare `{slot}`; bind it to the step that needs it \
                     (`credentials: {{{slot}: {credential}}}` on the step) or to its connector \
                     (`grants.credentials: {{\"{first}/{slot}\": {credential}}}`)",
                    names.join(", ")
                )
            }
        }
    }
}

/// Splits a `grants.credentials` key into (connector, slot); a bare slot has
/// no connector.
pub fn split_key(key: &str) -> (Option<&str>, &str) {
    match key.split_once('/') {
        Some((connector, slot)) => (Some(connector), slot),
        None => (None, key),
    }
}

fn declares(manifest: &Manifest, slot: &str) -> bool {
    manifest.credential(slot).is_some()
}

/// Every action step of the definition, loop bodies included.
pub fn action_steps(steps: &[StepDef]) -> Vec<&ActionStep> {
    let mut out = Vec::new();
    let mut stack: Vec<&[StepDef]> = vec![steps];
    while let Some(list) = stack.pop() {
        for s in list {
            match &s.kind {
                StepKind::Action(a) => out.push(a),
                StepKind::Loop(l) => stack.push(&l.body),
                _ => {}
            }
        }
    }
    out
}

/// The connectors (sorted) of the workflow's action steps that declare `slot`,
/// whatever else they are bound to: a workflow-wide grant of `slot` is
/// unambiguous only when this is one connector. A connector that binds the
/// slot on a step or by a `connector/slot` grant still counts, so such a
/// binding never leaves the bare grant to another connector (M1).
/// Connectors missing from `catalog` are not counted.
pub fn receivers<'d>(def: &'d Definition, slot: &str, catalog: &dyn Catalog) -> Vec<&'d str> {
    let set: BTreeSet<&str> = action_steps(&def.steps)
        .into_iter()
        .filter(|a| {
            catalog
                .connector(&a.connector)
                .is_some_and(|m| declares(m, slot))
        })
        .map(|a| a.connector.as_str())
        .collect();
    set.into_iter().collect()
}

/// The credentials `step` (whose connector's manifest is `manifest`) gets.
///
/// `catalog` is only consulted for a workflow-wide grant by slot name, to find
/// whether another connector of the workflow declares the slot too.
///
/// # Errors
/// [`Refusal::Undeclared`] when the step binds a slot its connector does not
/// declare; [`Refusal::Ambiguous`] when a slot it declares is granted only by
/// the workflow-wide form and another connector of the workflow declares it too.
pub fn for_step<'d>(
    def: &'d Definition,
    step: &'d ActionStep,
    manifest: &Manifest,
    catalog: &dyn Catalog,
) -> Result<Vec<Bound<'d>>, Refusal> {
    let declared = &manifest.capabilities.credentials;
    if let Some(slot) = step.credentials.keys().find(|s| !declares(manifest, s)) {
        return Err(Refusal::Undeclared {
            connector: step.connector.clone(),
            slot: slot.clone(),
            declared: declared.iter().map(|c| c.name.clone()).collect(),
        });
    }
    let mut out = Vec::new();
    for slot in declared {
        let slot = slot.name.as_str();
        if let Some((slot, credential)) = step.credentials.get_key_value(slot) {
            out.push(Bound {
                slot,
                credential,
                via: Via::Step,
            });
        } else if let Some((key, credential)) = def
            .grants
            .credentials
            .get_key_value(&format!("{}/{slot}", step.connector))
        {
            out.push(Bound {
                slot: split_key(key).1,
                credential,
                via: Via::Connector,
            });
        } else if let Some((slot, credential)) = def.grants.credentials.get_key_value(slot) {
            // This step's connector declares the slot, whatever `catalog` holds.
            let mut connectors = receivers(def, slot, catalog);
            if !connectors.contains(&step.connector.as_str()) {
                connectors.push(&step.connector);
                connectors.sort_unstable();
            }
            if connectors.len() > 1 {
                return Err(Refusal::Ambiguous {
                    slot: slot.clone(),
                    credential: credential.clone(),
                    connectors: connectors.into_iter().map(str::to_owned).collect(),
                });
            }
            out.push(Bound {
                slot,
                credential,
                via: Via::Workflow,
            });
        }
    }
    Ok(out)
}
