//! How a step fails.
//!
//! Two channels, as in the WIT contract: a connector *returns* a classified
//! [`ErrorKind`]; the sandbox *stops* a plugin for a named [`Reason`] (a limit
//! breach, a trap, cancellation). The engine and the worker add reasons of their
//! own (a lost worker, a missing connector, a template error...). All of them
//! end up as one [`Failure`] on the step and its attempt, and as a
//! [`RunFailure`] on the run; the engine decides retries from the kind.
//!
//! The JSON is the stored shape (`error` columns) and the wire shape:
//!
//! ```
//! use weft_types::{ErrorKind, Failure, Reason};
//! let f: Failure = serde_json::from_str(
//!     r#"{"kind":"transient","reason":"lease_expired","message":"lost","lost":2}"#,
//! ).unwrap();
//! assert_eq!(f.reason, Some(Reason::LeaseExpired));
//! assert_eq!(f.lost, Some(2));
//! assert_eq!(f.kind, ErrorKind::Transient);
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

/// The classification that drives retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Input or config is wrong; retrying cannot help.
    InvalidInput,
    /// A credential was refused.
    Auth,
    /// The remote asked us to slow down.
    RateLimited,
    /// A passing fault.
    Transient,
    /// Anything else that retrying cannot fix.
    Permanent,
    /// The sandbox stopped the plugin at a limit.
    LimitExceeded,
    /// The step was cancelled.
    Cancelled,
}

impl ErrorKind {
    /// Whether the default retry policy retries this kind.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient)
    }

    /// The stable snake_case name used on the wire and in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Auth => "auth",
            Self::RateLimited => "rate_limited",
            Self::Transient => "transient",
            Self::Permanent => "permanent",
            Self::LimitExceeded => "limit_exceeded",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a step failed, when something other than the plugin's own classification
/// decided it: the sandbox stopped the plugin (a limit, a trap, cancellation),
/// or the engine or the worker failed the step. Stable names: they are
/// recorded on steps and counted in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The wall-clock deadline passed (epoch interruption or host-side timer).
    DeadlineExceeded,
    /// Linear memory would grow past the limit.
    MemoryLimit,
    /// The wasm stack overflowed.
    StackOverflow,
    /// A table would grow past the limit.
    TableLimit,
    /// The component needs more instances, memories or tables than allowed.
    InstanceLimit,
    /// Too many live resource handles.
    ResourceLimit,
    /// The step's input or config is over the size limit.
    InputTooLarge,
    /// The plugin's output is over the size limit.
    OutputTooLarge,
    /// A value handed to a host import is over the size limit.
    HostcallTooLarge,
    /// An outbound response is over the size limit (after decompression).
    ResponseTooLarge,
    /// Too many outbound requests in one step.
    EgressLimit,
    /// The plugin trapped (panic, `unreachable`, a host fault).
    Trap,
    /// The plugin returned something that is not JSON.
    InvalidOutput,
    /// The step was cancelled while running.
    Cancelled,
    /// The host had no free instance slot; not the plugin's fault, worth retrying.
    HostBusy,
    /// The worker running the attempt was lost (its lease expired).
    LeaseExpired,
    /// The step is not retried again: its worker was lost too many times in a
    /// row (see [`Failure::lost`]), or the queue dead-lettered its task.
    Poison,
    /// A `wait until: resume` step was not resumed in time.
    Timeout,
    /// The run did not finish before its deadline (on runs only).
    RunTimeout,
    /// The step names a connector that is not installed.
    UnknownConnector,
    /// A credential the workflow grants does not exist.
    MissingCredential,
    /// The step's credential binding cannot be honoured: it names a slot the
    /// connector does not declare, or it is a workflow-wide grant by slot name
    /// that more than one connector of the workflow declares (bind it to the
    /// step or to `connector/slot` instead).
    CredentialNotBound,
    /// A template in the step's input or config failed to render.
    Template,
    /// Sub-workflows nest deeper than allowed.
    DepthLimit,
    /// The step's sub-workflow run failed or was cancelled.
    SubworkflowFailed,
    /// Rendering the step (its templates, or the data it copies: merge
    /// inputs, loop items and outputs, sub-workflow input, respond body) would
    /// go over the render budget of one decision (`render_bytes`,
    /// `render_nodes`); nothing of it was stored.
    RenderLimit,
    /// A granted credential's stored metadata (name, hosts, injection) does
    /// not match its seal: the row was changed outside Weft. The secret is
    /// not opened and nothing is sent.
    CredentialTampered,
    /// The installed connector's artifact did not verify: its bytes do not
    /// hash to the install's digest, the version's signature does not verify
    /// with its publisher's key, or its manifest is not the package's. It was
    /// not loaded.
    ArtifactMismatch,
    /// The component the step resolves to was taken down by an operator (the
    /// message gives the reason); it is not run.
    TakenDown,
    /// The run's body does not match its workflow's `input_schema`: a
    /// sub-workflow's input, checked when the child run begins. On the child
    /// run and on the `subworkflow` step that started it; the message names
    /// the field.
    InputSchema,
    /// A code step's script threw (or did not compile): the message has the
    /// script's line and column.
    ScriptError,
}

impl Reason {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::MemoryLimit => "memory_limit",
            Self::StackOverflow => "stack_overflow",
            Self::TableLimit => "table_limit",
            Self::InstanceLimit => "instance_limit",
            Self::ResourceLimit => "resource_limit",
            Self::InputTooLarge => "input_too_large",
            Self::OutputTooLarge => "output_too_large",
            Self::HostcallTooLarge => "hostcall_too_large",
            Self::ResponseTooLarge => "response_too_large",
            Self::EgressLimit => "egress_limit",
            Self::Trap => "trap",
            Self::InvalidOutput => "invalid_output",
            Self::Cancelled => "cancelled",
            Self::HostBusy => "host_busy",
            Self::LeaseExpired => "lease_expired",
            Self::Poison => "poison",
            Self::Timeout => "timeout",
            Self::RunTimeout => "run_timeout",
            Self::UnknownConnector => "unknown_connector",
            Self::MissingCredential => "missing_credential",
            Self::CredentialNotBound => "credential_not_bound",
            Self::Template => "template",
            Self::DepthLimit => "depth_limit",
            Self::SubworkflowFailed => "subworkflow_failed",
            Self::RenderLimit => "render_limit",
            Self::CredentialTampered => "credential_tampered",
            Self::ArtifactMismatch => "artifact_mismatch",
            Self::TakenDown => "taken_down",
            Self::InputSchema => "input_schema",
            Self::ScriptError => "script_error",
        }
    }

    /// The error kind a step failing for this reason gets.
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::Cancelled => ErrorKind::Cancelled,
            Self::HostBusy | Self::LeaseExpired => ErrorKind::Transient,
            Self::Trap
            | Self::InvalidOutput
            | Self::Poison
            | Self::Timeout
            | Self::UnknownConnector
            | Self::CredentialNotBound
            | Self::SubworkflowFailed
            | Self::ArtifactMismatch
            | Self::TakenDown
            | Self::ScriptError => ErrorKind::Permanent,
            Self::MissingCredential => ErrorKind::Auth,
            Self::Template | Self::InputSchema => ErrorKind::InvalidInput,
            Self::DeadlineExceeded
            | Self::MemoryLimit
            | Self::StackOverflow
            | Self::TableLimit
            | Self::InstanceLimit
            | Self::ResourceLimit
            | Self::InputTooLarge
            | Self::OutputTooLarge
            | Self::HostcallTooLarge
            | Self::ResponseTooLarge
            | Self::EgressLimit
            | Self::RunTimeout
            | Self::DepthLimit
            | Self::RenderLimit => ErrorKind::LimitExceeded,
            Self::CredentialTampered => ErrorKind::Auth,
        }
    }
}

/// Why a step attempt (or a step) failed: the one shape from the sandbox to the
/// store and the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Failure {
    /// The classification that drives retries.
    pub kind: ErrorKind,
    /// Set when the sandbox, the engine or the worker decided the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// What happened, for humans; never contains a granted secret.
    pub message: String,
    /// Do not retry sooner than this (the plugin said so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// With reason [`Reason::LeaseExpired`] on a step waiting for its next
    /// attempt: how many attempts in a row lost their worker. The engine fails
    /// the step as [`Reason::Poison`] when this reaches its limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<u32>,
}

impl Failure {
    /// A failure of `kind` with no named reason (the plugin's own, or a host fault).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            reason: None,
            message: message.into(),
            retry_after_ms: None,
            lost: None,
        }
    }

    /// A failure for `reason`, of the kind the reason implies.
    pub fn of(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason: Some(reason),
            ..Self::new(reason.kind(), message)
        }
    }

    /// Whether it has this reason.
    pub fn is(&self, reason: Reason) -> bool {
        self.reason == Some(reason)
    }

    /// How many attempts in a row lost their worker, when this is such a loss.
    pub fn lost_streak(&self) -> u32 {
        if self.is(Reason::LeaseExpired) {
            self.lost.unwrap_or(0)
        } else {
            0
        }
    }

    /// The name counted in metrics: the reason, else the kind.
    pub fn label(&self) -> &'static str {
        self.reason.map_or(self.kind.as_str(), Reason::as_str)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            Some(r) => write!(f, "{} ({r}): {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

/// Why a run failed or was cancelled: the failure, and the step it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunFailure {
    /// The failure.
    #[serde(flatten)]
    pub failure: Failure,
    /// The step whose failure failed the run, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl From<Failure> for RunFailure {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            step: None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_round_trip_through_serde() {
        for r in [
            Reason::DeadlineExceeded,
            Reason::MemoryLimit,
            Reason::HostcallTooLarge,
        ] {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<Reason>(&json).unwrap(), r);
        }
        assert_eq!(
            serde_json::to_string(&ErrorKind::RateLimited).unwrap(),
            "\"rate_limited\""
        );
    }

    #[test]
    fn every_reason_round_trips_by_its_name() {
        use Reason::*;
        for r in [
            DeadlineExceeded,
            MemoryLimit,
            StackOverflow,
            TableLimit,
            InstanceLimit,
            ResourceLimit,
            InputTooLarge,
            OutputTooLarge,
            HostcallTooLarge,
            ResponseTooLarge,
            EgressLimit,
            Trap,
            InvalidOutput,
            Cancelled,
            HostBusy,
            LeaseExpired,
            Poison,
            Timeout,
            RunTimeout,
            UnknownConnector,
            MissingCredential,
            CredentialNotBound,
            Template,
            DepthLimit,
            SubworkflowFailed,
            RenderLimit,
            CredentialTampered,
            ArtifactMismatch,
            TakenDown,
        ] {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!(json, r.as_str());
            assert_eq!(serde_json::from_value::<Reason>(json).unwrap(), r);
        }
    }

    /// The `error` JSON stored before the type existed (written by
    /// `StepError::to_value`, the lease-expired streak, the run's cancel and
    /// timeout objects) reads back, and writes out in the same shape.
    #[test]
    fn stored_json_of_earlier_versions_reads_back_in_the_same_shape() {
        let step_errors = [
            json!({"kind": "auth", "message": "no"}),
            json!({"kind": "limit_exceeded", "message": "m", "reason": "memory_limit"}),
            json!({"kind": "rate_limited", "message": "slow", "retry_after_ms": 1500}),
            json!({"kind": "transient", "message": "lost", "reason": "lease_expired", "lost": 2}),
            json!({"kind": "permanent", "message": "x", "reason": "poison"}),
            json!({"kind": "permanent", "message": "x", "reason": "unknown_connector"}),
            json!({"kind": "auth", "message": "x", "reason": "missing_credential"}),
            json!({"kind": "invalid_input", "message": "/body: x", "reason": "template"}),
        ];
        for old in step_errors {
            let f: Failure = serde_json::from_value(old.clone()).unwrap();
            assert_eq!(serde_json::to_value(&f).unwrap(), old);
        }
        let run_errors = [
            json!({"kind": "cancelled", "message": "by request"}),
            json!({"kind": "limit_exceeded", "reason": "run_timeout", "message": "late"}),
            json!({"kind": "permanent", "message": "x", "reason": "poison", "step": "a"}),
            json!({"kind": "limit_exceeded", "message": "x", "reason": "depth_limit", "step": "s"}),
            json!({"kind": "invalid_input", "message": "workflow gone"}),
        ];
        for old in run_errors {
            let f: RunFailure = serde_json::from_value(old.clone()).unwrap();
            assert_eq!(serde_json::to_value(&f).unwrap(), old);
        }
        // The sandbox's outcome once wrote explicit nulls.
        let f: Failure = serde_json::from_value(
            json!({"kind": "permanent", "reason": null, "message": "m", "retry_after_ms": null}),
        )
        .unwrap();
        assert_eq!(f, Failure::new(ErrorKind::Permanent, "m"));
        let lost: Failure = serde_json::from_value(
            json!({"kind": "transient", "message": "m", "reason": "lease_expired", "lost": 2}),
        )
        .unwrap();
        assert_eq!(lost.lost_streak(), 2);
        assert_eq!(Failure::of(Reason::Poison, "m").lost_streak(), 0);
    }

    #[test]
    fn only_transient_kinds_retry_by_default() {
        assert!(ErrorKind::RateLimited.is_retryable());
        assert!(!ErrorKind::InvalidInput.is_retryable());
        assert!(!Reason::MemoryLimit.kind().is_retryable());
        assert_eq!(Reason::Cancelled.kind(), ErrorKind::Cancelled);
    }
}
