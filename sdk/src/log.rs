//! Structured logs, written through the host (bounded per step; past the
//! budget records are dropped). Never log a secret.
//!
//! ```no_run
//! weft_sdk::log::info("fetched page");
//! weft_sdk::log::write(weft_sdk::log::Level::Debug, "fetched page", &[("page", "2"), ("items", "50")]);
//! ```

use crate::bindings::weft::plugin::log as wit;

/// Severity of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the connector handled.
    Warn,
    /// A failure.
    Error,
}

impl From<Level> for wit::Level {
    fn from(level: Level) -> Self {
        match level {
            Level::Trace => wit::Level::Trace,
            Level::Debug => wit::Level::Debug,
            Level::Info => wit::Level::Info,
            Level::Warn => wit::Level::Warn,
            Level::Error => wit::Level::Error,
        }
    }
}

/// Write one record with key/value fields.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    wit::write(level.into(), message, &fields);
}

/// Write a `trace` record.
pub fn trace(message: &str) {
    write(Level::Trace, message, &[]);
}

/// Write a `debug` record.
pub fn debug(message: &str) {
    write(Level::Debug, message, &[]);
}

/// Write an `info` record.
pub fn info(message: &str) {
    write(Level::Info, message, &[]);
}

/// Write a `warn` record.
pub fn warn(message: &str) {
    write(Level::Warn, message, &[]);
}

/// Write an `error` record.
pub fn error(message: &str) {
    write(Level::Error, message, &[]);
}
