//! The worker loop (queue deliveries, `concurrency` at once) and the sweeper.

use crate::{Error, Handle, Result, now_ms};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use weft_queue::Task;

/// Steps the sweeper handles per round.
const SWEEP_BATCH: u32 = 1_000;
/// How long [`Handle::serve`] waits for attempts in flight after shutdown.
const DRAIN: Duration = Duration::from_secs(30);

impl Handle {
    /// Re-enqueues what the queue lost (all of it after a restart), then consumes
    /// tasks and sweeps until `shutdown`; then stops taking tasks and lets the
    /// attempts in flight finish (up to 30 s; unfinished ones are redelivered
    /// when their lease expires).
    ///
    /// # Errors
    /// The queue cannot be consumed.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<()> {
        let n = self.recover().await?;
        if n > 0 {
            tracing::info!(tasks = n, "re-enqueued steps found in the store");
        }
        let concurrency = self.options().concurrency.max(1);
        let mut consumer = self
            .queue()
            .consume(concurrency)
            .await
            .map_err(|e| Error::Queue(e.to_string()))?;
        let sweeper = tokio::spawn(self.clone().sweep_loop(shutdown.clone()));
        let slots = Arc::new(Semaphore::new(usize::from(concurrency)));
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                next = consumer.next() => next,
            };
            let delivery = match next {
                Some(Ok(d)) => d,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "queue consumer error");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                None => break,
            };
            if delivery.redelivered() {
                self.0.metrics.redeliveries.fetch_add(1, Ordering::Relaxed);
            }
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let task = delivery.task().clone();
                let settled = match this.handle(&task).await {
                    Ok(()) => delivery.ack().await,
                    Err(e) => {
                        tracing::warn!(run.id = %task.run_id, step.id = %task.step_key, error = %e, "task failed; retrying later");
                        delivery.retry_after(Duration::from_secs(1)).await
                    }
                };
                if let Err(e) = settled {
                    tracing::debug!(error = %e, "delivery not settled");
                }
                drop(permit);
            });
        }
        drop(consumer);
        let all = u32::from(concurrency);
        let _ = tokio::time::timeout(DRAIN, slots.acquire_many(all)).await;
        sweeper.abort();
        Ok(())
    }

    /// Publishes a task for every step the store says is due or will be: run at
    /// start-up, since the in-process queue forgets everything on exit.
    ///
    /// # Errors
    /// Store failures.
    pub async fn recover(&self) -> Result<usize> {
        let now = now_ms();
        let mut published = 0;
        for s in self.store().due_steps(i64::MAX, u32::MAX).await? {
            let delay = s.due_at.map(|d| d - now).filter(|d| *d > 0);
            let delay = delay.map(|d| Duration::from_millis(u64::try_from(d).unwrap_or(0)));
            let task = Task::new(&s.tenant_id, &s.run_id, &s.key, s.attempt);
            self.queue()
                .publish(task, delay)
                .await
                .map_err(|e| Error::Queue(e.to_string()))?;
            published += 1;
        }
        Ok(published)
    }

    /// One sweeper round: re-enqueues steps due for longer than `stale_after_ms`
    /// (their task was lost), times out overdue runs, fires due schedules.
    ///
    /// # Errors
    /// Store failures.
    pub async fn sweep(&self) -> Result<()> {
        let now = now_ms();
        let stale = i64::try_from(self.options().stale_after_ms).unwrap_or(i64::MAX);
        for s in self
            .store()
            .due_steps(now.saturating_sub(stale), SWEEP_BATCH)
            .await?
        {
            let task = Task::new(&s.tenant_id, &s.run_id, &s.key, s.attempt);
            if self.queue().publish(task, None).await.is_ok() {
                self.0.metrics.swept.fetch_add(1, Ordering::Relaxed);
            }
        }
        for run in self.store().overdue_runs(now, SWEEP_BATCH).await? {
            if let Err(e) = self
                .decide(&run.tenant_id, &run.id, None, |p| p.time_out())
                .await
            {
                tracing::warn!(run.id = %run.id, error = %e, "run not timed out");
            }
        }
        self.fire_schedules(now).await
    }

    async fn sweep_loop(self, shutdown: CancellationToken) {
        let every = Duration::from_millis(self.options().sweep_interval_ms.max(10));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            if let Err(e) = self.sweep().await {
                tracing::warn!(error = %e, "sweep failed");
            }
        }
    }
}
