//! Ids, tokens and clocks.

use rand::Rng;
use std::time::{SystemTime, UNIX_EPOCH};
use weft_engine::run::Ids;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new id: `prefix_` + 12 hex digits of milliseconds + 16 random hex digits,
/// so ids sort by creation time (keyset pagination relies on it).
pub fn new_id(prefix: &str) -> String {
    let r: u64 = rand::rng().random();
    format!("{prefix}_{:012x}{r:016x}", now_ms())
}

/// A new unguessable token: 256 random bits, hex.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// [`Ids`] from the system clock and random numbers.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl Ids for RandomIds {
    fn id(&self, prefix: &str) -> String {
        new_id(prefix)
    }
    fn token(&self) -> String {
        new_token()
    }
    fn unit(&self) -> f64 {
        rand::rng().random::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_tokens_are_long() {
        let a = new_id("run");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("run");
        assert!(a < b, "{a} < {b}");
        assert!(a.starts_with("run_") && a.len() == 4 + 28);
        assert_eq!(new_token().len(), 64);
        assert_ne!(new_token(), new_token());
    }
}
