//! `weft mcp`: the MCP server on standard input and output, for assistants
//! that start a local process (Claude Desktop, VS Code, ...; `docs/MCP.md`).
//!
//! - Embedded (the default): opens the data directory as `weft serve` would
//!   (the store, the connectors, a worker that runs the steps), without HTTP.
//!   The caller is the API key in `WEFT_API_KEY` when there is one (its
//!   tenant and role), else the default tenant's owner: the person who can
//!   read the data directory owns it anyway.
//! - Bridge (`--server URL`): relays each JSON-RPC message to the server's
//!   `/mcp` with the API key from `WEFT_API_KEY`, and its answers (JSON or
//!   an event stream) back, so a stdio-only client reaches a remote Weft.

use crate::args::McpArgs;
use anyhow::{Context, bail};
use serde_json::Value;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use weft_app::Actor;
use weft_cli::config::Settings;
use weft_cli::server::{Config, Role, Server};

/// Runs `weft mcp`.
///
/// # Errors
/// A server that cannot start, a key that does not open, a bridge that
/// cannot reach its server.
pub async fn run(args: McpArgs) -> anyhow::Result<ExitCode> {
    match &args.server {
        Some(url) => bridge(url, args.api_key.as_deref()).await,
        None => embedded(args).await,
    }
}

/// The embedded server, spoken to over stdio.
async fn embedded(args: McpArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(args.config.as_deref())?;
    if let Some(d) = args.data_dir {
        settings.data_dir = d;
    }
    if !args.plugins.is_empty() {
        settings.plugins = args.plugins;
    }
    let mut config = Config::from_settings(&settings, Role::All);
    config.http = false;
    let server = Server::start(config).await?;
    if let Some(key) = &server.bootstrap_key {
        eprintln!(
            "weft mcp: created {} with a default tenant; its owner key (shown once, store it now):\n\n    {key}\n",
            settings.data_dir.display()
        );
    }
    let actor = match args.api_key.as_deref() {
        Some(secret) => server
            .app
            .authenticate(secret.trim())
            .await
            .context("WEFT_API_KEY does not open in this data directory")?,
        None => Actor::local(server.default_tenant.clone(), "mcp"),
    };
    eprintln!(
        "weft mcp: serving tenant {} as {} on stdio (data in {})",
        actor.tenant_id,
        actor.role.as_str(),
        settings.data_dir.display()
    );
    let base = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    let served = weft_mcp::serve_stdio(server.app.clone(), &base, &settings.mcp, actor).await;
    server.stop().await;
    served.context("the MCP connection on stdio failed")?;
    Ok(ExitCode::SUCCESS)
}

/// What the bridge remembers between messages: the session a 2025-11-25
/// server gave, the protocol version agreed, and the requests in flight
/// (so that a cancellation drops the HTTP request it names).
#[derive(Default)]
struct Bridge {
    session: Option<String>,
    version: Option<String>,
    inflight: HashMap<String, tokio::task::AbortHandle>,
}

/// Relays stdio to `url`'s `/mcp`.
async fn bridge(url: &str, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        bail!("`weft mcp --server` needs an API key in WEFT_API_KEY (or --api-key)");
    };
    let endpoint = format!("{}/mcp", url.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .build()
        .context("cannot build the HTTP client")?;
    let state = Arc::new(Mutex::new(Bridge::default()));
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<String>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
                || stdout.flush().await.is_err()
            {
                break;
            }
        }
    });
    eprintln!("weft mcp: relaying stdio to {endpoint}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await.context("cannot read stdin")? {
        if line.trim().is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = out_tx.send(parse_error(&e.to_string()));
                continue;
            }
        };
        if let Some(id) = cancelled_id(&message) {
            let handle = state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .inflight
                .remove(&id);
            if let Some(h) = handle {
                h.abort();
            }
        }
        // The handshake goes first and alone: what follows needs its session.
        if message.get("method").and_then(Value::as_str) == Some("initialize") {
            if let Err(e) = relay(&http, &endpoint, key, &state, &message, &out_tx).await {
                let id = message.get("id").cloned().unwrap_or(Value::Null);
                let _ = out_tx.send(error_for(&id, &format!("{e:#}")));
            }
            continue;
        }
        let request_id = message
            .get("id")
            .filter(|_| message.get("method").is_some())
            .map(Value::to_string);
        let (http, endpoint, key, state2, out) = (
            http.clone(),
            endpoint.clone(),
            key.to_owned(),
            state.clone(),
            out_tx.clone(),
        );
        let task = tasks.spawn(async move {
            if let Err(e) = relay(&http, &endpoint, &key, &state2, &message, &out).await {
                if let Some(id) = message
                    .get("id")
                    .filter(|_| message.get("method").is_some())
                {
                    let _ = out.send(error_for(id, &format!("{e:#}")));
                } else {
                    eprintln!("weft mcp: {e:#}");
                }
            }
            if let Some(id) = message.get("id") {
                state2
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .inflight
                    .remove(&id.to_string());
            }
        });
        if let Some(id) = request_id {
            state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .inflight
                .insert(id, task);
        }
        while tasks.try_join_next().is_some() {}
    }
    // The client closed stdin: let the answers in progress finish.
    while tasks.join_next().await.is_some() {}
    drop(out_tx);
    let _ = writer.await;
    Ok(ExitCode::SUCCESS)
}

/// The request id a `notifications/cancelled` names.
fn cancelled_id(message: &Value) -> Option<String> {
    (message.get("method")?.as_str()? == "notifications/cancelled")
        .then(|| {
            message
                .get("params")?
                .get("requestId")
                .map(Value::to_string)
        })
        .flatten()
}

/// Sends one message and relays what comes back.
async fn relay(
    http: &reqwest::Client,
    endpoint: &str,
    key: &str,
    state: &Mutex<Bridge>,
    message: &Value,
    out: &mpsc::UnboundedSender<String>,
) -> anyhow::Result<()> {
    let mut req = http
        .post(endpoint)
        .bearer_auth(key)
        .header(
            reqwest::header::ACCEPT,
            "application/json, text/event-stream",
        )
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(message.to_string());
    let (session, version) = {
        let s = state.lock().unwrap_or_else(PoisonError::into_inner);
        (s.session.clone(), s.version.clone())
    };
    let method = message.get("method").and_then(Value::as_str);
    let params = message.get("params");
    let per_request = params
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let init_version = (method == Some("initialize"))
        .then(|| params?.get("protocolVersion")?.as_str().map(str::to_owned))
        .flatten();
    if let Some(v) = per_request.or(init_version).or(version) {
        req = req.header("MCP-Protocol-Version", v);
    }
    if let Some(s) = session {
        req = req.header("Mcp-Session-Id", s);
    }
    if let Some(m) = method {
        req = req.header("Mcp-Method", m);
        let name = params
            .and_then(|p| p.get("name").or_else(|| p.get("uri")))
            .and_then(Value::as_str);
        if let Some(n) = name.filter(|n| n.is_ascii() && !n.chars().any(char::is_control)) {
            req = req.header("Mcp-Name", n);
        }
    }
    let resp = req
        .send()
        .await
        .with_context(|| format!("cannot reach {endpoint}"))?;
    if let Some(s) = resp
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
    {
        state.lock().unwrap_or_else(PoisonError::into_inner).session = Some(s.to_owned());
    }
    let status = resp.status();
    let sse = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    if status == reqwest::StatusCode::ACCEPTED || status == reqwest::StatusCode::NO_CONTENT {
        return Ok(());
    }
    if !status.is_success() && !sse {
        let body = resp.text().await.unwrap_or_default();
        // A JSON-RPC answer travels as it is; anything else becomes one.
        if serde_json::from_str::<Value>(&body).is_ok_and(|v| v.get("jsonrpc").is_some()) {
            let _ = out.send(body);
            return Ok(());
        }
        bail!(
            "the server answered {status}: {}",
            body.chars().take(500).collect::<String>()
        );
    }
    if !sse {
        let body = resp.text().await.context("cannot read the answer")?;
        note_version(state, &body);
        let _ = out.send(body);
        return Ok(());
    }
    let mut resp = resp;
    let mut buf = String::new();
    loop {
        let next = resp.chunk().await.context("the event stream broke")?;
        let Some(chunk) = next else { break };
        let bytes: &[u8] = chunk.as_ref();
        buf.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if !data.is_empty() {
                let json = data.join("\n");
                if !json.trim().is_empty() {
                    note_version(state, &json);
                    let _ = out.send(json);
                }
            }
        }
    }
    Ok(())
}

/// Remembers the protocol version an `initialize` answer agreed on.
fn note_version(state: &Mutex<Bridge>, body: &str) {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return;
    };
    if let Some(version) = v.pointer("/result/protocolVersion").and_then(Value::as_str) {
        state.lock().unwrap_or_else(PoisonError::into_inner).version = Some(version.to_owned());
    }
}

/// A JSON-RPC error answering request `id`.
fn error_for(id: &Value, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": -32603, "message": format!("weft mcp bridge: {message}")},
    })
    .to_string()
}

/// The JSON-RPC parse error.
fn parse_error(message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32700, "message": format!("not JSON: {message}")},
    })
    .to_string()
}
