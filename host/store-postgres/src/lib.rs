//! The PostgreSQL adapter of the store port ([`weft_store::Store`]): the
//! distributed mode's source of truth, shared by every `weft api` and
//! `weft worker` process.
//!
//! ```no_run
//! use std::sync::Arc;
//! use weft_store::Store;
//! use weft_store_postgres::{Options, Postgres};
//!
//! # async fn demo() -> weft_store::Result<()> {
//! let pg = Postgres::connect(&Options::new("postgres://weft:secret@db:5432/weft")).await?;
//! pg.migrate().await?; // `weft migrate`; the other processes only connect
//! let store: Arc<dyn Store> = Arc::new(pg);
//! store.ping().await?;
//! # Ok(()) }
//! ```
//!
//! # How it is set up
//!
//! - **A pool** of `max_connections` connections (sqlx); a call takes one for
//!   one statement or one transaction. When the database is down, calls fail
//!   with [`Error::Unavailable`](weft_store::Error::Unavailable) after the
//!   acquire timeout and the pool reconnects by itself when it is back: the
//!   worker treats that like any store failure (the delivery is retried).
//! - **One transaction per [`Commit`]**, at READ COMMITTED: the conditional
//!   `UPDATE runs ... WHERE seq = $expected` takes the run's row lock, so of
//!   two commits racing on a run exactly one matches; the other finds 0 rows
//!   and rolls back with `Stale`. Steps and attempts are upserts by primary
//!   key, so writing the same result twice is idempotent.
//! - **The outbox** is claimed with `FOR UPDATE SKIP LOCKED`: two relays never
//!   take the same entry while its claim is live. Deleting published entries
//!   does not wait for the WAL flush (a lost delete only republishes).
//! - **The run feed** ([`weft_store::Store::run_feed`]): `LISTEN
//!   weft_run_answered` on one connection of its own per feed; triggers on
//!   `runs` send `NOTIFY` in the transaction that sets a run's response or
//!   ends it.
//! - **Schema**: `migrations/postgres/*.sql`, embedded in the binary and
//!   applied by [`Postgres::migrate`] under an advisory lock (two `weft
//!   migrate` at once are serialised), recorded with a checksum in
//!   `_weft_migrations`; an edited or unknown migration is refused.
//! - JSON values are stored as TEXT written by `serde_json` (numbers round-trip
//!   exactly); keys compare bytewise (`COLLATE "C"`).
//! - **TLS** is on when the URL says `sslmode=verify-full` (or `verify-ca`),
//!   or when a file of [`Options::tls`] is set and the URL names no
//!   `sslmode`; `require`/`prefer`/`allow` are refused because they do not
//!   verify the server (see `tls.rs`).

mod blobs;
mod commit;
mod deliveries;
mod feed;
mod migrate;
mod notifications;
mod oauth;
mod operators;
mod people;
mod polling;
mod queue_trigger;
mod reads;
mod registry;
mod registry_installs;
mod registry_search;
mod registry_uploads;
mod row;
mod store;
mod tls;
mod usage;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;
use weft_store::{Error, Result};

/// How to reach the database. Plain data with defaults; it is the
/// `[database]` section of the binary's configuration file, as it is (where a
/// `url` that is not `postgres://` selects the SQLite adapter instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// `postgres://user:password@host:port/database` (no default).
    pub url: String,
    /// Pool size, per process.
    pub max_connections: u32,
    /// Use this schema (`search_path`) instead of the user's default, e.g. to
    /// keep several deployments (or test runs) in one database.
    pub schema: Option<String>,
    /// How long a call waits for a connection before it is `Unavailable`
    /// (key `acquire_timeout_ms`).
    #[serde(with = "weft_types::millis", rename = "acquire_timeout_ms")]
    pub acquire_timeout: Duration,
    /// `[database.tls]`: the CA file and client certificate for TLS (turned
    /// on by the URL's `sslmode=verify-full`).
    pub tls: weft_tls::Files,
}

impl Options {
    /// Defaults for `url`: 16 connections, 5 s acquire timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 16,
            schema: None,
            acquire_timeout: Duration::from_secs(5),
            tls: weft_tls::Files::default(),
        }
    }
}

/// The PostgreSQL store.
#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
    /// How the pool connects: the run feed opens its own connection with it.
    connect: PgConnectOptions,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").finish_non_exhaustive()
    }
}

impl Postgres {
    /// Opens a pool (lazily: the first connection is made now, to report a
    /// wrong URL or password at start). Does not migrate.
    ///
    /// # Errors
    /// `Unavailable` when the URL does not parse, the TLS options cannot be
    /// used (the message names the option and the file), the server's
    /// certificate does not verify, or the server refuses.
    pub async fn connect(options: &Options) -> Result<Self> {
        let connect = PgConnectOptions::from_str(&options.url)
            .map_err(|e| Error::Unavailable(format!("database URL: {e}")))?;
        let mut connect = tls::apply(connect, &options.url, &options.tls)?;
        if let Some(schema) = &options.schema {
            connect = connect.options([("search_path", schema.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect.clone())
            .await
            .map_err(|e| tls::connect_error(e, &options.tls))?;
        Ok(Self { pool, connect })
    }

    /// Applies the migrations not yet applied; returns their names.
    ///
    /// # Errors
    /// `Unavailable`, or an applied migration that changed or is unknown.
    pub async fn migrate(&self) -> Result<Vec<String>> {
        migrate::run(&self.pool).await
    }

    /// The pool (tests, operators' tools).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
