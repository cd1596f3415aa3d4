//! `/v1/connectors`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use weft_types::{ActionSpec, Capabilities};

/// A connector workflows can use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Connector {
    /// Lower-case identifier (`http`, `slack`).
    pub name: String,
    /// Its semantic version.
    pub version: String,
    /// One line.
    pub description: String,
    /// `bundled` or `installed`.
    pub source: String,
    /// `sha256:…` of the component.
    pub digest: String,
    /// What it offers.
    pub actions: Vec<ActionSpec>,
    /// JSON Schema of its config.
    pub config_schema: Option<Value>,
    /// What it may do.
    pub capabilities: Capabilities,
}
