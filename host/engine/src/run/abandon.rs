//! An attempt that outlived its step: the run ended (cancelled, failed, timed
//! out) while the plugin ran, and the worker stopped it.

use super::{Plan, Ran};
use weft_types::{Attempt, Status};

impl Plan<'_> {
    /// Closes the journal row of attempt `attempt` of step `key`, left
    /// `running` when the run ended and cancelled the step under it: the
    /// attempt ends `cancelled`, with what the plugin returned (its output, or
    /// why it stopped, usually `cancelled`), its usage and its logs. The step
    /// and the run stay as they are. A no-op unless the step is `cancelled`
    /// at that attempt.
    pub fn abandon(&mut self, key: &str, attempt: u32, started_at: i64, ran: Ran) -> bool {
        // The journal row takes the step's input: the row is read whole.
        let Some(row) = self.full(key) else {
            return false;
        };
        if row.status != Status::Cancelled || row.attempt != attempt {
            return false;
        }
        let (output, error) = match ran.result {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        self.attempts.push(Attempt {
            tenant_id: self.run.tenant_id.clone(),
            run_id: self.run.id.clone(),
            step_key: key.to_owned(),
            attempt,
            idempotency_key: format!("{}:{key}", self.run.id),
            status: Status::Cancelled,
            input: row.input.clone(),
            output,
            error,
            usage: ran.usage,
            logs: weft_types::log::bound(ran.logs, attempt),
            digest: ran.digest,
            started_at,
            finished_at: Some(self.now),
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixed, def, new_run};
    use super::*;
    use crate::RunLimits;
    use serde_json::json;
    use std::sync::atomic::AtomicU32;
    use weft_types::{Failure, Reason};

    #[test]
    fn an_attempt_outliving_its_cancelled_step_is_closed_cancelled_and_nothing_else_moves() {
        let d = def(json!({"name": "w", "steps": [
            {"id": "a", "kind": "action", "connector": "c", "action": "x"}
        ]}));
        let ids = Fixed(AtomicU32::new(1));
        let lim = RunLimits::default();
        let dec = Plan::start(&d, &ids, lim, 0, new_run(json!({}))).finish();
        let mut p = Plan::load(&d, &ids, lim, 1, dec.run, dec.steps);
        let attempt = p.step("a").unwrap().attempt;
        assert!(p.claim("a", attempt, 60_000).is_some());
        let claimed = p.finish();
        // Nothing to close while the step still runs.
        let mut p = Plan::load(&d, &ids, lim, 2, claimed.run.clone(), claimed.steps.clone());
        let stop = || Ran::result(Err(Failure::of(Reason::Cancelled, "stopped")));
        assert!(!p.abandon("a", attempt, 1, stop()));
        assert!(p.cancel("by hand"));
        let cancelled = p.finish();
        let mut p = Plan::load(&d, &ids, lim, 3, cancelled.run.clone(), cancelled.steps);
        assert!(!p.abandon("a", attempt + 1, 1, stop()), "another attempt");
        assert!(!p.complete("a", attempt, 1, stop()), "the run ended");
        let ran = Ran {
            usage: Some(json!({"wall_time_us": 7})),
            digest: Some(format!("sha256:{}", "ab".repeat(32))),
            ..stop()
        };
        assert!(p.abandon("a", attempt, 1, ran));
        let closed = p.finish();
        assert_eq!(closed.attempts.len(), 1);
        let a = &closed.attempts[0];
        assert_eq!(
            (a.status, a.attempt, a.finished_at),
            (Status::Cancelled, attempt, Some(3))
        );
        assert!(a.error.as_ref().unwrap().is(Reason::Cancelled));
        assert_eq!(a.usage, Some(json!({"wall_time_us": 7})));
        assert_eq!(a.digest, Some(format!("sha256:{}", "ab".repeat(32))));
        assert!(closed.steps.is_empty(), "the step stays as it is");
        assert_eq!(closed.run.status, Status::Cancelled);
        assert!(!closed.finished, "the run had already ended");
    }
}
