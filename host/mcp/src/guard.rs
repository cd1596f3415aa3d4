//! What every request to `/mcp` passes before the protocol reads it, in
//! order: the `Host` is one of this server's names and a browser's `Origin`
//! is its own (no DNS rebinding of a local endpoint: TEST-PLAN M2), the body
//! is within the API's limit, and a bearer API key opens (401 with the
//! protected-resource metadata's address otherwise: M1), then the tenant's
//! state gate and API rate, as for every API call. The caller is put into
//! the request's extensions, where the tools find it.

use crate::{MAX_MESSAGE_BYTES, Options};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use weft_api::{ApiError, AppState};

/// The guard's state: the API's (for the key and the limiter) and the names
/// this server answers to.
#[derive(Clone)]
pub struct Guard {
    state: AppState,
    names: Arc<Names>,
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
/// answer is `nosniff`, like the API's.
pub async fn check(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let mut resp = admit(&guard, req, next).await;
    resp.headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    resp
}

/// The checks, in order.
async fn admit(guard: &Guard, mut req: Request, next: Next) -> Response {
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
    if let Some(origin) = req.headers().get(header::ORIGIN) {
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
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_MESSAGE_BYTES) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("an MCP message may be at most {MAX_MESSAGE_BYTES} bytes"),
        );
    }
    let (mut parts, body) = req.into_parts();
    let Some(secret) = weft_api::bearer(&parts).map(str::to_owned) else {
        return unauthenticated(&guard.state.base_url, ApiError::unauthenticated());
    };
    match weft_api::key_caller(&guard.state, &secret).await {
        Ok(actor) => {
            parts.extensions.insert(actor);
            // The message is read here, within the limit (a chunked body has
            // no length to check), and looked at once before the SDK parses
            // it: a `tools/call` whose arguments are not an object would
            // otherwise come back as "method not found".
            let bytes = match axum::body::to_bytes(body, MAX_MESSAGE_BYTES).await {
                Ok(b) => b,
                Err(_) => {
                    return refuse(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        format!("an MCP message may be at most {MAX_MESSAGE_BYTES} bytes"),
                    );
                }
            };
            if let Some(answer) = bad_arguments(&bytes) {
                return answer;
            }
            req = Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(req).await
        }
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            unauthenticated(&guard.state.base_url, e)
        }
        Err(e) => e.into_response(),
    }
}

/// The JSON-RPC error (`-32602`, naming the field) for a `tools/call`
/// whose `arguments` are there but not an object; `None` for every other
/// message (the SDK answers those).
fn bad_arguments(bytes: &[u8]) -> Option<Response> {
    let msg: Value = serde_json::from_slice(bytes).ok()?;
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
    let body = json!({
        "jsonrpc": "2.0",
        "id": msg.get("id").cloned().unwrap_or(Value::Null),
        "error": {
            "code": -32602,
            "message": format!("tools/call: `params.arguments` must be an object of the tool's arguments, got {kind}"),
        },
    });
    Some((StatusCode::OK, Json(body)).into_response())
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
            let answer = bad_arguments(call(bad).as_bytes()).expect(bad);
            assert_eq!(answer.status(), StatusCode::OK);
        }
        for fine in ["{}", "{\"a\":1}", "null"] {
            assert!(bad_arguments(call(fine).as_bytes()).is_none(), "{fine}");
        }
        assert!(
            bad_arguments(
                br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"arguments":[1]}}"#
            )
            .is_none()
        );
        assert!(bad_arguments(b"not json").is_none());
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
