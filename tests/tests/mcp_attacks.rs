//! The MCP endpoint attacked (TEST-PLAN M1, M2 and the issue's bad input;
//! docs/MCP.md): raw HTTP to `/mcp` on a real server, as a hostile client
//! or a web page would send it. No key, a wrong key or an operator key get
//! no tools; a foreign Origin or Host is refused before anything is read;
//! the tenant and role come from the key only (not from a session another
//! key opened); unknown tools, bad and oversized arguments and a flood are
//! refused without starting a run; another tenant's ids are not found.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weft_tests::TestApp;

/// The current revision, stateless: every request carries its version.
const MODERN: &str = "2026-07-28";
/// The API's body limit (`weft_api::MAX_BODY_BYTES`), which `/mcp` shares.
const LIMIT: usize = weft_api::MAX_BODY_BYTES;

/// A workflow exposed as the tool `lookup`, with a typed input.
fn exposed(name: &str, tool: &str) -> Value {
    json!({
        "name": name,
        "input_schema": {
            "type": "object",
            "required": ["order_id"],
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "integer"}}
        },
        "mcp": {"expose": true, "name": tool, "description": "a tool of the tests"},
        "steps": [{"id": "r", "kind": "respond", "body": {"secret_of": name}}]
    })
}

/// An answer of `/mcp`: status, headers and the JSON-RPC message (from a
/// JSON body, or the last `data:` line of an event stream).
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    /// The JSON-RPC `result`, asserting there is one.
    #[track_caller]
    fn result(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.text);
        let r = &self.body["result"];
        assert!(!r.is_null(), "no result: {}", self.text);
        r
    }

    /// The JSON-RPC error code, asserting there is one.
    #[track_caller]
    fn rpc_error(&self) -> i64 {
        self.body["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no JSON-RPC error ({}): {}", self.status, self.text))
    }

    /// A tool error's API envelope (`isError: true`, the envelope as text).
    #[track_caller]
    fn tool_error(&self) -> Value {
        let r = self.result();
        assert_eq!(r["isError"], json!(true), "not a tool error: {}", self.text);
        let text = r["content"][0]["text"].as_str().unwrap_or_default();
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("the tool error is not the API envelope ({e}): {text}"))
    }

    /// The API envelope's `error.code` of an HTTP refusal.
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// A hostile or ordinary client of `/mcp` on `app`.
struct Mcp<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
}

impl<'a> Mcp<'a> {
    fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self { app, http }
    }

    /// A request of the current revision: the version in `_meta` and in the
    /// headers, `Mcp-Method` and (for a call) `Mcp-Name`.
    fn message(method: &str, params: Value) -> (Value, Vec<(&'static str, String)>) {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        });
        let mut headers = vec![
            ("mcp-protocol-version", MODERN.to_owned()),
            ("mcp-method", method.to_owned()),
        ];
        let name = params["name"].as_str().or(params["uri"].as_str());
        if let Some(name) = name {
            headers.push(("mcp-name", name.to_owned()));
        }
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
            headers,
        )
    }

    /// `method` with `params` under `key` (empty: none), plus `extra` headers.
    async fn rpc(&self, key: &str, method: &str, params: Value, extra: &[(&str, &str)]) -> Answer {
        let (body, headers) = Self::message(method, params);
        let mut all: Vec<(&str, String)> = headers;
        all.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        self.post(key, serde_json::to_vec(&body).unwrap(), &all)
            .await
    }

    /// A POST of raw bytes to `/mcp`.
    async fn post(&self, key: &str, body: Vec<u8>, headers: &[(&str, String)]) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/mcp", self.app.base))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if !key.is_empty() {
            req = req.bearer_auth(key);
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        answer(resp).await
    }

    async fn call(&self, key: &str, tool: &str, args: Value) -> Answer {
        self.rpc(
            key,
            "tools/call",
            json!({"name": tool, "arguments": args}),
            &[],
        )
        .await
    }

    /// The names of the tools `key` is offered.
    async fn tools(&self, key: &str) -> Vec<String> {
        let a = self.rpc(key, "tools/list", json!({}), &[]).await;
        a.result()["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools: {}", a.text))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| {
        // An event stream: the last data line that is a JSON-RPC answer.
        text.lines()
            .rev()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|v| v.get("id").is_some())
            .unwrap_or(Value::Null)
    });
    Answer {
        status,
        headers,
        body,
        text,
    }
}

/// How many runs the tenant of `key` has.
async fn runs(app: &TestApp, key: &str) -> usize {
    app.call_as(key, "GET", "/v1/runs", None).await.expect(200)["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn app() -> TestApp {
    TestApp::builder().memory().start().await
}

#[tokio::test]
async fn no_key_is_401_pointing_at_the_protected_resource_metadata() {
    let app = app().await;
    let mcp = Mcp::new(&app);
    let metadata = format!("{}/.well-known/oauth-protected-resource/mcp", app.base);
    for key in ["", "weft_0000000000000000000000000000000000000000"] {
        let a = mcp.rpc(key, "tools/list", json!({}), &[]).await;
        assert_eq!(a.status, 401, "{key:?}: {}", a.text);
        let challenge = a.headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(
            challenge.contains(&format!("resource_metadata=\"{metadata}\"")),
            "{challenge}"
        );
        assert!(a.body.get("result").is_none(), "no tools without a key");
    }
    // The document the challenge points at (RFC 9728).
    let doc = reqwest::get(&metadata).await.unwrap();
    assert_eq!(doc.status(), 200);
    let doc: Value = serde_json::from_str(&doc.text().await.unwrap()).unwrap();
    assert_eq!(doc["resource"], json!(format!("{}/mcp", app.base)), "{doc}");
    assert!(
        doc["bearer_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("header")),
        "{doc}"
    );
    assert!(
        doc.to_string().find("weft_").is_none(),
        "no secret in {doc}"
    );
}

#[tokio::test]
async fn an_operator_key_is_refused() {
    let app = app().await;
    let a = Mcp::new(&app)
        .rpc(&app.operator, "tools/list", json!({}), &[])
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.code(), "wrong_principal", "{}", a.text);
}

#[tokio::test]
async fn a_foreign_origin_or_host_is_403_before_anything_is_read() {
    let app = app().await;
    app.workflow(exposed("lookup", "lookup")).await;
    let mcp = Mcp::new(&app);
    let port = app.server.addr.port();
    let args = json!({"name": "lookup", "arguments": {"order_id": "o1"}});
    let evil_hosts = [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
    ];
    for host in &evil_hosts {
        // With a good key, and without one: refused either way, first.
        for key in [app.key.as_str(), ""] {
            let a = mcp
                .rpc(key, "tools/call", args.clone(), &[("host", host)])
                .await;
            assert_eq!(a.status, 403, "Host {host}: {}", a.text);
            assert_eq!(a.code(), "forbidden_host", "{}", a.text);
        }
    }
    for origin in [
        "https://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        for key in [app.key.as_str(), ""] {
            let a = mcp
                .rpc(key, "tools/call", args.clone(), &[("origin", origin)])
                .await;
            assert_eq!(a.status, 403, "Origin {origin}: {}", a.text);
            assert_eq!(a.code(), "forbidden_origin", "{}", a.text);
        }
    }
    assert_eq!(runs(&app, &app.key).await, 0, "nothing started");

    // The server's own origin and a loopback Host pass.
    let own = app.base.clone();
    let a = mcp
        .rpc(&app.key, "tools/call", args, &[("origin", &own)])
        .await;
    assert_eq!(a.result()["isError"], json!(false), "{}", a.text);
    assert_eq!(runs(&app, &app.key).await, 1);
}

#[tokio::test]
async fn an_unknown_tool_and_arguments_that_are_not_an_object_are_json_rpc_errors() {
    let app = app().await;
    app.workflow(exposed("lookup", "lookup")).await;
    let mcp = Mcp::new(&app);
    for (tool, args) in [
        ("no_such_tool", json!({})),
        ("lookup", json!(["o1"])),
        ("lookup", json!("o1")),
    ] {
        let a = mcp.call(&app.key, tool, args.clone()).await;
        assert_eq!(a.rpc_error(), -32602, "{tool} {args}: {}", a.text);
    }
    // Not JSON at all: refused saying where, not a crash (a JSON-RPC parse
    // error, or an HTTP client error before the protocol).
    let a = mcp
        .post(&app.key, b"{\"jsonrpc\": \"2.0\", \"id\": 1,".to_vec(), &[])
        .await;
    let parse_error = a.body["error"]["code"] == json!(-32700);
    assert!(
        parse_error || (400..500).contains(&a.status),
        "{}: {}",
        a.status,
        a.text
    );
    assert!(a.text.contains("column"), "says where: {}", a.text);
    assert_eq!(runs(&app, &app.key).await, 0);
}

#[tokio::test]
async fn arguments_breaking_the_input_schema_are_a_tool_error_naming_the_field() {
    let app = app().await;
    app.workflow(exposed("lookup", "lookup")).await;
    let mcp = Mcp::new(&app);
    for (args, field) in [
        (json!({}), "order_id"),
        (json!({"order_id": 7}), "order_id"),
        (json!({"order_id": "o1", "amount": "ten"}), "amount"),
    ] {
        let e = mcp
            .call(&app.key, "lookup", args.clone())
            .await
            .tool_error();
        assert_eq!(e["error"]["code"], json!("invalid_input"), "{args}: {e}");
        assert!(e.to_string().contains(field), "{args}: names {field}: {e}");
    }
    assert_eq!(runs(&app, &app.key).await, 0, "nothing started");
}

#[tokio::test]
async fn oversized_arguments_are_413_and_start_nothing() {
    let app = app().await;
    app.workflow(exposed("lookup", "lookup")).await;
    let mcp = Mcp::new(&app);
    let big = "x".repeat(LIMIT + 1);
    let a = mcp.call(&app.key, "lookup", json!({"order_id": big})).await;
    assert_eq!(a.status, 413, "{}", &a.text[..a.text.len().min(300)]);

    // Without a Content-Length (chunked), the limit holds while reading.
    let addr = app.server.addr;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\naccept: application/json, text/event-stream\r\n\
         mcp-protocol-version: {MODERN}\r\nmcp-method: tools/call\r\nmcp-name: lookup\r\n\
         transfer-encoding: chunked\r\n\r\n",
        addr.port(),
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let prefix = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"lookup\",\
         \"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"{MODERN}\",\
         \"io.modelcontextprotocol/clientCapabilities\":{{}}}},\"arguments\":{{\"order_id\":\""
    );
    let chunk = |b: &[u8]| {
        let mut c = format!("{:x}\r\n", b.len()).into_bytes();
        c.extend_from_slice(b);
        c.extend_from_slice(b"\r\n");
        c
    };
    let _ = s.write_all(&chunk(prefix.as_bytes())).await;
    let piece = vec![b'x'; 64 * 1024];
    for _ in 0..(LIMIT / piece.len() + 2) {
        if s.write_all(&chunk(&piece)).await.is_err() {
            break; // the server stopped reading: it answered already
        }
    }
    let _ = s.write_all(&chunk(b"\"}}}")).await;
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("an answer within 10 s")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert_eq!(runs(&app, &app.key).await, 0, "nothing started");
}

#[tokio::test]
async fn a_flood_is_429_with_retry_after_and_other_tenants_are_untouched() {
    let app = TestApp::builder()
        .memory()
        .config(|c| {
            c.limits.api_rate = 0.001;
            c.limits.api_burst = 5;
        })
        .start()
        .await;
    let other = app.tenant("other").await;
    let mcp = Mcp::new(&app);
    let mut limited = None;
    for i in 0..10 {
        let a = mcp.rpc(&app.key, "tools/list", json!({}), &[]).await;
        if a.status == 429 {
            limited = Some((i, a));
            break;
        }
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let (i, a) = limited.expect("the burst of 5 runs out within 10 requests");
    assert!(i <= 5, "limited after {i} requests");
    assert_eq!(a.code(), "rate_limited", "{}", a.text);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    // MCP and the API share the tenant's budget.
    app.call("GET", "/v1/workflows", None).await.expect(429);
    // Another tenant has its own.
    assert_eq!(
        mcp.rpc(&other, "tools/list", json!({}), &[]).await.status,
        200
    );
}

#[tokio::test]
async fn another_tenants_workflows_and_runs_are_not_found_never_their_data() {
    let app = app().await;
    let other = app.tenant("other").await;
    let theirs: weft_model::Workflow = app
        .call_as(
            &other,
            "POST",
            "/v1/workflows",
            Some(exposed("their secret", "theirs")),
        )
        .await
        .typed(201);
    app.call_as(
        &other,
        "POST",
        &format!("/v1/workflows/{}/activate", theirs.id),
        None,
    )
    .await
    .expect(200);
    let their_run = app
        .call_as(
            &other,
            "POST",
            &format!("/v1/workflows/{}/runs", theirs.id),
            Some(json!({"input": {"order_id": "o"}})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mcp = Mcp::new(&app);

    assert!(!mcp.tools(&app.key).await.contains(&"theirs".to_owned()));
    assert_eq!(
        mcp.call(&app.key, "theirs", json!({"order_id": "o"}))
            .await
            .rpc_error(),
        -32602
    );
    let id = theirs.id.as_str();
    for (tool, args) in [
        ("get_workflow", json!({"workflow_id": id})),
        (
            "update_workflow",
            json!({"workflow_id": id, "definition": exposed("mine now", "mine")}),
        ),
        (
            "set_workflow_active",
            json!({"workflow_id": id, "active": false}),
        ),
        (
            "run_workflow",
            json!({"workflow_id": id, "input": {"order_id": "o"}}),
        ),
        ("get_run", json!({"run_id": their_run})),
        ("cancel_run", json!({"run_id": their_run})),
    ] {
        let a = mcp.call(&app.key, tool, args).await;
        let e = a.tool_error();
        assert_eq!(e["error"]["code"], json!("not_found"), "{tool}: {e}");
        assert!(!a.text.contains("their secret"), "{tool}: {}", a.text);
    }
    for uri in [
        format!("weft://workflows/{id}"),
        format!("weft://runs/{their_run}"),
    ] {
        let a = mcp
            .rpc(&app.key, "resources/read", json!({"uri": uri}), &[])
            .await;
        assert!(a.body.get("result").is_none(), "{uri}: {}", a.text);
        assert!(!a.text.contains("their secret"), "{uri}: {}", a.text);
    }
    let listed = mcp.call(&app.key, "list_workflows", json!({})).await;
    assert!(!listed.text.contains(id), "{}", listed.text);
    // Untouched: still theirs, active, its run not cancelled.
    let wf = app
        .call_as(&other, "GET", &format!("/v1/workflows/{id}"), None)
        .await
        .expect(200);
    assert_eq!(wf["active"], json!(true));
    assert_eq!(runs(&app, &app.key).await, 0);
}

#[tokio::test]
async fn a_scoped_key_sees_and_calls_only_what_its_scopes_allow() {
    let app = app().await;
    let a = app.workflow(exposed("a", "tool_a")).await;
    app.workflow(exposed("b", "tool_b")).await;
    let key = app
        .post(
            "/v1/keys",
            json!({"name": "scoped", "role": "member",
                   "scopes": [format!("runs:start:{}", a.id), "workflows:read"]}),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let mcp = Mcp::new(&app);
    let tools = mcp.tools(&key).await;
    assert!(tools.contains(&"tool_a".to_owned()), "{tools:?}");
    assert!(tools.contains(&"list_workflows".to_owned()), "{tools:?}");
    for hidden in [
        "tool_b",
        "create_workflow",
        "cancel_run",
        "get_run",
        "update_workflow",
    ] {
        assert!(!tools.contains(&hidden.to_owned()), "{hidden} in {tools:?}");
    }
    assert!(
        mcp.call(&key, "tool_a", json!({"order_id": "o"}))
            .await
            .result()["isError"]
            == json!(false)
    );
    for (tool, args) in [
        ("tool_b", json!({"order_id": "o"})),
        (
            "create_workflow",
            json!({"definition": exposed("c", "tool_c")}),
        ),
    ] {
        assert_eq!(
            mcp.call(&key, tool, args).await.rpc_error(),
            -32602,
            "{tool}"
        );
    }
    assert_eq!(runs(&app, &app.key).await, 1, "only tool_a ran");
}

#[tokio::test]
async fn a_session_opened_by_one_key_gives_another_key_nothing_of_it() {
    let app = app().await;
    app.workflow(exposed("owners", "owners_tool")).await;
    let viewer = app
        .post("/v1/keys", json!({"name": "v", "role": "viewer"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.tenant("other").await;
    let mcp = Mcp::new(&app);

    // The owner opens a 2025-11-25 session.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "attacker", "version": "1"}}});
    let a = mcp
        .post(
            &app.key,
            serde_json::to_vec(&init).unwrap(),
            &[("mcp-protocol-version", "2025-11-25".into())],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let session = a.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let legacy = |id: u64, method: &str| {
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {}}))
            .unwrap()
    };
    let headers = vec![
        ("mcp-session-id", session.clone()),
        ("mcp-protocol-version", "2025-11-25".to_owned()),
    ];
    let notified =
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .unwrap();
    mcp.post(&app.key, notified, &headers).await;
    let mine = mcp.post(&app.key, legacy(2, "tools/list"), &headers).await;
    assert!(mine.text.contains("owners_tool"), "{}", mine.text);

    // The same session id with a viewer's key, another tenant's key, no key.
    for (key, who) in [
        (viewer.as_str(), "a viewer"),
        (other.as_str(), "another tenant"),
    ] {
        let a = mcp.post(key, legacy(3, "tools/list"), &headers).await;
        assert!(
            !a.text.contains("owners_tool"),
            "{who} got the owner's tools: {}",
            a.text
        );
        assert!(
            !a.text.contains("create_workflow") || who != "a viewer",
            "{}",
            a.text
        );
        let call = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                          "params": {"name": "owners_tool", "arguments": {"order_id": "o"}}});
        let a = mcp
            .post(key, serde_json::to_vec(&call).unwrap(), &headers)
            .await;
        assert!(
            a.body.get("result").is_none() || a.body["result"]["isError"] == json!(true),
            "{who} called the owner's tool: {}",
            a.text
        );
    }
    let a = mcp.post("", legacy(5, "tools/list"), &headers).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(runs(&app, &app.key).await, 0, "nothing started");
}

#[tokio::test]
async fn a_batch_a_json_bomb_or_headers_that_disagree_start_nothing() {
    let app = app().await;
    app.workflow(exposed("lookup", "lookup")).await;
    let mcp = Mcp::new(&app);
    let call_headers = |name: &str| {
        vec![
            ("mcp-protocol-version", MODERN.to_owned()),
            ("mcp-method", "tools/call".to_owned()),
            ("mcp-name", name.to_owned()),
        ]
    };
    let (call, _) = Mcp::message(
        "tools/call",
        json!({"name": "lookup", "arguments": {"order_id": "o"}}),
    );

    // A JSON-RPC batch (no revision since 2025-06-18 has them): one HTTP
    // request must not start twenty runs on one count of the rate limit.
    let batch: Vec<Value> = (0..20)
        .map(|i| {
            let mut m = call.clone();
            m["id"] = json!(i);
            m
        })
        .collect();
    let a = mcp
        .post(
            &app.key,
            serde_json::to_vec(&batch).unwrap(),
            &call_headers("lookup"),
        )
        .await;
    assert!((400..500).contains(&a.status), "batch: {}", a.text);

    // Arguments nested 100 000 deep, well within the size limit.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let mut bomb = serde_json::to_string(&call).unwrap();
    bomb = bomb.replace("\"o\"", &deep);
    let started = std::time::Instant::now();
    let a = mcp
        .post(&app.key, bomb.into_bytes(), &call_headers("lookup"))
        .await;
    assert!((400..500).contains(&a.status), "bomb: {}", a.text);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused quickly"
    );

    // Headers that say another method or tool than the body (a gateway
    // routing by them would be fooled): refused, naming the mismatch.
    let a = mcp
        .post(
            &app.key,
            serde_json::to_vec(&call).unwrap(),
            &call_headers("get_run"),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.text.contains("Mcp-Name"), "{}", a.text);
    let mut wrong_method = call_headers("lookup");
    wrong_method[1].1 = "tools/list".to_owned();
    let a = mcp
        .post(&app.key, serde_json::to_vec(&call).unwrap(), &wrong_method)
        .await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.text.contains("Mcp-Method"), "{}", a.text);

    assert_eq!(runs(&app, &app.key).await, 0, "nothing started");
    // And the endpoint still answers.
    assert!(mcp.tools(&app.key).await.contains(&"lookup".to_owned()));
}

#[tokio::test]
async fn no_answer_carries_a_secret_even_one_a_remote_reflects() {
    const SECRET: &str = "sk_live_mcp/Te5t+s3cret=";
    // A third-party API that echoes the Authorization it got.
    let echo = axum::Router::new().route(
        "/me",
        axum::routing::get(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            axum::Json(json!({"you_sent": auth}))
        }),
    );
    let remote = weft_tests::StandIn::start(echo).await;
    let app = app().await;
    app.post(
        "/v1/credentials",
        json!({"name": "echo-key", "secret": SECRET,
               "hosts": [format!("127.0.0.1:{}", remote.port())],
               "injection": {"type": "bearer"}}),
    )
    .await
    .expect(201);
    let wf = app
        .workflow(json!({
            "name": "who am i",
            "input_schema": {"type": "object"},
            "mcp": {"expose": true, "name": "who_am_i", "description": "Asks the API who we are."},
            "grants": {"hosts": [format!("127.0.0.1:{}", remote.port())],
                       "credentials": {"http/auth": "echo-key"}},
            "steps": [
                {"id": "me", "kind": "action", "connector": "http", "action": "request",
                 "input": {"url": remote.url("/me"), "credential": true}},
                {"id": "answer", "kind": "respond", "body": "{{ steps.me.output }}"}
            ]
        }))
        .await;
    let mcp = Mcp::new(&app);
    let called = mcp.call(&app.key, "who_am_i", json!({})).await;
    assert_eq!(called.result()["isError"], json!(false), "{}", called.text);
    // The remote got the key and sent it back; the answer has it scrubbed.
    assert!(called.text.contains("Bearer [REDACTED]"), "{}", called.text);
    let run_id = app.call("GET", "/v1/runs", None).await.expect(200)["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = wf.id.as_str();
    let mut answers = vec![called];
    for (tool, args) in [
        ("get_workflow", json!({"workflow_id": id})),
        ("list_workflows", json!({})),
        ("get_run", json!({"run_id": run_id})),
        ("list_runs", json!({})),
        ("list_connectors", json!({})),
        ("run_workflow", json!({"workflow_id": id, "input": {}})),
    ] {
        answers.push(mcp.call(&app.key, tool, args).await);
    }
    for uri in [
        format!("weft://workflows/{id}"),
        format!("weft://runs/{run_id}"),
        "weft://connectors/http".to_owned(),
    ] {
        answers.push(
            mcp.rpc(&app.key, "resources/read", json!({"uri": uri}), &[])
                .await,
        );
    }
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(!a.text.contains(SECRET), "a secret in: {}", a.text);
        assert!(
            !a.text.contains("Te5t"),
            "a part of the secret in: {}",
            a.text
        );
    }
    // The credential is named, never shown.
    assert!(answers[1].text.contains("echo-key"), "{}", answers[1].text);
}

/// A workflow exposed as `tool` whose run waits `ms` before it answers.
fn slow(tool: &str, ms: u64) -> Value {
    json!({
        "name": tool,
        "mcp": {"expose": true, "name": tool},
        "steps": [
            {"id": "hold", "kind": "wait", "duration_ms": ms},
            {"id": "r", "kind": "respond", "after": ["hold"], "body": {"done": true}}
        ]
    })
}

/// Found by review: any key could hold the listener's connections with idle
/// event streams (`GET /mcp` of a session) or calls that wait, and cut off
/// HTTP for every tenant. `GET` opens no stream, and a tenant's requests in
/// progress are capped: the next is 429 while another tenant is served.
#[tokio::test]
async fn a_tenant_cannot_hold_the_listeners_connections() {
    let app = TestApp::builder()
        .memory()
        .config(|c| c.mcp.max_concurrent_per_tenant = 2)
        .start()
        .await;
    let mcp = Mcp::new(&app);
    let get = mcp
        .http
        .get(format!("{}/mcp", app.base))
        .bearer_auth(&app.key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST, DELETE");

    app.workflow(slow("hold", 5_000)).await;
    let other = app.tenant("other").await;
    let (m1, m2) = (Mcp::new(&app), Mcp::new(&app));
    let third = async {
        // Both slots are taken once both calls are running.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let refused = mcp.call(&app.key, "hold", json!({})).await;
        let served = mcp.tools(&other).await;
        (refused, served)
    };
    let (a1, a2, (refused, served)) = tokio::join!(
        m1.call(&app.key, "hold", json!({})),
        m2.call(&app.key, "hold", json!({})),
        third
    );
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert!(refused.headers.contains_key("retry-after"));
    assert!(served.contains(&"list_workflows".to_owned()), "{served:?}");
    for a in [a1, a2] {
        assert_eq!(
            a.result()["structuredContent"],
            json!({"done": true}),
            "{}",
            a.text
        );
    }
    // The slots came back with the answers.
    assert!(mcp.tools(&app.key).await.contains(&"hold".to_owned()));
}

/// Found by review: a 2025-11-25 session id was usable by any key, so
/// another tenant's key that learnt it could cancel the session's calls (and
/// their runs) or end it. Now it is the opening key's only: 404 to others,
/// and the call goes on to its answer.
#[tokio::test]
async fn another_key_cannot_cancel_or_end_a_session() {
    let app = app().await;
    app.workflow(slow("hold", 3_000)).await;
    let other = app.tenant("other").await;
    let mcp = Mcp::new(&app);
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "owner", "version": "1"}}});
    let legacy = vec![("mcp-protocol-version", "2025-11-25".to_owned())];
    let a = mcp
        .post(&app.key, serde_json::to_vec(&init).unwrap(), &legacy)
        .await;
    let session = a.headers["mcp-session-id"].to_str().unwrap().to_owned();
    let mut headers = legacy.clone();
    headers.push(("mcp-session-id", session.clone()));
    let notified =
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .unwrap();
    mcp.post(&app.key, notified, &headers).await;

    let call = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "hold", "arguments": {}}});
    let owner = Mcp::new(&app);
    let pending = owner.post(&app.key, serde_json::to_vec(&call).unwrap(), &headers);
    let attack = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                            "params": {"requestId": 7, "reason": "not yours"}});
        let a = mcp
            .post(&other, serde_json::to_vec(&cancel).unwrap(), &headers)
            .await;
        let ended = mcp
            .http
            .delete(format!("{}/mcp", app.base))
            .bearer_auth(&other)
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-11-25")
            .send()
            .await
            .unwrap()
            .status();
        (a.status, ended)
    };
    let (answer, (cancel_status, delete_status)) = tokio::join!(pending, attack);
    assert_eq!(cancel_status, 404);
    assert_eq!(delete_status, 404);
    assert_eq!(
        answer.result()["structuredContent"],
        json!({"done": true}),
        "{}",
        answer.text
    );
    // Its own key ends it.
    let ended = mcp
        .http
        .delete(format!("{}/mcp", app.base))
        .bearer_auth(&app.key)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(ended, 204);
}
