//! The outbox relay: gets tasks committed as outbox rows to the queue
//! (`docs/DISTRIBUTED.md`, "The outbox").
//!
//! The process that commits rows writes them claimed for itself and
//! publishes them right after the commit ([`Handle::publish_own`]), waiting
//! for each publisher confirm; the confirmed rows are deleted in batches by
//! this process's relay loop. The loop's periodic pass publishes only rows
//! whose claim lapsed: those of a process that died (or whose publish
//! failed) between its commit and its delete.

use crate::{Handle, Result, now_ms};
use futures_util::future::join_all;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use weft_queue::Task;
use weft_store::OutboxEntry;

/// Entries taken per store call.
const BATCH: u32 = 256;
/// How long a claimed entry is left to its relay (or to the process that
/// wrote it) before another may take it.
pub(crate) const CLAIM_MS: i64 = 10_000;
/// The periodic pass, for rows another process left behind.
const PERIOD: Duration = Duration::from_millis(500);

/// Ids of this process's own entries that were published and confirmed, to
/// be deleted by the relay loop's next pass (one statement for all).
#[derive(Default)]
pub(crate) struct Confirmed(Mutex<Vec<String>>);

impl Confirmed {
    fn push(&self, ids: impl IntoIterator<Item = String>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(ids);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Handle {
    /// Relays outbox rows until `shutdown`, then makes a last pass: deletes
    /// the rows this process published (woken after each publish) and, every
    /// [`PERIOD`], publishes rows whose claim lapsed.
    pub async fn relay(self, shutdown: CancellationToken) {
        let mut next_scan = tokio::time::Instant::now();
        loop {
            self.delete_confirmed().await;
            if tokio::time::Instant::now() >= next_scan {
                if let Err(e) = self.relay_once().await {
                    tracing::warn!(error = %e, "outbox relay pass failed; retrying");
                }
                next_scan = tokio::time::Instant::now() + PERIOD;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.0.relay_wake.notified() => {}
                () = tokio::time::sleep_until(next_scan) => {}
            }
        }
        self.delete_confirmed().await;
        if let Err(e) = self.relay_once().await {
            tracing::warn!(error = %e, "last outbox pass failed; another relay will publish the rows");
        }
    }

    /// Deletes the rows this process published and saw confirmed. A failed
    /// delete leaves them to be published again once their claim lapses
    /// (a duplicate task, which the step lease makes harmless).
    async fn delete_confirmed(&self) {
        let ids = self.0.confirmed.take();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.store().outbox_delete(&ids).await {
            tracing::warn!(error = %e, entries = ids.len(), "published outbox entries not deleted; published again when their claim lapses");
        }
    }

    /// Publishes the entries this process just committed (claimed for itself
    /// until `claimed_until`), waiting for each confirm, and hands the
    /// confirmed ones to the relay loop for deletion. A failed publish leaves
    /// its row to a relay once the claim lapses.
    pub(crate) async fn publish_own(&self, entries: Vec<OutboxEntry>) {
        let now = now_ms();
        let confirmed = self.publish_entries(&entries, now).await;
        if confirmed.is_empty() {
            return;
        }
        self.0.confirmed.push(confirmed);
        self.0.relay_wake.notify_one();
    }

    /// Publishes `entries` (each with its remaining delay) at once and waits
    /// for their confirms; the ids of the confirmed ones.
    async fn publish_entries(&self, entries: &[OutboxEntry], now: i64) -> Vec<String> {
        let sends = entries.iter().map(|e| {
            let task = Task::new(&e.tenant_id, &e.run_id, &e.step_key, e.attempt);
            let delay = u64::try_from(e.due_at - now)
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis);
            self.queue().publish(task, delay)
        });
        let results = join_all(sends).await;
        let mut done = Vec::with_capacity(entries.len());
        for (entry, r) in entries.iter().zip(results) {
            match r {
                Ok(_) => done.push(entry.id.clone()),
                Err(e) => {
                    tracing::warn!(run.id = %entry.run_id, error = %e, "outbox entry not published; retried after its claim lapses");
                }
            }
        }
        self.0
            .metrics
            .relayed
            .fetch_add(done.len() as u64, Ordering::Relaxed);
        done
    }

    /// Publishes every outbox row that is due for a relay (unclaimed or whose
    /// claim lapsed), waiting for each confirm, and deletes the confirmed ones.
    /// Returns how many were published.
    ///
    /// # Errors
    /// Store failures. A publish that fails leaves its row claimed; it is tried
    /// again when the claim lapses.
    pub async fn relay_once(&self) -> Result<usize> {
        let mut published = 0;
        loop {
            let now = now_ms();
            let batch = self.store().outbox_claim(now, CLAIM_MS, BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let full = batch.len() == BATCH as usize;
            let done = self.publish_entries(&batch, now).await;
            published += done.len();
            let none = done.is_empty();
            self.store().outbox_delete(&done).await?;
            if none || !full {
                break;
            }
        }
        Ok(published)
    }
}
