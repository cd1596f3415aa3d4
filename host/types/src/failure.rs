//! How a step fails.
//!
//! Two channels, as in the WIT contract: a connector *returns* a classified
//! [`ErrorKind`]; the sandbox *stops* a plugin for a named [`Reason`] (a limit
//! breach, a trap, cancellation). Both end up on the step, and the engine
//! decides retries from the kind.

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

/// Why the sandbox stopped a plugin. Stable names: they are recorded on steps
/// and counted in metrics.
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
        }
    }

    /// The error kind a step failing for this reason gets.
    pub fn kind(self) -> ErrorKind {
        match self {
            Self::Cancelled => ErrorKind::Cancelled,
            Self::HostBusy => ErrorKind::Transient,
            Self::Trap | Self::InvalidOutput => ErrorKind::Permanent,
            _ => ErrorKind::LimitExceeded,
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
    fn only_transient_kinds_retry_by_default() {
        assert!(ErrorKind::RateLimited.is_retryable());
        assert!(!ErrorKind::InvalidInput.is_retryable());
        assert!(!Reason::MemoryLimit.kind().is_retryable());
        assert_eq!(Reason::Cancelled.kind(), ErrorKind::Cancelled);
    }
}
