//! H4 and B6: slow and idle clients against `weft_api::serve`, over real
//! sockets. A half-sent request is disconnected after the header-read
//! timeout; connections beyond the cap are not served until one closes; a
//! request that takes too long is answered with the error envelope (408 when
//! its body never arrived, 503 when the handler was slow); shutdown closes
//! what is left after the grace period. Normal requests keep working.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use weft_api::Options;

fn router() -> Router {
    Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/echo", post(|body: String| async move { body }))
        .route(
            "/hooks/{token}",
            post(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                "hooked"
            }),
        )
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(options: Options, grace: Duration) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let done = tokio::spawn(async move {
        let stop = async move {
            let _ = rx.await;
        };
        weft_api::serve(listener, router(), &options, stop, grace).await
    });
    Server {
        addr,
        stop: Some(tx),
        done,
    }
}

/// Sends `request` (a whole HTTP/1.1 request) and reads the answer to its end
/// (the requests say `Connection: close`), within `limit`.
async fn exchange(stream: &mut TcpStream, request: &str, limit: Duration) -> Option<String> {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_all(stream, limit).await
}

async fn read_all(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

fn get_req(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
}

async fn ok(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let resp = exchange(&mut s, &get_req("/ok"), Duration::from_secs(5))
        .await
        .expect("a normal request is answered");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("ok"), "{resp}");
}

/// Bounds loose enough not to get in the way of the one a test looks at.
fn quick() -> Options {
    Options {
        header_read_timeout_ms: 10_000,
        request_timeout_ms: 10_000,
        webhook_timeout_ms: 10_000,
        max_connections: 64,
    }
}

#[tokio::test]
async fn a_half_sent_request_is_disconnected_after_the_header_read_timeout() {
    let server = start(
        Options {
            header_read_timeout_ms: 300,
            ..quick()
        },
        Duration::from_secs(1),
    )
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    let t = Instant::now();
    slow.write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\nX-Half: ")
        .await
        .unwrap();
    // Meanwhile, others are served.
    ok(server.addr).await;
    let answer = read_all(&mut slow, Duration::from_secs(5))
        .await
        .expect("the stalled connection is closed by the server");
    let took = t.elapsed();
    assert!(
        !answer.contains("200 OK"),
        "the half request was not served: {answer}"
    );
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "closed after {took:?}, the timeout is 300 ms"
    );
    // An idle connection that sends nothing at all is closed the same way.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    assert!(read_all(&mut idle, Duration::from_secs(5)).await.is_some());
    ok(server.addr).await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_not_served_until_one_closes() {
    let server = start(
        Options {
            max_connections: 2,
            ..quick()
        },
        Duration::from_secs(1),
    )
    .await;
    let a = TcpStream::connect(server.addr).await.unwrap();
    let b = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The third connects (the kernel's backlog) but is not served.
    let mut c = TcpStream::connect(server.addr).await.unwrap();
    c.write_all(get_req("/ok").as_bytes()).await.unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(700), c.read(&mut first)).await;
    assert!(
        early.is_err(),
        "the third connection was served past the cap of 2"
    );
    drop(a);
    let t = Instant::now();
    let rest = read_all(&mut c, Duration::from_secs(5))
        .await
        .expect("served once a connection closed");
    assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(b);
    ok(server.addr).await;
}

#[tokio::test]
async fn a_request_over_its_time_is_answered_with_the_envelope() {
    let server = start(
        Options {
            request_timeout_ms: 300,
            webhook_timeout_ms: 3_000,
            ..quick()
        },
        Duration::from_secs(1),
    )
    .await;
    // A slow handler: 503, with Retry-After.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let t = Instant::now();
    let resp = exchange(&mut s, &get_req("/slow"), Duration::from_secs(4))
        .await
        .expect("answered before the handler ends");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(
        resp.to_ascii_lowercase().contains("retry-after: 1"),
        "{resp}"
    );
    assert!(resp.contains(r#""code":"unavailable""#), "{resp}");

    // A body that never arrives in full: 408, and the connection closes.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let resp = exchange(
        &mut s,
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly a part",
        Duration::from_secs(4),
    )
    .await
    .expect("answered and closed");
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains(r#""code":"request_timeout""#), "{resp}");

    // Webhooks have their own, longer bound (their synchronous wait).
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let resp = exchange(
        &mut s,
        "POST /hooks/abc HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        Duration::from_secs(4),
    )
    .await
    .unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("hooked"), "{resp}");

    // A whole body in time is echoed.
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let resp = exchange(
        &mut s,
        "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello",
        Duration::from_secs(4),
    )
    .await
    .unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.ends_with("hello"),
        "{resp}"
    );
}

#[tokio::test]
async fn shutdown_closes_what_is_left_after_the_grace_period() {
    let mut server = start(quick(), Duration::from_millis(500)).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /ok HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    ok(server.addr).await;
    let t = Instant::now();
    let _ = server.stop.take().unwrap().send(());
    tokio::time::timeout(Duration::from_secs(3), &mut server.done)
        .await
        .expect("serve returns within the grace period")
        .unwrap()
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        t.elapsed()
    );
    assert!(
        read_all(&mut stalled, Duration::from_secs(2))
            .await
            .is_some()
    );
    assert!(
        TcpStream::connect(server.addr).await.is_err(),
        "no longer listening"
    );
}

#[test]
fn the_defaults_bound_everything_and_leave_room_for_the_long_waits() {
    let o = Options::default();
    assert_eq!(o.header_read_timeout_ms, 10_000);
    assert_eq!(o.max_connections, 512);
    // Above `POST .../runs` with `wait` (60 s) and the longest synchronous
    // webhook (300 s).
    assert!(o.request_timeout_ms > weft_app::MAX_WAIT.as_millis() as u64);
    assert!(o.webhook_timeout_ms > weft_engine::validate::MAX_WEBHOOK_TIMEOUT_MS);
    let back: Options = serde_json::from_str(r#"{"max_connections": 3}"#).unwrap();
    assert_eq!(
        back,
        Options {
            max_connections: 3,
            ..o
        }
    );
    assert!(serde_json::from_str::<Options>(r#"{"max_conections": 3}"#).is_err());
}
