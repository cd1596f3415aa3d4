//! Subcommands that talk to a running server over its HTTP API.

use clap::{Args, Subcommand};

/// Where the server is and how to authenticate.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's base URL.
    #[arg(
        long,
        env = "WEFT_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An API key (`weft_...`).
    #[arg(long, env = "WEFT_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,
}

/// `weft workflows ...`.
#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {}

/// `weft runs ...`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {}

/// `weft credentials ...`.
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {}

/// Runs `weft workflows ...`.
pub async fn workflows(cmd: WorkflowsCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {}
}

/// Runs `weft runs ...`.
pub async fn runs(cmd: RunsCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {}
}

/// Runs `weft credentials ...`.
pub async fn credentials(cmd: CredentialsCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {}
}

/// Runs `weft connectors`.
pub async fn connectors(args: ServerArgs) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("not yet")
}
