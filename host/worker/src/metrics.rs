//! Counters and a latency histogram, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Upper bounds of the step-duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 10.0,
];

/// What the worker counts.
#[derive(Default)]
pub struct Metrics {
    /// Runs started.
    pub runs_started: AtomicU64,
    /// Ended runs deleted by retention (`docs/TENANCY.md`, section 7).
    pub runs_pruned: AtomicU64,
    /// Step attempts executed in the sandbox.
    pub attempts: AtomicU64,
    /// Deliveries seen a second time.
    pub redeliveries: AtomicU64,
    /// Commits that lost a race and were recomputed.
    pub conflicts: AtomicU64,
    /// Tasks re-enqueued by the sweeper.
    pub swept: AtomicU64,
    /// Outbox rows published by this process's relay.
    pub relayed: AtomicU64,
    /// Tasks deferred because the tenant was at its running-step limit.
    pub deferred: AtomicU64,
    /// Tasks dropped because another task for the same step attempt holds
    /// its slot or is parked already.
    pub duplicates: AtomicU64,
    /// Tasks not run because their tenant is suspended (or being deleted).
    pub suspended: AtomicU64,
    /// Dead-lettered tasks whose step was failed as poison.
    pub dead_lettered: AtomicU64,
    /// Webhook calls answered with an earlier delivery's run (dedupe).
    pub webhook_replays: AtomicU64,
    /// Installed artifacts refused because they did not verify (bytes,
    /// signature or manifest): each is an incident.
    pub artifact_mismatches: AtomicU64,
    /// Notification deliveries accepted (2xx), failed tries (retried later)
    /// and deliveries given up (`docs/TENANCY.md`, section 6).
    pub notifications_delivered: AtomicU64,
    /// See `notifications_delivered`.
    pub notification_retries: AtomicU64,
    /// See `notifications_delivered`.
    pub notifications_failed: AtomicU64,
    /// Deliveries never sent: their rule's `rule_per_minute` held them off
    /// past the give-up (`give_up_ms` after the event).
    pub notifications_suppressed: AtomicU64,
    /// Sends put off to the end of their rule's minute (`rule_per_minute`);
    /// one delivery may be counted more than once.
    pub notifications_deferred: AtomicU64,
    finished: Mutex<BTreeMap<&'static str, u64>>,
    webhook_rejections: Mutex<BTreeMap<&'static str, u64>>,
    ticks_refused: Mutex<BTreeMap<&'static str, u64>>,
    failures: Mutex<BTreeMap<String, u64>>,
    hist: Mutex<([u64; BUCKETS.len()], u64, f64)>,
}

impl Metrics {
    /// A run ended in `status`.
    pub fn finished(&self, status: &'static str) {
        *self
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(status)
            .or_default() += 1;
    }

    /// A step attempt failed for `reason` (its kind when no sandbox reason), or
    /// the engine failed a step before any attempt (`render_limit`, ...).
    pub fn failure(&self, reason: &str) {
        *self
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason.to_owned())
            .or_default() += 1;
    }

    /// A signed webhook was refused for `reason` (no run started).
    pub fn webhook_rejected(&self, reason: &'static str) {
        *self
            .webhook_rejections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason)
            .or_default() += 1;
    }

    /// A schedule tick was skipped because `quota` (`max_active_runs` or a
    /// usage quota) refused its run.
    pub fn tick_refused(&self, quota: &'static str) {
        *self
            .ticks_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(quota)
            .or_default() += 1;
    }

    /// A step attempt took `secs`.
    pub fn observe(&self, secs: f64) {
        let mut h = self.hist.lock().unwrap_or_else(PoisonError::into_inner);
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.0[i] += 1;
            }
        }
        h.1 += 1;
        h.2 += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, out: &mut String) {
        let c = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        c(
            out,
            "weft_runs_started_total",
            "Runs started.",
            self.runs_started.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_runs_pruned_total",
            "Ended runs deleted by retention.",
            self.runs_pruned.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_step_attempts_total",
            "Step attempts executed.",
            self.attempts.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_redeliveries_total",
            "Queue deliveries seen again.",
            self.redeliveries.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_commit_conflicts_total",
            "Commits recomputed after losing a race.",
            self.conflicts.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_swept_tasks_total",
            "Tasks re-enqueued by the sweeper.",
            self.swept.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_outbox_relayed_total",
            "Outbox rows published by this process.",
            self.relayed.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_steps_deferred_total",
            "Steps parked because their tenant was at its running-step limit.",
            self.deferred.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_duplicate_tasks_total",
            "Tasks dropped because another task for the same step attempt holds its slot or is parked.",
            self.duplicates.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_tasks_suspended_total",
            "Tasks not run because their tenant is suspended; the step stays due and runs after a resume.",
            self.suspended.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_dead_letters_total",
            "Dead-lettered tasks whose step was failed as poison.",
            self.dead_lettered.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_webhook_replays_total",
            "Webhook calls answered with the run of an earlier delivery with the same id.",
            self.webhook_replays.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_artifact_mismatches_total",
            "Installed connector artifacts refused because their bytes, signature or manifest did not verify.",
            self.artifact_mismatches.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_notifications_delivered_total",
            "Notification webhooks accepted by their destination (2xx).",
            self.notifications_delivered.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_notification_retries_total",
            "Notification webhook tries that failed and are tried again later.",
            self.notification_retries.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_notifications_failed_total",
            "Notification deliveries given up (retries ran out, or the rule was deleted).",
            self.notifications_failed.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_notifications_suppressed_total",
            "Notification deliveries never sent: their rule's rule_per_minute held them off past the give-up.",
            self.notifications_suppressed.load(Ordering::Relaxed),
        );
        c(
            out,
            "weft_notifications_deferred_total",
            "Notification sends put off to the end of their rule's minute (rule_per_minute); a delivery may count more than once.",
            self.notifications_deferred.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP weft_webhook_rejections_total Signed webhook calls refused, by reason.\n# TYPE weft_webhook_rejections_total counter"
        );
        for (r, n) in self
            .webhook_rejections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "weft_webhook_rejections_total{{reason=\"{r}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP weft_schedule_ticks_refused_total Schedule ticks skipped because a quota refused their run, by quota.\n# TYPE weft_schedule_ticks_refused_total counter"
        );
        for (r, n) in self
            .ticks_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(
                out,
                "weft_schedule_ticks_refused_total{{reason=\"{r}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP weft_runs_finished_total Runs that ended, by status.\n# TYPE weft_runs_finished_total counter"
        );
        for (s, n) in self
            .finished
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "weft_runs_finished_total{{status=\"{s}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP weft_step_failures_total Failed step attempts, and steps failed before an attempt, by reason.\n# TYPE weft_step_failures_total counter"
        );
        for (r, n) in self
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "weft_step_failures_total{{reason=\"{r}\"}} {n}");
        }
        let h = self.hist.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = writeln!(
            out,
            "# HELP weft_step_duration_seconds Step attempt wall time.\n# TYPE weft_step_duration_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "weft_step_duration_seconds_bucket{{le=\"{b}\"}} {}",
                h.0[i]
            );
        }
        let _ = writeln!(
            out,
            "weft_step_duration_seconds_bucket{{le=\"+Inf\"}} {}\nweft_step_duration_seconds_sum {}\nweft_step_duration_seconds_count {}",
            h.1, h.2, h.1
        );
    }
}

impl crate::Handle {
    /// Every metric of this process, with the gauges read now: runs by status,
    /// queue depth, dead letters and outbox lag (gauges whose backend does not
    /// answer are left out).
    pub async fn render_metrics(&self) -> String {
        let mut out = String::new();
        self.metrics().render(&mut out);
        let g = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        };
        g(
            &mut out,
            "weft_attempts_running",
            "Step attempts whose plugin runs in this process now.",
        );
        let _ = writeln!(out, "weft_attempts_running {}", self.0.inflight.len());
        g(
            &mut out,
            "weft_steps_parked",
            "Steps waiting in this process for a running-step slot of their tenant.",
        );
        let _ = writeln!(out, "weft_steps_parked {}", self.0.parked.len());
        if let Ok(counts) = self.store().count_runs().await {
            g(&mut out, "weft_runs", "Runs in the store, by status.");
            for (status, n) in counts {
                let _ = writeln!(out, "weft_runs{{status=\"{status}\"}} {n}");
            }
        }
        if let Ok(d) = self.queue().depth().await {
            g(
                &mut out,
                "weft_queue_depth",
                "Tasks waiting in the queue (ready and delayed).",
            );
            let _ = writeln!(out, "weft_queue_depth {}", d.ready);
            g(
                &mut out,
                "weft_queue_dead_letters",
                "Tasks in the dead-letter store.",
            );
            let _ = writeln!(out, "weft_queue_dead_letters {}", d.dead);
        }
        if let Ok(oldest) = self.store().outbox_oldest().await {
            let lag = oldest.map_or(0.0, |t| (crate::now_ms() - t).max(0) as f64 / 1e3);
            g(
                &mut out,
                "weft_outbox_lag_seconds",
                "Age of the oldest task not yet published from the outbox.",
            );
            let _ = writeln!(out, "weft_outbox_lag_seconds {lag}");
        }
        out
    }
}
