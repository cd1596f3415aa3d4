//! rusqlite errors turned into the port's [`Error`]: they never leave this
//! crate. Also the write-transaction helper every multi-statement write uses.

use crate::{Error, Result};
use rusqlite::{Connection, Transaction, TransactionBehavior, ffi};

/// A write that lost to a unique value (a primary key or a unique index) is
/// `Duplicate`; anything else is `Unavailable` with SQLite's message (which
/// names tables and columns, never bound values).
pub(crate) fn db(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, message)
            if matches!(
                f.extended_code,
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            Error::Duplicate(message.clone().unwrap_or_else(|| f.to_string()))
        }
        _ => Error::Unavailable(e.to_string()),
    }
}

/// Like [`db`], with a missing parent row (a foreign key) read as `NotFound(what)`.
pub(crate) fn db_or_missing(what: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            Error::NotFound(what)
        }
        _ => db(e),
    }
}

/// Like [`db`], with a unique violation reported as `Duplicate(message())`:
/// a message a person can act on (`credential `x` exists`).
pub(crate) fn db_or_taken(
    message: impl FnOnce() -> String,
) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| match db(e) {
        Error::Duplicate(_) => Error::Duplicate(message()),
        other => other,
    }
}

/// A value that cannot be written (a JSON value that does not serialize).
pub(crate) fn encode(table: &str, column: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("cannot encode {table}.{column}: {e}"))
}

/// A stored value that does not read back: a corrupt row.
pub(crate) fn corrupt(table: &str, column: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("corrupt value in {table}.{column}: {e}"))
}

/// Runs `f` in a write transaction (`BEGIN IMMEDIATE`): committed when it
/// returns `Ok`, rolled back otherwise (and when committing fails).
pub(crate) fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    match f(&tx) {
        Ok(v) => {
            tx.commit().map_err(db)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback() {
                tracing::warn!(error = %rollback, "sqlite rollback failed");
            }
            Err(e)
        }
    }
}

/// `NotFound(what)` when the statement touched no row.
pub(crate) fn one(changed: usize, what: &'static str) -> Result<()> {
    if changed == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}
