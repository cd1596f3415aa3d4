//! Domain types shared by every part of Weft. No I/O lives here.
//!
//! - [`plugin`]: a connector's self-description ([`Manifest`]) and what it may do
//!   ([`Capabilities`]).
//! - [`failure`]: how a step fails: one [`Failure`] (the classified [`ErrorKind`],
//!   a named [`Reason`] from the sandbox or the engine, the message), and
//!   [`RunFailure`] on runs.
//! - [`log`]: a step attempt's log records ([`LogRecord`]) and how the journal bounds them.
//! - [`host`]: outbound host patterns ([`HostPattern`]) used by capabilities and grants.
//! - [`context`]: the facts about one step attempt handed to a plugin ([`StepContext`]).
//! - [`workflow`]: workflow definitions as written by tenants ([`Definition`], [`StepDef`],
//!   [`StepKind`]) and the [`Problem`]s validation reports.
//! - [`run`]: runs, steps and the attempt journal ([`Run`], [`Step`], [`Attempt`], [`Status`]),
//!   and the webhook [`Response`] a run gives.
//! - [`tenant`]: tenants, API keys, workflows and versions, credentials (and their
//!   [`Injection`]), schedules.
//! - [`scope`]: what an API key may do, narrower than its role ([`scope::Scope`]).
//! - [`webhook`]: signed webhooks and delivery-id dedupe ([`WebhookSignature`],
//!   [`WebhookDedupe`]) and why a signature check fails ([`SignatureFailure`]).
//!
//! ```
//! use weft_types::{HostPattern, ErrorKind};
//! let p: HostPattern = "*.slack.com".parse().unwrap();
//! assert!(p.matches("hooks.slack.com", 443));
//! assert!(!p.matches("slack.com.evil.net", 443));
//! assert!(ErrorKind::Transient.is_retryable());
//! ```

pub mod context;
pub mod failure;
pub mod host;
pub mod log;
pub mod millis;
pub mod ops;
pub mod plugin;
pub mod run;
pub mod scope;
pub mod tenant;
pub mod webhook;
pub mod workflow;

pub use context::StepContext;
pub use failure::{ErrorKind, Failure, Reason, RunFailure};
pub use host::HostPattern;
pub use log::LogRecord;
pub use ops::{OperatorKey, Quotas, TenantLimits, TenantState};
pub use plugin::{ActionSpec, Capabilities, CredentialSlot, Manifest, TriggerSpec};
pub use run::{Attempt, Parent, Response, Run, Status, Step, Trigger};
pub use tenant::{
    ApiKey, CredentialRecord, Injection, Missed, NewCredential, OAuth2, OAuth2ClientAuth,
    OAuth2Grant, Role, Schedule, Tenant, Workflow, WorkflowVersion, aws_sigv4_problem,
};
pub use webhook::{
    DeliverySource, SignatureFailure, SignatureScheme, WebhookDedupe, WebhookSignature,
};
pub use workflow::{
    ActionStep, CodeStep, ConditionStep, Definition, Grants, LoopStep, McpExposure, PollMode,
    PollTrigger, Problem, QueueTrigger, RespondStep, RetrySpec, ScheduleTrigger, StepDef, StepKind,
    SubworkflowStep, SwitchCase, SwitchStep, Triggers, WaitStep, WaitUntil, WebhookMode,
    WebhookTrigger,
};

/// Errors raised when domain values are built from untrusted text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A host pattern is not of the form `host`, `*.domain`, `host:port` or `*`.
    #[error("invalid host pattern `{pattern}`: {reason}")]
    HostPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A manifest does not hold together.
    #[error("invalid manifest: {0}")]
    Manifest(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
