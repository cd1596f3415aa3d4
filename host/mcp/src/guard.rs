//! What every request to `/mcp` passes before the protocol reads it, in
//! order: the `Host` is one of this server's names and a browser's `Origin`
//! is its own (no DNS rebinding of a local endpoint: TEST-PLAN M2), the body
//! is within the API's limit, and a bearer API key opens (401 with the
//! protected-resource metadata's address otherwise: M1), then the tenant's
//! state gate and API rate, as for every API call. The caller is put into
//! the request's extensions, where the tools find it.

use crate::admission::{Belongs, Sessions, Slots};
use crate::{MAX_MESSAGE_BYTES, Options};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use weft_api::{ApiError, AppState};

/// The guard's state: the API's (for the key and the limiter), the names
/// this server answers to, the sessions' owners and the tenants' slots.
#[derive(Clone)]
pub struct Guard {
    state: AppState,
    names: Arc<Names>,
    sessions: Arc<Sessions>,
    slots: Arc<Slots>,
}

/// The hosts and origins the endpoint accepts.
#[derive(Debug)]
struct Names {
    /// Lower-case host names and `host:port` authorities; `None`: any.
    hosts: Option<HashSet<String>>,
    /// Lower-case origins (`scheme://host[:port]`).
    origins: HashSet<String>,
}

impl Guard {
    /// The guard of a server whose public address is `state.base_url`.
    pub fn new(state: AppState, options: &Options) -> Self {
        let base = url::Url::parse(&state.base_url).ok();
        let mut hosts: HashSet<String> = ["localhost", "127.0.0.1", "[::1]", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut origins = HashSet::new();
        if let Some(base) = &base {
            if let Some(h) = base.host_str() {
                hosts.insert(h.to_ascii_lowercase());
            }
            origins.insert(base.origin().ascii_serialization().to_ascii_lowercase());
        }
        let any = options.allowed_hosts.iter().any(|h| h == "*");
        hosts.extend(options.allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
        origins.extend(
            options
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase()),
        );
        Self {
            state,
            names: Arc::new(Names {
                hosts: (!any).then_some(hosts),
                origins,
            }),
            sessions: Arc::default(),
            slots: Arc::new(Slots::new(options.max_concurrent_per_tenant)),
        }
    }
}

impl Names {
    /// Whether `host` (a `Host` header: `name`, `name:port`, `[v6]:port`)
    /// is one of ours: its name alone, or the whole authority.
    fn host_ok(&self, host: &str) -> bool {
        let Some(hosts) = &self.hosts else {
            return true;
        };
        let host = host.to_ascii_lowercase();
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().map(|a| format!("[{a}]")),
            None => host.split(':').next().map(str::to_owned),
        };
        hosts.contains(&host) || name.is_some_and(|n| hosts.contains(&n))
    }

    /// Whether a browser's `origin` may call: ours, a configured one, or a
    /// loopback page calling a loopback server (`http://localhost:5173`).
    fn origin_ok(&self, origin: &str, host_is_loopback: bool) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        host_is_loopback
            && url::Url::parse(&origin)
                .is_ok_and(|u| matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")))
    }
}

/// Whether a `Host` header names this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.starts_with("localhost:")
        || host == "127.0.0.1"
        || host.starts_with("127.0.0.1:")
        || host.starts_with("[::1]")
}

/// The middleware: refuses, or passes the request on with its caller. Every
/// answer is `nosniff`, like the API's, and carries CORS headers for an
/// allowed browser origin.
pub async fn check(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = admit(&guard, req, next).await;
    let headers = resp.headers_mut();
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    if let Some(v) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        // Reached only for an origin the checks allowed (others are 403
        // before anything else; the header then names no one).
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("mcp-session-id, www-authenticate"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    resp
}

/// The checks, in order: Host, Origin, method, size, key, session, slot;
/// then the message is read, and the SDK answers it.
async fn admit(guard: &Guard, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    if !guard.names.host_ok(&host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "the MCP endpoint does not answer to the host `{host}` (add it to \
                 mcp.allowed_hosts if it is this server's name)"
            ),
        );
    }
    let origin = req.headers().get(header::ORIGIN).cloned();
    if let Some(origin) = &origin {
        let origin = origin.to_str().unwrap_or("");
        if !guard.names.origin_ok(origin, is_loopback(&host)) {
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!(
                    "the MCP endpoint does not accept requests from the origin `{origin}` \
                     (add it to mcp.allowed_origins to allow that web page)"
                ),
            );
        }
    }
    match req.method().as_str() {
        "POST" | "DELETE" => {}
        "OPTIONS" if origin.is_some() => return preflight(),
        // No stream outside a request: every message Weft sends answers one
        // (a standing GET stream would hold a connection for nothing).
        _ => {
            let mut resp = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "the MCP endpoint takes POST (messages) and DELETE (ending a session); \
                 it opens no stream on GET"
                    .to_owned(),
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
            return resp;
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_MESSAGE_BYTES) {
        return too_large();
    }
    let (mut parts, body) = req.into_parts();
    let Some(secret) = weft_api::bearer(&parts).map(str::to_owned) else {
        return unauthenticated(&guard.state.base_url, ApiError::unauthenticated());
    };
    let actor = match weft_api::key_caller(&guard.state, &secret).await {
        Ok(actor) => actor,
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            return unauthenticated(&guard.state.base_url, e);
        }
        Err(e) => return e.into_response(),
    };
    let session = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &session
        && guard.sessions.check(id, &actor.tenant_id, &actor.key_id) == Belongs::No
    {
        // As for an ended session: the client starts a new one.
        return refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "MCP session not found (it ended, or it is not this key's): initialize again"
                .to_owned(),
        );
    }
    let Some(slot) = guard.slots.take(&actor.tenant_id) else {
        return ApiError::busy(
            format!(
                "this tenant already has {} MCP requests in progress \
                 (mcp.max_concurrent_per_tenant); retry when one has answered",
                guard.slots.per_tenant()
            ),
            std::time::Duration::from_secs(1),
        )
        .into_response();
    };
    // The message is read here, within the limit (a chunked body has no
    // length to check), and looked at once before the SDK parses it: a
    // `tools/call` whose arguments are not an object would otherwise come
    // back as "method not found".
    let Ok(bytes) = axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await else {
        return too_large();
    };
    if let Some(answer) = inspect(&bytes) {
        return answer;
    }
    let deleting = parts.method == http::Method::DELETE;
    let (tenant, key) = (actor.tenant_id.clone(), actor.key_id.clone());
    parts.extensions.insert(actor);
    let mut resp = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    if deleting && resp.status() == StatusCode::ACCEPTED {
        // A session ended: nothing follows (clients expect 200 or 204).
        *resp.status_mut() = StatusCode::NO_CONTENT;
    }
    match (&session, resp.headers().get(SESSION_HEADER)) {
        (None, Some(id)) => {
            if let Ok(id) = id.to_str() {
                guard.sessions.opened(id, &tenant, &key);
            }
        }
        (Some(id), _) if deleting && resp.status().is_success() => guard.sessions.closed(id),
        _ => {}
    }
    // The slot is held until the answer has been sent, streamed or not.
    let (head, body) = resp.into_parts();
    let body = body.into_data_stream().map(move |chunk| {
        let _held = &slot;
        chunk
    });
    Response::from_parts(head, axum::body::Body::from_stream(body))
}

/// The header that carries a 2025-11-25 session's id.
const SESSION_HEADER: &str = "mcp-session-id";

/// The answer to a browser's preflight from an allowed origin (the origin
/// itself is added by [`check`]).
fn preflight() -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, DELETE"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, accept, last-event-id, mcp-protocol-version, \
             mcp-session-id, mcp-method, mcp-name",
        ),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

/// 413: a message over the limit.
fn too_large() -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("an MCP message may be at most {MAX_MESSAGE_BYTES} bytes"),
    )
}

/// The JSON-RPC errors the guard answers itself, before the SDK parses the
/// message, because the SDK's answers would not say what is wrong: a body
/// that is not JSON (`-32700`, with where), a batch (`-32600`: the protocol
/// has none since 2025-06-18), and a `tools/call` whose `arguments` are
/// there but not an object (`-32602`, naming the field). `None` for every
/// other message; a DELETE carries no message.
fn inspect(bytes: &[u8]) -> Option<Response> {
    if bytes.is_empty() {
        return None;
    }
    let msg: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Some(rpc_error(
                StatusCode::BAD_REQUEST,
                Value::Null,
                -32700,
                format!("the message is not JSON: {e}"),
            ));
        }
    };
    if msg.is_array() {
        return Some(rpc_error(
            StatusCode::BAD_REQUEST,
            Value::Null,
            -32600,
            "batches are not part of MCP: send one message per request".to_owned(),
        ));
    }
    if msg.get("method").and_then(Value::as_str) != Some("tools/call") {
        return None;
    }
    let args = msg.get("params")?.get("arguments")?;
    let kind = match args {
        Value::Object(_) | Value::Null => return None,
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
    };
    Some(rpc_error(
        StatusCode::OK,
        msg.get("id").cloned().unwrap_or(Value::Null),
        -32602,
        format!(
            "tools/call: `params.arguments` must be an object of the tool's arguments, got {kind}"
        ),
    ))
}

/// A JSON-RPC error answer.
fn rpc_error(status: StatusCode, id: Value, code: i64, message: String) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    (status, Json(body)).into_response()
}

/// A refusal in the API's envelope.
fn refuse(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// 401 with `WWW-Authenticate` pointing at the protected-resource metadata,
/// so that a client that speaks MCP auth finds how to authenticate.
fn unauthenticated(base: &str, e: ApiError) -> Response {
    let mut resp = e.into_response();
    let challenge = format!(
        "Bearer realm=\"weft\", resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// `GET /.well-known/oauth-protected-resource[/mcp]` (RFC 9728): the
/// resource is `<base>/mcp`, it takes bearer tokens in the header, and they
/// are Weft API keys (no authorisation server issues them: the console or
/// `weft keys create` does).
pub async fn resource_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = &state.base_url;
    Json(json!({
        "resource": format!("{base}/mcp"),
        "resource_name": "Weft",
        "bearer_methods_supported": ["header"],
        "resource_documentation": format!("{base}/openapi.json"),
        "scopes_supported": weft_types::scope::Resource::ALL
            .iter()
            .flat_map(|r| r.verbs().iter().map(move |v| format!("{}:{}", r.as_str(), v.as_str())))
            .collect::<Vec<_>>(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(hosts: &[&str], origins: &[&str]) -> Names {
        Names {
            hosts: Some(hosts.iter().map(|h| (*h).to_owned()).collect()),
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    #[test]
    fn arguments_that_are_not_an_object_are_named() {
        let call = |args: &str| {
            format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"t","arguments":{args}}}}}"#
            )
        };
        for bad in ["[1,2]", "\"x\"", "3", "true"] {
            let answer = inspect(call(bad).as_bytes()).expect(bad);
            assert_eq!(answer.status(), StatusCode::OK);
        }
        for fine in ["{}", "{\"a\":1}", "null"] {
            assert!(inspect(call(fine).as_bytes()).is_none(), "{fine}");
        }
        assert!(
            inspect(
                br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"arguments":[1]}}"#
            )
            .is_none()
        );
        let not_json = inspect(b"{not json").expect("not JSON");
        assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
        let batch =
            inspect(br#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#).expect("a batch");
        assert_eq!(batch.status(), StatusCode::BAD_REQUEST);
        assert!(inspect(b"").is_none(), "a DELETE's empty body");
    }

    #[test]
    fn a_host_is_ours_by_name_or_authority() {
        let n = names(
            &["localhost", "127.0.0.1", "[::1]", "weft.example.com"],
            &[],
        );
        assert!(n.host_ok("localhost:8080"));
        assert!(n.host_ok("127.0.0.1"));
        assert!(n.host_ok("[::1]:8080"));
        assert!(n.host_ok("WEFT.example.com:443"));
        assert!(!n.host_ok("evil.example"));
        assert!(!n.host_ok("evil.example:8080"));
        assert!(!n.host_ok("127.0.0.1.evil.example"));
        assert!(!n.host_ok(""));
    }

    #[test]
    fn an_origin_is_ours_or_loopback_to_loopback() {
        let n = names(&[], &["https://weft.example.com"]);
        assert!(n.origin_ok("https://weft.example.com", false));
        assert!(n.origin_ok("https://WEFT.example.com/", false));
        assert!(!n.origin_ok("https://evil.example", false));
        assert!(!n.origin_ok("http://weft.example.com", false));
        assert!(n.origin_ok("http://localhost:5173", true));
        assert!(!n.origin_ok("http://localhost:5173", false));
        assert!(!n.origin_ok("null", true));
    }
}
