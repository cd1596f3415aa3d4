//! Per-step retry policy: exponential backoff with full jitter.
//!
//! ```
//! use weft_engine::retry::Policy;
//! use weft_types::ErrorKind;
//! let p = Policy::default();
//! // After the first failed attempt, a transient error waits between 0 and 1 s.
//! let d = p.next_delay(1, ErrorKind::Transient, None, 0, || 0.5);
//! assert_eq!(d, Some(500));
//! assert_eq!(p.next_delay(1, ErrorKind::InvalidInput, None, 0, || 0.5), None);
//! ```

use weft_types::{ErrorKind, RetrySpec};

/// A resolved retry policy (defaults filled in, values checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Attempts in total, including the first. Not clamped.
    pub max_attempts: u32,
    /// Delay ceiling before the second attempt, in milliseconds.
    pub initial_interval_ms: u64,
    /// Growth factor of the ceiling per attempt (>= 1).
    pub backoff_coefficient: f64,
    /// Upper bound of the ceiling, in milliseconds.
    pub max_interval_ms: u64,
    /// No retry starts later than this after the first attempt started, in milliseconds.
    pub max_duration_ms: Option<u64>,
    /// Kinds never retried. `cancelled` is never retried whatever this says.
    pub non_retryable: Vec<ErrorKind>,
}

/// The kinds the default policy does not retry: all but `transient` and `rate_limited`.
pub const DEFAULT_NON_RETRYABLE: [ErrorKind; 5] = [
    ErrorKind::InvalidInput,
    ErrorKind::Auth,
    ErrorKind::Permanent,
    ErrorKind::LimitExceeded,
    ErrorKind::Cancelled,
];

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_interval_ms: 1_000,
            backoff_coefficient: 2.0,
            max_interval_ms: 60_000,
            max_duration_ms: None,
            non_retryable: DEFAULT_NON_RETRYABLE.to_vec(),
        }
    }
}

impl Policy {
    /// Resolves a written spec against the defaults.
    ///
    /// # Errors
    /// Every problem as `(field, message)`, for the validator to place.
    pub fn from_spec(spec: &RetrySpec) -> Result<Self, Vec<(&'static str, String)>> {
        let d = Self::default();
        let p = Self {
            max_attempts: spec.max_attempts.unwrap_or(d.max_attempts),
            initial_interval_ms: spec.initial_interval_ms.unwrap_or(d.initial_interval_ms),
            backoff_coefficient: spec.backoff_coefficient.unwrap_or(d.backoff_coefficient),
            max_interval_ms: spec
                .max_interval_ms
                .unwrap_or(d.max_interval_ms.max(spec.initial_interval_ms.unwrap_or(0))),
            max_duration_ms: spec.max_duration_ms,
            non_retryable: spec.non_retryable.clone().unwrap_or(d.non_retryable),
        };
        let mut bad = Vec::new();
        if p.max_attempts == 0 {
            bad.push(("max_attempts", "must be at least 1".to_string()));
        }
        if !(p.backoff_coefficient.is_finite() && (1.0..=100.0).contains(&p.backoff_coefficient)) {
            bad.push((
                "backoff_coefficient",
                "must be between 1 and 100".to_string(),
            ));
        }
        if p.max_interval_ms < p.initial_interval_ms {
            bad.push((
                "max_interval_ms",
                format!(
                    "must not be less than initial_interval_ms ({})",
                    p.initial_interval_ms
                ),
            ));
        }
        if p.max_duration_ms == Some(0) {
            bad.push(("max_duration_ms", "must be positive".to_string()));
        }
        if bad.is_empty() { Ok(p) } else { Err(bad) }
    }

    /// Whether an error of `kind` may be retried at all.
    pub fn retries(&self, kind: ErrorKind) -> bool {
        kind != ErrorKind::Cancelled && !self.non_retryable.contains(&kind)
    }

    /// The delay in milliseconds before the next attempt, or `None` to give up.
    ///
    /// `attempt` is the 1-based number of the attempt that just failed; `elapsed_ms`
    /// is the time since the first attempt started; `unit` yields uniform numbers in
    /// `[0, 1)`. The delay is full jitter over `min(max_interval, initial * coefficient^(attempt-1))`,
    /// and never less than the remote's `retry_after_ms` when it sent one.
    pub fn next_delay(
        &self,
        attempt: u32,
        kind: ErrorKind,
        retry_after_ms: Option<u64>,
        elapsed_ms: u64,
        mut unit: impl FnMut() -> f64,
    ) -> Option<u64> {
        if !self.retries(kind) || attempt >= self.max_attempts {
            return None;
        }
        let exp = f64::from(attempt.saturating_sub(1)).min(1_000.0);
        let ceiling = (self.initial_interval_ms as f64 * self.backoff_coefficient.powf(exp))
            .min(self.max_interval_ms as f64);
        let r = unit();
        let r = if r.is_finite() {
            r.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Saturating conversion: the value is within [0, max_interval_ms].
        let jittered = (ceiling * r) as u64;
        let delay = jittered.max(retry_after_ms.unwrap_or(0));
        match self.max_duration_ms {
            Some(max) if elapsed_ms.saturating_add(delay) > max => None,
            _ => Some(delay),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let p = Policy::from_spec(&RetrySpec {
            max_attempts: Some(100),
            initial_interval_ms: Some(100),
            backoff_coefficient: Some(3.0),
            max_interval_ms: Some(2_000),
            ..RetrySpec::default()
        })
        .unwrap();
        let top = |a| p.next_delay(a, ErrorKind::Transient, None, 0, || 1.0);
        assert_eq!(
            [top(1), top(2), top(3), top(4), top(99)],
            [Some(100), Some(300), Some(900), Some(2000), Some(2000)]
        );
        assert_eq!(
            p.next_delay(3, ErrorKind::Transient, None, 0, || 0.25),
            Some(225)
        );
        assert_eq!(
            p.next_delay(3, ErrorKind::Transient, None, 0, || 0.0),
            Some(0)
        );
        assert_eq!(
            p.next_delay(100, ErrorKind::Transient, None, 0, || 1.0),
            None,
            "no attempt 101"
        );
        assert_eq!(
            p.next_delay(u32::MAX - 1, ErrorKind::Transient, None, 0, || f64::NAN),
            None
        );
    }

    #[test]
    fn no_clamp_on_attempts() {
        let p = Policy::from_spec(&RetrySpec {
            max_attempts: Some(50),
            ..RetrySpec::default()
        })
        .unwrap();
        assert!(
            p.next_delay(49, ErrorKind::RateLimited, None, 0, || 0.5)
                .is_some()
        );
    }

    #[test]
    fn kinds_retry_after_and_max_duration() {
        let p = Policy {
            max_duration_ms: Some(10_000),
            ..Policy::default()
        };
        assert_eq!(p.next_delay(1, ErrorKind::Auth, None, 0, || 0.5), None);
        assert_eq!(
            p.next_delay(1, ErrorKind::RateLimited, Some(5_000), 0, || 0.5),
            Some(5_000)
        );
        assert_eq!(
            p.next_delay(1, ErrorKind::RateLimited, Some(5_000), 6_000, || 0.5),
            None
        );
        let all = Policy {
            non_retryable: vec![],
            ..Policy::default()
        };
        assert!(all.retries(ErrorKind::Permanent));
        assert!(!all.retries(ErrorKind::Cancelled));
    }

    #[test]
    fn bad_specs_are_refused() {
        let e = Policy::from_spec(&RetrySpec {
            max_attempts: Some(0),
            backoff_coefficient: Some(0.5),
            initial_interval_ms: Some(5_000),
            max_interval_ms: Some(1_000),
            max_duration_ms: Some(0),
            ..RetrySpec::default()
        })
        .unwrap_err();
        assert_eq!(
            e,
            vec![
                ("max_attempts", "must be at least 1".to_string()),
                (
                    "backoff_coefficient",
                    "must be between 1 and 100".to_string()
                ),
                (
                    "max_interval_ms",
                    "must not be less than initial_interval_ms (5000)".to_string()
                ),
                ("max_duration_ms", "must be positive".to_string()),
            ]
        );
    }
}
