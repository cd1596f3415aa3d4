//! The SQLite adapter of the store port ([`weft_store::Store`]): Weft's embedded
//! default, one database file and nothing to run beside it.
//!
//! ```no_run
//! use std::sync::Arc;
//! use weft_store::Store;
//! use weft_store_sqlite::{Options, Sqlite};
//!
//! # async fn demo() -> weft_store::Result<()> {
//! let store = Sqlite::open(&Options::new("/var/lib/weft/weft.db")).await?;
//! let store: Arc<dyn Store> = Arc::new(store);
//! store.ping().await?;
//! # Ok(()) }
//! ```
//!
//! [`Sqlite::open`] creates the file if needed and applies the migrations in
//! `migrations/sqlite/` (embedded in the binary; applying them again is a
//! no-op). [`Sqlite::temporary`] opens a fresh database in a temporary
//! directory removed with the store, for tests.
//!
//! # How it is set up
//!
//! - **WAL journal, `synchronous = NORMAL`.** Readers never block the writer
//!   nor the other way round. A commit that returned survives the process
//!   crashing or being killed (`kill -9`); a power loss or an OS crash may lose
//!   the last commits before the WAL was checkpointed, never corrupt the file.
//! - **One writer connection** (its own pool of one) runs every write and every
//!   transaction, so the store's own writers queue in the pool instead of
//!   failing with `SQLITE_BUSY`. Transactions start with `BEGIN IMMEDIATE`.
//!   `busy_timeout` covers other processes on the same file (the CLI).
//! - **A small reader pool** (`query_only`) serves every read; a run and its
//!   steps are read in one transaction, from one snapshot.
//! - **Foreign keys on**: steps belong to a run, attempts to a step, a schedule
//!   to a workflow (deleted with it).
//!
//! # Storage
//!
//! Every table carries its tenant; primary keys are the port's. JSON values are
//! TEXT written by `serde_json` (a row that does not parse back is reported as
//! [`Error::Unavailable`](weft_store::Error::Unavailable) naming its table and
//! column, never a panic); statuses, triggers and roles are stored by name;
//! times are Unix milliseconds. sqlx errors never leave this crate: a unique
//! violation is `Conflict`, a missing parent row `NotFound`, anything else
//! `Unavailable`.

mod credentials;
mod error;
mod migrate;
mod options;
mod row;
mod runs;
mod runs_read;
mod state;
mod store;
mod tenants;
mod workflows;

pub use options::Options;
pub use weft_store::{Error, Result};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::time::Duration;

/// The SQLite store. Cheap to share behind an `Arc<dyn Store>`; see the crate
/// documentation for how it is set up.
pub struct Sqlite {
    /// One connection: every write, every transaction.
    writer: SqlitePool,
    /// `query_only` connections for reads.
    reader: SqlitePool,
    /// The temporary directory of [`Sqlite::temporary`]; dropped after the pools.
    _dir: Option<tempfile::TempDir>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `options.path` and applies
    /// pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened or created, is not a
    /// database, or a migration fails (or the file was migrated by a newer Weft).
    pub async fn open(options: &Options) -> Result<Self> {
        let path = options.path.display();
        let base = SqliteConnectOptions::new()
            .filename(&options.path)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_millis(options.busy_timeout_ms))
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await
            .map_err(|e| Error::Unavailable(format!("opening {path}: {e}")))?;
        migrate::run(&writer)
            .await
            .map_err(|e| Error::Unavailable(format!("migrating {path}: {e}")))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.readers.max(1))
            .idle_timeout(Duration::from_secs(600))
            .max_lifetime(None)
            .connect_with(base.pragma("query_only", "ON"))
            .await
            .map_err(|e| Error::Unavailable(format!("opening {path} to read: {e}")))?;
        tracing::debug!(path = %path, readers = options.readers, "sqlite store open");
        Ok(Self {
            writer,
            reader,
            _dir: None,
        })
    }

    /// A fresh, empty database in a new temporary directory, removed when the
    /// store is dropped. For tests.
    ///
    /// # Errors
    /// `Unavailable` when the directory cannot be created.
    pub async fn temporary() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("weft-store-")
            .tempdir()
            .map_err(|e| Error::Unavailable(format!("creating a temporary directory: {e}")))?;
        let mut store = Self::open(&Options::new(dir.path().join("weft.db"))).await?;
        store._dir = Some(dir);
        Ok(store)
    }

    /// Closes every connection, waiting for them: the WAL is checkpointed into
    /// the database file. Calls after this fail with `Unavailable`.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}
