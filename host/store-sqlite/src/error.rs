//! sqlx errors turned into the port's [`Error`]: they never leave this crate.

use crate::{Error, Result};
use sqlx::error::ErrorKind;
use sqlx::sqlite::{SqlitePool, SqliteQueryResult};
use sqlx::{Sqlite as Db, Transaction};

/// A write that lost to a unique value is `Conflict`; anything else is
/// `Unavailable` with sqlx's message (which names tables and columns, never
/// bound values).
pub(crate) fn db(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.kind() == ErrorKind::UniqueViolation => {
            Error::Conflict(d.message().to_owned())
        }
        _ => Error::Unavailable(e.to_string()),
    }
}

/// Like [`db`], with a missing parent row (a foreign key) read as `NotFound(what)`.
pub(crate) fn db_or_missing(what: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(d) if d.kind() == ErrorKind::ForeignKeyViolation => {
            Error::NotFound(what)
        }
        _ => db(e),
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

/// Starts a write transaction on the writer connection.
pub(crate) async fn begin(writer: &SqlitePool) -> Result<Transaction<'static, Db>> {
    writer.begin_with("BEGIN IMMEDIATE").await.map_err(db)
}

/// Commits `tx` when `result` is `Ok`, rolls it back otherwise.
pub(crate) async fn finish<T>(tx: Transaction<'static, Db>, result: Result<T>) -> Result<T> {
    match result {
        Ok(v) => {
            tx.commit().await.map_err(db)?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "sqlite rollback failed");
            }
            Err(e)
        }
    }
}

/// `NotFound(what)` when the statement touched no row.
pub(crate) fn one(done: SqliteQueryResult, what: &'static str) -> Result<()> {
    if done.rows_affected() == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}
