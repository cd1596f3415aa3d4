//! [`Error`]: the server's envelope, or what kept the answer from arriving or
//! being read. Messages name the request (without credentials or query).

use reqwest::{Method, StatusCode, Url};
use weft_model::ErrorDetail;

/// Most characters of a non-JSON answer quoted in an error.
const SNIPPET_CHARS: usize = 300;

/// What a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with the error envelope.
    #[error("{}: {}", error.code, error.message)]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The envelope's `error`: code, message, details, run id (boxed:
        /// an error stays small on the happy path).
        error: Box<ErrorDetail>,
    },
    /// The server answered an error status without the envelope.
    #[error("{method} {url} answered HTTP {status}: {snippet}")]
    Status {
        /// The method.
        method: Method,
        /// The URL (redacted).
        url: String,
        /// The status.
        status: StatusCode,
        /// The start of the body.
        snippet: String,
    },
    /// The request did not get an answer (connection, timeout, broken body).
    #[error("{what} {url}: {cause}")]
    Transport {
        /// `cannot reach`, or `<METHOD> ... the answer broke off`.
        what: String,
        /// The URL (redacted).
        url: String,
        /// The innermost causes.
        cause: String,
        /// The error itself.
        #[source]
        source: reqwest::Error,
    },
    /// A success answer that is not the declared type.
    #[error("{method} {url} answered HTTP {status} with a body that is not {expected}: {snippet}")]
    Decode {
        /// The method.
        method: Method,
        /// The URL (redacted).
        url: String,
        /// The status.
        status: StatusCode,
        /// What was expected (`JSON`, or the type and serde's reason).
        expected: String,
        /// The start of the body.
        snippet: String,
    },
    /// The client could not be set up or the request built.
    #[error("{0}")]
    Setup(String),
}

/// `Result` of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. }
            | Self::Status { status, .. }
            | Self::Decode { status, .. } => Some(*status),
            Self::Transport { .. } | Self::Setup(_) => None,
        }
    }

    /// The envelope's code (`not_found`, ...), when the server sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }

    /// The envelope, when the server sent one.
    pub fn api(&self) -> Option<&ErrorDetail> {
        match self {
            Self::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn transport(what: String, url: &Url, prefix: &str, e: reqwest::Error) -> Self {
        Self::Transport {
            what,
            url: redacted(url),
            cause: format!("{prefix}{}", cause(&e)),
            source: e,
        }
    }
}

/// The URL without user name, password or query (none of which the client
/// sets, but a base URL might carry credentials).
pub(crate) fn redacted(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

/// The innermost causes of a reqwest error, without its URL (printed apart).
fn cause(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if e.is_timeout() {
        parts.push("timed out".into());
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let mut out: String = text.chars().take(SNIPPET_CHARS).collect();
    if text.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}
