//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Weft: workflow automation where every node is a sandboxed WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write, build, test and run connectors.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Run the all-in-one server: API, webhooks, workers and schedules, on SQLite
    /// and the in-process queue (no other service needed).
    Serve(ServeArgs),
    /// Run the HTTP API (admin API, webhooks, resume URLs) of a distributed
    /// deployment: PostgreSQL, RabbitMQ, Redis. Runs no steps.
    Api(ProcessArgs),
    /// Run a worker of a distributed deployment: consumes step tasks from
    /// RabbitMQ, runs them, sweeps timers; serves /healthz, /readyz, /metrics.
    Worker(ProcessArgs),
    /// Apply the database migrations, create the master keyring and, on an
    /// empty database, the default tenant with an owner key (printed once).
    Migrate(ProcessArgs),
    /// Print the effective configuration (secrets masked); exit 2 if it is invalid.
    Config(ProcessArgs),
    /// Run a workflow file once, locally and in memory, printing progress and a
    /// per-step summary. Exits 0 when the run completes, 1 otherwise.
    Run(RunArgs),
    /// Serve MCP on standard input and output for an AI assistant that starts
    /// a local process: on the data directory (as `weft serve`, without HTTP),
    /// or with --server as a bridge to a running server's /mcp. See docs/MCP.md.
    Mcp(McpArgs),
    /// Manage workflows on a running server.
    #[command(subcommand)]
    Workflows(crate::client::WorkflowsCommand),
    /// Start, inspect, cancel, retry and resume runs on a running server.
    #[command(subcommand)]
    Runs(crate::client::RunsCommand),
    /// Manage credentials on a running server (secrets are write-only).
    #[command(subcommand)]
    Credentials(crate::client::CredentialsCommand),
    /// Manage the tenant's API keys: create (with scopes and an expiry), list,
    /// revoke (owner only).
    #[command(subcommand)]
    Keys(crate::client::KeysCommand),
    /// The operator's commands (an operator key: --operator-key or
    /// WEFT_OPERATOR_KEY): tenants, operator keys, audit, usage, resets.
    #[command(subcommand)]
    Ops(crate::client::OpsCommand),
    /// List the connectors a running server offers.
    Connectors(crate::client::ServerArgs),
    /// The registry: publishers, search, installs with consent, upgrades,
    /// yank, takedown.
    #[command(subcommand)]
    Registry(crate::client::RegistryCommand),
    /// Workflow templates: search, show, use, publish.
    #[command(subcommand)]
    Templates(crate::client::TemplatesCommand),
    /// Turn another tool's workflow export into a Weft definition (printed on
    /// standard output; what could not be mapped, node by node, on standard
    /// error). See docs/IMPORT.md.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Internal: compile the connectors of a job read from standard input into
    /// the component cache, then exit (`weft serve` runs it as a child
    /// process, so that the compiler's memory is not kept by the server).
    #[command(hide = true)]
    PrecompileConnectors,
}

/// `weft import`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// An n8n workflow export (the editor's "Download", `n8n export:workflow`).
    N8n(ImportN8nArgs),
}

/// `weft import n8n`.
#[derive(Debug, Args)]
pub struct ImportN8nArgs {
    /// The export (JSON).
    pub file: PathBuf,
    /// An Execute Workflow node's n8n workflow id and the Weft workflow it
    /// becomes (`N8N_ID=WEFT_ID`; repeatable), for sub-workflows imported first.
    #[arg(long = "workflow", value_name = "N8N_ID=WEFT_ID")]
    pub workflows: Vec<String>,
    /// Write the definition to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `weft serve`. Flags win over `WEFT_*` variables, which win over the file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file (TOML; see docs/DISTRIBUTED.md).
    #[arg(long, env = "WEFT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Where the database, the master key file and the compiled-component
    /// cache live [default: weft-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Connector components to load: `.wasm` files or directories of them (repeatable).
    #[arg(long = "plugins", value_delimiter = ',')]
    pub plugins: Vec<PathBuf>,
    /// Public base URL used in webhook and resume URLs (default: http://LISTEN).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Step attempts running at once [default: 64].
    #[arg(long)]
    pub concurrency: Option<u16>,
}

/// `weft api`, `weft worker`, `weft migrate`, `weft config`: everything comes
/// from the configuration file and `WEFT_*` variables.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// The configuration file (TOML; see docs/DISTRIBUTED.md).
    #[arg(long, env = "WEFT_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `weft mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The configuration file (TOML; see docs/DISTRIBUTED.md).
    #[arg(long, env = "WEFT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the database, the master key file and the compiled-component
    /// cache live [default: weft-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Connector components to load: `.wasm` files or directories of them (repeatable).
    #[arg(long = "plugins", value_delimiter = ',')]
    pub plugins: Vec<PathBuf>,
    /// Relay to this running server's /mcp instead of opening a data directory.
    #[arg(long)]
    pub server: Option<String>,
    /// The API key (`weft_...`): its tenant and role are the caller's.
    /// Required with --server; without it, the data directory's default
    /// tenant's owner.
    #[arg(long, env = "WEFT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

/// `weft run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow definition (JSON, or YAML by extension `.yaml`/`.yml`).
    pub file: PathBuf,
    /// The trigger payload (read as `trigger.body`), as JSON.
    #[arg(long, default_value = "null")]
    pub input: String,
    /// Connector components to load: `.wasm` files or directories of them (repeatable).
    #[arg(long = "plugins", env = "WEFT_PLUGINS", value_delimiter = ',')]
    pub plugins: Vec<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
    /// Print the run (with steps) as JSON at the end instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a connector project (Rust, Python or JavaScript) that builds
    /// and passes its own scenario test at once.
    New {
        /// Connector name (lower-case letters, digits and `-`).
        name: String,
        /// Parent directory (default: the current one).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The language of the project.
        #[arg(long, value_enum, default_value_t = Lang::Rust)]
        lang: Lang,
    },
    /// Build the connector in DIR to a component: Rust (`Cargo.toml`) with
    /// cargo, Python (`pyproject.toml`) with `python3 -m weft_sdk build`,
    /// JavaScript (`package.json`) with the `@weft/sdk` build script.
    Build {
        /// The connector's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Build the connector, then run the scenario files `DIR/tests/*.json`
    /// against it in the sandbox (scripted HTTP, credentials, state).
    Test {
        /// The connector's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Test this component instead of building DIR.
        #[arg(long, value_name = "PATH.wasm")]
        file: Option<PathBuf>,
    },
    /// Print a component's self-description, imports and capabilities.
    Inspect {
        /// The component (.wasm).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run one action in the sandbox and print its output and resource use.
    Invoke(InvokeArgs),
    /// Make a publisher signing key (ed25519): the key file, mode 0600, and
    /// the command that registers its public half.
    Keygen {
        /// The publisher it signs for (default: $USER).
        #[arg(long)]
        publisher: Option<String>,
        /// The key file (default: ~/.config/weft/keys/PUBLISHER.key); never overwritten.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Publish a connector to a registry: checked locally, uploaded by
    /// digest, signed, then checked by the server.
    Publish(PublishArgs),
}

/// The language of a connector project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// A Rust crate (`Cargo.toml`), with the `weft-sdk` crate.
    Rust,
    /// A Python project (`pyproject.toml`), with the `weft-sdk` package and componentize-py.
    Python,
    /// A JavaScript project (`package.json`), with `@weft/sdk` and componentize-js.
    Js,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The component (.wasm).
    #[arg(required_unless_present = "build")]
    pub file: Option<PathBuf>,
    /// Build the connector project in the current directory first (as `weft plugin build`;
    /// Rust, Python or JavaScript).
    #[arg(long, conflicts_with = "file")]
    pub build: bool,
    #[command(flatten)]
    pub options: crate::client::PublishOptions,
}

#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The component (.wasm).
    pub file: PathBuf,
    /// The action to run.
    #[arg(long)]
    pub action: String,
    /// Input, as JSON.
    #[arg(long, default_value = "{}")]
    pub input: String,
    /// Config, as JSON.
    #[arg(long, default_value = "{}")]
    pub config: String,
    /// Grant an outbound host pattern (repeatable): `api.example.com`, `*.example.com`, `host:port`, `*`.
    #[arg(long = "allow-host", value_name = "PATTERN")]
    pub allow_hosts: Vec<String>,
    /// Bind a credential (repeatable): `SLOT=SECRET`, `SLOT=env:VAR` or `SLOT=file:PATH`,
    /// optionally followed by `@host,host` (default: the granted hosts the slot allows).
    /// Injected as `Authorization: Bearer`.
    #[arg(long = "credential", value_name = "SLOT=SECRET[@HOSTS]")]
    pub credentials: Vec<String>,
    /// Wall-clock limit, e.g. `500ms`, `5s`, `1m`.
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Memory limit, e.g. `64MiB`, `1GiB`, `10000000`.
    #[arg(long, default_value = "64MiB")]
    pub memory: String,
    /// Allow loopback and private addresses (for local stand-in servers).
    #[arg(long)]
    pub allow_private: bool,
    /// Resolve NAME to IP without DNS (repeatable): `api.example.com=127.0.0.1`.
    #[arg(long = "resolve", value_name = "NAME=IP")]
    pub resolve: Vec<String>,
    /// Print one JSON document (result or error, usage, logs) instead of text.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    /// Every subcommand's arguments are consistent (clap checks names,
    /// groups and conflicts only when a subcommand is parsed otherwise).
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
