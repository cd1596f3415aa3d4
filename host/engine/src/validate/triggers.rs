//! Trigger checks: the webhook's timeout, the schedule's expression and zone.

use super::Checker;
use crate::schedule::{self, Cron};

/// Longest a synchronous webhook may wait for its run's response, in milliseconds.
pub const MAX_WEBHOOK_TIMEOUT_MS: u64 = 300_000;

impl Checker<'_> {
    /// Checks `triggers`: the webhook timeout, the schedule's cron and zone.
    pub(super) fn triggers(&mut self) {
        let t = &self.def.triggers;
        if let Some(timeout) = t.webhook.and_then(|w| w.timeout_ms)
            && !(1..=MAX_WEBHOOK_TIMEOUT_MS).contains(&timeout)
        {
            self.problem(
                "/triggers/webhook/timeout_ms",
                format!("must be between 1 and {MAX_WEBHOOK_TIMEOUT_MS}"),
            );
        }
        if let Some(s) = &t.schedule {
            // The expression is checked in UTC so that a bad zone and a bad
            // expression are both reported.
            if let Err(e) = Cron::parse(&s.cron, "UTC") {
                self.problem("/triggers/schedule/cron", e);
            }
            if let Err(e) = schedule::check_zone(&s.timezone) {
                self.problem("/triggers/schedule/timezone", e);
            }
        }
    }
}
