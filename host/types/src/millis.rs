//! Serde for a [`Duration`](std::time::Duration) as integer milliseconds, the
//! unit of every duration in the configuration (`ack_timeout_ms = 900000`):
//! `#[serde(with = "weft_types::millis", rename = "..._ms")]`.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// Writes whole milliseconds (saturating).
///
/// # Errors
/// The serializer's.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Reads whole milliseconds.
///
/// # Errors
/// Not an unsigned integer.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_millis)
}
