//! A consumer: its own channel with `basic.qos(prefetch)`, re-subscribed after
//! a lost connection; and the acker behind each delivery (ack timeout, counted
//! hand-backs, `Stale` once handed back).

use crate::link::{Inner, Link};
use crate::{Settle, message};
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Consumer as LapinConsumer};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use weft_queue::{Acker, Consumer, DeadReason, Delivery, Error, MessageId, Outcome, Result};

/// Pause before re-subscribing after a failure.
const RETRY: Duration = Duration::from_millis(250);

struct Live {
    channel: Channel,
    stream: LapinConsumer,
    /// False once the channel is closed (consumer dropped or connection lost):
    /// its deliveries then answer `Stale`.
    open: Arc<AtomicBool>,
}

struct State {
    inner: Arc<Inner>,
    prefetch: u16,
    live: Option<Live>,
    failed: bool,
}

impl Drop for State {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            live.open.store(false, Ordering::SeqCst);
            let channel = live.channel;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let _ = channel.close(200, "consumer dropped".into()).await;
                });
            }
        }
    }
}

pub(crate) fn start(inner: Arc<Inner>, prefetch: u16) -> Consumer {
    let state = State {
        inner,
        prefetch,
        live: None,
        failed: false,
    };
    Consumer::new(futures_util::stream::unfold(state, |mut st| async move {
        let item = st.next().await;
        Some((item, st))
    }))
}

impl State {
    async fn subscribe(&self, link: &Link) -> Result<Live> {
        let channel = link
            .conn
            .create_channel()
            .await
            .map_err(|e| Error::Unavailable(format!("rabbitmq: {e}")))?;
        channel
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await
            .map_err(|e| Error::Unavailable(format!("rabbitmq: {e}")))?;
        let stream = channel
            .basic_consume(
                self.inner.tasks().as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| Error::Unavailable(format!("rabbitmq: {e}")))?;
        Ok(Live {
            channel,
            stream,
            open: Arc::new(AtomicBool::new(true)),
        })
    }

    /// The next delivery; on a failure, one `Err`, then a new subscription.
    async fn next(&mut self) -> Result<Delivery> {
        loop {
            if self.live.is_none() {
                if self.failed {
                    tokio::time::sleep(RETRY).await;
                }
                let subscribed = match self.inner.link().await {
                    Ok(link) => self.subscribe(&link).await,
                    Err(e) => Err(e),
                };
                match subscribed {
                    Ok(l) => {
                        self.live = Some(l);
                        self.failed = false;
                    }
                    Err(e) => {
                        self.failed = true;
                        return Err(e);
                    }
                }
            }
            let Some(live) = self.live.as_mut() else {
                continue;
            };
            match live.stream.next().await {
                Some(Ok(d)) => {
                    if let Some(delivery) = self.convert(d).await {
                        return Ok(delivery);
                    }
                }
                other => {
                    if let Some(l) = self.live.take() {
                        l.open.store(false, Ordering::SeqCst);
                    }
                    self.inner.broken().await;
                    self.failed = true;
                    let why = match other {
                        Some(Err(e)) => e.to_string(),
                        _ => "the broker cancelled the consumer".into(),
                    };
                    return Err(Error::Unavailable(format!(
                        "rabbitmq consumer lost ({why}); re-subscribing"
                    )));
                }
            }
        }
    }

    /// A broker delivery as a port delivery; `None` when the adapter settled
    /// it itself (over the delivery limit, or not a task).
    async fn convert(&self, d: lapin::message::Delivery) -> Option<Delivery> {
        let live = self.live.as_ref()?;
        let id = message::message_id(&d.properties);
        let earlier = message::count(message::int(&d.properties, message::DELIVERIES));
        let returns = match message::int(&d.properties, "x-delivery-count") {
            Some(n) => message::count(Some(n)),
            None => u32::from(d.redelivered),
        };
        let deliveries = earlier + returns + 1;
        let Some(task) = message::task(&d.data) else {
            tracing::warn!(message.id = %id, "not a task; dead-lettered");
            let _ = self
                .inner
                .send_dead(&id, &d.data, deliveries, DeadReason::Rejected)
                .await;
            let _ = d.acker.ack(BasicAckOptions::default()).await;
            return None;
        };
        if deliveries > self.inner.options.max_deliveries {
            // Returned by crashed consumers until over the limit.
            let dead = self
                .inner
                .send_dead(&id, &d.data, deliveries - 1, DeadReason::DeliveryLimit)
                .await;
            if dead.is_ok() {
                let _ = d.acker.ack(BasicAckOptions::default()).await;
            }
            return None;
        }
        let held = Arc::new(Held {
            inner: self.inner.clone(),
            id: id.clone(),
            body: d.data,
            deliveries,
            acker: d.acker,
            open: live.open.clone(),
            settled: AtomicBool::new(false),
        });
        let timer = {
            let held = held.clone();
            let after = self.inner.options.ack_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if !held.settled.swap(true, Ordering::SeqCst) {
                    held.hand_back(None).await;
                }
            })
        };
        Some(Delivery::new(
            MessageId::new(id),
            Arc::new(task),
            deliveries,
            Box::new(AmqpAcker {
                held,
                timer: Some(timer),
            }),
        ))
    }
}

/// What a delivery needs to be settled, shared with its ack-timeout timer.
struct Held {
    inner: Arc<Inner>,
    id: String,
    body: Vec<u8>,
    deliveries: u32,
    acker: lapin::Acker,
    open: Arc<AtomicBool>,
    settled: AtomicBool,
}

impl Held {
    /// Republishes (counted) or dead-letters, then acks the original; a failure
    /// leaves the original to the broker, which redelivers it.
    async fn hand_back(&self, delay: Option<Duration>) {
        if !self.open.load(Ordering::SeqCst) {
            return;
        }
        match self
            .inner
            .hand_back(&self.id, &self.body, self.deliveries, delay)
            .await
        {
            Ok(()) => {
                let _ = self.acker.ack(BasicAckOptions::default()).await;
            }
            Err(e) => {
                tracing::warn!(message.id = %self.id, error = %e, "hand-back failed; the broker redelivers");
            }
        }
    }

    async fn settle(&self, outcome: Outcome) -> Result<()> {
        if !self.open.load(Ordering::SeqCst) {
            return Err(Error::Stale);
        }
        match outcome {
            Outcome::Ack => {}
            Outcome::Requeue { delay } => {
                self.inner
                    .hand_back(&self.id, &self.body, self.deliveries, delay)
                    .await?;
            }
            Outcome::Reject => {
                self.inner
                    .send_dead(&self.id, &self.body, self.deliveries, DeadReason::Rejected)
                    .await?;
            }
        }
        // The original leaves the queue (a hand-back already published its copy).
        self.acker
            .ack(BasicAckOptions::default())
            .await
            .map(|_| ())
            .map_err(|_| Error::Stale)
    }
}

struct AmqpAcker {
    held: Arc<Held>,
    timer: Option<JoinHandle<()>>,
}

impl Acker for AmqpAcker {
    fn settle(mut self: Box<Self>, outcome: Outcome) -> Settle {
        if let Some(t) = self.timer.take() {
            t.abort();
        }
        let held = self.held.clone();
        Box::pin(async move {
            if held.settled.swap(true, Ordering::SeqCst) {
                return Err(Error::Stale);
            }
            held.settle(outcome).await
        })
    }
}

impl Drop for AmqpAcker {
    fn drop(&mut self) {
        // Settled: `settle` took the timer. Dropped unsettled: hand it back now.
        if let Some(t) = self.timer.take() {
            t.abort();
            if !self.held.settled.swap(true, Ordering::SeqCst) {
                let held = self.held.clone();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move { held.hand_back(None).await });
                }
            }
        }
    }
}
