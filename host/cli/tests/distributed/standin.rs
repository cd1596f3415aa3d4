//! The external service the workflows call: an HTTP server on loopback that
//! applies each request's effect once per `Idempotency-Key` (a repeat of a key
//! is answered like the first, and counted as a repeat), the way a payment API
//! does. Endpoints (all POST):
//!
//! - `/ok`: answers at once;
//! - `/slow?ms=N`: answers after N ms (the request is "in flight" meanwhile);
//! - `/poison`: tells the test, which kills every worker (the step "crashes
//!   its worker every time"), and never answers.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the stand-in saw for one idempotency key.
#[derive(Debug, Clone)]
pub struct Effect {
    /// The endpoint (`ok`, `slow`, `poison`).
    pub endpoint: &'static str,
    /// Requests with this key; the first applied the effect, the others were
    /// recognised as repeats.
    pub hits: u32,
}

struct Inner {
    effects: Mutex<HashMap<String, Effect>>,
    without_key: AtomicUsize,
    in_flight: AtomicUsize,
    poison: mpsc::UnboundedSender<String>,
}

impl Inner {
    /// Applies the effect of a request (once per key); its key, or `None`
    /// (answered with [`no_key`]) when the request carries none.
    fn apply(&self, endpoint: &'static str, headers: &HeaderMap) -> Option<String> {
        let Some(key) = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| !k.is_empty())
        else {
            self.without_key.fetch_add(1, Ordering::SeqCst);
            return None;
        };
        let mut effects = self.effects.lock().unwrap_or_else(PoisonError::into_inner);
        effects
            .entry(key.to_owned())
            .and_modify(|e| e.hits += 1)
            .or_insert(Effect { endpoint, hits: 1 });
        Some(key.to_owned())
    }
}

/// The answer to a request without an idempotency key.
fn no_key() -> Response {
    let body = json!({"error": "an Idempotency-Key header is required"});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Decrements the in-flight count when a slow request ends (or is dropped
/// because its client died).
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Deserialize)]
struct SlowQuery {
    ms: u64,
}

async fn ok(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    match s.apply("ok", &headers) {
        Some(key) => Json(json!({ "key": key })).into_response(),
        None => no_key(),
    }
}

async fn slow(
    State(s): State<Arc<Inner>>,
    Query(q): Query<SlowQuery>,
    headers: HeaderMap,
) -> Response {
    s.in_flight.fetch_add(1, Ordering::SeqCst);
    let _guard = InFlight(s.clone());
    let Some(key) = s.apply("slow", &headers) else {
        return no_key();
    };
    tokio::time::sleep(Duration::from_millis(q.ms)).await;
    Json(json!({ "key": key, "slept_ms": q.ms })).into_response()
}

async fn poison(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let Some(key) = s.apply("poison", &headers) else {
        return no_key();
    };
    let _ = s.poison.send(key);
    // The test kills the worker waiting on this answer.
    tokio::time::sleep(Duration::from_secs(600)).await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

/// The running stand-in.
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    poison_hits: tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    /// Serves on an ephemeral loopback port.
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            effects: Mutex::default(),
            without_key: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            poison: tx,
        });
        let app = Router::new()
            .route("/ok", post(ok))
            .route("/slow", post(slow))
            .route("/poison", post(poison))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            inner,
            poison_hits: tokio::sync::Mutex::new(rx),
            task,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The host pattern a workflow grants to reach the stand-in.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// Every key seen so far, and what happened to it.
    pub fn effects(&self) -> HashMap<String, Effect> {
        self.inner
            .effects
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Requests that carried no idempotency key (refused with 400).
    pub fn without_key(&self) -> usize {
        self.inner.without_key.load(Ordering::SeqCst)
    }

    /// Slow requests being answered right now.
    pub fn in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` slow requests are in flight.
    pub async fn wait_in_flight(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.in_flight() < n {
            assert!(
                Instant::now() < deadline,
                "only {} slow requests in flight after {timeout:?} (wanted {n})",
                self.in_flight()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The next hit of `/poison` (its key), if one comes within `timeout`.
    pub async fn poison_hit(&self, timeout: Duration) -> Option<String> {
        let mut rx = self.poison_hits.lock().await;
        tokio::time::timeout(timeout, rx.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}
