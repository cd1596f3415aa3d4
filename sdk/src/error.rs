//! The classified failure a connector returns, and helpers that classify HTTP answers.

use std::fmt;
use std::time::{Duration, SystemTime};

/// How a failure is classified. The engine decides retries from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input or config is wrong; retrying the same call cannot help.
    InvalidInput,
    /// The credential was refused by the remote service.
    Auth,
    /// The remote service asked us to slow down; see [`Error::retry_after_ms`].
    RateLimited,
    /// A passing fault (timeout, 5xx, connection reset); worth retrying.
    Transient,
    /// Any other failure that retrying cannot fix.
    Permanent,
}

impl ErrorKind {
    /// The WIT spelling of the kind, e.g. `rate-limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid-input",
            Self::Auth => "auth",
            Self::RateLimited => "rate-limited",
            Self::Transient => "transient",
            Self::Permanent => "permanent",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure the connector reports to the host (the WIT `plugin-error`).
///
/// The message is shown to the workflow's author: say what failed and where,
/// and never include a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// How the failure is classified.
    pub kind: ErrorKind,
    /// Human-readable description.
    pub message: String,
    /// For [`ErrorKind::RateLimited`] (optionally [`ErrorKind::Transient`]):
    /// how long to wait before retrying, in milliseconds.
    pub retry_after_ms: Option<u64>,
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of the given kind with no retry hint.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The input or config is wrong.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// The remote service refused the credential.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    /// The remote service asked to slow down, optionally saying for how long.
    pub fn rate_limited(message: impl Into<String>, retry_after_ms: Option<u64>) -> Self {
        Self {
            kind: ErrorKind::RateLimited,
            message: message.into(),
            retry_after_ms,
        }
    }

    /// A passing fault that is worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Transient, message)
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Permanent, message)
    }

    /// The host asked for an action this connector does not offer.
    pub fn unknown_action(name: &str) -> Self {
        Self::invalid_input(format!("unknown action `{name}`"))
    }

    /// Classify an HTTP status the remote service answered with.
    ///
    /// `body_snippet` (usually the response body) is shortened and appended to the
    /// message. The mapping: 401, 403, 407 -> auth; 408, 425 -> transient;
    /// 429 -> rate-limited (without a hint; see [`Error::with_retry_after_ms`]);
    /// other 4xx -> invalid-input; 501, 505 -> permanent; other 5xx -> transient;
    /// anything else -> permanent.
    pub fn from_status(status: u16, body_snippet: &str) -> Self {
        let message = status_message(status, body_snippet);
        let kind = match status {
            401 | 403 | 407 => ErrorKind::Auth,
            408 | 425 => ErrorKind::Transient,
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::InvalidInput,
            501 | 505 => ErrorKind::Permanent,
            500..=599 => ErrorKind::Transient,
            _ => ErrorKind::Permanent,
        };
        Self::new(kind, message)
    }

    /// Set the retry hint.
    pub fn with_retry_after_ms(mut self, retry_after_ms: Option<u64>) -> Self {
        self.retry_after_ms = retry_after_ms;
        self
    }

    /// Prefix the message with where the failure happened: `"{context}: {message}"`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(ms) = self.retry_after_ms {
            write!(f, " (retry after {ms} ms)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The longest body excerpt [`Error::from_status`] puts into a message, in bytes.
pub const SNIPPET_MAX: usize = 300;

fn status_message(status: u16, body_snippet: &str) -> String {
    let reason = reason_phrase(status);
    let mut message = if reason.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status} {reason}")
    };
    let snippet = snippet(body_snippet, SNIPPET_MAX);
    if !snippet.is_empty() {
        message.push_str(": ");
        message.push_str(&snippet);
    }
    message
}

/// Trim `text`, collapse it to one line and cut it to at most `max` bytes (on a
/// character boundary), marking a cut with `…`.
pub fn snippet(text: &str, max: usize) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.len() <= max {
        return one_line;
    }
    let mut end = max;
    while !one_line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &one_line[..end])
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Parse a `Retry-After` header value (delay in seconds, or an HTTP-date) into
/// milliseconds from now. A date in the past gives `Some(0)`; garbage gives `None`.
pub fn retry_after_ms(value: &str) -> Option<u64> {
    parse_retry_after(value, SystemTime::now())
}

/// [`retry_after_ms`] with an explicit "now", for tests.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Delay-seconds; saturate absurdly large values instead of failing.
        let secs: u64 = value.parse().unwrap_or(u64::MAX);
        return Some(secs.saturating_mul(1000));
    }
    // Some services send fractional seconds ("1.5"); accept them too.
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1e12)).as_millis() as u64);
        }
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).map_or(0, |d| d.as_millis() as u64))
}

/// Parse a `retry-after-ms` header value (integer or fractional milliseconds).
pub fn parse_retry_after_ms_header(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(ms) = value.parse::<u64>() {
        return Some(ms);
    }
    let ms: f64 = value.parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| ms.ceil().min(u64::MAX as f64) as u64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_classifies_each_family() {
        let kind = |s| Error::from_status(s, "").kind;
        assert_eq!(kind(401), ErrorKind::Auth);
        assert_eq!(kind(403), ErrorKind::Auth);
        assert_eq!(kind(408), ErrorKind::Transient);
        assert_eq!(kind(429), ErrorKind::RateLimited);
        assert_eq!(kind(400), ErrorKind::InvalidInput);
        assert_eq!(kind(404), ErrorKind::InvalidInput);
        assert_eq!(kind(422), ErrorKind::InvalidInput);
        assert_eq!(kind(500), ErrorKind::Transient);
        assert_eq!(kind(503), ErrorKind::Transient);
        assert_eq!(kind(501), ErrorKind::Permanent);
        assert_eq!(kind(302), ErrorKind::Permanent);
    }

    #[test]
    fn status_message_names_status_and_quotes_body() {
        let e = Error::from_status(404, "  no such\nthing ");
        assert_eq!(e.message, "HTTP 404 Not Found: no such thing");
        assert_eq!(Error::from_status(599, "").message, "HTTP 599");
    }

    #[test]
    fn snippet_cuts_on_char_boundary() {
        let s = "é".repeat(10); // 20 bytes
        assert_eq!(snippet(&s, 5), "éé…");
        assert_eq!(snippet("short", 5), "short");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(120_000));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0));
        assert_eq!(parse_retry_after("1.5", now), Some(1500));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(0)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(u64::MAX)
        );
    }

    #[test]
    fn retry_after_ms_header() {
        assert_eq!(parse_retry_after_ms_header("250"), Some(250));
        assert_eq!(parse_retry_after_ms_header("20.2"), Some(21));
        assert_eq!(parse_retry_after_ms_header("x"), None);
    }

    #[test]
    fn display_and_context() {
        let e = Error::rate_limited("slow down", Some(1000)).context("POST https://x/y");
        assert_eq!(
            e.to_string(),
            "rate-limited: POST https://x/y: slow down (retry after 1000 ms)"
        );
    }
}
