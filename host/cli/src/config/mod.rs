//! The server's configuration: a TOML file (`--config PATH` or `WEFT_CONFIG`),
//! then `WEFT_*` environment variables, then command-line flags, each layer
//! winning over the one before. Every key is optional; an unknown key in the
//! file or an unknown `WEFT_*` variable is an error that names it.
//!
//! There is no copy layer: each section *is* the options struct of the crate
//! it configures (`[worker]` is [`weft_worker::Options`], `[sandbox]` is
//! [`weft_sandbox::Options`], ...), so a new knob is one field with a default
//! and a doc comment, in one place. Its variable is derived from its key path
//! ([`env`]): `worker.lease_grace_ms` is `WEFT_WORKER_LEASE_GRACE_MS`.
//!
//! ```
//! use weft_cli::config::Settings;
//!
//! let file = "[worker]\nconcurrency = 8\n[queue]\nurl = \"amqp://127.0.0.1:5672/%2f\"\n";
//! let env = [("WEFT_DATABASE_URL".to_owned(), "postgres://weft@127.0.0.1/weft".to_owned())];
//! let s = Settings::from_parts(Some(("weft.toml", file)), env).unwrap();
//! assert_eq!(s.worker.concurrency, 8);
//! assert!(weft_cli::config::is_postgres(&s.database.url));
//!
//! let err = Settings::from_parts(Some(("weft.toml", "[worker]\nconcurency = 8")), []).unwrap_err();
//! assert!(err.to_string().contains("concurency"));
//! ```
//!
//! The keys and their defaults are in `docs/DISTRIBUTED.md` ("Configuration")
//! and `deploy/README.md`; keys renamed since are still read ([`env::ALIASES`]).

pub mod env;

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything a `weft api|worker|serve|migrate` process is configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// HTTP address (the API; for a worker, health and metrics only).
    pub listen: SocketAddr,
    /// Public base URL for webhook and resume URLs (default `http://LISTEN`).
    pub base_url: Option<String>,
    /// The master key file, the compiled-component cache and the SQLite file.
    pub data_dir: PathBuf,
    /// Extra connector components: `.wasm` files or directories of them.
    pub plugins: Vec<PathBuf>,
    /// `[database]`: PostgreSQL when `url` is `postgres://...`, otherwise
    /// SQLite (`sqlite://PATH`, or `weft.db` in `data_dir` when empty).
    pub database: weft_store_postgres::Options,
    /// `[queue]`: RabbitMQ; an empty `url` runs the in-process queue.
    pub queue: weft_queue_amqp::Options,
    /// `[redis]`: rate limits and running-step slots; an empty `url`: none.
    pub redis: weft_limits::Options,
    /// `[limits]`: per-tenant API and webhook rates (with Redis).
    pub limits: weft_limits::Rates,
    /// `[worker]`: step execution, leases, the sweeper, per-tenant quotas.
    pub worker: weft_worker::Options,
    /// `[sandbox]`: per-step limits, engine limits, the egress policy.
    pub sandbox: weft_sandbox::Options,
    /// `[http]`: header-read and request timeouts and the connection cap of
    /// every HTTP listener.
    pub http: weft_api::Options,
    /// `[sessions]`: browser sessions' timeouts, one-time links' lifetimes,
    /// the login throttle (`docs/TENANCY.md`, section 3).
    pub sessions: weft_app::SessionOptions,
    /// `[mcp]`: the MCP server at `/mcp` (`docs/MCP.md`): on or off, how
    /// long a tool call waits for its run, the hosts and browser origins
    /// it answers.
    pub mcp: weft_mcp::Options,
    /// Serve the web console from this built folder instead of the one
    /// embedded in the binary (people working on `console/`).
    pub console_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            data_dir: PathBuf::from("weft-data"),
            plugins: Vec::new(),
            database: weft_store_postgres::Options::default(),
            queue: weft_queue_amqp::Options::default(),
            redis: weft_limits::Options::default(),
            limits: weft_limits::Rates::default(),
            worker: weft_worker::Options::default(),
            sandbox: weft_sandbox::Options::default(),
            http: weft_api::Options::default(),
            sessions: weft_app::SessionOptions::default(),
            mcp: weft_mcp::Options::default(),
            console_dir: None,
        }
    }
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite file of a database URL that is not PostgreSQL: the URL's path,
/// or `weft.db` in `data_dir`.
pub fn sqlite_path(url: &str, data_dir: &Path) -> Option<PathBuf> {
    if is_postgres(url) {
        return None;
    }
    match url.strip_prefix("sqlite://") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => Some(data_dir.join("weft.db")),
    }
}

/// A configuration that cannot be used, saying what and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file (or a value) does not parse, or names an unknown key.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file, or `environment`.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable that is not a setting.
    #[error(
        "unknown environment variable {name}{hint} (every key `a.b_c` is `WEFT_A_B_C`; see docs/DISTRIBUTED.md)",
        hint = match suggestion {
            Some(s) => format!("; did you mean {s}?"),
            None => String::new(),
        }
    )]
    UnknownEnv {
        /// The variable.
        name: String,
        /// The setting's variable closest to it, if one is close.
        suggestion: Option<String>,
    },
}

impl Settings {
    /// Reads the file named by `file` (if any) and the process environment.
    ///
    /// # Errors
    /// An unreadable file, a value that does not parse, an unknown key or
    /// `WEFT_*` variable.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let text = match file {
            Some(p) => Some((
                p.display().to_string(),
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?,
            )),
            None => None,
        };
        let env = std::env::vars().filter(|(k, _)| k.starts_with("WEFT_"));
        Self::from_parts(text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())), env)
    }

    /// Builds settings from a file's text (`(name, text)`) and `WEFT_*` variables.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn from_parts(
        file: Option<(&str, &str)>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let origin = file.map_or("configuration", |(n, _)| n).to_owned();
        let invalid = |origin: &str, message: String| ConfigError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let mut table = match file {
            Some((name, text)) => text
                .parse::<toml::Table>()
                .map_err(|e| invalid(name, e.to_string()))?,
            None => toml::Table::new(),
        };
        env::apply_aliases(&mut table).map_err(|m| invalid(&origin, m))?;
        // Check the file alone first, so an error names the file.
        Self::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| invalid(&origin, e.to_string()))?;
        env::apply(&mut table, env)?;
        let s = Self::deserialize(toml::Value::Table(table))
            .map_err(|e| invalid("environment", e.to_string()))?;
        // Checked once file and environment are merged: either may set either side.
        s.check().map_err(|m| invalid("configuration", m))?;
        Ok(s)
    }

    /// Settings that parse but contradict each other.
    fn check(&self) -> Result<(), String> {
        self.worker.check()
    }

    /// The settings as TOML (`weft config`), with secrets in URLs masked.
    pub fn to_toml_masked(&self) -> String {
        let mut s = self.clone();
        s.database.url = mask_url(&s.database.url);
        s.queue.url = mask_url(&s.queue.url);
        s.redis.url = mask_url(&s.redis.url);
        toml::to_string(&s).unwrap_or_default()
    }
}

/// `scheme://user:secret@host/...` → `scheme://user:***@host/...`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.split_once('@') {
        Some(x) => x,
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
