//! The worker loop (queue deliveries, `concurrency` at once) and the sweeper.

use crate::inflight::Cause;
use crate::{Error, Handle, Result, now_ms};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use weft_queue::{Delivery, Task};

/// Steps the sweeper handles per round.
const SWEEP_BATCH: u32 = 1_000;
/// Dead letters read per sweep.
const DEAD_LETTER_BATCH: usize = 100;
/// At shutdown, the part of the grace period kept for stopping the attempts
/// still running and committing them as handed back (at most a quarter of
/// the grace period).
const HAND_BACK_RESERVE: Duration = Duration::from_secs(2);

impl Handle {
    /// Re-enqueues what the queue lost (all of it after a restart, when
    /// `recover_on_start`), then consumes tasks, sweeps and (with the outbox)
    /// relays until `shutdown`; then stops taking tasks and lets the attempts
    /// in flight finish within `shutdown_grace_ms`: those still running near
    /// its end are stopped and handed back (their attempt fails `cancelled`,
    /// transient, and the step is retried), and what is not committed by then
    /// is retried when its lease expires.
    ///
    /// # Errors
    /// The queue cannot be consumed.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<()> {
        if self.options().recover_on_start {
            let n = self.recover().await?;
            if n > 0 {
                tracing::info!(tasks = n, "re-enqueued steps found in the store");
            }
        }
        let concurrency = self.options().concurrency.max(1);
        let mut consumer = self
            .queue()
            .consume(concurrency)
            .await
            .map_err(|e| Error::Queue(e.to_string()))?;
        let sweeper = tokio::spawn(self.clone().sweep_loop(shutdown.clone()));
        let relay = self
            .options()
            .outbox
            .then(|| tokio::spawn(self.clone().relay(shutdown.clone())));
        let unpark = tokio::spawn(self.clone().unpark_loop(shutdown.clone()));
        let takedowns = tokio::spawn(self.clone().takedown_loop(shutdown.clone()));
        let notifications = tokio::spawn(self.clone().notify_loop(shutdown.clone()));
        let queue_triggers = tokio::spawn(self.clone().queue_trigger_loop(shutdown.clone()));
        let slots = Arc::new(Semaphore::new(usize::from(concurrency)));
        loop {
            // A free worker first, then the task: the queue chooses the next
            // task (round robin by tenant) when it can start, so a task never
            // waits in this loop's hand for a worker to free up.
            let permit = tokio::select! {
                () = shutdown.cancelled() => break,
                permit = slots.clone().acquire_owned() => permit,
            };
            let Ok(permit) = permit else {
                break;
            };
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
            let this = self.clone();
            tokio::spawn(async move {
                this.handle_delivery(delivery).await;
                drop(permit);
            });
        }
        // Stop taking deliveries: what the consumer holds unsettled goes back
        // to the queue at once; attempts in flight get the grace period, less
        // a reserve in which those still running are stopped (`cancelled`)
        // and handed back (retried, here after a restart or elsewhere).
        drop(consumer);
        let all = u32::from(concurrency);
        let grace = Duration::from_millis(self.options().shutdown_grace_ms);
        let reserve = (grace / 4).min(HAND_BACK_RESERVE);
        if tokio::time::timeout(grace - reserve, slots.acquire_many(all))
            .await
            .is_err()
        {
            let n = self.0.inflight.cancel_all(Cause::Shutdown);
            tracing::warn!(
                attempts = n,
                "attempts still running after the grace period; stopping them and handing them back"
            );
            if tokio::time::timeout(reserve, slots.acquire_many(all))
                .await
                .is_err()
            {
                tracing::warn!(
                    "attempts not handed back in time; their leases expire and they are retried"
                );
            }
        }
        sweeper.abort();
        takedowns.abort();
        // Queue-trigger consumers close (their unacknowledged messages go
        // back to the tenants' queues) and release their leases.
        let _ = queue_triggers.await;
        // A delivery being sent finishes (bounded by its timeout) and is recorded.
        let _ = notifications.await;
        // Parked steps go back on the queue (a broker keeps them for the next
        // worker; the in-process queue's are found again at start-up).
        let _ = unpark.await;
        let mut parked = 0;
        for (task, left) in self.0.parked.drain(tokio::time::Instant::now()) {
            parked += usize::from(self.queue().publish(task, Some(left)).await.is_ok());
        }
        if parked > 0 {
            tracing::info!(tasks = parked, "parked steps put back on the queue");
        }
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        Ok(())
    }

    /// Re-reads the registry's takedowns now and every
    /// `takedown_refresh_ms` (0: only now), until `shutdown`: a digest taken
    /// down through another process is refused here from then on. Each round
    /// also loads the connectors installed since the last one (so no step
    /// waits for their compilation) and collects unpublished uploads.
    async fn takedown_loop(self, shutdown: CancellationToken) {
        let every = self.options().takedown_refresh_ms;
        loop {
            match self.refresh_takedowns().await {
                Ok(n) => tracing::debug!(digests = n, "takedowns re-read"),
                Err(e) => tracing::warn!(error = %e, "takedowns not re-read; the last set stays"),
            }
            match self.load_installed_ahead().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(connectors = n, "installed connectors loaded ahead"),
                Err(e) => tracing::warn!(error = %e, "installed connectors not loaded ahead"),
            }
            match self.collect_unpublished().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    blobs = n,
                    "unpublished uploads past their retention deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "unpublished uploads not collected"),
            }
            if every == 0 {
                return;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_millis(every.max(10))) => {}
            }
        }
    }

    /// Publishes the parked steps whose wait ended (a slot given back by
    /// another worker, or expired), until `shutdown`.
    async fn unpark_loop(self, shutdown: CancellationToken) {
        loop {
            let (due, next) = self.0.parked.due(tokio::time::Instant::now());
            for task in due {
                if let Err(e) = self.queue().publish(task.clone(), None).await {
                    tracing::warn!(run.id = %task.run_id, step.id = %task.step_key, error = %e, "parked step not published; the sweeper publishes it");
                }
            }
            let until = next.map_or_else(
                || futures_util::future::Either::Left(std::future::pending()),
                |at| futures_util::future::Either::Right(tokio::time::sleep_until(at)),
            );
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.0.parked.timer.notified() => {}
                () = until => {}
            }
        }
    }

    /// Handles one delivery and settles it: acked once the step is claimed
    /// (from then on the database lease, not the broker, guarantees progress)
    /// or once the task is done; handed back for a later retry when the store
    /// fails before the claim.
    async fn handle_delivery(&self, delivery: Delivery) {
        let task = delivery.task().clone();
        let mut held = Some(delivery);
        let result = self.handle_held(&task, &mut held).await;
        let settled = match (held, result) {
            (Some(d), Ok(())) => d.ack().await,
            (Some(d), Err(e)) => {
                tracing::warn!(run.id = %task.run_id, step.id = %task.step_key, error = %e, "task failed; retrying later");
                d.retry_after(Duration::from_secs(1)).await
            }
            (None, Err(e)) => {
                tracing::warn!(run.id = %task.run_id, step.id = %task.step_key, error = %e, "result not committed; the step is retried when its lease expires");
                Ok(())
            }
            (None, Ok(())) => Ok(()),
        };
        if let Err(e) = settled {
            tracing::debug!(error = %e, "delivery not settled");
        }
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
            let delay = delay.map(|d| {
                Duration::from_millis(u64::try_from(d).unwrap_or(0))
                    .min(crate::apply::MAX_TASK_DELAY)
            });
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
        self.fire_schedules(now).await?;
        self.fire_polls(now).await?;
        // Webhook delivery ids past their retention: forgotten.
        self.store().prune_deliveries(now, SWEEP_BATCH).await?;
        self.sweep_dead_letters().await
    }

    /// Fails as `poison` the steps whose task the queue dead-lettered, so that
    /// a run's state never depends on the dead-letter store. Idempotent: a
    /// step already terminal is left alone.
    ///
    /// # Errors
    /// Store failures (a queue that cannot list is only logged).
    pub async fn sweep_dead_letters(&self) -> Result<()> {
        let letters = match self.queue().dead_letters(DEAD_LETTER_BATCH).await {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "dead letters not listed");
                return Ok(());
            }
        };
        for dl in letters {
            let t = &dl.task;
            if t.step_key.starts_with('$') {
                continue;
            }
            let Some(step) = self
                .store()
                .load_run(&t.tenant_id, &t.run_id)
                .await?
                .and_then(|s| s.step(&t.step_key).cloned())
            else {
                continue;
            };
            if step.status.is_terminal() || step.attempt != t.attempt {
                continue;
            }
            let why = format!(
                "the queue gave up on this step's task after {} deliveries ({:?}); dead letter {}",
                dl.deliveries, dl.reason, dl.id
            );
            let (done, _) = self
                .decide(&t.tenant_id, &t.run_id, None, |p| {
                    p.poison(&t.step_key, &why)
                })
                .await?;
            if done {
                self.0.metrics.dead_lettered.fetch_add(1, Ordering::Relaxed);
                self.0.metrics.failure("poison");
            }
        }
        Ok(())
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
