//! Reading columns and writing values: the only place row types meet domain
//! types. Every decoding failure names its table and column.

use crate::Result;
use crate::error::{corrupt, encode};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite as Db, Type};
use std::fmt::Display;
use std::str::FromStr;

/// The statuses a step or run never leaves, as the partial indexes name them.
pub(crate) const TERMINAL: &str = "('completed', 'failed', 'cancelled', 'skipped')";

/// One row of one table.
pub(crate) struct Cols<'r> {
    row: &'r SqliteRow,
    table: &'static str,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(row: &'r SqliteRow, table: &'static str) -> Self {
        Self { row, table }
    }

    /// A column as its SQLite type.
    pub(crate) fn get<T>(&self, column: &'static str) -> Result<T>
    where
        T: Decode<'r, Db> + Type<Db>,
    {
        self.row
            .try_get(column)
            .map_err(|e| corrupt(self.table, column, e))
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
        let v: &str = self.get(column)?;
        v.parse().map_err(|e| corrupt(self.table, column, e))
    }

    /// A TEXT column holding JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, column: &'static str) -> Result<T> {
        let v: &str = self.get(column)?;
        serde_json::from_str(v).map_err(|e| corrupt(self.table, column, e))
    }

    /// A nullable TEXT column holding JSON: SQL NULL is `None`, `null` is `Some(Null)`.
    pub(crate) fn opt_json(&self, column: &'static str) -> Result<Option<Value>> {
        let v: Option<&str> = self.get(column)?;
        v.map(serde_json::from_str)
            .transpose()
            .map_err(|e| corrupt(self.table, column, e))
    }
}

/// JSON text for a column.
pub(crate) fn json(table: &str, column: &str, v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| encode(table, column, e))
}

/// JSON text for a nullable column.
pub(crate) fn opt_json(table: &str, column: &str, v: Option<&Value>) -> Result<Option<String>> {
    v.map(|v| json(table, column, v)).transpose()
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
}
