use super::tests::{ms, show, ticks};
use super::*;

#[test]
fn spring_forward_fires_skipped_times_after_the_gap() {
    // Berlin, 2025-03-30: 02:00 CET becomes 03:00 CEST.
    assert_eq!(
        ticks("30 2 * * *", "Europe/Berlin", "2025-03-29T12:00:00Z", 3),
        [
            "2025-03-30T03:00:00+02:00",
            "2025-03-31T02:30:00+02:00",
            "2025-04-01T02:30:00+02:00"
        ]
    );
    assert_eq!(
        ticks("*/30 * * * *", "Europe/Berlin", "2025-03-30T00:00:00Z", 3),
        [
            "2025-03-30T01:30:00+01:00",
            "2025-03-30T03:00:00+02:00",
            "2025-03-30T03:30:00+02:00"
        ]
    );
    // Every second: no second is lost or doubled across the jump.
    assert_eq!(
        ticks("* * * * * *", "Europe/Berlin", "2025-03-30T00:59:58Z", 3),
        [
            "2025-03-30T01:59:59+01:00",
            "2025-03-30T03:00:00+02:00",
            "2025-03-30T03:00:01+02:00"
        ]
    );
    // New York, 2025-03-09: 02:00 EST becomes 03:00 EDT; 03:00 itself fires once.
    assert_eq!(
        ticks("0 2,3 * * *", "America/New_York", "2025-03-09T00:00:00Z", 3),
        [
            "2025-03-09T03:00:00-04:00",
            "2025-03-10T02:00:00-04:00",
            "2025-03-10T03:00:00-04:00"
        ]
    );
    // A tick just before the jump leads to the jump itself.
    let jump = ms("2025-03-30T01:00:00Z");
    let cron = Cron::parse("15 2 * * *", "Europe/Berlin").unwrap();
    assert_eq!(cron.next_after(jump - 1), Some(jump));
    assert_eq!(
        show(cron.next_after(jump).unwrap(), "Europe/Berlin"),
        "2025-03-31T02:15:00+02:00"
    );
}

#[test]
fn fall_back_fires_fixed_times_once_and_intervals_twice() {
    // Berlin, 2025-10-26: 03:00 CEST becomes 02:00 CET; 02:xx happens twice.
    assert_eq!(
        ticks("30 2 * * *", "Europe/Berlin", "2025-10-25T12:00:00Z", 2),
        ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"]
    );
    assert_eq!(
        ticks("*/20 2 * * *", "Europe/Berlin", "2025-10-25T12:00:00Z", 4),
        [
            "2025-10-26T02:00:00+02:00",
            "2025-10-26T02:20:00+02:00",
            "2025-10-26T02:40:00+02:00",
            "2025-10-27T02:00:00+01:00"
        ]
    );
    assert_eq!(
        ticks("0,30 * * * *", "Europe/Berlin", "2025-10-26T00:00:00Z", 5),
        [
            "2025-10-26T02:30:00+02:00",
            "2025-10-26T02:00:00+01:00",
            "2025-10-26T02:30:00+01:00",
            "2025-10-26T03:00:00+01:00",
            "2025-10-26T03:30:00+01:00"
        ]
    );
    // Starting inside the repeated hour, on either pass.
    assert_eq!(
        ticks("45 2 * * *", "Europe/Berlin", "2025-10-26T00:50:00Z", 1),
        ["2025-10-27T02:45:00+01:00"]
    );
    assert_eq!(
        ticks("45 * * * *", "Europe/Berlin", "2025-10-26T00:50:00Z", 2),
        ["2025-10-26T02:45:00+01:00", "2025-10-26T03:45:00+01:00"]
    );
    assert_eq!(
        ticks("45 2 * * *", "Europe/Berlin", "2025-10-26T00:10:00Z", 2),
        ["2025-10-26T02:45:00+02:00", "2025-10-27T02:45:00+01:00"]
    );
    // New York, 2025-11-02: 01:30 happens at 05:30Z and 06:30Z.
    let cron = Cron::parse("30 1 * * *", "America/New_York").unwrap();
    let first = ms("2025-11-02T05:30:00Z");
    assert_eq!(cron.next_after(first - 1), Some(first));
    assert_eq!(cron.next_after(first), Some(ms("2025-11-03T06:30:00Z")));
}

/// Whether `c` fires at `t`, straight from the rules in the module docs.
fn fires_naive(c: &Cron, t: Timestamp) -> bool {
    let matches = |dt: DateTime| {
        bit(c.seconds, dt.second())
            && bit(c.minutes, dt.minute())
            && bit(c.hours, dt.hour())
            && bit(c.months, dt.month())
            && c.day_matches(dt.date())
    };
    let offset = c.zone.to_offset(t);
    let civil = offset.to_datetime(t);
    let second_pass = matches!(
        c.zone.to_ambiguous_timestamp(civil).offset(),
        jiff::tz::AmbiguousOffset::Fold { after, .. } if after == offset
    );
    if matches(civil) && (c.hour_any || !second_pass) {
        return true;
    }
    let before = c.zone.to_offset(t - jiff::SignedDuration::from_secs(1));
    let mut skipped = before.to_datetime(t);
    while before < offset && skipped < civil {
        if matches(skipped) {
            return true;
        }
        skipped += jiff::SignedDuration::from_secs(60);
    }
    false
}

#[test]
fn next_after_agrees_with_a_minute_by_minute_scan() {
    let exprs = [
        "*/7 * * * *",
        "0 * * * *",
        "59 * * * *",
        "30 2 * * *",
        "*/20 2 * * *",
        "0,30 1-3 * * *",
        "15 */2 * * *",
        "45 1,2 * * *",
        "0 0 * * *",
        "5 3 * * SUN",
        "10 2 26 10 *",
        "0 2 * 3,10 1-5",
    ];
    // Around the 2025 transitions; Lord Howe moves its clocks by 30 minutes.
    let windows = [
        ("Europe/Berlin", "2025-03-29T12:00:00Z"),
        ("Europe/Berlin", "2025-10-25T12:00:00Z"),
        ("America/New_York", "2025-03-08T12:00:00Z"),
        ("America/New_York", "2025-11-01T12:00:00Z"),
        ("Australia/Lord_Howe", "2025-04-05T00:00:00Z"),
        ("Australia/Lord_Howe", "2025-10-04T00:00:00Z"),
        ("UTC", "2025-02-27T00:00:00Z"),
    ];
    for (zone, start) in windows {
        for expr in exprs {
            let cron = Cron::parse(expr, zone).unwrap();
            let start = ms(start);
            let fires: Vec<i64> = (0..2 * 24 * 60)
                .map(|m| start + m * 60_000)
                .filter(|&t| fires_naive(&cron, Timestamp::from_millisecond(t).unwrap()))
                .collect();
            let mut at = start - 1;
            for &want in &fires {
                let got = cron.next_after(at).unwrap();
                assert_eq!(
                    show(got, zone),
                    show(want, zone),
                    "{expr} in {zone} after {}",
                    show(at, zone)
                );
                // From anywhere in between, too.
                let mid = at + (want - at) / 2;
                assert_eq!(
                    cron.next_after(mid),
                    Some(want),
                    "{expr} in {zone} after {}",
                    show(mid, zone)
                );
                at = want;
            }
        }
    }
}
