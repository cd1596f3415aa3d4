//! H4 and B6 on the server's own listener (the one `weft serve`, `weft api`
//! and `weft worker` open, configured by `[http]`): a client that sends half
//! its request headers and stalls is disconnected after the header-read
//! timeout, and one past the connection cap waits until a slot frees, while
//! normal requests keep working. (The bounds themselves are tested in
//! `host/api/tests/serve.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weft_tests::TestApp;

#[tokio::test]
async fn the_servers_listener_drops_stalled_clients_and_caps_connections() {
    let app = TestApp::builder()
        .memory()
        .config(|c| {
            c.http_limits.header_read_timeout_ms = 400;
            c.http_limits.max_connections = 3;
        })
        .start()
        .await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    let t = Instant::now();
    stalled
        .write_all(b"POST /hooks/abc HTTP/1.1\r\nHost: t\r\nContent-")
        .await
        .unwrap();
    app.get("/v1/workflows").await.expect(200);
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest))
        .await
        .expect("the stalled client is disconnected")
        .ok();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(4),
        "disconnected after {took:?}; the header-read timeout is 400 ms"
    );

    // Three idle connections fill the cap; a fourth waits for one to close.
    let held: Vec<TcpStream> = connect_idle(&addr, 3).await;
    let mut waiting = TcpStream::connect(&addr).await.unwrap();
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut one = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(250), waiting.read(&mut one))
            .await
            .is_err(),
        "served past the cap"
    );
    // The idle ones are closed by the header-read timeout, freeing the slots.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), waiting.read_to_end(&mut answer))
        .await
        .expect("served once a slot freed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(held);
    app.get("/v1/workflows").await.expect(200);
}

async fn connect_idle(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(TcpStream::connect(addr).await.unwrap());
    }
    // Let the server accept them (and take their slots).
    tokio::time::sleep(Duration::from_millis(100)).await;
    out
}
