//! Outbound HTTP for plugins: the policy ([`policy`], re-exported from the
//! `weft-egress` crate) and the transport that sends requests ([`Transport`]):
//! the real one ([`HttpTransport`]) checks every resolved
//! address and connects only to addresses it checked; a test harness can supply a
//! scripted one.

pub use weft_egress as policy;
mod transport;

pub use crate::state::BoxFuture;
use std::{sync::Arc, time::Duration};
pub use transport::HttpTransport;

/// One request hop as handed to a transport, already checked and with any
/// credential injected.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// HTTP method.
    pub method: http::Method,
    /// Absolute URL.
    pub url: url::Url,
    /// Headers to send.
    pub headers: http::HeaderMap,
    /// Body, if any.
    pub body: Option<Vec<u8>>,
    /// Give up after this long.
    pub timeout: Duration,
    /// Largest response body accepted (after decompression).
    pub max_body: usize,
    /// Whether the transport may undo a `Content-Encoding` (gzip). When false
    /// the body comes back as sent and every `Content-Encoding` line is kept
    /// (L4: a step holding a credential checks them all).
    pub decode: bool,
}

/// A response as read by a transport.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body, decompressed.
    pub body: Vec<u8>,
}

/// Why a hop failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The policy refused the destination (e.g. a name resolved to a private address).
    #[error("denied: {0}")]
    Denied(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// Could not connect.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The exchange broke.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The body was over `max_body`.
    #[error("response body over {0} bytes")]
    TooLarge(usize),
}

/// Sends one checked hop. Implementations must not follow redirects.
pub trait Transport: Send + Sync + 'static {
    /// Sends `req` and reads the whole response.
    fn send(&self, req: Outbound) -> BoxFuture<'_, Result<Inbound, TransportError>>;
}

/// The egress side of the sandbox: policy settings plus a transport.
#[derive(Clone)]
pub struct Egress {
    /// Allow non-public addresses (metadata endpoints stay denied).
    pub allow_private: bool,
    /// Sends hops.
    pub transport: Arc<dyn Transport>,
}
