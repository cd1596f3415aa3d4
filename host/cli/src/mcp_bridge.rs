//! `weft mcp --server URL`: relays each JSON-RPC message of a stdio client
//! to the server's `/mcp` (with the API key from `WEFT_API_KEY` and the
//! headers the protocol asks for), and its answers, JSON or an event stream,
//! back to stdout. A 2025-11-25 session the server forgot (it restarted, or
//! the session idled out) is opened again with the client's own `initialize`
//! and the request retried once, so a desktop client left idle keeps working.

use anyhow::{Context, bail};
use base64::Engine;
use serde_json::Value;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Where answers go: stdout's writer.
type Out = mpsc::UnboundedSender<String>;

/// What the bridge remembers between messages.
#[derive(Default)]
struct State {
    /// The session a 2025-11-25 server gave.
    session: Option<String>,
    /// The protocol version agreed (by `initialize`, or the last a request
    /// named in its `_meta`), for the messages that carry none.
    version: Option<String>,
    /// The client's `initialize`, to open a lost session again.
    init: Option<Value>,
    /// Requests in flight by id, so that a cancellation drops the HTTP
    /// request it names.
    inflight: HashMap<String, tokio::task::AbortHandle>,
}

/// The relay: one HTTP client, one server, one key.
struct Relay {
    http: reqwest::Client,
    endpoint: String,
    key: String,
    state: Mutex<State>,
}

/// How one send ended.
enum Sent {
    /// Answered (what came back was written out).
    Done,
    /// The server does not know the session the request carried.
    SessionLost,
}

/// Runs the bridge until the client closes stdin.
///
/// # Errors
/// No key; stdin that cannot be read.
pub async fn run(url: &str, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        bail!("`weft mcp --server` needs an API key in WEFT_API_KEY (or --api-key)");
    };
    let relay = Arc::new(Relay {
        http: reqwest::Client::builder()
            .build()
            .context("cannot build the HTTP client")?,
        endpoint: format!("{}/mcp", url.trim_end_matches('/')),
        key: key.to_owned(),
        state: Mutex::default(),
    });
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
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
    eprintln!("weft mcp: relaying stdio to {}", relay.endpoint);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await.context("cannot read stdin")? {
        if line.trim().is_empty() {
            continue;
        }
        let message: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = out.send(rpc_error(&Value::Null, -32700, &format!("not JSON: {e}")));
                continue;
            }
        };
        if let Some(id) = cancelled_id(&message)
            && let Some(h) = relay.lock().inflight.remove(&id)
        {
            h.abort();
        }
        // The handshake goes first and alone: what follows needs its session.
        if method(&message) == Some("initialize") {
            relay.lock().init = Some(message.clone());
            relay.forward(&message, &out).await;
            continue;
        }
        let id = request_id(&message);
        let (relay2, out2, done) = (relay.clone(), out.clone(), id.clone());
        let task = tasks.spawn(async move {
            relay2.forward(&message, &out2).await;
            if let Some(id) = done {
                relay2.lock().inflight.remove(&id);
            }
        });
        if let Some(id) = id {
            relay.lock().inflight.insert(id, task);
        }
        while tasks.try_join_next().is_some() {}
    }
    // The client closed stdin: let the answers in progress finish.
    while tasks.join_next().await.is_some() {}
    drop(out);
    let _ = writer.await;
    Ok(ExitCode::SUCCESS)
}

impl Relay {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `message` and writes what comes back; a lost session is opened
    /// again and the message sent once more; a failure answers a request
    /// with a JSON-RPC error (a notification's is only logged).
    async fn forward(&self, message: &Value, out: &Out) {
        let mut result = self.send(message, out).await;
        if matches!(result, Ok(Sent::SessionLost)) {
            result = match self.reopen().await {
                Ok(()) => self.send(message, out).await,
                Err(e) => Err(e),
            };
        }
        let failure = match result {
            Ok(Sent::Done) => return,
            Ok(Sent::SessionLost) => "the server lost the MCP session again".to_owned(),
            Err(e) => format!("{e:#}"),
        };
        match message.get("id").filter(|_| method(message).is_some()) {
            Some(id) => {
                let _ = out.send(rpc_error(
                    id,
                    -32603,
                    &format!("weft mcp bridge: {failure}"),
                ));
            }
            None => eprintln!("weft mcp: {failure}"),
        }
    }

    /// Opens a new session with the client's `initialize` (its answer is the
    /// bridge's, not the client's) and says it is initialised.
    async fn reopen(&self) -> anyhow::Result<()> {
        let init = {
            let mut s = self.lock();
            s.session = None;
            s.init.clone()
        };
        let Some(init) = init else {
            bail!("the server lost the MCP session and the client never sent initialize");
        };
        eprintln!("weft mcp: the server lost the session; opening a new one");
        let (sink, _) = mpsc::unbounded_channel();
        self.send(&init, &sink).await?;
        let initialized =
            serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.send(&initialized, &sink).await?;
        Ok(())
    }

    /// One HTTP exchange.
    async fn send(&self, message: &Value, out: &Out) -> anyhow::Result<Sent> {
        let (session, version) = {
            let mut s = self.lock();
            if let Some(v) = per_request_version(message) {
                s.version = Some(v);
            }
            (s.session.clone(), s.version.clone())
        };
        let mut req = self
            .http
            .post(&self.endpoint)
            .bearer_auth(&self.key)
            .header(
                reqwest::header::ACCEPT,
                "application/json, text/event-stream",
            )
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message.to_string());
        let init_version = (method(message) == Some("initialize"))
            .then(|| {
                message
                    .pointer("/params/protocolVersion")?
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten();
        if let Some(v) = init_version.or(version) {
            req = req.header("MCP-Protocol-Version", v);
        }
        if let Some(s) = &session {
            req = req.header("Mcp-Session-Id", s);
        }
        if let Some(m) = method(message) {
            req = req.header("Mcp-Method", m);
            if let Some(name) = name_of(m, message.get("params")) {
                req = req.header("Mcp-Name", header_value(&name));
            }
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.endpoint))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND && session.is_some() {
            return Ok(Sent::SessionLost);
        }
        if let Some(s) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
        {
            self.lock().session = Some(s.to_owned());
        }
        if status == reqwest::StatusCode::ACCEPTED || status == reqwest::StatusCode::NO_CONTENT {
            return Ok(Sent::Done);
        }
        let sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if !sse {
            let body = resp.text().await.context("cannot read the answer")?;
            let is_rpc =
                serde_json::from_str::<Value>(&body).is_ok_and(|v| v.get("jsonrpc").is_some());
            if !status.is_success() && !is_rpc {
                bail!(
                    "the server answered {status}: {}",
                    body.chars().take(500).collect::<String>()
                );
            }
            self.note_version(&body);
            let _ = out.send(body);
            return Ok(Sent::Done);
        }
        let mut events = EventStream::default();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.context("the event stream broke")? {
            for data in events.push(&chunk) {
                self.note_version(&data);
                let _ = out.send(data);
            }
        }
        Ok(Sent::Done)
    }

    /// Remembers the protocol version an `initialize` answer agreed on.
    fn note_version(&self, body: &str) {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            return;
        };
        if let Some(version) = v.pointer("/result/protocolVersion").and_then(Value::as_str) {
            self.lock().version = Some(version.to_owned());
        }
    }
}

/// Server-sent events from a byte stream: bytes are kept until an event
/// is complete (a character may be split across chunks), lines end with
/// `\n` or `\r\n`, and an event's `data:` lines are joined.
#[derive(Default)]
struct EventStream {
    buf: Vec<u8>,
}

impl EventStream {
    /// The data of every event `chunk` completes.
    fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some((end, sep)) = event_end(&self.buf) {
            let event: Vec<u8> = self.buf.drain(..end + sep).collect();
            let text = String::from_utf8_lossy(&event[..end]);
            let data: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            let joined = data.join("\n");
            if !joined.trim().is_empty() {
                out.push(joined);
            }
        }
        out
    }
}

/// Where the first event in `buf` ends (a blank line), and the length of
/// that blank line's bytes.
fn event_end(buf: &[u8]) -> Option<(usize, usize)> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let crlf = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The message's method, when it is a request or a notification.
fn method(message: &Value) -> Option<&str> {
    message.get("method").and_then(Value::as_str)
}

/// A request's id as a key (a notification or an answer has none).
fn request_id(message: &Value) -> Option<String> {
    method(message)?;
    message.get("id").map(Value::to_string)
}

/// The request id a `notifications/cancelled` names.
fn cancelled_id(message: &Value) -> Option<String> {
    (method(message)? == "notifications/cancelled")
        .then(|| message.pointer("/params/requestId").map(Value::to_string))
        .flatten()
}

/// The protocol version a current-revision request names in its `_meta`.
fn per_request_version(message: &Value) -> Option<String> {
    message
        .get("params")?
        .get("_meta")?
        .get("io.modelcontextprotocol/protocolVersion")?
        .as_str()
        .map(str::to_owned)
}

/// What `Mcp-Name` carries for `method`: a tool's or prompt's name, a
/// resource's URI, a task's id.
fn name_of(method: &str, params: Option<&Value>) -> Option<String> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        "tasks/get" | "tasks/result" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params?.get(key)?.as_str().map(str::to_owned)
}

/// A header value: as it is when it is plain printable ASCII, else wrapped
/// in base64 the way the protocol says (`=?base64?...?=`).
fn header_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) || b == b' ')
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.starts_with("=?");
    if plain {
        value.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

/// A JSON-RPC error answering request `id`.
fn rpc_error(id: &Value, code: i64, message: &str) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_any_split_and_either_line_ending() {
        let stream =
            "event: message\ndata: {\"text\":\"café ☕\"}\n\ndata: {\"n\":2}\r\n\r\n".as_bytes();
        for cut in 0..stream.len() {
            let mut events = EventStream::default();
            let mut got = events.push(&stream[..cut]);
            got.extend(events.push(&stream[cut..]));
            assert_eq!(
                got,
                vec!["{\"text\":\"café ☕\"}", "{\"n\":2}"],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn names_and_header_values() {
        let p = serde_json::json!({"name": "refund_lookup", "uri": "weft://docs/workflows"});
        assert_eq!(
            name_of("tools/call", Some(&p)).as_deref(),
            Some("refund_lookup")
        );
        assert_eq!(
            name_of("resources/read", Some(&p)).as_deref(),
            Some("weft://docs/workflows")
        );
        assert_eq!(name_of("tools/list", Some(&p)), None);
        assert_eq!(header_value("refund_lookup"), "refund_lookup");
        assert_eq!(header_value("café"), "=?base64?Y2Fmw6k=?=");
        assert_eq!(header_value(" lead"), "=?base64?IGxlYWQ=?=");
    }
}
