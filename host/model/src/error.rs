//! The one error envelope: `{"error": {"code", "message", "details"?, "run_id"?}}`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::Problem;

/// Every error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Error")]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The error itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable, for programs: `not_found`, `invalid_request`, `invalid_workflow`,
    /// `unauthenticated`, `forbidden`, `conflict`, `payload_too_large`,
    /// `rate_limited`, `quota_exceeded`, `run_failed`, `invalid_input` (422, a
    /// run's input against the workflow's `input_schema`), `request_timeout`, `unavailable`,
    /// `invalid_signature`, `internal`; from the registry: `bad_signature`,
    /// `invalid_wasm`, `not_a_component`, `too_large`, `world_mismatch`,
    /// `invalid_manifest`, `manifest_mismatch`, `name_confusable`,
    /// `invalid_template`, `invalid_parameters`, `missing_connectors` (422)
    /// and `consent_mismatch` (409).
    pub code: String,
    /// For humans.
    pub message: String,
    /// Every problem by JSON pointer: of an invalid definition
    /// (`invalid_workflow`), or inside a run's input (`invalid_input`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Problem>,
    /// The run this error is about (`run_failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Which check of a signed webhook failed (`invalid_signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<weft_types::SignatureFailure>,
    /// The capability disclosure to show the tenant (`consent_mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure: Option<Box<crate::registry::Disclosure>>,
    /// Its digest: the consent to send (`consent_mismatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disclosure_digest: Option<String>,
}

impl ErrorBody {
    /// An envelope with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                details: Vec::new(),
                run_id: None,
                reason: None,
                disclosure: None,
                disclosure_digest: None,
            },
        }
    }
}
