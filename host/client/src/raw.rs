//! Sending: the typed path ([`Client::call`]) and the raw escape hatch
//! ([`Client::raw`]) share one request builder.

use crate::error::{redacted, snippet};
use crate::{Client, Error, Result};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use weft_model::ErrorBody;

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// No body.
    None,
    /// A JSON document, already serialized.
    Json(Vec<u8>),
    /// Bytes with their content type (a YAML workflow, a raw webhook body).
    Raw(Vec<u8>, String),
}

impl Body {
    /// `value` as JSON.
    ///
    /// # Errors
    /// [`Error::Setup`] when it cannot be serialized.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        serde_json::to_vec(value)
            .map(Self::Json)
            .map_err(|e| Error::Setup(format!("cannot serialize the request body: {e}")))
    }
}

/// An answer as it came: status, headers, bytes.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (`None` when it is not).
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The error envelope, when the body is one.
    pub fn error(&self) -> Option<ErrorBody> {
        self.json()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `content-type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE)?.to_str().ok()
    }
}

impl Client {
    /// Sends `body` to `path` (with its query; absolute `http…` URLs are
    /// taken as they are) and returns the answer whatever its status.
    ///
    /// # Errors
    /// Only [`Error::Transport`] (no answer) and [`Error::Setup`] (a bad URL).
    pub async fn raw(&self, method: Method, path: &str, body: Body) -> Result<Response> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            Url::parse(path)
        } else {
            let base = self.base.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}{path}"))
        }
        .map_err(|e| Error::Setup(format!("`{path}` is not a URL: {e}")))?;
        self.send(method, url, body, &HeaderMap::new()).await
    }

    /// As [`Client::raw`] to a built URL, with extra headers.
    ///
    /// # Errors
    /// As [`Client::raw`].
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Body,
        headers: &HeaderMap,
    ) -> Result<Response> {
        let mut req = self.request(method.clone(), url.clone());
        req = match body {
            Body::None => req,
            Body::Json(b) => req.header(CONTENT_TYPE, "application/json").body(b),
            Body::Raw(b, ct) => req.header(CONTENT_TYPE, ct).body(b),
        };
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| Error::transport("cannot reach".into(), &url, "", e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::transport(method.to_string(), &url, "the answer broke off: ", e))?;
        Ok(Response {
            status,
            headers,
            body: body.to_vec(),
        })
    }

    /// A call of the API: an error status becomes [`Error::Api`] (or
    /// [`Error::Status`] without the envelope), a success is decoded as `T`
    /// (an empty body as JSON `null`, so `()` and `Option` accept it).
    ///
    /// # Errors
    /// As above, and [`Error::Decode`].
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(String, String)],
        body: Body,
    ) -> Result<T> {
        let url = self.url(segments, query)?;
        let resp = self
            .send(method.clone(), url.clone(), body, &HeaderMap::new())
            .await?;
        decode(method, &url, resp)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(method: Method, url: &Url, resp: Response) -> Result<T> {
    let status = resp.status;
    if !status.is_success() {
        if let Some(e) = resp.error() {
            return Err(Error::Api {
                status,
                error: Box::new(e.error),
            });
        }
        return Err(Error::Status {
            method,
            url: redacted(url),
            status,
            snippet: snippet(&resp.body),
        });
    }
    let bytes: &[u8] = if resp.body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        &resp.body
    };
    serde_json::from_slice(bytes).map_err(|e| Error::Decode {
        method,
        url: redacted(url),
        status,
        expected: if e.is_syntax() || e.is_eof() {
            "JSON".to_owned()
        } else {
            format!("the expected JSON ({e})")
        },
        snippet: snippet(&resp.body),
    })
}
