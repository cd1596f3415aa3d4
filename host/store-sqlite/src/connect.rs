//! Opening a connection and setting it up: run on the thread that will own it.

use crate::{Options, migrate};
use rusqlite::{Connection, OpenFlags};
use std::time::Duration;

/// Enough for every statement a connection runs (about 60 distinct ones,
/// the registry's included).
const STATEMENT_CACHE: usize = 128;

/// The writer: creates the file if needed, switches it to WAL and applies
/// pending migrations.
pub(crate) fn writer(options: &Options) -> Result<Connection, String> {
    let path = options.path.display();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(&options.path, flags)
        .map_err(|e| format!("opening {path}: {e}"))?;
    configure(&conn, options).map_err(|e| format!("opening {path}: {e}"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| format!("opening {path}: {e}"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path, mode, "sqlite cannot use WAL here");
    }
    migrate::run(&mut conn).map_err(|e| format!("migrating {path}: {e}"))?;
    Ok(conn)
}

/// A reader: the file must exist (the writer opened it first); `query_only`.
pub(crate) fn reader(options: &Options) -> Result<Connection, String> {
    let path = options.path.display();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&options.path, flags)
        .map_err(|e| format!("opening {path} to read: {e}"))?;
    configure(&conn, options)
        .and_then(|()| conn.execute_batch("PRAGMA query_only = ON"))
        .map_err(|e| format!("opening {path} to read: {e}"))?;
    Ok(conn)
}

/// What every connection sets: `busy_timeout` first, so that the rest waits
/// for a lock another process holds.
fn configure(conn: &Connection, options: &Options) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_millis(options.busy_timeout_ms))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;",
    )
}
