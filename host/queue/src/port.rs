//! The port: what the engine and the worker need from a queue, whatever carries it.

use crate::{MessageId, Result, Task};
use futures_util::{Stream, StreamExt, future::BoxFuture, stream::BoxStream};
use serde::{Deserialize, Serialize};
use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

/// A task queue with the semantics of a broker: at-least-once delivery, manual
/// acknowledgement, redelivery, delayed delivery and a dead-letter store.
///
/// Queue-wide settings (the ack timeout and the delivery limit) belong to the
/// adapter's options; the prefetch belongs to each consumer. Every adapter must
/// pass [`conformance`](crate#conformance).
#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues `task`, to be delivered at once or, with `delay`, no earlier than
    /// `delay` from now (a retry's backoff). Returns when the queue has taken
    /// responsibility for the message (a broker: after the publisher confirm).
    ///
    /// # Errors
    ///
    /// [`Error::PayloadTooLarge`](crate::Error::PayloadTooLarge) (nothing is
    /// enqueued); [`Error::Unavailable`](crate::Error::Unavailable) when the
    /// backend cannot be reached or refuses the message.
    async fn publish(&self, task: Task, delay: Option<Duration>) -> Result<MessageId>;

    /// Starts a consumer that holds at most `prefetch` unsettled deliveries at a
    /// time. Dropping the [`Consumer`] hands its unsettled deliveries back to the
    /// queue, to be redelivered to other consumers.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`](crate::Error::Invalid) for a zero prefetch;
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn consume(&self, prefetch: u16) -> Result<Consumer>;

    /// Up to `limit` dead letters, oldest first.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>>;

    /// Moves dead letter `id` back into the queue with a fresh delivery count.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) when no dead letter has this
    /// id (never dead-lettered, or already re-driven);
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn redrive(&self, id: &MessageId) -> Result<()>;

    /// Whether the backend is reachable now (readiness). The default answers Ok.
    ///
    /// # Errors
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    /// How many messages wait (ready or delayed) and how many are dead (metrics).
    ///
    /// # Errors
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn depth(&self) -> Result<Depth> {
        Ok(Depth::default())
    }
}

/// Messages held by a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Depth {
    /// Waiting to be delivered, now or after a delay.
    pub ready: u64,
    /// In the dead-letter store.
    pub dead: u64,
}

#[async_trait::async_trait]
impl<Q: Queue + ?Sized> Queue for Arc<Q> {
    async fn publish(&self, task: Task, delay: Option<Duration>) -> Result<MessageId> {
        (**self).publish(task, delay).await
    }
    async fn consume(&self, prefetch: u16) -> Result<Consumer> {
        (**self).consume(prefetch).await
    }
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>> {
        (**self).dead_letters(limit).await
    }
    async fn redrive(&self, id: &MessageId) -> Result<()> {
        (**self).redrive(id).await
    }
    async fn ping(&self) -> Result<()> {
        (**self).ping().await
    }
    async fn depth(&self) -> Result<Depth> {
        (**self).depth().await
    }
}

/// A stream of [`Delivery`] values from [`Queue::consume`].
///
/// `None` means the queue closed the consumer (shut down, or cancelled by the
/// broker); an `Err` item is a backend failure, after which the caller may keep
/// polling (adapters recover) or drop the consumer. [`Consumer::next`] is
/// cancel-safe: a `next()` abandoned in a `select!` or a timeout loses nothing.
pub struct Consumer {
    inner: BoxStream<'static, Result<Delivery>>,
}

impl Consumer {
    /// Wraps an adapter's stream. Dropping the stream must hand every unsettled
    /// delivery it produced back to the queue.
    pub fn new(stream: impl Stream<Item = Result<Delivery>> + Send + 'static) -> Self {
        Self {
            inner: stream.boxed(),
        }
    }

    /// The next delivery; waits while the queue is empty or this consumer holds
    /// its full prefetch.
    pub async fn next(&mut self) -> Option<Result<Delivery>> {
        self.inner.next().await
    }
}

impl Stream for Consumer {
    type Item = Result<Delivery>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// One delivery of a message to a consumer. Settle it exactly once with
/// [`ack`](Delivery::ack), [`nack`](Delivery::nack) or
/// [`retry_after`](Delivery::retry_after); a delivery dropped unsettled is
/// handed back as if `nack(true)`.
///
/// A delivery that is not settled within the queue's ack timeout is handed back
/// and redelivered, possibly while the first consumer is still working on it.
/// The queue cannot prevent that; the engine does: the worker takes the step's
/// lease in the database before running it, so the second delivery finds the
/// lease held and is acked without running the step again.
pub struct Delivery {
    id: MessageId,
    task: Arc<Task>,
    deliveries: u32,
    acker: Box<dyn Acker>,
}

impl Delivery {
    /// Built by adapters. `deliveries` counts this delivery (1 on the first).
    pub fn new(id: MessageId, task: Arc<Task>, deliveries: u32, acker: Box<dyn Acker>) -> Self {
        Self {
            id,
            task,
            deliveries,
            acker,
        }
    }

    /// The message's id, stable across redeliveries.
    pub fn id(&self) -> &MessageId {
        &self.id
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// How many times this message has been delivered, this time included.
    pub fn deliveries(&self) -> u32 {
        self.deliveries
    }

    /// Whether an earlier delivery of this message went unacknowledged.
    pub fn redelivered(&self) -> bool {
        self.deliveries > 1
    }

    /// Done: the message leaves the queue. Call it after the step's result has
    /// committed.
    ///
    /// # Errors
    ///
    /// [`Error::Stale`](crate::Error::Stale) when the delivery was already
    /// handed back (ack timeout, consumer dropped): the message will be, or has
    /// been, delivered again.
    pub async fn ack(self) -> Result<()> {
        self.acker.settle(Outcome::Ack).await
    }

    /// Not done. `requeue`: deliver it again (this counts towards the delivery
    /// limit); otherwise move it to the dead-letter store at once.
    ///
    /// # Errors
    ///
    /// As [`Delivery::ack`].
    pub async fn nack(self, requeue: bool) -> Result<()> {
        let outcome = if requeue {
            Outcome::Requeue { delay: None }
        } else {
            Outcome::Reject
        };
        self.acker.settle(outcome).await
    }

    /// Not done yet: deliver it again no earlier than `delay` from now. Counts
    /// towards the delivery limit like `nack(true)`; to defer without counting
    /// (a concurrency limit), publish a fresh task and ack this one.
    ///
    /// # Errors
    ///
    /// As [`Delivery::ack`].
    pub async fn retry_after(self, delay: Duration) -> Result<()> {
        self.acker
            .settle(Outcome::Requeue { delay: Some(delay) })
            .await
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("id", &self.id)
            .field("task", &self.task)
            .field("deliveries", &self.deliveries)
            .finish_non_exhaustive()
    }
}

/// How a delivery is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Remove the message.
    Ack,
    /// Deliver it again, after `delay` if given. Counts towards the delivery limit.
    Requeue {
        /// Earliest redelivery, from now.
        delay: Option<Duration>,
    },
    /// Dead-letter it now.
    Reject,
}

/// The adapter's side of a [`Delivery`]: settles it with the backend.
///
/// Contract: `settle` answers [`Error::Stale`](crate::Error::Stale) when the
/// delivery is no longer held; dropping an acker that was never settled hands
/// the message back as [`Outcome::Requeue`] without delay (best effort, e.g. a
/// spawned nack for a broker).
pub trait Acker: Send + Sync + 'static {
    /// Settles the delivery.
    fn settle(self: Box<Self>, outcome: Outcome) -> BoxFuture<'static, Result<()>>;
}

/// A message that was given up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The message's id; pass it to [`Queue::redrive`].
    pub id: MessageId,
    /// The task it carried.
    pub task: Task,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// Why it was dead-lettered.
    pub reason: DeadReason,
    /// When it was dead-lettered.
    pub at: SystemTime,
}

/// Why a message was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadReason {
    /// A consumer settled it with `nack(false)`.
    Rejected,
    /// It was delivered the maximum number of times without an ack (a poison
    /// message: the worker crashes, times out or gives it back every time).
    DeliveryLimit,
}
