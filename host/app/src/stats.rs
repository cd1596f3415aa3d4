//! The dashboard's run statistics: the window checked and defaulted, then
//! one store call (two `GROUP BY`s).

use crate::{Actor, App, Error, Result};
use weft_store::stats::{RunStats, StatsWindow};

/// The smallest bucket, in milliseconds.
pub const MIN_BUCKET_MS: i64 = 1_000;
/// The most buckets one answer has.
pub const MAX_BUCKETS: i64 = 366;
/// The longest window, in milliseconds (90 days).
pub const MAX_WINDOW_MS: i64 = 90 * 86_400_000;
/// The bucket when none is given (one hour).
pub const DEFAULT_BUCKET_MS: i64 = 3_600_000;
/// The window when none is given (24 hours).
pub const DEFAULT_WINDOW_MS: i64 = 86_400_000;
use weft_types::Role;

fn invalid(param: &str, value: i64, reason: String) -> Error {
    Error::Invalid(format!("query parameter `{param}`: `{value}` {reason}"))
}

/// The window of `from`, `to` and `bucket_ms` at `now`: `bucket_ms`
/// defaults to an hour; `to` to `now` rounded up to a whole bucket since the
/// epoch; `from` to 24 hours (or one bucket, if longer) before `to`. Refused,
/// naming the parameter: a bucket under a second, `to` not after `from`, a
/// window over 90 days, more than 366 buckets.
///
/// # Errors
/// [`Error::Invalid`].
pub fn window(
    from: Option<i64>,
    to: Option<i64>,
    bucket_ms: Option<i64>,
    now: i64,
) -> Result<StatsWindow> {
    let bucket = bucket_ms.unwrap_or(DEFAULT_BUCKET_MS);
    if bucket < MIN_BUCKET_MS {
        return Err(invalid(
            "bucket_ms",
            bucket,
            format!("is less than {MIN_BUCKET_MS}"),
        ));
    }
    let to = match to {
        Some(t) => t,
        None => {
            let up = now
                .div_euclid(bucket)
                .saturating_add(i64::from(now.rem_euclid(bucket) != 0));
            up.saturating_mul(bucket)
        }
    };
    let from = from.unwrap_or_else(|| to.saturating_sub(DEFAULT_WINDOW_MS.max(bucket)));
    if to <= from {
        return Err(invalid("to", to, format!("is not after `from` ({from})")));
    }
    let len = to.saturating_sub(from);
    if len > MAX_WINDOW_MS {
        return Err(invalid(
            "from",
            from,
            format!("is more than 90 days ({MAX_WINDOW_MS} ms) before `to` ({to})"),
        ));
    }
    let w = StatsWindow {
        from,
        to,
        bucket_ms: bucket,
    };
    if w.buckets() > MAX_BUCKETS {
        return Err(invalid(
            "bucket_ms",
            bucket,
            format!(
                "cuts the window into {} buckets, more than {MAX_BUCKETS}",
                w.buckets()
            ),
        ));
    }
    Ok(w)
}

impl App {
    /// The tenant's runs created in the window (see [`window`]): per bucket
    /// and status, and the busiest workflows. Viewers and up.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Invalid`]; store failures.
    pub async fn run_stats(
        &self,
        actor: &Actor,
        from: Option<i64>,
        to: Option<i64>,
        bucket_ms: Option<i64>,
    ) -> Result<(StatsWindow, RunStats)> {
        actor.require(Role::Viewer)?;
        let w = window(from, to, bucket_ms, weft_worker::now_ms())?;
        let stats = self.store().run_stats(&actor.tenant_id, &w).await?;
        Ok((w, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_default_is_the_last_24_hours_in_hourly_buckets_on_the_hour() {
        let now = 1_751_328_000_000 + 10 * HOUR + 20 * 60_000; // 10:20 UTC
        let w = window(None, None, None, now).unwrap();
        assert_eq!(w.to, 1_751_328_000_000 + 11 * HOUR, "rounded up to 11:00");
        assert_eq!(
            (w.to - w.from, w.bucket_ms, w.buckets()),
            (24 * HOUR, HOUR, 24)
        );
        let exact = window(None, None, None, 1_751_328_000_000).unwrap();
        assert_eq!(exact.to, 1_751_328_000_000, "on the hour already");
        let week = window(None, None, Some(7 * 24 * HOUR), now).unwrap();
        assert_eq!(week.buckets(), 1, "one bucket when a bucket is longer");
        let given = window(Some(5_000), Some(65_000), Some(1_000), now).unwrap();
        assert_eq!((given.from, given.to, given.buckets()), (5_000, 65_000, 60));
    }

    #[test]
    fn bounds_are_refused_by_name() {
        let now = 1_751_328_000_000;
        let named = |r: Result<StatsWindow>, param: &str| match r {
            Err(Error::Invalid(m)) => assert!(m.contains(&format!("`{param}`")), "{m}"),
            other => panic!("expected Invalid naming {param}: {other:?}"),
        };
        named(window(None, None, Some(999), now), "bucket_ms");
        named(window(Some(10), Some(10), None, now), "to");
        named(
            window(Some(0), Some(91 * 24 * HOUR), Some(24 * HOUR), now),
            "from",
        );
        named(
            window(Some(0), Some(367 * HOUR), Some(HOUR), now),
            "bucket_ms",
        );
        assert!(window(Some(0), Some(366 * HOUR), Some(HOUR), now).is_ok());
        assert!(window(Some(0), Some(90 * 24 * HOUR), Some(6 * HOUR), now).is_ok());
        // Extremes saturate; nothing overflows.
        named(window(Some(i64::MIN), Some(i64::MAX), None, now), "from");
        named(window(None, None, Some(i64::MAX), now), "from");
        let low = window(None, Some(i64::MIN + 5), None, now).unwrap();
        assert_eq!((low.from, low.buckets()), (i64::MIN, 1));
    }
}
