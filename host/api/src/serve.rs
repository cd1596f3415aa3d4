//! Serving a router on a listener with bounds on slow and idle clients (H4,
//! B6): a header-read timeout (hyper's, with a timer: also the idle timeout
//! of a kept-alive connection), a per-request timeout (answered with the
//! error envelope), and a cap on the connections served at once. Every
//! listener of `weft serve`, `weft api` and `weft worker` goes through
//! [`serve`]; `axum::serve` arms none of these.
//!
//! ```text
//! let listener = tokio::net::TcpListener::bind(addr).await?;
//! weft_api::serve(listener, weft_api::router(state), &options, stop.cancelled(), grace).await?;
//! ```

use crate::ApiError;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// How HTTP is served (`[http]`): the bounds on slow and idle clients, for
/// every listener. A value of 0 turns that bound off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// A client must send a request's complete headers within this long of
    /// the connection opening (or of its previous response, on a kept-alive
    /// connection), or the connection is closed; in milliseconds.
    pub header_read_timeout_ms: u64,
    /// A request (reading its body and answering it) that takes longer is
    /// answered 408 `request_timeout` (its body had not all arrived) or 503
    /// `unavailable`; in milliseconds. Keep it above 60 s, the longest wait
    /// of `POST /v1/workflows/{id}/runs` with `wait`.
    pub request_timeout_ms: u64,
    /// The same for `POST /hooks/{token}`, whose synchronous wait may last up
    /// to 300 s (`triggers.webhook.timeout_ms`); in milliseconds.
    pub webhook_timeout_ms: u64,
    /// Connections served at once per listener; further ones wait in the
    /// listen backlog, not accepted, until one closes.
    pub max_connections: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 90_000,
            webhook_timeout_ms: 330_000,
            max_connections: 512,
        }
    }
}

/// Where the connections of a listener are in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the request in progress, then close.
    Draining,
    /// Close now.
    Closed,
}

/// Serves `router` on `listener` within `options` until `shutdown`
/// completes; then stops accepting, lets requests in progress finish, and
/// closes the connections still open after `grace`.
///
/// # Errors
/// None in practice: accept errors (such as running out of file
/// descriptors) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: &Options,
    shutdown: impl Future<Output = ()> + Send,
    grace: Duration,
) -> std::io::Result<()> {
    let app = router.layer(middleware::from_fn_with_state(*options, limit_time));
    let cap = match options.max_connections {
        0 => Semaphore::MAX_PERMITS.min(u32::MAX as usize),
        n => n as usize,
    };
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let permits = Arc::new(Semaphore::new(cap));
    let (phase, watch_phase) = watch::channel(Phase::Serving);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(millis(options.header_read_timeout_ms));
    tokio::pin!(shutdown);
    loop {
        // The cap: a connection beyond it is not accepted until one closes.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((s, peer)) => (s, peer),
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // The peer's address, for the per-address login throttle.
        let svc = tower::ServiceExt::map_request(
            app.clone(),
            move |mut r: hyper::Request<hyper::body::Incoming>| {
                r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                r
            },
        );
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let mut rx = watch_phase.clone();
        tokio::spawn(async move {
            tokio::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                () = reached(&mut rx, Phase::Draining) => {
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        r = conn.as_mut() => r,
                        () = reached(&mut rx, Phase::Closed) => Ok(()),
                    }
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = phase.send(Phase::Draining);
    if tokio::time::timeout(grace, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("HTTP requests still in progress after the shutdown grace period; closing");
        let _ = phase.send(Phase::Closed);
        let _ = tokio::time::timeout(Duration::from_millis(200), permits.acquire_many(all)).await;
    }
    Ok(())
}

/// Returns once the listener's phase is `at` or later (or the listener is gone).
async fn reached(rx: &mut watch::Receiver<Phase>, at: Phase) {
    let rank = |p: Phase| p as u8;
    let _ = rx.wait_for(|p| rank(*p) >= rank(at)).await;
}

fn millis(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// The per-request timeout: 408 when the client had not sent its whole body,
/// else 503 (the server did not answer in time).
async fn limit_time(State(options): State<Options>, req: Request, next: Next) -> Response {
    let ms = if req.uri().path().starts_with("/hooks/") {
        options.webhook_timeout_ms
    } else {
        options.request_timeout_ms
    };
    let Some(limit) = millis(ms) else {
        return next.run(req).await;
    };
    let received = Arc::new(AtomicBool::new(false));
    let flag = received.clone();
    let req = req.map(|inner| {
        flag.store(http_body::Body::is_end_stream(&inner), Ordering::Relaxed);
        Body::new(Tracked { inner, done: flag })
    });
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) if received.load(Ordering::Relaxed) => ApiError::unavailable(
            format!("the server did not answer within {ms} ms; retry later"),
            1,
        )
        .into_response(),
        Err(_) => {
            let mut resp = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!("the request was not received within {ms} ms"),
            )
            .into_response();
            resp.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            resp
        }
    }
}

/// A request body that records when it has been read to its end.
struct Tracked {
    inner: Body,
    done: Arc<AtomicBool>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.done.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
