//! Why a use case failed, in terms a transport can map once: the API to a status
//! and its envelope, the CLI to a message, MCP to a tool error.

use weft_types::{Problem, Role};

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid credential (a malformed, unknown or revoked API key).
    #[error("a valid API key is required")]
    Unauthenticated,
    /// Credentials that prove nothing, with what was wrong for this route
    /// (a login, an invitation's password, a session cookie, an operator
    /// key); 401 like [`Error::Unauthenticated`], never saying whether an
    /// account exists.
    #[error("{0}")]
    BadCredentials(String),
    /// The caller's role is below what the use case needs.
    #[error("this caller's role cannot do this (needs {})", needs.as_str())]
    Forbidden {
        /// The least role that may.
        needs: Role,
    },
    /// The caller's role allows this, but its key's scopes do not
    /// (`docs/TENANCY.md`, section 4); names the scope that would.
    #[error("this API key's scopes do not allow this (needs `{needs}`)")]
    OutOfScope {
        /// The scope that would allow it (`runs:start:wf_…`).
        needs: String,
    },
    /// The record does not exist for this tenant (another tenant's reads the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// A workflow definition has problems, each with its path.
    #[error("the workflow definition has {} problem(s)", .problems.len())]
    InvalidWorkflow {
        /// Every problem found.
        problems: Vec<Problem>,
        /// Whether it was refused for its size (rather than its content).
        too_large: bool,
    },
    /// A start's body does not match the workflow's `input_schema`; no run
    /// was created. Every problem (at most 20) is at its JSON pointer inside
    /// the body; the message names the first.
    #[error("{}", weft_engine::input::summary(.0))]
    InvalidInput(Vec<Problem>),
    /// The request does not apply to the record's state (e.g. resuming a step
    /// that does not wait).
    #[error("{0}")]
    Conflict(String),
    /// A unique value (a name) is already taken.
    #[error("{0}")]
    Duplicate(String),
    /// A signed webhook's signature check failed (no run was started).
    #[error("the webhook signature check failed: {}", .0.as_str())]
    Signature(weft_types::SignatureFailure, weft_types::SignatureScheme),
    /// The request is well formed but refused by a check that has its own
    /// stable code (`bad_signature`, `world_mismatch`, `name_confusable`,
    /// `invalid_parameters`, ...), with every problem by path.
    #[error("{message}")]
    Refused {
        /// Stable snake_case code.
        code: &'static str,
        /// For humans.
        message: String,
        /// Each problem with its path, when there are several.
        problems: Vec<Problem>,
    },
    /// A consent does not match what it must consent to; the disclosure to
    /// show the tenant comes with it.
    #[error("{message}")]
    Consent {
        /// `consent_mismatch`.
        code: &'static str,
        /// For humans.
        message: String,
        /// The disclosure to consent to.
        disclosure: serde_json::Value,
        /// Its digest: the consent to send.
        disclosure_digest: String,
    },
    /// The tenant is suspended or being deleted by the operator; the reason
    /// is the operator's (403 `tenant_suspended`).
    #[error("this tenant is suspended: {0}")]
    TenantSuspended(String),
    /// An operator key on a tenant route, or a tenant's key on an operator
    /// route (403 `wrong_principal`); says which credential the route takes.
    #[error("{0}")]
    WrongPrincipal(String),
    /// The caller's role allows this kind of call but not on this record
    /// (a member and a workflow someone else created); the message says why.
    #[error("{0}")]
    Denied(String),
    /// Too many failed logins (per account or per address): try again
    /// after `retry_after` (`docs/TENANCY.md`, section 3).
    #[error("{message}")]
    Throttled {
        /// For humans, with the wait.
        message: String,
        /// How long to wait.
        retry_after: std::time::Duration,
    },
    /// A hard quota of the tenant is reached.
    #[error("quota exceeded: {0}")]
    Quota(String),
    /// A backend (the store, the queue) does not answer; worth retrying later.
    #[error("{0}")]
    Unavailable(String),
    /// The server failed (a key cannot be unwrapped, a stored record is corrupt).
    #[error("{0}")]
    Internal(String),
    /// The password was right but the account's second factor is missing
    /// (`totp_required`) or wrong (`totp_invalid`): 401 with that code.
    #[error("{message}")]
    SecondFactor {
        /// `totp_required` or `totp_invalid`.
        code: &'static str,
        /// For humans, naming the field.
        message: String,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<weft_store::Error> for Error {
    fn from(e: weft_store::Error) -> Self {
        use weft_store::Error as S;
        match e {
            S::NotFound(what) => Self::NotFound(what),
            S::Stale(m) => Self::Conflict(m),
            S::Duplicate(m) => Self::Duplicate(m),
            S::Unavailable(m) => Self::Unavailable(format!("store unavailable: {m}")),
            S::Invalid(m) => Self::Invalid(m),
            S::Corrupt(m) => Self::Internal(format!("store corrupt: {m}")),
        }
    }
}

impl From<weft_worker::Error> for Error {
    fn from(e: weft_worker::Error) -> Self {
        use weft_worker::Error as W;
        match e {
            W::NotFound(what) => Self::NotFound(what),
            W::Conflict(m) => Self::Conflict(m),
            W::Invalid(m) => Self::Invalid(m),
            W::InvalidInput(problems) => Self::InvalidInput(problems),
            W::Store(s) => s.into(),
            W::Queue(m) => Self::Unavailable(format!("queue unavailable: {m}")),
            W::Vault(m) => Self::Internal(format!("vault: {m}")),
            W::Tampered(m) => Self::Internal(m),
            W::Quota(m) => Self::Quota(m),
            W::Auth(m) => Self::Conflict(m),
        }
    }
}

impl From<weft_engine::Error> for Error {
    fn from(e: weft_engine::Error) -> Self {
        let too_large = matches!(e, weft_engine::Error::TooLarge { .. });
        Self::InvalidWorkflow {
            problems: e.problems(),
            too_large,
        }
    }
}

impl From<weft_vault::Error> for Error {
    fn from(e: weft_vault::Error) -> Self {
        Self::Internal(format!("vault: {e}"))
    }
}
