//! Workflows from other tools, as Weft definitions (docs/IMPORT.md).
//!
//! Pure: an export in, a definition (JSON, to be validated like any other)
//! and a report out. Nothing is dropped silently: what cannot be mapped is a
//! [`Note`] naming the node.

pub mod n8n;

use serde::Serialize;

/// What an import made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    /// The Weft definition (docs/WORKFLOWS.md); validate it before saving.
    pub definition: serde_json::Value,
    /// What was not mapped, or mapped with a difference, node by node.
    pub notes: Vec<Note>,
}

/// One thing the user must know about an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The source node's name (empty for the workflow as a whole).
    pub node: String,
    /// What was not mapped or differs, and what to do.
    pub message: String,
}

/// An export that cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);
