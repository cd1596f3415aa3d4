//! Cron schedules (`triggers.schedule`): parsing, the next tick in an IANA time
//! zone, and what to do about ticks missed while the server was down.
//!
//! ```
//! use weft_engine::schedule::{Cron, next_fire};
//! use weft_types::Missed;
//!
//! // 09:30 on weekdays, Berlin time. 2025-03-28 is a Friday; the next tick is
//! // Monday 2025-03-31 09:30 CEST (07:30 UTC).
//! let cron = Cron::parse("30 9 * * MON-FRI", "Europe/Berlin").unwrap();
//! let friday_noon = 1_743_163_200_000; // 2025-03-28T12:00:00Z
//! assert_eq!(cron.next_after(friday_noon), Some(1_743_406_200_000));
//!
//! assert!(Cron::parse("0 0 30 2 *", "UTC").unwrap_err().contains("never"));
//! assert!(Cron::parse("* * * * *", "Mars/Olympus").is_err());
//!
//! // A scheduler finds the stored tick (10:00) due at 13:20: the server was
//! // down. With `missed: once` it starts one run now, and plans 14:00.
//! let hourly = Cron::parse("0 * * * *", "UTC").unwrap();
//! let ten = 1_735_725_600_000; // 2025-01-01T10:00:00Z
//! let fire = next_fire(&hourly, Missed::Once, ten, ten + 200 * 60_000);
//! assert!(fire.run_now);
//! assert_eq!(fire.next_ms, Some(ten + 4 * 3_600_000));
//! assert!(!next_fire(&hourly, Missed::Skip, ten, ten + 200 * 60_000).run_now);
//! ```
//!
//! # Expressions
//!
//! Five fields (`minute hour day-of-month month day-of-week`), or six with
//! `second` first; at most 256 bytes. A field is a comma-separated list of
//! `*`, `N`, `N-M`, each optionally with `/STEP` (`N/STEP` runs to the field's
//! end). Months take `JAN`..`DEC`, days of the week `SUN`..`SAT` (`0` and `7`
//! are Sunday); `?` is `*` in the two day fields. `@yearly`, `@annually`,
//! `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` are accepted.
//! When both day fields are restricted (not `*` or `?`), a day matches if
//! either does, as in Vixie cron. An expression that can never fire
//! (`0 0 30 2 *`) is refused.
//!
//! # Daylight saving time
//!
//! Fields are matched against the wall clock of the time zone:
//! - a wall-clock time skipped by a forward jump fires at the first instant
//!   after the jump (02:30 on the night clocks go 02:00 → 03:00 fires at
//!   03:00), once however many ticks fell in the gap;
//! - a wall-clock time repeated by a backward jump fires once, on its first
//!   occurrence, unless the hour field is `*`: such interval expressions fire
//!   on both occurrences, so `*/15 * * * *` keeps firing every 15 minutes.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use weft_types::Missed;

/// Longest expression or time zone name accepted.
pub const MAX_LEN: usize = 256;
/// How late a due tick may start and still count as on time (see [`next_fire`]).
pub const GRACE_MS: i64 = 60_000;
/// How far [`Cron::next_after`] looks, in years (the longest gap between two
/// ticks of a valid expression is 8 years: `0 0 29 2 *` across 2100).
const HORIZON_YEARS: i16 = 10;
/// Most steps of [`Cron::next_after`]; each is one jump in the search, and
/// within the horizon a few per time zone transition suffice.
const MAX_STEPS: usize = 4_096;

/// A parsed cron expression with its time zone.
#[derive(Debug, Clone)]
pub struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Day-of-month and day-of-week fields are `*` (or `?`).
    dom_any: bool,
    dow_any: bool,
    /// The hour field is `*`: repeated wall-clock times fire twice.
    hour_any: bool,
    zone: TimeZone,
}

fn bit(set: u64, v: impl TryInto<u32>) -> bool {
    v.try_into()
        .is_ok_and(|v: u32| v < 64 && set & (1 << v) != 0)
}

/// The smallest value in `set` at least `from`.
fn next_bit(set: u64, from: u32) -> Option<u32> {
    let rest = set.checked_shr(from)?.checked_shl(from)?;
    (rest != 0).then(|| rest.trailing_zeros())
}

impl Cron {
    fn day_matches(&self, date: Date) -> bool {
        let dom = bit(self.days, date.day());
        let dow = bit(self.weekdays, date.weekday().to_sunday_zero_offset());
        match (self.dom_any, self.dow_any) {
            (true, true) => true,
            (false, true) => dom,
            (true, false) => dow,
            (false, false) => dom || dow,
        }
    }

    /// The first time of day at or after `from` that the time fields allow.
    fn first_time(&self, from: Time) -> Option<Time> {
        let (h0, m0, s0) = (from.hour(), from.minute(), from.second());
        let (h0, m0, s0) = (
            u32::try_from(h0).ok()?,
            u32::try_from(m0).ok()?,
            u32::try_from(s0).ok()?,
        );
        let mut h = next_bit(self.hours, h0)?;
        loop {
            let mut minute = next_bit(self.minutes, if h == h0 { m0 } else { 0 });
            while let Some(m) = minute {
                let s_from = if h == h0 && m == m0 { s0 } else { 0 };
                if let Some(s) = next_bit(self.seconds, s_from) {
                    return Time::new(
                        h.try_into().ok()?,
                        m.try_into().ok()?,
                        s.try_into().ok()?,
                        0,
                    )
                    .ok();
                }
                minute = next_bit(self.minutes, m + 1);
            }
            h = next_bit(self.hours, h + 1)?;
        }
    }

    /// The first wall-clock time at or after `from` (and on or before `last`)
    /// that the expression matches.
    fn first_match(&self, from: DateTime, last: Date) -> Option<DateTime> {
        let mut date = from.date();
        let mut time = from.time();
        while date <= last {
            if !bit(self.months, date.month()) {
                date = date.last_of_month().tomorrow().ok()?;
                time = Time::midnight();
                continue;
            }
            if self.day_matches(date)
                && let Some(t) = self.first_time(time)
            {
                return Some(DateTime::from_parts(date, t));
            }
            date = date.tomorrow().ok()?;
            time = Time::midnight();
        }
        None
    }

    /// When `ts` lies in the second pass of a backward jump, the wall-clock
    /// time at which the repeated stretch ends.
    fn repeated_until(&self, ts: Timestamp, offset: Offset) -> Option<DateTime> {
        let after = ts.checked_add(jiff::SignedDuration::from_secs(1)).ok()?;
        let jump = self.zone.preceding(after).next()?.timestamp();
        let before = self
            .zone
            .to_offset(jump.checked_sub(jiff::SignedDuration::from_secs(1)).ok()?);
        let end = before.to_datetime(jump);
        (before > offset && offset.to_datetime(ts) < end).then_some(end)
    }

    /// The next tick strictly after `after_ms` (unix milliseconds), or `None`
    /// when there is none within ten years or before the year 9999.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let mut t = Timestamp::from_second(after_ms.div_euclid(1_000).checked_add(1)?).ok()?;
        let last = self
            .zone
            .to_datetime(t)
            .date()
            .checked_add(jiff::Span::new().years(HORIZON_YEARS))
            .unwrap_or(Date::MAX);
        let one = jiff::SignedDuration::from_secs(1);
        for _ in 0..MAX_STEPS {
            let offset = self.zone.to_offset(t);
            let civil = offset.to_datetime(t);
            let repeated = if self.hour_any {
                None
            } else {
                self.repeated_until(t, offset)
            };
            let matches = bit(self.months, civil.month())
                && self.day_matches(civil.date())
                && self.first_time(civil.time()) == Some(civil.time());
            if matches && repeated.is_none() {
                return Some(t.as_millisecond());
            }
            // A forward jump at `t`: the skipped wall-clock times fire now.
            let before = self.zone.to_offset(t.checked_sub(one).ok()?);
            if before < offset {
                let gap_start = before.to_datetime(t);
                if self
                    .first_match(gap_start, civil.date())
                    .is_some_and(|c| c < civil)
                {
                    return Some(t.as_millisecond());
                }
            }
            let from = civil
                .checked_add(one)
                .ok()?
                .max(repeated.unwrap_or(DateTime::MIN));
            let next = offset.to_timestamp(self.first_match(from, last)?).ok()?;
            // Never step over a transition: the offset changes there.
            t = match self.zone.following(t).next() {
                Some(tr) if tr.timestamp() <= next => tr.timestamp(),
                _ => next,
            };
        }
        None
    }
}

/// What to do with a schedule whose stored tick is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    /// Start one run now.
    pub run_now: bool,
    /// The tick to store as the next one (`None`: the expression has no tick
    /// within ten years, or before the year 9999).
    pub next_ms: Option<i64>,
}

/// Plans a schedule whose stored tick is `last_planned_ms`, at `now_ms`.
///
/// - Not due yet (`last_planned_ms > now_ms`): no run; the tick stays.
/// - Due and *on time* — the planned tick, or a later tick of `cron`, is at
///   most [`GRACE_MS`] old: one run now under either policy (ticks between
///   the planned one and now fold into it).
/// - Due but *missed* — every tick since the planned one is more than
///   [`GRACE_MS`] old (the server was down or overloaded): with
///   [`Missed::Skip`] no run; with [`Missed::Once`] one run now for all of
///   them.
///
/// In every due case the next tick is the first one strictly after `now_ms`,
/// so a tick is never run twice and at most one run starts per call.
pub fn next_fire(cron: &Cron, missed: Missed, last_planned_ms: i64, now_ms: i64) -> Fire {
    if last_planned_ms > now_ms {
        return Fire {
            run_now: false,
            next_ms: Some(last_planned_ms),
        };
    }
    let window = now_ms.saturating_sub(GRACE_MS);
    let on_time = last_planned_ms >= window
        || cron
            .next_after(window.saturating_sub(1))
            .is_some_and(|t| t <= now_ms);
    Fire {
        run_now: on_time || missed == Missed::Once,
        next_ms: cron.next_after(now_ms),
    }
}

mod parse;
pub use parse::check_zone;

#[cfg(test)]
mod dst_tests;
#[cfg(test)]
mod tests;
