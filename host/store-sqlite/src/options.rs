//! [`Options`]: where the database is and how many connections read it.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How to open the database. Every field has a default:
///
/// ```
/// let o: weft_store_sqlite::Options = serde_json::from_str(r#"{ "path": "/data/weft.db" }"#).unwrap();
/// assert_eq!(o.readers, 4);
/// assert_eq!(o.busy_timeout_ms, 5_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// The database file; created (not its directory) when missing. Beside it
    /// live `-wal` and `-shm` files: back up the three together, or use
    /// `VACUUM INTO`.
    pub path: PathBuf,
    /// Read connections, besides the one writer (at least 1).
    pub readers: u32,
    /// How long a statement waits for a lock held by another process, in
    /// milliseconds.
    pub busy_timeout_ms: u64,
}

impl Options {
    /// The defaults, with the database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            path: PathBuf::from("weft.db"),
            readers: 4,
            busy_timeout_ms: 5_000,
        }
    }
}
