//! A typed async client of the Weft API over the wire contract (`weft-model`):
//! one method per route, the API key as a bearer token, path segments
//! percent-encoded, JSON in and out (YAML for workflow files), and one
//! [`Error`] for what the server refused, what never arrived and what could not
//! be read. [`Client::raw`] is the escape hatch for callers that must see the
//! exact status, headers and bytes (webhooks, attack tests).
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_client::Error> {
//! let client = weft_client::Client::new("http://127.0.0.1:8080", Some("weft_..."))?;
//! let page = client.list_runs(&weft_model::RunsQuery::default()).await?;
//! for run in page.items {
//!     println!("{} {}", run.id, run.status);
//! }
//! # Ok(()) }
//! ```

mod error;
mod notifications;
mod ops;
mod people;
mod raw;
mod registry;
mod routes;
mod usage;

pub use routes::Definition;

pub use error::{Error, Result};
pub use people::Session;
pub use raw::{Body, Response};

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use std::time::Duration;

/// How long to wait for a TCP (and TLS) connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take; the server waits at most 60 s for a run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A client of one server, with one API key (or none). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    base: Url,
    key: Option<HeaderValue>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("key", &self.key.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Client {
    /// A client of the server at `base` (`http(s)://host:port`, optionally
    /// with a path prefix), authenticating with `api_key` when given.
    ///
    /// # Errors
    /// [`Error::Setup`]: a base that is not an http(s) URL, a key a header
    /// cannot carry, or no TLS backend.
    pub fn new(base: &str, api_key: Option<&str>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| Error::Setup(format!("cannot set up the HTTP client: {e}")))?;
        Self::with_http(base, api_key, http)
    }

    /// As [`Client::new`] over an existing `reqwest::Client` (its timeouts,
    /// pool and proxy settings).
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_http(base: &str, api_key: Option<&str>, http: reqwest::Client) -> Result<Self> {
        let base = Url::parse(base)
            .map_err(|_| Error::Setup(format!("--server `{base}` is not a URL")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::Setup(format!(
                "--server `{base}` must be an http:// or https:// URL"
            )));
        }
        let key = match api_key.map(str::trim) {
            None | Some("") => None,
            Some(k) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {k}")).map_err(|_| {
                    Error::Setup("the API key contains characters a header cannot carry".into())
                })?;
                v.set_sensitive(true);
                Some(v)
            }
        };
        Ok(Self { base, key, http })
    }

    /// The same server with another API key (`None`: without one).
    ///
    /// # Errors
    /// A key a header cannot carry.
    pub fn with_key(&self, api_key: Option<&str>) -> Result<Self> {
        Self::with_http(self.base.as_str(), api_key, self.http.clone())
    }

    /// The server's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Whether requests carry an API key.
    pub fn has_key(&self) -> bool {
        self.key.is_some()
    }

    /// The URL of `segments` (each percent-encoded) under the base URL, with
    /// the query pairs given.
    ///
    /// # Errors
    /// [`Error::Setup`] when the base cannot take a path (never for a base
    /// [`Client::new`] accepted).
    pub fn url(&self, segments: &[&str], query: &[(String, String)]) -> Result<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Setup(format!("--server `{}` cannot take a path", self.base)))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let req = self.http.request(method, url);
        match &self.key {
            Some(k) => req.header(AUTHORIZATION, k.clone()),
            None => req,
        }
    }
}
