//! Webhook and resume answers the server itself writes (a synchronous
//! webhook otherwise answers whatever the workflow's `respond` step says).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::Status;

/// A run was started or resumed: its id and status (an async webhook's 202,
/// a resume URL's 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunRef {
    /// The run.
    pub run_id: String,
    /// Its status now.
    pub status: Status,
}
