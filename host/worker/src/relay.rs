//! The outbox relay: moves tasks committed as outbox rows to the queue
//! (`docs/DISTRIBUTED.md`, "The outbox"). Every process runs one; a commit
//! that wrote rows wakes its own relay at once, and a periodic pass picks up
//! rows left by a process that died between its commit and its publish.

use crate::{Handle, Result, now_ms};
use futures_util::future::join_all;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use weft_queue::Task;

/// Entries taken per store call.
const BATCH: u32 = 256;
/// How long a claimed entry is left to its relay before another may take it.
const CLAIM_MS: i64 = 10_000;
/// The periodic pass, for rows another process left behind.
const PERIOD: Duration = Duration::from_millis(500);

impl Handle {
    /// Relays outbox rows until `shutdown`, then makes a last pass.
    pub async fn relay(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.relay_once().await {
                tracing::warn!(error = %e, "outbox relay pass failed; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(PERIOD) => {}
                }
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.0.relay_wake.notified() => {}
                () = tokio::time::sleep(PERIOD) => {}
            }
        }
        if let Err(e) = self.relay_once().await {
            tracing::warn!(error = %e, "last outbox pass failed; another relay will publish the rows");
        }
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
            let sends = batch.iter().map(|e| {
                let task = Task::new(&e.tenant_id, &e.run_id, &e.step_key, e.attempt);
                let delay = u64::try_from(e.due_at - now)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis);
                self.queue().publish(task, delay)
            });
            let results = join_all(sends).await;
            let mut done = Vec::with_capacity(batch.len());
            for (entry, r) in batch.into_iter().zip(results) {
                match r {
                    Ok(_) => done.push(entry.id),
                    Err(e) => {
                        tracing::warn!(run.id = %entry.run_id, error = %e, "outbox entry not published; retried after its claim lapses");
                    }
                }
            }
            published += done.len();
            self.0
                .metrics
                .relayed
                .fetch_add(done.len() as u64, Ordering::Relaxed);
            let none = done.is_empty();
            self.store().outbox_delete(&done).await?;
            if none || !full {
                break;
            }
        }
        Ok(published)
    }
}
