//! What both server benchmarks share: the webhook load generator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use weft_client::{Body, Client};

pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// (requests/s, p50 ms, p99 ms) of the latencies the load tasks measured
/// since `started`.
async fn summary(
    tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>,
    started: Instant,
) -> (f64, f64, f64) {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    (all.len() as f64 / elapsed, pct(&all, 0.5), pct(&all, 0.99))
}

/// Posts to the webhook from `conns` connections for `secs`; (runs/s, p50 ms, p99 ms).
pub async fn webhook_load(hook: &str, conns: usize, secs: f64) -> (f64, f64, f64) {
    let base = reqwest::Url::parse(hook)
        .unwrap()
        .origin()
        .ascii_serialization();
    let body = serde_json::to_vec(
        &json!({"people": [{"name": "Ada", "active": true}, {"name": "Bob", "active": false}]}),
    )
    .unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let hook = hook.to_owned();
        let body = body.clone();
        let base = base.clone();
        tasks.push(tokio::spawn(async move {
            // One client (one connection) per task, without a key: a webhook
            // caller's.
            let c = Client::with_http(
                &base,
                None,
                reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap(),
            )
            .unwrap();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                // The answer's bytes are read in full; only the status is checked.
                let resp = c
                    .raw(Method::POST, &hook, Body::Json(body.clone()))
                    .await
                    .unwrap();
                assert_eq!(resp.status, 200);
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    summary(tasks, started).await
}

/// Calls the MCP tool `tool` (current revision, stateless: every request
/// self-contained) from `conns` connections for `secs`, as an assistant
/// would; (calls/s, p50 ms, p99 ms).
pub async fn mcp_load(
    base: &str,
    key: &str,
    tool: &str,
    conns: usize,
    secs: f64,
) -> (f64, f64, f64) {
    let body = serde_json::to_vec(&json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": tool,
            "arguments": {"people": [{"name": "Ada", "active": true}, {"name": "Bob", "active": false}]},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    }))
    .unwrap();
    let url = format!("{base}/mcp");
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (url, key, body, tool) = (url.clone(), key.to_owned(), body.clone(), tool.to_owned());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .bearer_auth(&key)
                    .header("content-type", "application/json")
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2026-07-28")
                    .header("mcp-method", "tools/call")
                    .header("mcp-name", &tool)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = resp.status();
                let text = resp.text().await.unwrap();
                assert!(
                    status.is_success() && text.contains("Ada"),
                    "{status}: {text}"
                );
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    summary(tasks, started).await
}

/// A release `weft serve` started by a benchmark on its own data directory.
pub struct Serve {
    /// The server process.
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The owner key it printed at start.
    pub key: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `weft serve` (SQLite in `data`, the bundled `transform` connector,
/// the tenant's rate and slot limits lifted) and waits for its address and key.
pub fn serve(data: &std::path::Path) -> Serve {
    serve_with(data, &["transform"], &[])
}

/// [`serve`] with these bundled connectors (`weft_plugin_<name>.wasm`) and
/// extra settings (`WEFT_…` variables).
pub fn serve_with(data: &std::path::Path, connectors: &[&str], env: &[(&str, &str)]) -> Serve {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/weft/target")
        })
        .join("wasm32-wasip2/release");
    let wasm: Vec<std::path::PathBuf> = connectors
        .iter()
        .map(|c| dir.join(format!("weft_plugin_{c}.wasm")))
        .collect();
    for w in &wasm {
        assert!(
            w.exists(),
            "{} missing: build the plugins first",
            w.display()
        );
    }
    // `WEFT_BENCH_BIN`: another build of weft to measure (an earlier
    // commit's, for a before/after on the same machine state).
    let bin = std::env::var_os("WEFT_BENCH_BIN")
        .unwrap_or_else(|| std::ffi::OsString::from(env!("CARGO_BIN_EXE_weft")));
    let mut cmd = Command::new(bin);
    // Only the bench's settings: the scripts' WEFT_* are not settings.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WEFT_")) {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(
            wasm.iter()
                .flat_map(|w| [std::ffi::OsStr::new("--plugins"), w.as_os_str()]),
        )
        .envs(env.iter().copied())
        .env("WEFT_LOG", "error")
        .env("WEFT_LIMITS_API_RATE", "0")
        .env("WEFT_LIMITS_WEBHOOK_RATE", "0")
        .env("WEFT_WORKER_MAX_RUNNING_STEPS", "0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut base, mut key) = (None, None);
    while base.is_none() || key.is_none() {
        let line = lines.next().expect("weft serve exited").unwrap();
        if let Some(rest) = line.strip_prefix("weft serve: listening on ") {
            base = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.trim_start().starts_with("weft_") {
            key = Some(line.trim().to_owned());
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Serve {
        child,
        base: base.unwrap(),
        key: key.unwrap(),
    }
}
