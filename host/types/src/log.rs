//! A step's log: the records a plugin wrote during an attempt (the
//! `weft:plugin/log` import and its stdout/stderr), as the sandbox collected
//! them (bounded, secrets scrubbed) and as the journal keeps them.
//!
//! The journal bounds them once more, per step: each attempt keeps at most
//! [`ATTEMPT_LOG_BYTES`], and only the first [`LOGGED_ATTEMPTS`] attempts of a
//! step keep records (later ones keep only the marker), so one step's log never
//! exceeds [`STEP_LOG_BYTES`] however often it is retried. A record counts its
//! message, its fields and [`RECORD_OVERHEAD`] bytes, so a flood of empty
//! records is bounded too. Whatever is dropped is said by a marker record at
//! the end, from [`Source::Host`] ([`LogRecord::is_marker`]).
//!
//! ```
//! use weft_types::log::{self, Level, LogRecord, Source};
//! let spam = vec![LogRecord::new(Level::Info, "x".repeat(1000)); 100];
//! let kept = log::bound(spam, 1);
//! assert!(kept.len() < 100);
//! assert!(kept.last().unwrap().is_marker());
//! assert!(log::bound(vec![LogRecord::new(Level::Info, "hi")], 1)[0].message == "hi");
//! ```

use serde::{Deserialize, Serialize};

/// Bytes of log one attempt keeps in the journal.
pub const ATTEMPT_LOG_BYTES: usize = 32 * 1024;
/// How many attempts of a step keep log records; later attempts keep only a marker.
pub const LOGGED_ATTEMPTS: u32 = 8;
/// The most log bytes one step keeps across all its attempts (markers aside).
pub const STEP_LOG_BYTES: usize = ATTEMPT_LOG_BYTES * LOGGED_ATTEMPTS as usize;
/// What each record costs against the budget on top of its text.
pub const RECORD_OVERHEAD: usize = 16;

/// Severity of a log record.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Very detailed.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// The stable lower-case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Where a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The `weft:plugin/log` import.
    Log,
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr (panic messages land here).
    Stderr,
    /// The host: the truncation marker.
    Host,
}

/// One log record of a step attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LogRecord {
    /// Severity.
    pub level: Level,
    /// Origin.
    pub source: Source,
    /// The text, with granted secrets scrubbed.
    pub message: String,
    /// Key/value fields, in the order the plugin gave them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

impl LogRecord {
    /// A record from the `log` import, without fields.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Self {
            level,
            source: Source::Log,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The marker that ends a log from which `records` records (`bytes` bytes)
    /// over a `budget`-byte budget were dropped.
    pub fn truncated(records: u64, bytes: u64, budget: usize) -> Self {
        Self {
            level: Level::Warn,
            source: Source::Host,
            message: format!(
                "[log truncated: {records} records ({bytes} bytes) over the {budget}-byte budget were dropped]"
            ),
            fields: Vec::new(),
        }
    }

    /// Whether this is the host's truncation marker.
    pub fn is_marker(&self) -> bool {
        self.source == Source::Host
    }

    /// What the record costs against a budget.
    pub fn size(&self) -> usize {
        RECORD_OVERHEAD
            + self.message.len()
            + self
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// The records attempt `attempt` (from 1) of a step keeps: those that fit in
/// [`ATTEMPT_LOG_BYTES`] (none past attempt [`LOGGED_ATTEMPTS`]), in order,
/// then a marker if any were dropped. Markers already in `records` (the
/// sandbox's own) are kept as they are small and say what it dropped.
pub fn bound(records: Vec<LogRecord>, attempt: u32) -> Vec<LogRecord> {
    let budget = if attempt <= LOGGED_ATTEMPTS {
        ATTEMPT_LOG_BYTES
    } else {
        0
    };
    let mut kept = Vec::new();
    let mut used = 0usize;
    let (mut dropped, mut dropped_bytes) = (0u64, 0u64);
    for r in records {
        let size = r.size();
        if r.is_marker() || (dropped == 0 && used + size <= budget) {
            if !r.is_marker() {
                used += size;
            }
            kept.push(r);
        } else {
            dropped += 1;
            dropped_bytes += size as u64;
        }
    }
    if dropped > 0 {
        let mut marker = LogRecord::truncated(dropped, dropped_bytes, budget);
        if budget == 0 {
            marker.message = format!(
                "[log truncated: {dropped} records ({dropped_bytes} bytes) dropped; only the \
                 first {LOGGED_ATTEMPTS} attempts of a step keep their log]"
            );
        }
        kept.push(marker);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_small_log_is_kept_whole() {
        let records = vec![
            LogRecord::new(Level::Info, "one"),
            LogRecord {
                fields: vec![("b".into(), "2".into()), ("a".into(), "1".into())],
                ..LogRecord::new(Level::Error, "two")
            },
        ];
        assert_eq!(bound(records.clone(), 1), records);
    }

    #[test]
    fn past_the_budget_records_are_dropped_and_marked() {
        let records = vec![LogRecord::new(Level::Info, "y".repeat(1000)); 100];
        let kept = bound(records, 3);
        let marker = kept.last().unwrap();
        assert!(marker.is_marker());
        assert_eq!(kept.len() - 1, ATTEMPT_LOG_BYTES / 1016);
        let n = 100 - (kept.len() - 1);
        assert!(
            marker
                .message
                .starts_with(&format!("[log truncated: {n} records ({} bytes)", n * 1016)),
            "{}",
            marker.message
        );
        let total: usize = kept
            .iter()
            .filter(|r| !r.is_marker())
            .map(LogRecord::size)
            .sum();
        assert!(total <= ATTEMPT_LOG_BYTES);
    }

    #[test]
    fn order_is_kept_after_the_first_drop() {
        // A small record after a big one that did not fit is dropped too:
        // the log keeps a prefix, never a log with holes.
        let records = vec![
            LogRecord::new(Level::Info, "a"),
            LogRecord::new(Level::Info, "b".repeat(ATTEMPT_LOG_BYTES)),
            LogRecord::new(Level::Info, "c"),
        ];
        let kept = bound(records, 1);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].message, "a");
        assert!(kept[1].is_marker());
    }

    #[test]
    fn late_attempts_keep_only_the_marker_and_the_sandbox_marker_stays() {
        let records = vec![
            LogRecord::new(Level::Info, "a"),
            LogRecord::truncated(5, 50, 64),
        ];
        let kept = bound(records.clone(), LOGGED_ATTEMPTS + 1);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0], records[1]);
        assert!(kept[1].message.contains("only the first 8 attempts"));
        assert_eq!(bound(records.clone(), LOGGED_ATTEMPTS), records);
    }

    #[test]
    fn empty_records_cost_their_overhead() {
        let kept = bound(vec![LogRecord::new(Level::Info, ""); 10_000], 1);
        assert_eq!(kept.len(), ATTEMPT_LOG_BYTES / RECORD_OVERHEAD + 1);
    }

    #[test]
    fn the_json_shape_is_stable() {
        let r = LogRecord {
            fields: vec![("k".into(), "v".into())],
            ..LogRecord::new(Level::Warn, "m")
        };
        let v = json!({"level": "warn", "source": "log", "message": "m", "fields": [["k", "v"]]});
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        assert_eq!(serde_json::from_value::<LogRecord>(v).unwrap(), r);
        let bare = json!({"level": "info", "source": "stdout", "message": "x"});
        assert_eq!(
            serde_json::to_value(serde_json::from_value::<LogRecord>(bare.clone()).unwrap())
                .unwrap(),
            bare
        );
    }
}
