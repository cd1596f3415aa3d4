//! The MCP server (`docs/MCP.md`): a tenant's exposed workflows as typed
//! tools, management tools gated by role and scope, and resources (workflow
//! definitions, runs, connector manifests, the workflow format reference),
//! served over Streamable HTTP at `/mcp` ([`router`]) and over standard input
//! and output ([`serve_stdio`], `weft mcp`).
//!
//! It is built on `rmcp`, the official Rust SDK, which speaks both the
//! current stateless revision (2026-07-28: `server/discover`, per-request
//! metadata) and the 2025-11-25 `initialize` handshake. Every tool calls
//! [`weft_app::App`], the same use cases as the HTTP API, under the caller's
//! tenant and role: the tenant comes from the API key only.

mod admission;
mod errors;
mod guard;
mod handler;
mod resources;
mod tools;
mod workflow_tools;

pub use handler::Weft;

use axum::Router;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use weft_api::AppState;

/// The MCP server's settings (`[mcp]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Serve `/mcp` (and its protected-resource metadata) on the API's listener.
    pub enabled: bool,
    /// How long a workflow tool (and `run_workflow`) waits for its run to
    /// answer before it returns the run's id instead, in milliseconds (at
    /// most 60 000, the longest wait of a run; `get_run` waits again).
    pub call_wait_ms: u64,
    /// Host names (`example.com`, or `example.com:8443`) the endpoint answers
    /// besides loopback names and the host of `base_url`; `*` turns the
    /// check off (behind a proxy that checks it).
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`https://app.example.com`) allowed to call the
    /// endpoint (CORS) besides the server's own; requests without `Origin`
    /// (every non-browser client) are not affected.
    pub allowed_origins: Vec<String>,
    /// MCP requests one tenant may have in progress at once (a tool call
    /// holds its connection while its run goes on); more are refused 429.
    pub max_concurrent_per_tenant: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            enabled: true,
            call_wait_ms: 30_000,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_concurrent_per_tenant: 16,
        }
    }
}

impl Options {
    /// The wait of a tool call, within the longest a run may be waited for.
    pub fn call_wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.call_wait_ms).min(weft_app::MAX_WAIT)
    }
}

/// A JSON-RPC message larger than this is refused (413) before it is parsed:
/// the API's own body limit.
pub const MAX_MESSAGE_BYTES: usize = weft_api::MAX_BODY_BYTES;

/// `/mcp` and its protected-resource metadata (RFC 9728), to merge into the
/// API's router. Every request to `/mcp` passes [`guard`] first (Host,
/// Origin, size, the API key, the tenant's state and rate); the key's caller
/// reaches the tools through the request's extensions.
pub fn router(state: AppState, options: &Options) -> Router {
    let options = Arc::new(options.clone());
    let app = state.app.clone();
    let base: Arc<str> = state.base_url.clone();
    let handler_options = options.clone();
    let config = StreamableHttpServerConfig::default()
        // The guard checks Host and Origin against this server's own names.
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(MAX_MESSAGE_BYTES)
        // Clients of the 2025-11-25 revision get a session, so that their
        // `notifications/cancelled` reaches the call it names; the current
        // revision is stateless whatever this says.
        .with_legacy_session_mode(true)
        .with_json_response(true);
    let mcp = StreamableHttpService::new(
        move || {
            Ok(Weft::new(
                app.clone(),
                base.clone(),
                handler_options.clone(),
                None,
            ))
        },
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let guard_state = guard::Guard::new(state.clone(), &options);
    Router::new()
        .route_service("/mcp", mcp)
        .layer(axum::middleware::from_fn_with_state(
            guard_state,
            guard::check,
        ))
        .merge(
            Router::new()
                .route(
                    "/.well-known/oauth-protected-resource",
                    get(guard::resource_metadata),
                )
                .route(
                    "/.well-known/oauth-protected-resource/mcp",
                    get(guard::resource_metadata),
                )
                .with_state(state),
        )
}

/// Serves the MCP server on standard input and output for `actor` (`weft
/// mcp`), until the client closes its end.
///
/// # Errors
/// The transport's failures.
pub async fn serve_stdio(
    app: weft_app::App,
    base_url: &str,
    options: &Options,
    actor: weft_app::Actor,
) -> std::io::Result<()> {
    use rmcp::ServiceExt;
    let weft = Weft::new(
        app,
        base_url.trim_end_matches('/').into(),
        Arc::new(options.clone()),
        Some(actor),
    );
    let running = weft
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}
