//! The scripted transport: replies chosen by method and URL, requests recorded.

use std::sync::{Mutex, PoisonError};
use weft_sandbox::egress::{Inbound, Outbound, Transport, TransportError};

/// A scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    fail: Option<TransportError>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            fail: None,
        }
    }

    /// A reply with `body` as given and no headers (add them with [`Reply::header`]).
    pub fn bytes(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![],
            body: body.into(),
            fail: None,
        }
    }

    /// A plain-text reply.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.into(),
            fail: None,
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The request times out instead of answering.
    pub fn timeout() -> Self {
        Self {
            status: 0,
            headers: vec![],
            body: vec![],
            fail: Some(TransportError::Timeout),
        }
    }

    /// The connection is refused instead of answering.
    pub fn refused() -> Self {
        Self {
            status: 0,
            headers: vec![],
            body: vec![],
            fail: Some(TransportError::Connect("connection refused".into())),
        }
    }
}

/// A request as the host sent it (after policy checks and credential injection).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Option<Vec<u8>>,
}

impl Recorded {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`Null` if absent or not JSON).
    pub fn json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default()
    }
}

struct Route {
    method: String,
    url: String,
    replies: Vec<Reply>,
    used: usize,
}

/// The scripted transport itself, for a host that builds its own sandbox
/// ([`weft_sandbox::Sandbox::with_transport`]) around it, as `weft plugin test`
/// does: replies by method and URL, every request recorded.
#[derive(Default)]
pub struct Script {
    routes: Mutex<Vec<Route>>,
    seen: Mutex<Vec<Recorded>>,
}

impl Script {
    /// Scripts the reply to `method url` (exact URL, or a prefix ending in `*`).
    /// Replies to one route are used in order; the last one repeats.
    pub fn add(&self, method: &str, url: &str, reply: Reply) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let method = method.to_ascii_uppercase();
        match routes
            .iter_mut()
            .find(|r| r.method == method && r.url == url)
        {
            Some(r) => r.replies.push(reply),
            None => routes.push(Route {
                method,
                url: url.into(),
                replies: vec![reply],
                used: 0,
            }),
        }
    }

    /// Forgets every route and every recorded request.
    pub fn clear(&self) {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Every request sent so far, in order, as the host sent it.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn answer(&self, method: &str, url: &str) -> Option<Reply> {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let route = routes.iter_mut().find(|r| {
            r.method == method
                && match r.url.strip_suffix('*') {
                    Some(prefix) => url.starts_with(prefix),
                    None => r.url == url,
                }
        })?;
        let reply = route
            .replies
            .get(route.used.min(route.replies.len() - 1))
            .cloned();
        route.used += 1;
        reply
    }
}

impl Transport for Script {
    fn send(
        &self,
        req: Outbound,
    ) -> weft_sandbox::egress::BoxFuture<'_, Result<Inbound, TransportError>> {
        let method = req.method.as_str().to_owned();
        let url = req.url.to_string();
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Recorded {
                method: method.clone(),
                url: url.clone(),
                headers: req
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
                body: req.body.clone(),
            });
        let reply = self.answer(&method, &url);
        Box::pin(async move {
            let reply = reply.ok_or_else(|| {
                TransportError::Connect(format!("no scripted reply for {method} {url}"))
            })?;
            if let Some(fail) = reply.fail {
                return Err(fail);
            }
            if reply.body.len() > req.max_body {
                return Err(TransportError::TooLarge(req.max_body));
            }
            Ok(Inbound {
                status: reply.status,
                headers: reply.headers,
                body: reply.body,
            })
        })
    }
}
