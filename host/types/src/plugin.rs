//! A connector's self-description, as read from its `describe` export.

use crate::{Error, HostPattern, Result};
use serde::{Deserialize, Serialize};

/// What a connector is and what it may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// Lower-case identifier, e.g. `slack`.
    pub name: String,
    /// The connector's own semantic version.
    pub version: String,
    /// One line for humans.
    pub description: String,
    /// The actions it offers.
    pub actions: Vec<ActionSpec>,
    /// What it asks to be allowed to do.
    pub capabilities: Capabilities,
    /// JSON Schema of its config, if it has one.
    pub config_schema: Option<serde_json::Value>,
    /// The polling triggers it offers (the optional `weft:plugin/trigger`
    /// export; `docs/WIT.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<TriggerSpec>,
}

/// One polling trigger a connector offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TriggerSpec {
    /// Identifier used in workflows (`triggers.poll.trigger`).
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// JSON Schema of the trigger's config.
    pub config_schema: serde_json::Value,
    /// JSON Schema of one item's payload (a run's `trigger.body`).
    pub item_schema: serde_json::Value,
}

/// One action a connector offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActionSpec {
    /// Identifier used in workflows.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// JSON Schema of the input.
    pub input_schema: serde_json::Value,
    /// JSON Schema of the output.
    pub output_schema: serde_json::Value,
}

/// What a connector declares it needs. Anything not declared is denied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capabilities {
    /// Outbound hosts.
    pub hosts: Vec<HostPattern>,
    /// Credential slots, used by reference.
    pub credentials: Vec<CredentialSlot>,
    /// Whether it uses the key-value state store.
    pub state: bool,
}

/// A credential a connector can use without seeing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CredentialSlot {
    /// The name the plugin refers to it by.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Hosts the credential may be sent to.
    pub hosts: Vec<HostPattern>,
    /// Whether actions can run without it.
    pub optional: bool,
}

impl Manifest {
    /// The action called `name`, if the connector offers it.
    pub fn action(&self, name: &str) -> Option<&ActionSpec> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// The polling trigger called `name`, if the connector offers it.
    pub fn trigger(&self, name: &str) -> Option<&TriggerSpec> {
        self.triggers.iter().find(|t| t.name == name)
    }

    /// The credential slot called `name`, if declared.
    pub fn credential(&self, name: &str) -> Option<&CredentialSlot> {
        self.capabilities
            .credentials
            .iter()
            .find(|c| c.name == name)
    }

    /// Checks the rules a loadable manifest must follow.
    ///
    /// # Errors
    /// [`Error::Manifest`] naming the first rule broken.
    pub fn validate(&self) -> Result<()> {
        let ident = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        };
        if !ident(&self.name) {
            return Err(Error::Manifest(format!(
                "name `{}` must be 1-64 lower-case letters, digits, `-` or `_`",
                self.name
            )));
        }
        if self.actions.is_empty() {
            return Err(Error::Manifest(
                "a connector must offer at least one action".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for a in &self.actions {
            if !ident(&a.name) {
                return Err(Error::Manifest(format!(
                    "action name `{}` must be 1-64 lower-case letters, digits, `-` or `_`",
                    a.name
                )));
            }
            if !seen.insert(a.name.as_str()) {
                return Err(Error::Manifest(format!(
                    "action `{}` is declared twice",
                    a.name
                )));
            }
        }
        let mut slots = std::collections::HashSet::new();
        for c in &self.capabilities.credentials {
            if !ident(&c.name) {
                return Err(Error::Manifest(format!(
                    "credential slot name `{}` is not an identifier",
                    c.name
                )));
            }
            if !slots.insert(c.name.as_str()) {
                return Err(Error::Manifest(format!(
                    "credential slot `{}` is declared twice",
                    c.name
                )));
            }
            if c.hosts.is_empty() {
                return Err(Error::Manifest(format!(
                    "credential slot `{}` must name the hosts it is bound to (`*` lets the tenant choose)",
                    c.name
                )));
            }
        }
        Ok(())
    }
}
