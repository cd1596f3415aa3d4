//! The server's configuration: a TOML file (`--config PATH` or `WEFT_CONFIG`),
//! then `WEFT_*` environment variables, then command-line flags, each layer
//! winning over the one before. Every key is optional; an unknown key in the
//! file or an unknown `WEFT_*` variable is an error that names it.
//!
//! ```
//! use weft_cli::config::Settings;
//!
//! let file = "concurrency = 8\n[queue]\nurl = \"amqp://127.0.0.1:5672/%2f\"\n";
//! let env = [("WEFT_DATABASE_URL".to_owned(), "postgres://weft@127.0.0.1/weft".to_owned())];
//! let s = Settings::from_parts(Some(("weft.toml", file)), env).unwrap();
//! assert_eq!(s.concurrency, 8);
//! assert!(s.database.is_postgres());
//!
//! let err = Settings::from_parts(Some(("weft.toml", "concurency = 8")), []).unwrap_err();
//! assert!(err.to_string().contains("concurency"));
//! ```
//!
//! The keys and their defaults are in `docs/DISTRIBUTED.md` ("Configuration")
//! and `deploy/README.md`.

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
    /// Step attempts a process runs at once (also the queue prefetch).
    pub concurrency: u16,
    /// The database.
    pub database: Database,
    /// The task queue.
    pub queue: QueueSettings,
    /// Redis (rate limits, concurrency slots).
    pub redis: Redis,
    /// Per-tenant limits.
    pub limits: LimitSettings,
    /// Graceful shutdown.
    pub shutdown: Shutdown,
    /// Step leases and the sweeper.
    pub worker: WorkerSettings,
    /// The sandbox's outbound network policy.
    pub sandbox: SandboxSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: None,
            data_dir: PathBuf::from("weft-data"),
            plugins: Vec::new(),
            concurrency: 64,
            database: Database::default(),
            queue: QueueSettings::default(),
            redis: Redis::default(),
            limits: LimitSettings::default(),
            shutdown: Shutdown::default(),
            worker: WorkerSettings::default(),
            sandbox: SandboxSettings::default(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// `postgres://user:pass@host:5432/db`, or `sqlite://PATH`; empty: SQLite
    /// in `data_dir`.
    pub url: String,
    /// Pool size (PostgreSQL).
    pub max_connections: u32,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 16,
        }
    }
}

impl Database {
    /// Whether the URL names PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// The SQLite file: the URL's path, or `weft.db` in `data_dir`.
    pub fn sqlite_path(&self, data_dir: &Path) -> Option<PathBuf> {
        if self.is_postgres() {
            return None;
        }
        match self.url.strip_prefix("sqlite://") {
            Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
            _ => Some(data_dir.join("weft.db")),
        }
    }
}

/// `[queue]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// `amqp://user:pass@host:5672/vhost`; empty: the in-process queue.
    pub url: String,
    /// `quorum` (default) or `classic`.
    pub queue_type: QueueType,
    /// Prefix of every queue name.
    pub prefix: String,
    /// Deliveries of one message before it is dead-lettered.
    pub max_deliveries: u32,
    /// A delivery not settled within this long is handed back by the adapter
    /// (keep it below the broker's `consumer_timeout`).
    pub ack_timeout_ms: u64,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            queue_type: QueueType::Quorum,
            prefix: "weft".into(),
            max_deliveries: 5,
            ack_timeout_ms: 15 * 60 * 1000,
        }
    }
}

/// RabbitMQ queue type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueType {
    /// Replicated, with a delivery limit (default).
    Quorum,
    /// Classic durable queues.
    Classic,
}

/// `[redis]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Redis {
    /// `redis://host:6379`; empty: no Redis, rate and concurrency limits off.
    pub url: String,
}

/// `[limits]`, per tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// API calls per second.
    pub api_rate: f64,
    /// API burst.
    pub api_burst: u32,
    /// Webhook deliveries per second.
    pub webhook_rate: f64,
    /// Webhook burst.
    pub webhook_burst: u32,
    /// Steps running at once (0: unlimited).
    pub max_running_steps: u32,
    /// Runs not yet finished (a hard quota counted in the database; 0: unlimited).
    pub max_active_runs: u64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            api_rate: 100.0,
            api_burst: 200,
            webhook_rate: 50.0,
            webhook_burst: 100,
            max_running_steps: 64,
            max_active_runs: 100_000,
        }
    }
}

/// `[shutdown]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shutdown {
    /// On SIGTERM, steps in flight get this long to finish before they are handed back.
    pub grace_ms: u64,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self { grace_ms: 30_000 }
    }
}

/// `[worker]`: step leases and the sweeper (see docs/ENGINE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// A step's attempt timeout when it sets none.
    pub default_step_timeout_ms: u64,
    /// Added to a step's timeout to form its lease: a worker lost for longer
    /// than timeout + grace has its step retried elsewhere.
    pub lease_grace_ms: u64,
    /// How often the sweeper runs.
    pub sweep_interval_ms: u64,
    /// A step due this long without progress is re-published.
    pub stale_after_ms: u64,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        let w = weft_worker::Options::default();
        Self {
            default_step_timeout_ms: w.default_step_timeout_ms,
            lease_grace_ms: w.lease_grace_ms,
            sweep_interval_ms: w.sweep_interval_ms,
            stale_after_ms: w.stale_after_ms,
        }
    }
}

/// `[sandbox]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSettings {
    /// Let plugins reach loopback, private and link-local addresses (cloud
    /// metadata addresses stay denied). Off by default; for on-premises
    /// services and tests.
    pub allow_private_network: bool,
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
        "unknown environment variable {0}; settings are {known} (see docs/DISTRIBUTED.md)",
        known = ENV_KEYS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
    )]
    UnknownEnv(String),
}

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    List,
}

/// `WEFT_*` variable, its key path, its type.
const ENV_KEYS: &[(&str, &[&str], Kind)] = &[
    ("WEFT_LISTEN", &["listen"], Kind::Str),
    ("WEFT_BASE_URL", &["base_url"], Kind::Str),
    ("WEFT_DATA_DIR", &["data_dir"], Kind::Str),
    ("WEFT_PLUGINS", &["plugins"], Kind::List),
    ("WEFT_CONCURRENCY", &["concurrency"], Kind::Int),
    ("WEFT_DATABASE_URL", &["database", "url"], Kind::Str),
    (
        "WEFT_DATABASE_MAX_CONNECTIONS",
        &["database", "max_connections"],
        Kind::Int,
    ),
    ("WEFT_QUEUE_URL", &["queue", "url"], Kind::Str),
    ("WEFT_QUEUE_QUEUE_TYPE", &["queue", "queue_type"], Kind::Str),
    ("WEFT_QUEUE_PREFIX", &["queue", "prefix"], Kind::Str),
    (
        "WEFT_QUEUE_MAX_DELIVERIES",
        &["queue", "max_deliveries"],
        Kind::Int,
    ),
    ("WEFT_REDIS_URL", &["redis", "url"], Kind::Str),
    ("WEFT_LIMITS_API_RATE", &["limits", "api_rate"], Kind::Float),
    ("WEFT_LIMITS_API_BURST", &["limits", "api_burst"], Kind::Int),
    (
        "WEFT_LIMITS_WEBHOOK_RATE",
        &["limits", "webhook_rate"],
        Kind::Float,
    ),
    (
        "WEFT_LIMITS_WEBHOOK_BURST",
        &["limits", "webhook_burst"],
        Kind::Int,
    ),
    (
        "WEFT_LIMITS_MAX_RUNNING_STEPS",
        &["limits", "max_running_steps"],
        Kind::Int,
    ),
    (
        "WEFT_LIMITS_MAX_ACTIVE_RUNS",
        &["limits", "max_active_runs"],
        Kind::Int,
    ),
    (
        "WEFT_SHUTDOWN_GRACE_MS",
        &["shutdown", "grace_ms"],
        Kind::Int,
    ),
    (
        "WEFT_QUEUE_ACK_TIMEOUT_MS",
        &["queue", "ack_timeout_ms"],
        Kind::Int,
    ),
    (
        "WEFT_WORKER_DEFAULT_STEP_TIMEOUT_MS",
        &["worker", "default_step_timeout_ms"],
        Kind::Int,
    ),
    (
        "WEFT_WORKER_LEASE_GRACE_MS",
        &["worker", "lease_grace_ms"],
        Kind::Int,
    ),
    (
        "WEFT_WORKER_SWEEP_INTERVAL_MS",
        &["worker", "sweep_interval_ms"],
        Kind::Int,
    ),
    (
        "WEFT_WORKER_STALE_AFTER_MS",
        &["worker", "stale_after_ms"],
        Kind::Int,
    ),
    (
        "WEFT_SANDBOX_ALLOW_PRIVATE_NETWORK",
        &["sandbox", "allow_private_network"],
        Kind::Bool,
    ),
];

/// `WEFT_*` variables that are not settings but are read by the client, the
/// logger, or the project's scripts and tests.
fn is_other_weft_var(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "WEFT_CONFIG",
        "WEFT_LOG",
        "WEFT_SERVER",
        "WEFT_API_KEY",
        "WEFT_SDK_PATH",
        "WEFT_CACHE_DIR",
        "WEFT_WASM_DIR",
        "WEFT_PG_PORT",
        "WEFT_AMQP_PORT",
        "WEFT_REDIS_PORT",
        "WEFT_SERVICES_STATE",
        "WEFT_AMQP_CONSUMER_TIMEOUT_MS",
    ];
    NAMES.contains(&name) || name.starts_with("WEFT_TEST_") || name.starts_with("WEFT_BENCH_")
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
        let mut table = match file {
            Some((name, text)) => {
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Invalid {
                        origin: name.to_owned(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let origin = file.map_or("configuration", |(n, _)| n).to_owned();
        // Check the file alone first, so an error names the file.
        Self::deserialize(toml::Value::Table(table.clone())).map_err(|e| ConfigError::Invalid {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        for (name, value) in env {
            if !name.starts_with("WEFT_") {
                continue;
            }
            let Some((_, path, kind)) = ENV_KEYS.iter().find(|k| k.0 == name) else {
                if is_other_weft_var(&name) {
                    continue;
                }
                return Err(ConfigError::UnknownEnv(name));
            };
            let v = env_value(&name, &value, *kind)?;
            set_path(&mut table, path, v);
        }
        Self::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Invalid {
            origin: "environment".into(),
            message: e.to_string(),
        })
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

fn env_value(name: &str, value: &str, kind: Kind) -> Result<toml::Value, ConfigError> {
    let bad = |what: &str| ConfigError::Invalid {
        origin: "environment".into(),
        message: format!("{name}={value:?} is not {what}"),
    };
    Ok(match kind {
        Kind::Str => toml::Value::String(value.to_owned()),
        Kind::Int => toml::Value::Integer(value.trim().parse().map_err(|_| bad("an integer"))?),
        Kind::Float => toml::Value::Float(value.trim().parse().map_err(|_| bad("a number"))?),
        Kind::Bool => toml::Value::Boolean(match value.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
    })
}

fn set_path(table: &mut toml::Table, path: &[&str], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry((*p).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        t = next;
    }
    t.insert((*last).to_owned(), value);
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let s = Settings::from_parts(None, []).unwrap();
        assert_eq!(s, Settings::default());
        assert!(!s.database.is_postgres());
        assert!(s.queue.url.is_empty());
        assert_eq!(
            s.database.sqlite_path(Path::new("/d")),
            Some(PathBuf::from("/d/weft.db"))
        );
    }

    #[test]
    fn environment_wins_over_the_file() {
        let file = "concurrency = 8\n[limits]\napi_rate = 5.0\n[queue]\nqueue_type = \"quorum\"\n";
        let s = Settings::from_parts(
            Some(("w.toml", file)),
            env(&[
                ("WEFT_CONCURRENCY", "4"),
                ("WEFT_QUEUE_QUEUE_TYPE", "classic"),
                ("WEFT_PLUGINS", "a.wasm, b"),
                ("WEFT_LIMITS_API_RATE", "2.5"),
                ("WEFT_SERVER", "http://ignored"),
                ("WEFT_TEST_DATABASE_URL", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.concurrency, 4);
        assert_eq!(s.queue.queue_type, QueueType::Classic);
        assert_eq!(s.plugins, vec![PathBuf::from("a.wasm"), PathBuf::from("b")]);
        assert!((s.limits.api_rate - 2.5).abs() < f64::EPSILON);
    }

    #[test]
    fn unknown_keys_are_errors_naming_them() {
        let e = Settings::from_parts(Some(("w.toml", "[database]\nurll = \"x\"\n")), [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("w.toml") && e.contains("urll"), "{e}");
        let e = Settings::from_parts(None, env(&[("WEFT_DATABSE_URL", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("WEFT_DATABSE_URL"), "{e}");
        let e = Settings::from_parts(None, env(&[("WEFT_CONCURRENCY", "many")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("WEFT_CONCURRENCY") && e.contains("integer"),
            "{e}"
        );
        let e = Settings::from_parts(None, env(&[("WEFT_QUEUE_QUEUE_TYPE", "fancy")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("fancy"), "{e}");
        let e = Settings::from_parts(Some(("w.toml", "listen = 3")), [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("w.toml") && e.contains("listen"), "{e}");
    }

    #[test]
    fn every_env_key_reaches_a_setting() {
        for (name, _, kind) in ENV_KEYS {
            let v = match kind {
                Kind::Int => "7",
                Kind::Float => "7.5",
                Kind::Bool => "true",
                Kind::List => "x",
                Kind::Str if *name == "WEFT_LISTEN" => "0.0.0.0:9",
                Kind::Str if *name == "WEFT_QUEUE_QUEUE_TYPE" => "classic",
                Kind::Str => "s",
            };
            let s = Settings::from_parts(None, env(&[(name, v)]));
            let s = s.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_ne!(s, Settings::default(), "{name} changed nothing");
        }
    }

    #[test]
    fn secrets_in_urls_are_masked() {
        assert_eq!(
            mask_url("postgres://weft:hunter2@db:5432/weft"),
            "postgres://weft:***@db:5432/weft"
        );
        assert_eq!(mask_url("redis://db:6379"), "redis://db:6379");
        let mut s = Settings::default();
        s.queue.url = "amqp://u:secret@mq/%2f".into();
        assert!(!s.to_toml_masked().contains("secret"));
    }
}
