//! Outbound HTTP under the host's egress policy.
//!
//! The host performs the request: it checks the destination against the
//! connector's declared hosts and the tenant's policy, injects the credential
//! named by [`Request::credential`], follows redirects and decompresses the body.
//!
//! ```no_run
//! use weft_sdk::http::Request;
//! # fn demo() -> weft_sdk::Result<()> {
//! let response = Request::get("https://api.example.com/v1/items")
//!     .query("q", "blue shoes")
//!     .header("accept", "application/json")
//!     .credential("api-key")
//!     .timeout_ms(10_000)
//!     .send()?            // HttpError -> Error via `?`
//!     .error_for_status()?; // 4xx/5xx -> classified Error
//! let items: serde_json::Value = response.json()?;
//! # Ok(()) }
//! ```

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::weft::plugin::http as wit;
use crate::error::{parse_retry_after_ms_header, retry_after_ms, snippet};
use crate::{Error, Result};

/// An outbound request, built fluently and sent with [`Request::send`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    method: String,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    credential: Option<String>,
    timeout_ms: Option<u32>,
    /// A deferred builder failure (e.g. `.json` could not serialize), reported by `send`.
    invalid: Option<String>,
}

impl Request {
    /// A request with any method (`GET`, `POST`, ...) to an absolute `http(s)` URL.
    pub fn new(method: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            credential: None,
            timeout_ms: None,
            invalid: None,
        }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` request.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// A `PUT` request.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new("PUT", url)
    }

    /// A `PATCH` request.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    /// A `DELETE` request.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new("DELETE", url)
    }

    /// Add a header (repeatable; names are sent as given).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Append a query parameter; both name and value are percent-encoded.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Serialize `value` as the JSON body and set `content-type: application/json`
    /// unless a content type was already set.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => {
                if !self.has_header("content-type") {
                    self.headers
                        .push(("content-type".into(), "application/json".into()));
                }
                self.body = Some(body);
            }
            Err(e) => self.invalid = Some(format!("could not serialize the JSON body: {e}")),
        }
        self
    }

    /// Set an `application/x-www-form-urlencoded` body from `pairs` (in order,
    /// each name and value percent-encoded) unless a content type was already set.
    /// Repeat a name for a list; flatten nested values yourself (`metadata[key]`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Self {
        let body = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    encode_query_component(k.as_ref()),
                    encode_query_component(v.as_ref())
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        if !self.has_header("content-type") {
            self.headers.push((
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
        }
        self.body = Some(body.into_bytes());
        self
    }

    /// Set the raw body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Ask the host to inject the credential bound to slot `slot`.
    pub fn credential(mut self, slot: impl Into<String>) -> Self {
        self.credential = Some(slot.into());
        self
    }

    /// Per-request timeout; the step's deadline always applies too.
    pub fn timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = Some(timeout_ms);
        self
    }

    /// The method.
    pub fn method_str(&self) -> &str {
        &self.method
    }

    /// The full URL that will be requested, query parameters included.
    pub fn url(&self) -> String {
        append_query(&self.url, &self.query)
    }

    /// The headers set so far.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// Whether a header with this name (case-insensitive) was set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// Send the request and read the whole response.
    ///
    /// # Errors
    ///
    /// The host's [`HttpError`] (denied, timeout, ...). A 4xx/5xx status is not an
    /// error here: see [`Response::error_for_status`].
    pub fn send(self) -> Result<Response, HttpError> {
        if let Some(reason) = self.invalid {
            return Err(HttpError::InvalidRequest(reason));
        }
        let url = append_query(&self.url, &self.query);
        let request = wit::Request {
            method: self.method,
            url: url.clone(),
            headers: self.headers,
            body: self.body,
            credential: self.credential,
            timeout_ms: self.timeout_ms,
        };
        match wit::send(&request) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
                url,
            }),
            Err(e) => Err(e.into()),
        }
    }
}

impl Request {
    /// [`Request::send`], with a refused or failed request turned into a classified
    /// [`Error`] whose message starts with `"{METHOD} {url without query}: "`.
    ///
    /// # Errors
    ///
    /// The classified transport failure (see `From<HttpError> for Error`).
    pub fn fetch(self) -> Result<Response> {
        let where_ = format!("{} {}", self.method, redact_url(&self.url));
        self.send().map_err(|e| Error::from(e).context(where_))
    }
}

/// What a provider's error answer says, read by the closure given to
/// [`Response::error_for_status_with`]. Every field is optional: what is left
/// `None` comes from the status ([`Error::from_status`]) and the retry headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    /// The provider's own explanation (its error message or code), used instead
    /// of the raw body in the error message.
    pub message: Option<String>,
    /// A classification that overrides the status's (e.g. a 403 that is a rate
    /// limit, a 200 that is an error).
    pub kind: Option<crate::ErrorKind>,
    /// A retry hint from the body or a provider-specific header.
    pub retry_after_ms: Option<u64>,
}

impl Problem {
    /// A problem with just the provider's message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::default()
        }
    }
}

/// Characters left as-is in query components: RFC 3986 unreserved (`A-Z a-z 0-9 - . _ ~`).
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode one query name or value (space becomes `%20`).
pub fn encode_query_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY_COMPONENT).to_string()
}

/// Append `params` to `url`'s query string (before any `#fragment`).
pub fn append_query(url: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let mut out = String::with_capacity(url.len() + params.len() * 16);
    out.push_str(base);
    if !base.contains('?') {
        out.push('?');
    } else if !base.ends_with('?') && !base.ends_with('&') {
        out.push('&');
    }
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&encode_query_component(name));
        out.push('=');
        out.push_str(&encode_query_component(value));
    }
    out.push_str(fragment);
    out
}

/// `url` without user info, query and fragment: safe to put in messages.
pub fn redact_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match url.find("://") {
        Some(scheme_end) => {
            let rest = &url[scheme_end + 3..];
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    url: String,
}

impl Response {
    /// Build a response by hand, e.g. to unit-test response handling natively.
    pub fn new(
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        url: impl Into<String>,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            url: url.into(),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The (decompressed) body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Take the body.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }

    /// The URL that was requested (before redirects), query included.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The body as text; invalid UTF-8 is replaced with `U+FFFD`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the `content-type` is JSON (`application/json` or `*/*+json`).
    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(is_json_content_type)
    }

    /// Deserialize the body as JSON.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Permanent`](crate::ErrorKind::Permanent) saying where the body
    /// stopped being the expected JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                String::new()
            } else {
                format!(" at `{path}`")
            };
            Error::permanent(format!(
                "{} answered HTTP {} with a body that is not the expected JSON{at}: {}",
                redact_url(&self.url),
                self.status,
                e.into_inner()
            ))
        })
    }

    /// How long the service asked us to wait: `retry-after-ms` if present,
    /// else `Retry-After` (seconds or HTTP-date).
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after-ms")
            .and_then(parse_retry_after_ms_header)
            .or_else(|| self.header("retry-after").and_then(retry_after_ms))
    }

    /// `Ok(self)` for statuses below 400, else the error [`Error::from_status`]
    /// classifies, carrying the body snippet, the retry hint and the URL
    /// (without its query).
    ///
    /// # Errors
    ///
    /// A classified [`Error`] for any status >= 400.
    pub fn error_for_status(self) -> Result<Self> {
        if self.status < 400 {
            return Ok(self);
        }
        Err(self.status_error())
    }

    /// [`Response::error_for_status`] with the provider's error body read by
    /// `read` (called only for a status >= 400): its message replaces the raw body,
    /// its kind and retry hint win over the status's and the `Retry-After` header's.
    ///
    /// # Errors
    ///
    /// A classified [`Error`] for any status >= 400.
    pub fn error_for_status_with(self, read: impl FnOnce(&Response) -> Problem) -> Result<Self> {
        if self.status < 400 {
            return Ok(self);
        }
        Err(self.problem_error(read(&self)))
    }

    /// The classified error for this response and what the provider said
    /// (see [`Response::error_for_status_with`]); also for a 2xx that is an error.
    pub fn problem_error(&self, problem: Problem) -> Error {
        let detail = match problem.message {
            Some(m) => m,
            None => self.text(),
        };
        let mut error = Error::from_status(self.status, &detail);
        if let Some(kind) = problem.kind {
            error.kind = kind;
        }
        error
            .with_retry_after_ms(problem.retry_after_ms.or_else(|| self.retry_after_ms()))
            .context(redact_url(&self.url))
    }

    /// The body as JSON, or `Value::Null` when it is not JSON: for reading error
    /// bodies, whose shape a failing service does not always keep.
    pub fn json_or_null(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The target of the `Link` header's link with relation `rel` (RFC 8288), e.g.
    /// `link("next")` for the next page of a paginated list (GitHub, many REST APIs).
    pub fn link(&self, rel: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("link"))
            .flat_map(|(_, v)| v.split(','))
            .find_map(|part| {
                let (target, params) = part.trim().split_once(';')?;
                let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
                params
                    .split(';')
                    .filter_map(|p| p.trim().strip_prefix("rel="))
                    .flat_map(|v| v.trim_matches('"').split_ascii_whitespace())
                    .any(|r| r.eq_ignore_ascii_case(rel))
                    .then(|| target.to_string())
            })
    }

    /// The classified error for this response's status (see [`Response::error_for_status`]).
    pub fn status_error(&self) -> Error {
        let body = String::from_utf8_lossy(&self.body);
        Error::from_status(self.status, &snippet(&body, crate::error::SNIPPET_MAX))
            .with_retry_after_ms(self.retry_after_ms())
            .context(redact_url(&self.url))
    }
}

/// Whether a `content-type` value denotes JSON.
pub fn is_json_content_type(value: &str) -> bool {
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Why the host could not complete a request (the WIT `http-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The egress policy refused the destination (the reason says why).
    Denied(String),
    /// No credential slot with that name is bound for this step.
    CredentialNotFound(String),
    /// The credential exists but is not bound to the request's host.
    CredentialNotBound(String),
    /// The request itself is malformed (method, URL, header).
    InvalidRequest(String),
    /// The request did not complete in time.
    Timeout,
    /// The connection failed.
    Connect(String),
    /// The peer spoke invalid HTTP or the transfer broke.
    Protocol(String),
    /// More redirects than the host follows (the number followed).
    TooManyRedirects(u32),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Denied(why) => write!(f, "egress denied: {why}"),
            Self::CredentialNotFound(what) => write!(f, "credential not found: {what}"),
            Self::CredentialNotBound(what) => {
                write!(f, "credential not bound to this host: {what}")
            }
            Self::InvalidRequest(why) => write!(f, "invalid request: {why}"),
            Self::Timeout => f.write_str("request timed out"),
            Self::Connect(why) => write!(f, "connection failed: {why}"),
            Self::Protocol(why) => write!(f, "HTTP protocol error: {why}"),
            Self::TooManyRedirects(n) => write!(f, "too many redirects (followed {n})"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        let message = e.to_string();
        match e {
            HttpError::Denied(_) | HttpError::TooManyRedirects(_) => Error::permanent(message),
            HttpError::CredentialNotFound(_) | HttpError::CredentialNotBound(_) => {
                Error::auth(message)
            }
            HttpError::InvalidRequest(_) => Error::invalid_input(message),
            HttpError::Timeout | HttpError::Connect(_) | HttpError::Protocol(_) => {
                Error::transient(message)
            }
        }
    }
}

impl From<wit::HttpError> for HttpError {
    fn from(e: wit::HttpError) -> Self {
        match e {
            wit::HttpError::Denied(s) => Self::Denied(s),
            wit::HttpError::CredentialNotFound(s) => Self::CredentialNotFound(s),
            wit::HttpError::CredentialNotBound(s) => Self::CredentialNotBound(s),
            wit::HttpError::InvalidRequest(s) => Self::InvalidRequest(s),
            wit::HttpError::Timeout => Self::Timeout,
            wit::HttpError::Connect(s) => Self::Connect(s),
            wit::HttpError::Protocol(s) => Self::Protocol(s),
            wit::HttpError::TooManyRedirects(n) => Self::TooManyRedirects(n),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn query_is_percent_encoded() {
        assert_eq!(
            append_query("https://h/p", &p(&[("q", "a b&c=d/é"), ("x y", "~-._")])),
            "https://h/p?q=a%20b%26c%3Dd%2F%C3%A9&x%20y=~-._"
        );
    }

    #[test]
    fn query_joins_existing_query_and_keeps_fragment() {
        assert_eq!(
            append_query("https://h/p?a=1#top", &p(&[("b", "2")])),
            "https://h/p?a=1&b=2#top"
        );
        assert_eq!(
            append_query("https://h/p?", &p(&[("b", "2")])),
            "https://h/p?b=2"
        );
        assert_eq!(append_query("https://h/p", &[]), "https://h/p");
    }

    #[test]
    fn builder_collects_parts() {
        let r = Request::post("https://h/p")
            .query("a", "1")
            .json(&serde_json::json!({"k": 1}));
        assert_eq!(r.url(), "https://h/p?a=1");
        assert!(r.has_header("Content-Type"));
        let r = Request::post("https://h")
            .header("Content-Type", "text/x")
            .json(&1);
        assert_eq!(r.headers().len(), 1);
    }

    #[test]
    fn redaction_drops_query_and_userinfo() {
        assert_eq!(
            redact_url("https://u:p@h.example/a?key=s#f"),
            "https://h.example/a"
        );
        assert_eq!(redact_url("http://h:8080/x@y"), "http://h:8080/x@y");
    }

    #[test]
    fn response_helpers() {
        let r = Response::new(
            429,
            p(&[
                ("Content-Type", "application/problem+json"),
                ("Retry-After", "3"),
            ]),
            b"{\"error\":\"slow\"}".to_vec(),
            "https://h/p?token=secret",
        );
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(r.is_json());
        assert_eq!(r.retry_after_ms(), Some(3000));
        let e = r.error_for_status().unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms, Some(3000));
        assert_eq!(
            e.message,
            "https://h/p: HTTP 429 Too Many Requests: {\"error\":\"slow\"}"
        );

        let r = Response::new(
            200,
            p(&[("retry-after-ms", "20"), ("retry-after", "3")]),
            b"[1,\"x\"]".to_vec(),
            "u",
        );
        assert_eq!(r.retry_after_ms(), Some(20));
        let e = r.json::<Vec<u32>>().unwrap_err();
        assert!(e.message.contains("at `[1]`"), "{}", e.message);
    }

    #[test]
    fn form_bodies_are_percent_encoded_in_order() {
        let r = Request::post("https://h/p").form(&[("a b", "x&y=z"), ("m[k]", "é"), ("a b", "2")]);
        assert_eq!(
            r.headers(),
            &[(
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string()
            )]
        );
        assert_eq!(
            r.body.as_deref(),
            Some(&b"a%20b=x%26y%3Dz&m%5Bk%5D=%C3%A9&a%20b=2"[..])
        );
    }

    #[test]
    fn provider_problems_override_the_status() {
        let r = Response::new(
            403,
            p(&[("retry-after", "9")]),
            b"{\"message\":\"API rate limit exceeded\"}".to_vec(),
            "https://h/p?x=1",
        );
        let e = r
            .clone()
            .error_for_status_with(|r| {
                Problem::message(r.json_or_null()["message"].as_str().unwrap())
            })
            .unwrap_err();
        assert_eq!(
            (e.kind, e.retry_after_ms, e.message.as_str()),
            (
                ErrorKind::Auth,
                Some(9000),
                "https://h/p: HTTP 403 Forbidden: API rate limit exceeded"
            )
        );
        let e = r.problem_error(Problem {
            kind: Some(ErrorKind::RateLimited),
            retry_after_ms: Some(5),
            ..Problem::default()
        });
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(5))
        );
        assert!(
            e.message
                .ends_with("{\"message\":\"API rate limit exceeded\"}")
        );
        let ok = Response::new(201, vec![], vec![], "u");
        assert!(ok.error_for_status_with(|_| unreachable!()).is_ok());
        assert_eq!(
            Response::new(500, vec![], b"<html>".to_vec(), "u").json_or_null(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn link_header_relations() {
        let r = Response::new(
            200,
            p(&[(
                "Link",
                "<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\"",
            )]),
            vec![],
            "u",
        );
        assert_eq!(
            r.link("next").as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=2")
        );
        assert_eq!(
            r.link("last").as_deref(),
            Some("https://api.github.com/repositories/1/issues?page=5")
        );
        assert_eq!(r.link("prev"), None);
        assert_eq!(Response::new(200, vec![], vec![], "u").link("next"), None);
    }

    #[test]
    fn http_error_classification() {
        let kind = |e: HttpError| Error::from(e).kind;
        assert_eq!(kind(HttpError::Denied("x".into())), ErrorKind::Permanent);
        assert_eq!(
            kind(HttpError::CredentialNotFound("x".into())),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(HttpError::CredentialNotBound("x".into())),
            ErrorKind::Auth
        );
        assert_eq!(
            kind(HttpError::InvalidRequest("x".into())),
            ErrorKind::InvalidInput
        );
        assert_eq!(kind(HttpError::Timeout), ErrorKind::Transient);
        assert_eq!(kind(HttpError::Connect("x".into())), ErrorKind::Transient);
        assert_eq!(kind(HttpError::Protocol("x".into())), ErrorKind::Transient);
        assert_eq!(kind(HttpError::TooManyRedirects(10)), ErrorKind::Permanent);
    }
}
