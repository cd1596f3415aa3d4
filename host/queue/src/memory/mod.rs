//! The in-process queue: the broker's semantics in memory, for embedded mode
//! (`weft serve`) and for tests.
//!
//! Ready messages are handed out round robin by tenant (a tenant's backlog
//! does not stand in front of another tenant's task), first in, first out
//! within a tenant.
//!
//! Nothing is persisted. That is by design: in embedded mode the database is the
//! source of truth, and on start-up the engine re-enqueues every step that is
//! due or whose lease has expired (see `docs/ENGINE.md`).
//!
//! Options -> [`Service`] -> [`Handle`]: the service owns the timer loop (delayed
//! messages, ack timeouts); the handle is a cheap `Clone` that implements
//! [`Queue`]. Publishing, consuming and settling never spawn a task: they take one
//! mutex for a few hundred nanoseconds and wake at most the consumers that can
//! use the change.

mod fair;
mod state;

use crate::{
    Acker, Consumer, DeadLetter, Delivery, Error, MessageId, Outcome, Queue, Result, Task,
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use state::{State, Take};
use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError, Weak},
    time::Duration,
};
use tokio::{sync::Notify, time::Instant};

/// Settings of the in-process queue. Plain data with defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// How long a delivery may stay unsettled before it is handed back and
    /// redelivered. Set it above the longest step timeout plus grace; the
    /// database lease, not this, guards against running a step twice.
    #[serde(with = "duration_ms", rename = "ack_timeout_ms")]
    pub ack_timeout: Duration,
    /// Deliveries of one message before it is dead-lettered instead of being
    /// delivered again (at least 1).
    pub max_deliveries: u32,
    /// Dead letters kept; the oldest is dropped beyond this.
    pub dead_letter_capacity: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(5 * 60),
            max_deliveries: 5,
            dead_letter_capacity: 10_000,
        }
    }
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock, so a poisoned lock still
        // guards a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle, consumer or delivery is gone: let the timer loop end.
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.timer().notify_one();
    }
}

/// The queue's timer loop. Build it, take [`Handle`]s, then run it (or call
/// [`Service::spawn`]). It ends by itself once every handle, consumer and
/// delivery is dropped.
pub struct Service {
    shared: Arc<Shared>,
    timer: Arc<Notify>,
}

impl Service {
    /// A queue with `options`.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for a zero `ack_timeout` or `max_deliveries`.
    pub fn new(options: Options) -> Result<Self> {
        if options.ack_timeout.is_zero() {
            return Err(Error::Invalid("ack_timeout must be greater than zero"));
        }
        if options.max_deliveries == 0 {
            return Err(Error::Invalid("max_deliveries must be at least 1"));
        }
        let timer = Arc::new(Notify::new());
        let state = State::new(&options, timer.clone());
        Ok(Self {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
            }),
            timer,
        })
    }

    /// A handle to the queue.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// Spawns [`Service::run`] on the current tokio runtime and returns a handle.
    pub fn spawn(self) -> Handle {
        let handle = self.handle();
        tokio::spawn(self.run());
        handle
    }

    /// Moves delayed messages to the ready queue when they are due and hands
    /// back deliveries whose ack timeout passed. Take a [`Handle`] first: the
    /// loop returns as soon as nothing refers to the queue any more.
    pub async fn run(self) {
        let Self { shared, timer } = self;
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        drop(shared);
        loop {
            let next = {
                let Some(shared) = weak.upgrade() else {
                    return;
                };
                shared.lock().tick(Instant::now())
            };
            match next {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = timer.notified() => {}
                    }
                }
                None => timer.notified().await,
            }
        }
    }
}

/// A cheap, cloneable handle to the in-process queue; implements [`Queue`].
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    /// Builds a queue with `options` and spawns its service on the current
    /// tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`Service::new`].
    pub fn start(options: Options) -> Result<Self> {
        Ok(Service::new(options)?.spawn())
    }
}

#[async_trait::async_trait]
impl Queue for Handle {
    async fn publish(&self, task: Task, delay: Option<Duration>) -> Result<MessageId> {
        task.check()?;
        Ok(self.shared.lock().publish(task, delay, Instant::now()))
    }

    async fn consume(&self, prefetch: u16) -> Result<Consumer> {
        if prefetch == 0 {
            return Err(Error::Invalid("prefetch must be at least 1"));
        }
        let (id, notify) = self.shared.lock().add_consumer(usize::from(prefetch));
        let consumer = MemoryConsumer {
            shared: self.shared.clone(),
            id,
            notify,
        };
        let stream = futures_util::stream::unfold(consumer, |mut consumer| async move {
            let delivery = consumer.next().await?;
            Some((Ok(delivery), consumer))
        });
        Ok(Consumer::new(stream))
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>> {
        Ok(self.shared.lock().dead_letters(limit))
    }

    async fn redrive(&self, id: &MessageId) -> Result<()> {
        self.shared.lock().redrive(id, Instant::now())
    }

    async fn depth(&self) -> Result<crate::Depth> {
        Ok(self.shared.lock().depth())
    }
}

struct MemoryConsumer {
    shared: Arc<Shared>,
    id: u64,
    notify: Arc<Notify>,
}

impl MemoryConsumer {
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            let take = self.shared.lock().take(self.id, Instant::now());
            match take {
                Take::Ready(id, task, deliveries, tag) => {
                    let acker = MemoryAcker {
                        shared: Some(self.shared.clone()),
                        tag,
                    };
                    return Some(Delivery::new(id, task, deliveries, Box::new(acker)));
                }
                Take::Gone => return None,
                Take::Wait => self.notify.notified().await,
            }
        }
    }
}

impl Drop for MemoryConsumer {
    fn drop(&mut self) {
        self.shared.lock().remove_consumer(self.id, Instant::now());
    }
}

struct MemoryAcker {
    /// `None` once settled.
    shared: Option<Arc<Shared>>,
    tag: u64,
}

impl Acker for MemoryAcker {
    fn settle(mut self: Box<Self>, outcome: Outcome) -> BoxFuture<'static, Result<()>> {
        let result = match self.shared.take() {
            Some(shared) => shared.lock().settle(self.tag, outcome, Instant::now()),
            None => Err(Error::Stale),
        };
        Box::pin(std::future::ready(result))
    }
}

impl Drop for MemoryAcker {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let requeue = Outcome::Requeue { delay: None };
            // `Stale`: already handed back (timeout or consumer gone); nothing to do.
            let _stale = shared.lock().settle(self.tag, requeue, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wake-up sent to a consumer that is dropped before it polls again is
    /// passed on, so the message does not sit while another consumer idles.
    #[tokio::test(start_paused = true)]
    async fn wake_of_a_dropped_consumer_is_passed_on() {
        let queue = Handle::start(Options::default()).unwrap();
        let mut first = queue.consume(1).await.unwrap();
        let mut second = queue.consume(1).await.unwrap();
        let tick = Duration::from_millis(1);
        // Both park, `first` registered first, so the publish wakes `first`.
        assert!(tokio::time::timeout(tick, first.next()).await.is_err());
        assert!(tokio::time::timeout(tick, second.next()).await.is_err());
        queue
            .publish(Task::new("t", "r", "s", 1), None)
            .await
            .unwrap();
        drop(first);
        let delivery = tokio::time::timeout(tick, second.next()).await;
        let delivery = delivery.expect("passed-on wake").unwrap().unwrap();
        assert_eq!(delivery.task().step_key, "s");
        assert!(!delivery.redelivered());
    }

    /// The timer loop ends once nothing refers to the queue.
    #[tokio::test(start_paused = true)]
    async fn service_ends_with_its_last_handle() {
        let service = Service::new(Options::default()).unwrap();
        let handle = service.handle();
        let run = tokio::spawn(service.run());
        handle
            .publish(Task::new("t", "r", "s", 1), Some(Duration::from_secs(60)))
            .await
            .unwrap();
        tokio::task::yield_now().await;
        assert!(!run.is_finished());
        drop(handle);
        tokio::time::timeout(Duration::from_millis(1), run)
            .await
            .expect("the service stops")
            .unwrap();
    }
}
