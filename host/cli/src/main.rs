//! `weft`: one binary, several roles: the plugin-author subcommands
//! (`weft plugin new | build | test | inspect | invoke | keygen | publish`), the embedded server
//! (`weft serve`), MCP on stdio (`weft mcp`), the distributed processes (`weft api | worker | migrate`,
//! `weft config`), local runs (`weft run FILE`), and clients of a running server
//! (`weft workflows | runs | credentials | connectors | registry | templates`).

mod args;
mod client;
mod import;
mod local;
mod mcp;
mod mcp_bridge;
mod plugin;
mod precompile;

use clap::Parser;
use std::process::ExitCode;
use weft_cli::server::Role;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    weft_tls::install_provider();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        args::Command::Plugin(cmd) => plugin::run(cmd).await,
        args::Command::Serve(a) => local::serve(a).await,
        args::Command::Api(a) => local::process(a, Role::Api).await,
        args::Command::Worker(a) => local::process(a, Role::Worker).await,
        args::Command::Migrate(a) => local::migrate(a).await,
        args::Command::Config(a) => local::config(a),
        args::Command::Run(a) => local::run(a).await,
        args::Command::Mcp(a) => mcp::run(a).await,
        args::Command::Workflows(c) => client::workflows(c).await,
        args::Command::Runs(c) => client::runs(c).await,
        args::Command::Credentials(c) => client::credentials(c).await,
        args::Command::Keys(c) => client::keys(c).await,
        args::Command::Ops(c) => client::ops(c).await,
        args::Command::Connectors(a) => client::connectors(a).await,
        args::Command::Registry(c) => client::registry(c).await,
        args::Command::Templates(c) => client::templates(c).await,
        args::Command::Import(args::ImportCommand::N8n(a)) => import::n8n(a),
        args::Command::PrecompileConnectors => precompile::child().await,
    }
}
