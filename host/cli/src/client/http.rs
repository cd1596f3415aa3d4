//! The tiny HTTP helper the client subcommands share: URLs built from
//! percent-encoded path segments, the API key as a bearer token, JSON in and
//! out, and the error envelope turned into [`ApiError`] (printed by [`finish`]).

use super::ServerArgs;
use super::output::out;
use anyhow::{Context, bail};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::fmt;
use std::process::ExitCode;
use std::time::Duration;

/// How long to wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take; the server waits at most 60 s for a run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Most characters of a non-JSON answer quoted in an error.
const SNIPPET_CHARS: usize = 300;

/// An error the server answered with (`{"error": {"code", "message", "details"?}}`).
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code, e.g. `not_found`.
    pub code: String,
    /// For humans.
    pub message: String,
    /// `(path, message)` pairs, e.g. the problems of a workflow definition.
    pub details: Vec<(String, String)>,
    /// Whether the request carried no API key (for a hint on 401).
    pub without_key: bool,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn from_body(status: StatusCode, body: &[u8], without_key: bool) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        let code = e.get("code")?.as_str()?.to_owned();
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let details = e
            .get("details")
            .and_then(Value::as_array)
            .map(|ds| {
                ds.iter()
                    .map(|d| (text(d, "path"), text(d, "message")))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            status,
            code,
            message,
            details,
            without_key,
        })
    }

    /// Prints `error: <code>: <message>` and each detail as `  <path>: <message>`.
    pub fn print(&self) {
        eprintln!("error: {self}");
        for (path, message) in &self.details {
            if path.is_empty() {
                eprintln!("  {message}");
            } else {
                eprintln!("  {path}: {message}");
            }
        }
        if self.without_key && self.status == StatusCode::UNAUTHORIZED {
            eprintln!(
                "hint: pass --api-key or set WEFT_API_KEY (`weft serve` prints one on first start)"
            );
        }
    }
}

fn text(v: &Value, field: &str) -> String {
    v.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Turns the outcome of a subcommand into its exit code: 0 on success, 1 (after
/// printing it) when the server answered with an error; anything else (a bad
/// argument, an unreachable server) is returned for `main` to print.
///
/// # Errors
/// Every error but [`ApiError`].
pub fn finish(result: anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => match e.downcast_ref::<ApiError>() {
            Some(api) => {
                api.print();
                Ok(ExitCode::from(1))
            }
            None => Err(e),
        },
    }
}

/// A client of one server.
pub struct Client {
    base: Url,
    key: Option<HeaderValue>,
    http: reqwest::Client,
    /// Print raw JSON instead of text.
    pub json: bool,
}

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// A JSON document.
    Json(Value),
    /// Bytes with their content type (a workflow file).
    Raw(Vec<u8>, &'static str),
}

impl Client {
    /// A client for `args`.
    ///
    /// # Errors
    /// A server URL that is not http(s), or an API key that cannot be a header.
    pub fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let base = Url::parse(&args.server)
            .with_context(|| format!("--server `{}` is not a URL", args.server))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            bail!(
                "--server `{}` must be an http:// or https:// URL",
                args.server
            );
        }
        let key = match args.api_key.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {k}"))
                    .context("the API key contains characters a header cannot carry")?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        let http = reqwest::Client::builder()
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Self {
            base,
            key,
            http,
            json: args.json,
        })
    }

    /// The URL of `segments` (each percent-encoded) under the server's base URL,
    /// with the query pairs whose value is set.
    ///
    /// # Errors
    /// Never in practice: the base URL was checked to take path segments.
    pub fn url(&self, segments: &[&str], query: &[(&str, Option<String>)]) -> anyhow::Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("--server `{}` cannot take a path", self.base))?
            .pop_if_empty()
            .extend(segments);
        let set: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
        if !set.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in set {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// Sends a request and returns the JSON answer (`null` for an empty one).
    ///
    /// # Errors
    /// [`ApiError`] for an error envelope; a connection failure naming the URL;
    /// an answer that is not JSON.
    pub async fn send(&self, method: Method, url: Url, body: Body) -> anyhow::Result<Value> {
        let mut req = self.http.request(method.clone(), url.clone());
        if let Some(k) = &self.key {
            req = req.header(AUTHORIZATION, k.clone());
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&v)?),
            Body::Raw(bytes, content_type) => req.header(CONTENT_TYPE, content_type).body(bytes),
        };
        let resp = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", redacted(&url), cause(&e)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| {
            anyhow::anyhow!(
                "{method} {}: the answer broke off: {}",
                redacted(&url),
                cause(&e)
            )
        })?;
        if !status.is_success() {
            if let Some(e) = ApiError::from_body(status, &bytes, self.key.is_none()) {
                return Err(e.into());
            }
            bail!(
                "{method} {} answered HTTP {status}: {}",
                redacted(&url),
                snippet(&bytes)
            );
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{method} {} answered HTTP {status} with a body that is not JSON: {}",
                redacted(&url),
                snippet(&bytes)
            )
        })
    }

    /// `GET`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, Option<String>)],
    ) -> anyhow::Result<Value> {
        let url = self.url(segments, query)?;
        self.send(Method::GET, url, Body::None).await
    }

    /// `POST`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn post(&self, segments: &[&str], body: Body) -> anyhow::Result<Value> {
        let url = self.url(segments, &[])?;
        self.send(Method::POST, url, body).await
    }

    /// `DELETE`.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn delete(&self, segments: &[&str]) -> anyhow::Result<Value> {
        let url = self.url(segments, &[])?;
        self.send(Method::DELETE, url, Body::None).await
    }

    /// Prints `v` as pretty JSON when `--json` was given and returns `true`.
    ///
    /// # Errors
    /// Serialization failures (not expected for a parsed document).
    pub fn raw(&self, v: &Value) -> anyhow::Result<bool> {
        if self.json {
            out!("{}", serde_json::to_string_pretty(v)?);
        }
        Ok(self.json)
    }
}

/// The URL without user name, password or query (none of which the CLI sets,
/// but `--server` might carry credentials).
fn redacted(url: &Url) -> String {
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

fn snippet(bytes: &[u8]) -> String {
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
