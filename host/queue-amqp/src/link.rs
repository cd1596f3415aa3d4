//! The connection, the confirm channel, the topology, and the operations
//! that publish: tasks, delayed tasks, dead letters.

use crate::message::{self, DEAD_AT, DELIVERIES, REASON};
use crate::{Options, QueueType};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::tcp::OwnedTLSConfig;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, DefaultConnectionBuilder};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use weft_queue::{DeadLetter, DeadReason, Depth, Error, MessageId, Result};

/// A live connection and its publishing channel (publisher confirms on).
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) conn: Arc<Connection>,
    pub(crate) publish: Channel,
}

struct Reconnect {
    link: Option<Link>,
    /// No attempt before this.
    next_try: Instant,
    backoff: Duration,
}

pub(crate) struct Inner {
    pub(crate) options: Options,
    /// Read and checked once, at connect.
    tls: OwnedTLSConfig,
    state: Mutex<Reconnect>,
    ids: AtomicU64,
    /// Makes message ids unique across processes.
    instance: String,
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("rabbitmq: {e}"))
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The delay queue a delay goes to: rounded up so that jittered retries share
/// a few queues.
pub(crate) fn bucket(delay: Duration) -> u64 {
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).max(1);
    let step = if ms < 1_000 {
        10
    } else if ms < 60_000 {
        100
    } else {
        1_000
    };
    ms.div_ceil(step) * step
}

impl Inner {
    pub(crate) fn new(options: Options, tls: OwnedTLSConfig) -> Self {
        let instance = format!(
            "{:x}{:x}",
            now_ms(),
            std::process::id() ^ (SystemTime::now().elapsed().map_or(0, |d| d.subsec_nanos()))
        );
        Self {
            options,
            tls,
            state: Mutex::new(Reconnect {
                link: None,
                next_try: Instant::now(),
                backoff: Duration::from_millis(100),
            }),
            ids: AtomicU64::new(0),
            instance,
        }
    }

    pub(crate) fn new_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.instance)
    }

    pub(crate) fn tasks(&self) -> String {
        format!("{}.tasks", self.options.prefix)
    }

    pub(crate) fn dead(&self) -> String {
        format!("{}.dead", self.options.prefix)
    }

    /// The live link, reconnecting (and declaring the topology) when the last
    /// one died, at most once per backoff interval.
    pub(crate) async fn link(&self) -> Result<Link> {
        let mut s = self.state.lock().await;
        if let Some(l) = &s.link {
            if l.conn.status().connected() && l.publish.status().connected() {
                return Ok(l.clone());
            }
            s.link = None;
        }
        let now = Instant::now();
        if now < s.next_try {
            return Err(Error::Unavailable(
                "rabbitmq: not connected; reconnecting".into(),
            ));
        }
        match self.open().await {
            Ok(l) => {
                s.link = Some(l.clone());
                s.backoff = Duration::from_millis(100);
                Ok(l)
            }
            Err(e) => {
                s.next_try = now + s.backoff;
                s.backoff = (s.backoff * 2).min(self.options.reconnect_max_backoff);
                tracing::warn!(error = %e, "rabbitmq connection failed");
                Err(e)
            }
        }
    }

    /// Forgets a link that failed, so the next call reconnects.
    pub(crate) async fn broken(&self) {
        let mut s = self.state.lock().await;
        if let Some(l) = &s.link
            && !(l.conn.status().connected() && l.publish.status().connected())
        {
            s.link = None;
        }
    }

    async fn open(&self) -> Result<Link> {
        let conn = DefaultConnectionBuilder::new()
            .map_err(unavailable)?
            .with_uri_str(self.options.url.clone())
            .with_properties(ConnectionProperties::default())
            .with_tls_config(self.tls.clone())
            .connect()
            .await
            .map_err(|e| {
                if crate::tls::is_amqps(&self.options.url) {
                    unavailable(format!(
                        "{e} (over TLS; the broker's certificate was checked against {})",
                        crate::tls::trust(&self.options)
                    ))
                } else {
                    unavailable(e)
                }
            })?;
        let publish = conn.create_channel().await.map_err(unavailable)?;
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(unavailable)?;
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(self.dead().into()),
        );
        if self.options.queue_type == QueueType::Quorum {
            args.insert(
                "x-queue-type".into(),
                AMQPValue::LongString("quorum".into()),
            );
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(self.options.max_deliveries)),
            );
        }
        publish
            .queue_declare(self.tasks().as_str().into(), durable, args)
            .await
            .map_err(|e| {
                Error::Unavailable(format!(
                    "rabbitmq: cannot declare queue {} (an existing queue of another type \
                     or with other arguments?): {e}",
                    self.tasks()
                ))
            })?;
        publish
            .queue_declare(self.dead().as_str().into(), durable, FieldTable::default())
            .await
            .map_err(unavailable)?;
        Ok(Link {
            conn: Arc::new(conn),
            publish,
        })
    }

    /// Publishes to `queue` through the confirm channel and waits for the confirm.
    async fn send(&self, queue: &str, id: &str, body: &[u8], headers: FieldTable) -> Result<()> {
        let link = self.link().await?;
        let result = async {
            let confirm = link
                .publish
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions::default(),
                    body,
                    message::properties(id, headers),
                )
                .await
                .map_err(unavailable)?
                .await
                .map_err(unavailable)?;
            if confirm.is_ack() {
                Ok(())
            } else {
                Err(Error::Unavailable(
                    "rabbitmq refused the message (publisher nack)".into(),
                ))
            }
        }
        .await;
        if result.is_err() {
            self.broken().await;
        }
        result
    }

    /// A task, now or after `delay`, that has been delivered `deliveries` times.
    pub(crate) async fn send_task(
        &self,
        id: &str,
        body: &[u8],
        deliveries: u32,
        delay: Option<Duration>,
    ) -> Result<()> {
        let headers = message::headers(deliveries);
        match delay.filter(|d| !d.is_zero()) {
            None => self.send(&self.tasks(), id, body, headers).await,
            Some(d) => {
                let queue = self.delay_queue(bucket(d)).await?;
                self.send(&queue, id, body, headers).await
            }
        }
    }

    /// Declares (idempotently) the holding queue for `ms`.
    async fn delay_queue(&self, ms: u64) -> Result<String> {
        let name = format!("{}.delay.{ms}", self.options.prefix);
        let link = self.link().await?;
        let ttl = i64::try_from(ms).unwrap_or(i64::MAX);
        let mut args = FieldTable::default();
        args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
        args.insert("x-expires".into(), AMQPValue::LongLongInt(ttl + 60_000));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("".into()),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(self.tasks().into()),
        );
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        if let Err(e) = link
            .publish
            .queue_declare(name.as_str().into(), options, args)
            .await
        {
            self.broken().await;
            return Err(unavailable(e));
        }
        Ok(name)
    }

    /// Moves a message to the dead-letter queue.
    pub(crate) async fn send_dead(
        &self,
        id: &str,
        body: &[u8],
        deliveries: u32,
        reason: DeadReason,
    ) -> Result<()> {
        let headers = message::dead_headers(deliveries, reason, now_ms());
        self.send(&self.dead(), id, body, headers).await
    }

    /// A message not settled: delivered again (counted), or dead-lettered
    /// when it has used up its deliveries.
    pub(crate) async fn hand_back(
        &self,
        id: &str,
        body: &[u8],
        deliveries: u32,
        delay: Option<Duration>,
    ) -> Result<()> {
        if deliveries >= self.options.max_deliveries {
            self.send_dead(id, body, deliveries, DeadReason::DeliveryLimit)
                .await
        } else {
            self.send_task(id, body, deliveries, delay).await
        }
    }

    /// Reads up to `limit` dead letters without taking them: they are fetched
    /// on a private channel and handed back when it closes. A connection that
    /// the broker closed under the read (a hard error raised by another
    /// channel's traffic, seen once in CI right after consumers were dropped:
    /// `CHANNEL_ERROR - expected 'channel.open'`) is opened again and the read
    /// done once more: it takes nothing, so it can be repeated.
    pub(crate) async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>> {
        match self.read_dead(limit).await {
            Err(Error::Unavailable(first)) => {
                tracing::warn!(error = %first, "reading dead letters failed; again on a new connection");
                self.broken().await;
                self.read_dead(limit).await
            }
            other => other,
        }
    }

    /// One read of [`Self::dead_letters`].
    async fn read_dead(&self, limit: usize) -> Result<Vec<DeadLetter>> {
        let link = self.link().await?;
        let channel = link.conn.create_channel().await.map_err(unavailable)?;
        let mut out = Vec::new();
        let result = async {
            while out.len() < limit {
                let Some(got) = channel
                    .basic_get(self.dead().as_str().into(), BasicGetOptions::default())
                    .await
                    .map_err(unavailable)?
                else {
                    break;
                };
                if let Some(d) = dead_letter(&got.delivery) {
                    out.push(d);
                }
            }
            Ok::<_, Error>(())
        }
        .await;
        let _ = channel.close(200, "listed".into()).await;
        result?;
        Ok(out)
    }

    /// Moves dead letter `id` back to the tasks queue with a fresh count.
    pub(crate) async fn redrive(&self, id: &str) -> Result<()> {
        let link = self.link().await?;
        let channel = link.conn.create_channel().await.map_err(unavailable)?;
        let result = async {
            loop {
                let Some(got) = channel
                    .basic_get(self.dead().as_str().into(), BasicGetOptions::default())
                    .await
                    .map_err(unavailable)?
                else {
                    return Err(Error::NotFound(MessageId::new(id)));
                };
                let d = &got.delivery;
                if message::message_id(&d.properties) != id {
                    continue;
                }
                self.send_task(id, &d.data, 0, None).await?;
                d.acker
                    .ack(lapin::options::BasicAckOptions::default())
                    .await
                    .map_err(unavailable)?;
                return Ok(());
            }
        }
        .await;
        let _ = channel.close(200, "redriven".into()).await;
        result
    }

    /// Messages waiting in the tasks queue and in the dead-letter queue
    /// (delayed messages in holding queues are not counted).
    pub(crate) async fn depth(&self) -> Result<Depth> {
        let link = self.link().await?;
        let passive = QueueDeclareOptions {
            passive: true,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let count = |name: String| {
            let ch = link.publish.clone();
            async move {
                ch.queue_declare(name.as_str().into(), passive, FieldTable::default())
                    .await
                    .map(|q| u64::from(q.message_count()))
                    .map_err(unavailable)
            }
        };
        let ready = count(self.tasks()).await;
        let dead = count(self.dead()).await;
        if ready.is_err() || dead.is_err() {
            self.broken().await;
        }
        Ok(Depth {
            ready: ready?,
            dead: dead?,
        })
    }
}

fn dead_letter(d: &lapin::message::Delivery) -> Option<DeadLetter> {
    let task = message::task(&d.data)?;
    let reason = match message::text(&d.properties, REASON).as_deref() {
        Some("rejected") => DeadReason::Rejected,
        _ => DeadReason::DeliveryLimit,
    };
    let at = message::int(&d.properties, DEAD_AT).unwrap_or(0);
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(at).unwrap_or(0));
    // Dead-lettered by the broker (quorum delivery limit): its count of returns.
    let deliveries = message::count(message::int(&d.properties, DELIVERIES)).max(message::count(
        message::int(&d.properties, "x-delivery-count"),
    ));
    Some(DeadLetter {
        id: MessageId::new(message::message_id(&d.properties)),
        task,
        deliveries,
        reason,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_share_buckets() {
        let ms = Duration::from_millis;
        assert_eq!(bucket(ms(0)), 10);
        assert_eq!(bucket(ms(501)), 510);
        assert_eq!(bucket(ms(1_000)), 1_000);
        assert_eq!(bucket(ms(1_001)), 1_100);
        assert_eq!(bucket(ms(59_999)), 60_000);
        assert_eq!(bucket(ms(61_001)), 62_000);
    }
}
