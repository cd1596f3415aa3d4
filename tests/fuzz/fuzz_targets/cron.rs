//! The cron parser and next-tick search: the input is an expression, a time
//! zone and an instant (split at NUL bytes). Parsing answers without
//! panicking; a next tick is strictly after the instant and stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_engine::schedule::{Cron, next_fire};
use weft_types::Missed;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\0');
    let expr = parts.next().unwrap_or_default();
    let zone = parts.next().unwrap_or("UTC");
    let now: i64 = parts
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(1_735_725_600_000);
    let Ok(cron) = Cron::parse(expr, zone) else {
        return;
    };
    if let Some(t) = cron.next_after(now) {
        assert!(t > now, "`{expr}` in {zone}: {t} is not after {now}");
        assert_eq!(cron.next_after(t - 1), Some(t), "`{expr}` in {zone}");
    }
    let fire = next_fire(&cron, Missed::Once, now, now.saturating_add(3_600_000));
    assert!(fire.next_ms.is_none_or(|n| n > now));
});
