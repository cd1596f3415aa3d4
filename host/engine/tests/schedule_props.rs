//! Properties of the cron parser and the next-tick search: any text is
//! answered without a panic, and for expressions built from the grammar (with
//! the set of values each field allows computed independently) the next tick
//! is strictly after now, matches every field, and no earlier tick was missed.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use std::collections::BTreeSet;
use weft_engine::schedule::{Cron, next_fire};
use weft_types::Missed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A field's text and the values it allows.
#[derive(Debug, Clone)]
struct Field {
    text: String,
    set: BTreeSet<u32>,
    any: bool,
}

/// One field over `lo..=hi`: `*`, or a list of `N`, `N-M`, `*/S`, `N/S`, `N-M/S`
/// (a step is at most the field's maximum).
fn field(lo: u32, hi: u32) -> impl Strategy<Value = Field> {
    let item = (lo..=hi, lo..=hi, prop::option::of(1..=hi), 0u8..4).prop_map(
        move |(a, b, step, shape)| {
            let (a, b) = (a.min(b), a.max(b));
            let step_text = step.map_or(String::new(), |s| format!("/{s}"));
            let s = step.unwrap_or(1) as usize;
            match shape {
                0 => (format!("{a}"), BTreeSet::from([a])),
                1 => (format!("{a}-{b}{step_text}"), (a..=b).step_by(s).collect()),
                2 => (format!("*{step_text}"), (lo..=hi).step_by(s).collect()),
                _ => match step {
                    Some(_) => (format!("{a}{step_text}"), (a..=hi).step_by(s).collect()),
                    None => (format!("{a}"), BTreeSet::from([a])),
                },
            }
        },
    );
    prop_oneof![
        1 => Just(Field { text: "*".into(), set: (lo..=hi).collect(), any: true }),
        3 => prop::collection::vec(item, 1..4).prop_map(|items| {
            let text = items.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(",");
            Field {
                // A lone `*` is "any" whichever way it was built.
                any: text == "*",
                text,
                set: items.into_iter().flat_map(|(_, s)| s).collect(),
            }
        }),
    ]
}

#[derive(Debug, Clone)]
struct Expr {
    text: String,
    seconds: Option<Field>,
    minutes: Field,
    hours: Field,
    days: Field,
    months: Field,
    weekdays: Field,
}

fn cron_expr() -> impl Strategy<Value = Expr> {
    (
        prop::option::of(field(0, 59)),
        field(0, 59),
        field(0, 23),
        field(1, 31),
        field(1, 12),
        field(0, 7),
    )
        .prop_map(|(seconds, minutes, hours, days, months, weekdays)| {
            let mut parts: Vec<&str> = seconds.iter().map(|s| s.text.as_str()).collect();
            for f in [&minutes, &hours, &days, &months, &weekdays] {
                parts.push(&f.text);
            }
            Expr {
                text: parts.join(" "),
                seconds,
                minutes,
                hours,
                days,
                months,
                weekdays,
            }
        })
}

impl Expr {
    /// Whether the wall-clock time `dt` matches (Vixie cron's day rule).
    fn matches(&self, dt: jiff::civil::DateTime) -> bool {
        let has = |f: &Field, v: i8| u32::try_from(v).is_ok_and(|v| f.set.contains(&v));
        let second_ok = match &self.seconds {
            Some(f) => has(f, dt.second()),
            None => dt.second() == 0,
        };
        let dow = u32::from(dt.weekday().to_sunday_zero_offset().unsigned_abs());
        let dom_ok = has(&self.days, dt.day());
        let dow_ok =
            self.weekdays.set.contains(&dow) || (dow == 0 && self.weekdays.set.contains(&7));
        let day_ok = match (self.days.any, self.weekdays.any) {
            (true, true) => true,
            (false, true) => dom_ok,
            (true, false) => dow_ok,
            (false, false) => dom_ok || dow_ok,
        };
        second_ok
            && has(&self.minutes, dt.minute())
            && has(&self.hours, dt.hour())
            && has(&self.months, dt.month())
            && day_ok
    }
}

const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
];

/// 1970 to 2100, in milliseconds.
fn instant() -> impl Strategy<Value = i64> {
    0i64..4_102_444_800_000
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn any_text_is_answered_without_panicking(expr in any::<String>(), zone in any::<String>(), now in any::<i64>()) {
        for (e, z) in [(expr.as_str(), "UTC"), ("* * * * *", zone.as_str()), (expr.as_str(), zone.as_str())] {
            if let Ok(c) = Cron::parse(e, z) {
                let _ = c.next_after(now);
                let _ = next_fire(&c, Missed::Once, now, now.saturating_add(1));
            }
        }
    }

    #[test]
    fn the_next_tick_is_after_now_and_matches(e in cron_expr(), now in instant()) {
        let cron = match Cron::parse(&e.text, "UTC") {
            Ok(c) => c,
            Err(why) => {
                prop_assert!(why.contains("never"), "`{}` refused: {why}", e.text);
                return Ok(());
            }
        };
        let Some(t) = cron.next_after(now) else { return Ok(()) };
        prop_assert!(t > now && t % 1_000 == 0, "`{}`: {t} after {now}", e.text);
        let at = |ms: i64| TimeZone::UTC.to_datetime(Timestamp::from_millisecond(ms).unwrap());
        prop_assert!(e.matches(at(t)), "`{}` fired at {} (after {})", e.text, at(t), at(now));
        // No earlier tick was skipped: scan every candidate between now and t
        // (seconds for 6 fields up to two hours, minutes up to three days).
        let (step, span) = if e.seconds.is_some() { (1_000, 7_200_000) } else { (60_000, 3 * 86_400_000) };
        let mut c = (now.div_euclid(step) + 1) * step;
        while c < t && c - now <= span {
            prop_assert!(!e.matches(at(c)), "`{}` skipped {} before {}", e.text, at(c), at(t));
            c += step;
        }
        prop_assert_eq!(cron.next_after(t - 1), Some(t));
    }

    #[test]
    fn in_any_zone_the_next_tick_is_after_now_and_matches_or_follows_a_jump(
        e in cron_expr(),
        zone in prop::sample::select(ZONES.to_vec()),
        now in instant(),
    ) {
        let Ok(cron) = Cron::parse(&e.text, zone) else { return Ok(()) };
        let Some(t) = cron.next_after(now) else { return Ok(()) };
        prop_assert!(t > now);
        let tz = TimeZone::get(zone).unwrap();
        let ts = Timestamp::from_millisecond(t).unwrap();
        let before = Timestamp::from_millisecond(t - 1_000).unwrap();
        let jumped = tz.to_offset(before) < tz.to_offset(ts);
        prop_assert!(
            e.matches(tz.to_datetime(ts)) || jumped,
            "`{}` in {zone} fired at {} (after {})", e.text, tz.to_datetime(ts),
            tz.to_datetime(Timestamp::from_millisecond(now).unwrap())
        );
        prop_assert_eq!(cron.next_after(t - 1), Some(t));
        if let Some(u) = cron.next_after(t) {
            prop_assert!(u > t);
        }
    }
}
