//! Reading columns and writing values: the only place row types meet domain
//! types. Every decoding failure names its table and column.

use crate::Result;
use crate::error::{corrupt, db, encode};
use rusqlite::types::{FromSql, Value};
use rusqlite::{Connection, Params, Row};
use std::fmt::Display;
use std::str::FromStr;

/// The statuses a step or run never leaves, as the partial indexes name them
/// (`status NOT IN terminal!()`).
macro_rules! terminal {
    () => {
        "('completed', 'failed', 'cancelled', 'skipped')"
    };
}
pub(crate) use terminal;

#[cfg(test)]
pub(crate) const TERMINAL: &str = terminal!();

/// The statuses of a run not yet finished: the complement of
/// [`terminal!`], for queries that an index on `status` serves
/// (`status IN unfinished!()`).
macro_rules! unfinished {
    () => {
        "('pending', 'running', 'waiting')"
    };
}
pub(crate) use unfinished;

/// One row of one table, its columns read by name.
pub(crate) struct Cols<'a, 'stmt> {
    row: &'a Row<'stmt>,
    table: &'static str,
}

impl<'a, 'stmt> Cols<'a, 'stmt> {
    pub(crate) fn new(row: &'a Row<'stmt>, table: &'static str) -> Self {
        Self { row, table }
    }

    /// A column as its SQLite type.
    pub(crate) fn get<T: FromSql>(&self, column: &'static str) -> Result<T> {
        self.row
            .get(column)
            .map_err(|e| corrupt(self.table, column, e))
    }

    /// A nullable TEXT column, borrowed from the row.
    fn opt_text(&self, column: &'static str) -> Result<Option<&'a str>> {
        let v = self
            .row
            .get_ref(column)
            .map_err(|e| corrupt(self.table, column, e))?;
        v.as_str_or_null()
            .map_err(|e| corrupt(self.table, column, e))
    }

    /// A TEXT column, borrowed from the row.
    pub(crate) fn text(&self, column: &'static str) -> Result<&'a str> {
        self.opt_text(column)?
            .ok_or_else(|| corrupt(self.table, column, "NULL where text is required"))
    }

    /// An INTEGER column holding a `u32`.
    pub(crate) fn u32(&self, column: &'static str) -> Result<u32> {
        let v: i64 = self.get(column)?;
        u32::try_from(v).map_err(|e| corrupt(self.table, column, e))
    }

    /// A TEXT column holding a name (`Status`, `Trigger`, `Role`, ...).
    pub(crate) fn parse<T>(&self, column: &'static str) -> Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.text(column)?
            .parse()
            .map_err(|e| corrupt(self.table, column, e))
    }

    /// A TEXT column holding JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, column: &'static str) -> Result<T> {
        serde_json::from_str(self.text(column)?).map_err(|e| corrupt(self.table, column, e))
    }

    /// A nullable TEXT column holding JSON: SQL NULL is `None`, `null` is `Some(Null)`.
    pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> Result<Option<T>> {
        self.opt_text(column)?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt(self.table, column, e))
    }
}

/// Every row of `sql` (a cached statement), each read by `map`.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let mut rows = stmt.query(params).map_err(db)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db)? {
        out.push(map(row)?);
    }
    Ok(out)
}

/// The first row of `sql` (a cached statement), if any, read by `map`.
pub(crate) fn optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn.prepare_cached(sql).map_err(db)?;
    let mut rows = stmt.query(params).map_err(db)?;
    rows.next().map_err(db)?.map(map).transpose()
}

/// Runs a cached statement; how many rows it changed.
pub(crate) fn execute(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// JSON text for a column.
pub(crate) fn json(table: &str, column: &str, v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| encode(table, column, e))
}

/// JSON text for a nullable column.
pub(crate) fn opt_json<T: serde::Serialize>(
    table: &str,
    column: &str,
    v: Option<&T>,
) -> Result<Option<String>> {
    v.map(|v| json(table, column, v)).transpose()
}

/// A bound value of a nullable text column.
pub(crate) fn opt_text(v: Option<&str>) -> Value {
    v.map(str::to_owned).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_types::Status;

    #[test]
    fn terminal_names_every_terminal_status() {
        let names: Vec<String> = Status::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(TERMINAL, format!("({})", names.join(", ")));
        let migration = include_str!("../../../migrations/sqlite/0001_init.sql");
        assert_eq!(
            migration
                .matches(&format!("status NOT IN {TERMINAL}"))
                .count(),
            2
        );
    }

    #[test]
    fn unfinished_names_every_other_status() {
        let names: Vec<String> = Status::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(unfinished!(), format!("({})", names.join(", ")));
    }
}
