//! Subcommands that talk to a running server over its HTTP API:
//! `weft workflows | runs | credentials | connectors | registry | templates`,
//! and the publishing half of `weft plugin publish | keygen`.
//!
//! Each prints text by default and the server's JSON with `--json`. Exit codes:
//! 0 on success; 1 when the server refused (`error: <code>: <message>` and each
//! detail as `  <path>: <message>` on stderr); 2 for anything else (a bad
//! argument, an unreadable file, a server that cannot be reached).

mod connectors;
mod credentials;
mod http;
mod keys;
mod ops;
mod output;
mod registry;
mod run_view;
mod runs;
mod templates;
mod workflows;

pub use credentials::CredentialsCommand;
pub use http::finish;
pub use keys::KeysCommand;
pub use ops::{OperatorArgs, OpsCommand};
pub use registry::RegistryCommand;
pub use registry::keys::keygen;
pub use registry::publish::{Artifact, PublishOptions, publish};
pub use runs::RunsCommand;
pub use templates::TemplatesCommand;
pub use workflows::WorkflowsCommand;

use clap::Args;
use std::process::ExitCode;

/// Where the server is, how to authenticate, and how to print its answers.
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
    /// Print the server's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Runs `weft workflows ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn workflows(cmd: WorkflowsCommand) -> anyhow::Result<ExitCode> {
    http::finish(workflows::run(cmd).await)
}

/// Runs `weft runs ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn runs(cmd: RunsCommand) -> anyhow::Result<ExitCode> {
    http::finish(runs::run(cmd).await)
}

/// Runs `weft credentials ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn credentials(cmd: CredentialsCommand) -> anyhow::Result<ExitCode> {
    http::finish(credentials::run(cmd).await)
}

/// Runs `weft ops ...` (with an operator key).
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn ops(cmd: OpsCommand) -> anyhow::Result<ExitCode> {
    http::finish(ops::run(cmd).await)
}

/// Runs `weft keys ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn keys(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    http::finish(keys::run(cmd).await)
}

/// Runs `weft connectors`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn connectors(args: ServerArgs) -> anyhow::Result<ExitCode> {
    http::finish(connectors::run(args).await)
}

/// Runs `weft registry ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn registry(cmd: RegistryCommand) -> anyhow::Result<ExitCode> {
    http::finish(registry::run(cmd).await)
}

/// Runs `weft templates ...`.
///
/// # Errors
/// Anything but a refusal from the server, which is printed and exits 1.
pub async fn templates(cmd: TemplatesCommand) -> anyhow::Result<ExitCode> {
    http::finish(templates::run(cmd).await)
}
