//! The RabbitMQ adapter of the queue port ([`weft_queue::Queue`]), on lapin.
//! It passes the port's conformance suite unchanged (`tests/conformance.rs`).
//!
//! ```no_run
//! use weft_queue::{Queue, Task};
//! use weft_queue_amqp::{Amqp, Options};
//!
//! # async fn demo() -> weft_queue::Result<()> {
//! let queue = Amqp::connect(Options::new("amqp://weft:secret@mq:5672/%2f")).await?;
//! queue.publish(Task::new("tenant", "run", "step", 1), None).await?;
//! # Ok(()) }
//! ```
//!
//! # Topology (declared by every process on connect; all durable)
//!
//! - `{prefix}.tasks`: the work queue, a **quorum queue** by default
//!   ([`QueueType::Classic`] as an option), with `x-delivery-limit` and a
//!   dead-letter route to `{prefix}.dead`.
//! - `{prefix}.dead`: the dead-letter store (a classic queue, so that listing
//!   it by `basic.get` and handing the messages back keeps their order).
//! - `{prefix}.delay.{ms}`: holding queues for delayed messages, one per delay
//!   bucket, with `x-message-ttl = ms` and a dead-letter route back to the
//!   tasks queue; `x-expires` removes an idle one. Delays are rounded up to 10
//!   ms below 1 s, 100 ms below 1 min and 1 s beyond, so retries with jitter
//!   share a few queues. (RabbitMQ's delayed-message plugin is not assumed.)
//!
//! Every message is persistent, carries the task as JSON, a `message-id` that
//! stays the same across redeliveries and re-drives, and the header
//! `x-weft-deliveries`. [`Queue::publish`] returns after the **publisher
//! confirm**; a broker nack or a lost connection is
//! [`Error::Unavailable`](weft_queue::Error::Unavailable).
//!
//! # Counting deliveries, poison messages
//!
//! A delivery's count is `x-weft-deliveries + 1`, plus the broker's own count
//! of returns (quorum queues' `x-delivery-count`; a classic queue only says
//! `redelivered`, which counts as one). Explicit hand-backs (`nack(true)`,
//! `retry_after`, the ack timeout, a dropped delivery) republish the message
//! with the count and ack the original, so they are counted exactly. A message
//! whose count would pass `max_deliveries` goes to `{prefix}.dead` instead,
//! with headers `x-weft-reason` (`delivery_limit` or, for `nack(false)`,
//! `rejected`) and `x-weft-deliveries`. A worker that crashes repeatedly
//! before acking is bounded by the quorum queue's `x-delivery-limit`, which
//! dead-letters through the same route; with classic queues only the engine's
//! own lease rule (a step that loses its worker 3 times fails `poison`) bounds
//! it.
//!
//! # TLS
//!
//! An `amqps://` URL connects over TLS (rustls): the broker's chain and host
//! name are verified against the system's roots plus [`Options::tls`]'s
//! `ca_file`, and its client certificate is presented when the broker asks
//! (e.g. `ssl_options.fail_if_no_peer_cert = true`).
//!
//! # Ack timeout, consumers, reconnection
//!
//! - The adapter enforces its own **ack timeout** (`Options::ack_timeout`,
//!   below the broker's `consumer_timeout`): a delivery not settled in time is
//!   handed back (counted) and settling it later answers
//!   [`Error::Stale`](weft_queue::Error::Stale).
//! - Each consumer has its own channel with `basic.qos(prefetch)`. Dropping it
//!   closes the channel; the broker hands its unacked messages to other
//!   consumers, and its deliveries answer `Stale`.
//! - **Reconnection**: when the connection drops (a broker restart), publishes
//!   fail with `Unavailable` and the next call reconnects (at most once per
//!   backoff interval, doubling up to `reconnect_max_backoff`); a consumer
//!   yields one `Err`, then re-subscribes by itself. Deliveries of the dead
//!   connection answer `Stale`; the broker redelivers them.

mod consumer;
mod link;
mod message;
mod tls;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use link::Inner;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use weft_queue::{Consumer, DeadLetter, Depth, Error, MessageId, Queue, Result, Task};

/// The work queue's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueType {
    /// Replicated, with a broker-side delivery limit (the default).
    Quorum,
    /// A classic durable queue.
    Classic,
}

/// How to reach the broker and what to declare there. Plain data with
/// defaults; it is the `[queue]` section of the binary's configuration file,
/// as it is (an empty `url` there means: no broker, the in-process queue).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// `amqp://user:password@host:port/vhost` (no default).
    pub url: String,
    /// Prefix of every queue name.
    pub prefix: String,
    /// `quorum` (default) or `classic`.
    pub queue_type: QueueType,
    /// A delivery not settled within this long is handed back (key
    /// `ack_timeout_ms`; keep it below the broker's `consumer_timeout`).
    #[serde(with = "weft_types::millis", rename = "ack_timeout_ms")]
    pub ack_timeout: Duration,
    /// Deliveries of a message before it is dead-lettered.
    pub max_deliveries: u32,
    /// Longest wait between two reconnection attempts (key
    /// `reconnect_max_backoff_ms`).
    #[serde(with = "weft_types::millis", rename = "reconnect_max_backoff_ms")]
    pub reconnect_max_backoff: Duration,
    /// `[queue.tls]`: the CA file and client certificate for TLS (turned on
    /// by an `amqps://` URL).
    pub tls: weft_tls::Files,
}

impl Options {
    /// Defaults for `url`: prefix `weft`, quorum, 15 min ack timeout (the
    /// broker's default `consumer_timeout` is 30 min), 5 deliveries.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            url: String::new(),
            prefix: "weft".into(),
            queue_type: QueueType::Quorum,
            ack_timeout: Duration::from_secs(15 * 60),
            max_deliveries: 5,
            reconnect_max_backoff: Duration::from_secs(5),
            tls: weft_tls::Files::default(),
        }
    }
}

/// The RabbitMQ queue.
#[derive(Clone)]
pub struct Amqp(Arc<Inner>);

impl std::fmt::Debug for Amqp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Amqp")
            .field("prefix", &self.0.options.prefix)
            .finish_non_exhaustive()
    }
}

impl Amqp {
    /// Connects and declares the topology.
    ///
    /// # Errors
    /// `Unavailable` when the broker cannot be reached, refuses the
    /// credentials, its certificate does not verify, or it holds the queues
    /// with other arguments (e.g. a classic queue where a quorum queue is
    /// configured); when a TLS file cannot be used (naming the option and
    /// the file).
    pub async fn connect(options: Options) -> Result<Self> {
        if options.max_deliveries == 0 {
            return Err(Error::Invalid("max_deliveries must be at least 1"));
        }
        let tls = tls::config(&options)?;
        let inner = Arc::new(Inner::new(options, tls));
        inner.link().await?;
        Ok(Self(inner))
    }
}

#[async_trait]
impl Queue for Amqp {
    async fn publish(&self, task: Task, delay: Option<Duration>) -> Result<MessageId> {
        task.check()?;
        let id = self.0.new_id();
        let body = message::body(&task)?;
        self.0.send_task(&id, &body, 0, delay).await?;
        Ok(MessageId::new(id))
    }

    async fn consume(&self, prefetch: u16) -> Result<Consumer> {
        if prefetch == 0 {
            return Err(Error::Invalid("prefetch must be at least 1"));
        }
        Ok(consumer::start(self.0.clone(), prefetch))
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>> {
        self.0.dead_letters(limit).await
    }

    async fn redrive(&self, id: &MessageId) -> Result<()> {
        self.0.redrive(id.as_str()).await
    }

    async fn ping(&self) -> Result<()> {
        self.0.link().await.map(|_| ())
    }

    async fn depth(&self) -> Result<Depth> {
        self.0.depth().await
    }
}

/// Boxed future of a settle.
type Settle = BoxFuture<'static, Result<()>>;
