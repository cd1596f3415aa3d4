use super::*;
use std::time::{Duration, Instant};

pub(super) fn ms(rfc3339: &str) -> i64 {
    rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
}

pub(super) fn show(ms: i64, zone: &str) -> String {
    let zone = TimeZone::get(zone).unwrap();
    Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(zone)
        .strftime("%FT%T%:z")
        .to_string()
}

/// The first `n` ticks after `from`, shown in the schedule's zone.
pub(super) fn ticks(expr: &str, zone: &str, from: &str, n: usize) -> Vec<String> {
    let cron = Cron::parse(expr, zone).unwrap();
    let mut at = ms(from);
    (0..n)
        .map(|_| {
            at = cron.next_after(at).unwrap();
            show(at, zone)
        })
        .collect()
}

fn err(expr: &str, zone: &str) -> String {
    Cron::parse(expr, zone).unwrap_err()
}

#[test]
fn five_fields_fire_strictly_after() {
    assert_eq!(
        ticks("*/15 * * * *", "UTC", "2025-01-01T00:07:00Z", 3),
        [
            "2025-01-01T00:15:00+00:00",
            "2025-01-01T00:30:00+00:00",
            "2025-01-01T00:45:00+00:00"
        ]
    );
    let cron = Cron::parse("0 12 * * *", "UTC").unwrap();
    let noon = ms("2025-01-01T12:00:00Z");
    assert_eq!(cron.next_after(noon - 1), Some(noon));
    assert_eq!(cron.next_after(noon), Some(noon + 86_400_000));
    assert_eq!(cron.next_after(noon + 999), Some(noon + 86_400_000));
    // Before 1970 too.
    assert_eq!(cron.next_after(-1), Some(12 * 3_600_000));
    assert_eq!(cron.next_after(i64::MAX), None);
    assert_eq!(cron.next_after(i64::MIN), None);
}

#[test]
fn six_fields_have_seconds_first() {
    assert_eq!(
        ticks("*/20 * * * * *", "UTC", "2025-01-01T00:00:59.500Z", 4),
        [
            "2025-01-01T00:01:00+00:00",
            "2025-01-01T00:01:20+00:00",
            "2025-01-01T00:01:40+00:00",
            "2025-01-01T00:02:00+00:00"
        ]
    );
    assert_eq!(
        ticks("30 0 12 * * *", "UTC", "2025-01-01T12:00:30Z", 1),
        ["2025-01-02T12:00:30+00:00"]
    );
    assert_eq!(
        ticks("59 59 23 31 12 *", "UTC", "2025-06-01T00:00:00Z", 2),
        ["2025-12-31T23:59:59+00:00", "2026-12-31T23:59:59+00:00"]
    );
}

#[test]
fn lists_ranges_steps_names_and_nicknames() {
    // 2025-01-03 is a Friday.
    assert_eq!(
        ticks("0 9 * * MON-FRI", "UTC", "2025-01-03T10:00:00Z", 2),
        ["2025-01-06T09:00:00+00:00", "2025-01-07T09:00:00+00:00"]
    );
    assert_eq!(
        ticks("0 0 1 jan,JUL *", "UTC", "2025-01-01T00:00:00Z", 2),
        ["2025-07-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00"]
    );
    assert_eq!(
        ticks("5,10-12,50/5 3 * * *", "UTC", "2025-01-01T00:00:00Z", 7),
        [
            "2025-01-01T03:05:00+00:00",
            "2025-01-01T03:10:00+00:00",
            "2025-01-01T03:11:00+00:00",
            "2025-01-01T03:12:00+00:00",
            "2025-01-01T03:50:00+00:00",
            "2025-01-01T03:55:00+00:00",
            "2025-01-02T03:05:00+00:00"
        ]
    );
    // Sunday is 0 and 7; `?` is `*`.
    assert_eq!(
        ticks("0 0 ? * 7", "UTC", "2025-01-01T00:00:00Z", 1),
        ticks("0 0 * * 0", "UTC", "2025-01-01T00:00:00Z", 1)
    );
    assert_eq!(
        ticks("0 0 * * 7", "UTC", "2025-01-01T00:00:00Z", 1),
        ["2025-01-05T00:00:00+00:00"]
    );
    assert_eq!(
        ticks("0 0 * * 5-7", "UTC", "2025-01-01T00:00:00Z", 4),
        [
            "2025-01-03T00:00:00+00:00",
            "2025-01-04T00:00:00+00:00",
            "2025-01-05T00:00:00+00:00",
            "2025-01-10T00:00:00+00:00"
        ]
    );
    for (nick, long) in [
        ("@yearly", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ] {
        assert_eq!(
            ticks(nick, "UTC", "2025-03-14T15:09:26Z", 3),
            ticks(long, "UTC", "2025-03-14T15:09:26Z", 3)
        );
    }
}

#[test]
fn both_day_fields_restricted_means_either() {
    // The 13th, and every Friday (2025-06-06 and 2025-06-13 are Fridays).
    assert_eq!(
        ticks("0 0 13 * FRI", "UTC", "2025-06-01T00:00:00Z", 3),
        [
            "2025-06-06T00:00:00+00:00",
            "2025-06-13T00:00:00+00:00",
            "2025-06-20T00:00:00+00:00"
        ]
    );
    // February 30th never comes, but Mondays in February do.
    assert_eq!(
        ticks("0 0 30 2 MON", "UTC", "2025-01-01T00:00:00Z", 2),
        ["2025-02-03T00:00:00+00:00", "2025-02-10T00:00:00+00:00"]
    );
}

#[test]
fn zones_are_iana_names() {
    assert_eq!(
        err("* * * * *", "Mars/Olympus"),
        "unknown time zone `Mars/Olympus`"
    );
    assert_eq!(err("* * * * *", ""), "unknown time zone ``");
    assert_eq!(
        err("* * * * *", "Etc/Unknown"),
        "unknown time zone `Etc/Unknown`"
    );
    assert!(err("* * * * *", &"A/".repeat(300)).len() < 100);
    assert!(check_zone("Asia/Kolkata").is_ok());
    assert!(check_zone("+02:00").is_err());
    assert_eq!(
        ticks("0 9 * * *", "Asia/Kolkata", "2025-01-01T00:00:00Z", 1),
        ["2025-01-01T09:00:00+05:30"]
    );
}

#[test]
fn bad_expressions_say_what_is_wrong() {
    let cases = [
        ("", "cron expression is empty"),
        ("   ", "cron expression is empty"),
        (
            "* * * *",
            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 4",
        ),
        (
            "0 0 0 * * * 2025",
            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 7",
        ),
        ("60 * * * *", "minute field `60`: 60 is out of range 0-59"),
        ("* 24 * * *", "hour field `24`: 24 is out of range 0-23"),
        (
            "* * 0 * *",
            "day-of-month field `0`: 0 is out of range 1-31",
        ),
        ("* * * 13 *", "month field `13`: 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week field `8`: 8 is out of range 0-7"),
        ("61 * * * * *", "second field `61`: 61 is out of range 0-59"),
        (
            "*/0 * * * *",
            "minute field `*/0`: step 0 is not between 1 and 59",
        ),
        (
            "*/60 * * * *",
            "minute field `*/60`: step 60 is not between 1 and 59",
        ),
        (
            "*/x * * * *",
            "minute field `*/x`: step `x` is not a number",
        ),
        (
            "5-1 * * * *",
            "minute field `5-1`: range 5-1 runs backwards",
        ),
        ("1,,2 * * * *", "minute field `1,,2`: `` is not a number"),
        ("L * * * *", "minute field `L`: `L` is not a number"),
        (
            "* * * * MON#2",
            "day-of-week field `MON#2`: `MON#2` is not a number or a name like MON",
        ),
        (
            "* * * MON * ",
            "month field `MON`: `MON` is not a number or a name like FEB",
        ),
        (
            "99999 * * * *",
            "minute field `99999`: `99999` is not a number",
        ),
        ("? * * * *", "minute field `?`: `?` is not a number"),
        ("@reboot", "unknown cron nickname `@reboot`"),
        (
            "0 0 30 2 *",
            "cron expression never fires: day-of-month `30` does not occur in month `2`",
        ),
        (
            "0 0 31 4,6,9,11 *",
            "cron expression never fires: day-of-month `31` does not occur in month `4,6,9,11`",
        ),
        (
            "0 0 30,31 FEB ?",
            "cron expression never fires: day-of-month `30,31` does not occur in month `FEB`",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(err(expr, "UTC"), want, "{expr:?}");
    }
    let long = format!("0 0 * * {}", "1,".repeat(200));
    assert_eq!(
        err(&long, "UTC"),
        "cron expression is longer than 256 bytes"
    );
    // The expression is checked before the zone.
    assert_eq!(
        err("61 * * * *", "Mars/Olympus"),
        "minute field `61`: 61 is out of range 0-59"
    );
}

#[test]
fn rare_schedules_are_found_quickly() {
    // Leap days: 2096, then 2104 (2100 is not a leap year).
    assert_eq!(
        ticks("0 0 29 2 *", "Europe/Berlin", "2096-03-01T00:00:00Z", 1),
        ["2104-02-29T00:00:00+01:00"]
    );
    assert_eq!(
        ticks("0 0 31 2,4,12 *", "UTC", "2025-01-01T00:00:00Z", 1),
        ["2025-12-31T00:00:00+00:00"]
    );
    // Near the end of the calendar there is no next tick.
    let cron = Cron::parse("0 0 29 2 *", "UTC").unwrap();
    assert_eq!(cron.next_after(ms("9996-03-01T00:00:00Z")), None);
    // Bounded work: the slowest searches take well under a millisecond each in
    // release builds; a thousand in a debug build stay far below this bound.
    let start = Instant::now();
    let absurd = [
        "0 0 29 2 *",
        "59 59 23 31 12 *",
        "* * 2 * * *",
        "0 0 30,31 2,4,6,9,11,12 *",
        "0 0 0 29 2 ?",
    ];
    for _ in 0..200 {
        for expr in absurd {
            let cron = Cron::parse(expr, "America/New_York").unwrap();
            assert!(cron.next_after(ms("2097-01-01T00:00:00Z")).is_some());
        }
        assert!(Cron::parse("0 0 30 2 *", "America/New_York").is_err());
    }
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn due_ticks_run_on_time_or_per_the_missed_policy() {
    let hourly = Cron::parse("0 * * * *", "UTC").unwrap();
    let ten = ms("2025-01-01T10:00:00Z");
    let eleven = ms("2025-01-01T11:00:00Z");
    let hour = 3_600_000;
    for policy in [Missed::Skip, Missed::Once] {
        // Not due: nothing changes.
        assert_eq!(
            next_fire(&hourly, policy, ten, ten - 1),
            Fire {
                run_now: false,
                next_ms: Some(ten)
            }
        );
        // Due, on time (or late within the grace): run, plan the next tick.
        for now in [ten, ten + 5_000, ten + GRACE_MS] {
            assert_eq!(
                next_fire(&hourly, policy, ten, now),
                Fire {
                    run_now: true,
                    next_ms: Some(eleven)
                }
            );
        }
        // Down from before 10:00 to just after 13:00: 13:00 is on time.
        assert_eq!(
            next_fire(&hourly, policy, ten, ten + 3 * hour + 30_000),
            Fire {
                run_now: true,
                next_ms: Some(ten + 4 * hour)
            }
        );
    }
    // Down from before 10:00 until 13:20: 10:00 to 13:00 were missed.
    let now = ten + 3 * hour + 20 * 60_000;
    assert_eq!(
        next_fire(&hourly, Missed::Skip, ten, now),
        Fire {
            run_now: false,
            next_ms: Some(ten + 4 * hour)
        }
    );
    assert_eq!(
        next_fire(&hourly, Missed::Once, ten, now),
        Fire {
            run_now: true,
            next_ms: Some(ten + 4 * hour)
        }
    );
    // Just past the grace, with no tick since: missed.
    assert!(!next_fire(&hourly, Missed::Skip, ten, ten + GRACE_MS + 1).run_now);
    // Frequent ticks fold into one run; the next is strictly after now.
    let every_10s = Cron::parse("*/10 * * * * *", "UTC").unwrap();
    assert_eq!(
        next_fire(&every_10s, Missed::Skip, ten, ten + 25_000),
        Fire {
            run_now: true,
            next_ms: Some(ten + 30_000)
        }
    );
}
