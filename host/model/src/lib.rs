//! The wire contract of the Weft API: every request and response body, every
//! query string and the error envelope, as `Serialize + Deserialize +
//! JsonSchema` types. The server (`weft-api`) answers with them, the typed
//! client (`weft-client`), the CLI, the tests and the benchmarks read them, and
//! the OpenAPI document is generated from their schemas.
//!
//! Conversions from the domain (`weft-types`) live here, next to the types they
//! build, so that the server and any in-process caller map a record the same
//! way; nothing converts the other way (a wire type is never stored).
//!
//! ```
//! use weft_model::{ErrorBody, Page, Workflow};
//! let page: Page<Workflow> = serde_json::from_str(r#"{"items": []}"#).unwrap();
//! assert!(page.items.is_empty() && page.next.is_none());
//! let e: ErrorBody = serde_json::from_str(
//!     r#"{"error": {"code": "not_found", "message": "run not found"}}"#,
//! ).unwrap();
//! assert_eq!(e.error.code, "not_found");
//! ```

mod connectors;
mod credentials;
mod error;
mod hooks;
mod keys;
pub mod notifications;
pub mod ops;
pub mod people;
pub mod query;
pub mod registry;
mod runs;
pub mod stats;
mod system;
pub mod tenant;
pub mod usage;
mod workflows;

pub use connectors::Connector;
pub use credentials::{
    Credential, CredentialAuthorization, Injection, NewCredential, OAuth2, OAuth2ClientAuth,
    OAuth2Grant, OAuthCallbackQuery,
};
pub use error::{ErrorBody, ErrorDetail};
pub use hooks::RunRef;
pub use keys::{AuditEntry, DeadLetter, DeadReason, Key, NewKey, Redriven};
pub use query::{AuditQuery, BadQuery, NoQuery, Query, RunsQuery, StartQuery, WorkflowsQuery};
pub use runs::{Attempt, Rerun, Resume, Run, StartRun, Step};
pub use system::{Health, LimitsBackend, Readiness, Ready};
pub use workflows::{
    Definition, ImportN8n, ImportNote, Imported, LastRun, PollStatus, QueueStatus, Validation,
    Workflow, WorkflowVersion,
};

/// Re-exported domain types the wire carries as they are.
pub use weft_types::{Problem, Role, Status, Trigger};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A page of items, newest first, and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "{T}Page")]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `before` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A whole (unpaged) list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        Self { items }
    }
}
