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
use anyhow::Context;
use std::process::ExitCode;
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
        Some(url) => crate::mcp_bridge::run(url, args.api_key.as_deref()).await,
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
        Some(secret) => {
            let actor = server
                .app
                .authenticate(secret.trim())
                .await
                .context("WEFT_API_KEY does not open in this data directory")?;
            // A suspended tenant's key is refused here as over HTTP.
            server.app.tenants().gate(&actor.tenant_id).await?;
            actor
        }
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
