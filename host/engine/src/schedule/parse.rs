//! Parsing cron expressions and time zone names.

use super::{Cron, MAX_LEN, bit, next_bit};
use jiff::tz::TimeZone;

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const SECOND: Field = Field {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
};
const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
};
const WEEKDAY: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
};

impl Field {
    /// `?` (any) is allowed in the day fields only.
    fn is_day(&self) -> bool {
        self.name.starts_with("day")
    }

    fn value(&self, s: &str) -> Result<u32, String> {
        let v = if let Some(i) = self.names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            u32::try_from(i).unwrap_or(0) + self.min
        } else if !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| format!("`{s}` is not a number"))?
        } else if let Some(example) = self.names.get(1) {
            return Err(format!("`{s}` is not a number or a name like {example}"));
        } else {
            return Err(format!("`{s}` is not a number"));
        };
        if !(self.min..=self.max).contains(&v) {
            return Err(format!("{v} is out of range {}-{}", self.min, self.max));
        }
        Ok(v)
    }

    /// The set of values of one field, as bits.
    fn parse(&self, text: &str) -> Result<u64, String> {
        let mut bits = 0u64;
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => {
                    let step: u32 =
                        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
                            .then(|| s.parse().ok())
                            .flatten()
                            .ok_or_else(|| format!("step `{s}` is not a number"))?;
                    if step == 0 || step > self.max {
                        return Err(format!("step {step} is not between 1 and {}", self.max));
                    }
                    (r, Some(step))
                }
                None => (item, None),
            };
            let (lo, hi) = match range {
                "*" => (self.min, self.max),
                "?" if self.is_day() => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    None => {
                        let v = self.value(range)?;
                        (v, if step.is_some() { self.max } else { v })
                    }
                },
            };
            if lo > hi {
                return Err(format!("range {lo}-{hi} runs backwards"));
            }
            for v in (lo..=hi).step_by(usize::try_from(step.unwrap_or(1)).unwrap_or(1)) {
                bits |= 1 << v;
            }
        }
        Ok(bits)
    }
}

/// Checks an IANA time zone name.
///
/// # Errors
/// A message when the zone is unknown.
pub fn check_zone(name: &str) -> Result<(), String> {
    zone(name).map(drop)
}

fn zone(name: &str) -> Result<TimeZone, String> {
    let zone = (name.len() <= MAX_LEN)
        .then(|| TimeZone::get(name).ok())
        .flatten()
        .filter(|z| !z.is_unknown());
    zone.ok_or_else(|| {
        let shown: String = name.chars().take(64).collect();
        format!("unknown time zone `{shown}`")
    })
}

impl Cron {
    /// Parses an expression read in the IANA time zone `timezone`.
    ///
    /// # Errors
    /// A message saying what is wrong: the length, the number of fields, the
    /// field and value, an expression that never fires, or the time zone.
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, String> {
        if expr.len() > MAX_LEN {
            return Err(format!("cron expression is longer than {MAX_LEN} bytes"));
        }
        let expr = match expr.trim() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            "" => return Err("cron expression is empty".into()),
            e if e.starts_with('@') => return Err(format!("unknown cron nickname `{e}`")),
            e => e,
        };
        let parts: Vec<&str> = expr.split_ascii_whitespace().collect();
        let (second, rest) = match parts.as_slice() {
            [s, rest @ ..] if parts.len() == 6 => (*s, rest),
            rest if rest.len() == 5 => ("0", rest),
            _ => {
                return Err(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found {}",
                    parts.len()
                ));
            }
        };
        let [minute, hour, day, month, weekday] = rest else {
            return Err("expected 5 or 6 fields".into());
        };
        let field = |f: &Field, text: &str| {
            f.parse(text)
                .map_err(|e| format!("{} field `{text}`: {e}", f.name))
        };
        let (seconds, minutes, hours) = (
            field(&SECOND, second)?,
            field(&MINUTE, minute)?,
            field(&HOUR, hour)?,
        );
        let (days, months, weekdays) = (
            field(&DAY, day)?,
            field(&MONTH, month)?,
            field(&WEEKDAY, weekday)?,
        );
        let cron = Self {
            seconds,
            minutes,
            hours,
            days,
            months,
            // Sunday is 0 and 7.
            weekdays: (weekdays | (weekdays >> 7)) & 0x7f,
            dom_any: matches!(*day, "*" | "?"),
            dow_any: matches!(*weekday, "*" | "?"),
            hour_any: *hour == "*",
            zone: zone(timezone)?,
        };
        // Only days of the month can rule out every day: some allowed month
        // must be long enough (February counts 29 days).
        if !cron.dom_any && cron.dow_any {
            const LONGEST: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            let fits = (1u32..).zip(LONGEST).any(|(m, len)| {
                bit(cron.months, m) && next_bit(cron.days, 1).is_some_and(|d| d <= len)
            });
            if !fits {
                return Err(format!(
                    "cron expression never fires: day-of-month `{day}` does not occur in month `{month}`"
                ));
            }
        }
        Ok(cron)
    }
}
