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
//! - **Threads of its own.** Every connection is owned by one thread of the
//!   store; a call sends that thread a closure and awaits the answer, so it
//!   costs one hop there and back whatever it does (a whole commit runs in one
//!   closure) and no runtime thread ever blocks on SQLite. Statements are
//!   prepared once per connection and cached.
//! - **WAL journal, `synchronous = NORMAL`.** Readers never block the writer
//!   nor the other way round. A commit that returned survives the process
//!   crashing or being killed (`kill -9`); a power loss or an OS crash may lose
//!   the last commits before the WAL was checkpointed, never corrupt the file.
//! - **One writer thread** runs every write and every transaction, one at a
//!   time, so the store's own writers queue instead of failing with
//!   `SQLITE_BUSY`. Transactions start with `BEGIN IMMEDIATE`. `busy_timeout`
//!   covers other processes on the same file (the CLI).
//! - **Group commit.** Run commits ([`weft_store::Store::commit`]) queued
//!   behind each other on the writer share one transaction, each in a
//!   savepoint of its own (all-or-nothing, a failure rolls back only its
//!   own writes); every one is answered after the shared `COMMIT`, so an
//!   answer means what it meant before. A commit is never held back to wait
//!   for others.
//! - **A few reader threads** ([`Options::readers`], `query_only`) take reads
//!   from one shared queue; a run and its steps are read in one transaction,
//!   from one snapshot.
//! - **Foreign keys on**: steps belong to a run, attempts to a step, a schedule
//!   to a workflow (deleted with it).
//!
//! The threads stop when the store is dropped or [`Sqlite::close`]d, after the
//! calls already queued.
//!
//! # Storage
//!
//! Every table carries its tenant; primary keys are the port's. JSON values are
//! TEXT written by `serde_json` (a row that does not parse back is reported as
//! [`Error::Unavailable`](weft_store::Error::Unavailable) naming its table and
//! column, never a panic); statuses, triggers and roles are stored by name;
//! times are Unix milliseconds. SQLite errors never leave this crate: a unique
//! violation is `Duplicate`, a missing parent row `NotFound`, anything else
//! `Unavailable`. Applied migrations are recorded in `_weft_migrations`.

mod actor;
mod connect;
mod credentials;
mod deliveries;
mod error;
mod group;
mod migrate;
mod notifications;
mod oauth;
mod operators;
mod options;
mod outbox;
mod people;
mod polling;
mod queue_trigger;
mod registry;
mod registry_installs;
mod registry_search;
mod registry_uploads;
mod row;
mod runs;
mod runs_read;
mod state;
mod stats;
mod store;
mod tenants;
mod usage;
mod workflows;

pub use options::Options;
pub use weft_store::{Error, Result};

use actor::{Queues, Worker};
use std::sync::{Mutex, PoisonError, RwLock};
use tempfile::TempDir;

/// The SQLite store. Cheap to share behind an `Arc<dyn Store>`; see the crate
/// documentation for how it is set up.
pub struct Sqlite {
    /// The job queues; `None` once closed.
    queues: RwLock<Option<Queues>>,
    /// The writer and reader threads, until [`Sqlite::close`] joins them.
    workers: Mutex<Vec<Worker>>,
    /// The directory of [`Sqlite::temporary`], removed once the threads stopped.
    dir: Option<TempDir>,
    /// Set while the operator's sweeper lock is taken (one process per file).
    sweeper: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Sqlite {
    /// Opens (creating if needed) the database at `options.path` and applies
    /// pending migrations.
    ///
    /// # Errors
    /// `Unavailable` when the file cannot be opened or created, is not a
    /// database, or a migration fails (or the file was migrated by a newer Weft).
    pub async fn open(options: &Options) -> Result<Self> {
        // The writer first (it creates and migrates the file), then the
        // readers; each thread opens its own connection.
        let (writer, writer_jobs) = flume::unbounded();
        let (readers, reader_jobs) = flume::unbounded();
        let store = Self {
            queues: RwLock::new(Some(Queues { writer, readers })),
            workers: Mutex::new(Vec::new()),
            dir: None,
            sweeper: std::sync::Arc::default(),
        };
        // On an error below, dropping `store` closes the queues: started threads stop.
        let o = options.clone();
        let (worker, ready) = Worker::spawn(
            "weft-sqlite-writer".into(),
            move || connect::writer(&o),
            writer_jobs,
        )?;
        store.adopt(worker);
        wait(ready).await?;
        let mut pending = Vec::new();
        for n in 0..options.readers.max(1) {
            let o = options.clone();
            let (worker, ready) = Worker::spawn(
                format!("weft-sqlite-reader-{n}"),
                move || connect::reader(&o),
                reader_jobs.clone(),
            )?;
            store.adopt(worker);
            pending.push(ready);
        }
        drop(reader_jobs);
        for ready in pending {
            wait(ready).await?;
        }
        let path = options.path.display();
        tracing::debug!(path = %path, readers = options.readers, "sqlite store open");
        Ok(store)
    }

    /// A fresh, empty database in a new temporary directory, removed when the
    /// store is dropped (once its threads have closed their connections). For
    /// tests.
    ///
    /// # Errors
    /// `Unavailable` when the directory cannot be created.
    pub async fn temporary() -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("weft-store-")
            .tempdir()
            .map_err(|e| Error::Unavailable(format!("creating a temporary directory: {e}")))?;
        let mut store = Self::open(&Options::new(dir.path().join("weft.db"))).await?;
        store.dir = Some(dir);
        Ok(store)
    }

    fn adopt(&self, worker: Worker) {
        self.workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(worker);
    }

    /// Stops the threads after the calls already queued, waiting for them to
    /// close their connections: the WAL is checkpointed into the database
    /// file. Calls after this fail with `Unavailable`.
    pub async fn close(&self) {
        drop(
            self.queues
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for worker in workers {
            worker.stop().await;
        }
    }
}

impl Drop for Sqlite {
    /// Closes the queues: the threads stop by themselves once the calls already
    /// queued have run. A temporary store (tests) waits for them, so that its
    /// directory goes after its connections.
    fn drop(&mut self) {
        drop(
            self.queues
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if self.dir.is_some() {
            let workers = self
                .workers
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            for worker in workers.drain(..) {
                worker.join();
            }
        }
    }
}

/// A thread's report that its connection is open.
async fn wait(ready: actor::Ready) -> Result<()> {
    match ready.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::Unavailable(e)),
        Err(_) => Err(Error::Unavailable(
            "a sqlite store thread stopped while opening".into(),
        )),
    }
}
