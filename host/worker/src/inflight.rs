//! The attempts running in this process, each with the token that stops its
//! plugin: cancelled when its run ends (a cancel through the API, a failed
//! sibling, a timeout; here or, seen by [`Handle::watch`], in another
//! process), when its lease is about to run out, and at shutdown.

use crate::{Handle, now_ms};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use weft_types::{ErrorKind, Failure, Reason};

/// At most this long before its lease expires, a running attempt is stopped
/// (less when `lease_grace_ms` is short: half of it), in milliseconds.
const LEASE_MARGIN_MS: i64 = 1_000;

/// Why a running attempt was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// Its run ended (cancelled, failed, timed out) or is gone: the step was
    /// cancelled with it.
    RunEnded,
    /// Its lease was about to expire: past it, another worker may run the step.
    LeaseExpiring,
    /// The worker is shutting down and the grace period is over.
    Shutdown,
}

impl Cause {
    /// The failure an attempt stopped for this cause is recorded with.
    pub(crate) fn failure(self) -> Failure {
        match self {
            Self::RunEnded => Failure::of(
                Reason::Cancelled,
                "the run ended while the step ran; its plugin was stopped",
            ),
            Self::LeaseExpiring => Failure::of(
                Reason::LeaseExpired,
                "the attempt was stopped as its lease ran out",
            ),
            // Handed back: retried (transient), not a failure of the step.
            Self::Shutdown => Failure {
                kind: ErrorKind::Transient,
                ..Failure::of(
                    Reason::Cancelled,
                    "the worker shut down while the step ran; the attempt is handed back",
                )
            },
        }
    }
}

/// One running attempt's stop switch.
#[derive(Debug, Default)]
pub(crate) struct Flight {
    token: CancellationToken,
    cause: OnceLock<Cause>,
}

impl Flight {
    /// Stops the attempt for `cause` (the first cause given is kept).
    pub(crate) fn cancel(&self, cause: Cause) {
        let _ = self.cause.set(cause);
        self.token.cancel();
    }

    /// Why it was stopped, if it was.
    pub(crate) fn cause(&self) -> Option<Cause> {
        self.cause.get().copied()
    }

    /// The token handed to the sandbox.
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}

/// The attempts of one run running here, each with its registration number.
type Flights = Vec<(u64, Arc<Flight>)>;

/// Every attempt running in this process, by run id.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    next: AtomicU64,
    closed: AtomicBool,
    runs: Mutex<HashMap<String, Flights>>,
}

/// An attempt's place in [`InFlight`], given up when dropped.
pub(crate) struct Registration<'a> {
    set: &'a InFlight,
    run_id: String,
    id: u64,
    flight: Arc<Flight>,
}

impl Registration<'_> {
    pub(crate) fn flight(&self) -> &Flight {
        &self.flight
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut runs = self.set.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = runs.get_mut(&self.run_id) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                runs.remove(&self.run_id);
            }
        }
    }
}

impl InFlight {
    /// Registers an attempt of `run_id` that is about to run. After
    /// [`InFlight::cancel_all`] for shutdown, it starts stopped.
    pub(crate) fn register(&self, run_id: &str) -> Registration<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let flight = Arc::new(Flight::default());
        {
            let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
            runs.entry(run_id.to_owned())
                .or_default()
                .push((id, flight.clone()));
        }
        // Checked after inserting, so that a concurrent shutdown sees it or
        // this sees the shutdown.
        if self.closed.load(Ordering::SeqCst) {
            flight.cancel(Cause::Shutdown);
        }
        Registration {
            set: self,
            run_id: run_id.to_owned(),
            id,
            flight,
        }
    }

    /// Stops every attempt of `run_id` running here; how many.
    pub(crate) fn cancel_run(&self, run_id: &str, cause: Cause) -> usize {
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let list = runs.get(run_id).map_or(&[][..], Vec::as_slice);
        for (_, f) in list {
            f.cancel(cause);
        }
        list.len()
    }

    /// Stops every attempt running here, and those registered from now on;
    /// how many were running.
    pub(crate) fn cancel_all(&self, cause: Cause) -> usize {
        self.closed.store(true, Ordering::SeqCst);
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut n = 0;
        for (_, f) in runs.values().flatten() {
            f.cancel(cause);
            n += 1;
        }
        n
    }

    /// Attempts running here.
    pub(crate) fn len(&self) -> usize {
        let runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
        runs.values().map(Vec::len).sum()
    }
}

impl Handle {
    /// Watches a running attempt: stops it (and returns) when its run has
    /// ended in another process (checked every `lease_check_ms`), or when
    /// its lease (`lease_at`) is about to expire, since past it another worker
    /// may run the step. Returns as well when something else stopped it.
    pub(crate) async fn watch(&self, tenant: &str, run_id: &str, lease_at: i64, flight: &Flight) {
        let check = self.options().lease_check_ms;
        // Stop in time for the result to be committed under the lease.
        let margin = i64::try_from(self.options().lease_grace_ms / 2)
            .unwrap_or(i64::MAX)
            .min(LEASE_MARGIN_MS);
        let stop_at = lease_at.saturating_sub(margin);
        loop {
            let left = u64::try_from(stop_at.saturating_sub(now_ms())).unwrap_or(0);
            if left == 0 {
                tracing::warn!(run.id = %run_id, "attempt still running as its lease runs out; stopping it");
                flight.cancel(Cause::LeaseExpiring);
                return;
            }
            let nap = if check == 0 { left } else { left.min(check) };
            tokio::select! {
                () = flight.token().cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(nap)) => {}
            }
            if check == 0 || now_ms() >= stop_at {
                continue;
            }
            match self.store().get_run(tenant, run_id).await {
                Ok(Some(run)) if !run.status.is_terminal() => {}
                Ok(_) => {
                    flight.cancel(Cause::RunEnded);
                    return;
                }
                Err(e) => tracing::debug!(run.id = %run_id, error = %e, "run not checked"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_a_run_stops_its_attempts_only_and_keeps_the_first_cause() {
        let set = InFlight::default();
        let a = set.register("run_a");
        let a2 = set.register("run_a");
        let b = set.register("run_b");
        assert_eq!(set.len(), 3);
        assert_eq!(set.cancel_run("run_a", Cause::RunEnded), 2);
        assert!(a.flight().token().is_cancelled() && a2.flight().token().is_cancelled());
        assert!(!b.flight().token().is_cancelled());
        a.flight().cancel(Cause::Shutdown);
        assert_eq!(a.flight().cause(), Some(Cause::RunEnded));
        drop((a, a2));
        assert_eq!(set.len(), 1);
        assert_eq!(set.cancel_run("run_a", Cause::RunEnded), 0);
        assert_eq!(set.cancel_all(Cause::Shutdown), 1);
        assert_eq!(b.flight().cause(), Some(Cause::Shutdown));
        let late = set.register("run_c");
        assert_eq!(
            late.flight().cause(),
            Some(Cause::Shutdown),
            "after shutdown, nothing starts"
        );
    }
}
