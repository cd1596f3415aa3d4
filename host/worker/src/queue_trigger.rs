//! Queue triggers (`triggers.queue`): a consumer per armed workflow on the
//! tenant's own RabbitMQ queue, one run per message.
//!
//! - **Where**: every worker runs [`Handle::queue_trigger_loop`]. It takes
//!   free consumer rows with a lease in the store
//!   ([`weft_store::queue_trigger`]), at most
//!   `worker.max_queue_consumers_per_tenant` live leases per tenant across
//!   all workers, and renews them while it consumes; a worker that dies
//!   leaves its rows free when their leases lapse and another takes them
//!   over. A disarmed row (the workflow paused, deleted, or its new version
//!   has no `triggers.queue`) is not renewed: its consumer stops within a
//!   renewal period.
//! - **Connecting**: the workflow's `amqp` credential gives the URL (without
//!   the password) and, sealed, the password. The broker's host must be one
//!   of the credential's `hosts`, and each of its addresses passes the same
//!   egress policy as a plugin's request (no metadata address; no private or
//!   loopback one unless `sandbox.egress.allow_private`). `amqps://` is TLS
//!   through lapin's rustls, the broker's chain and name checked against the
//!   system's roots. A failed connect or a lost connection is retried with a
//!   doubling backoff (1 s up to a minute) and shown on the workflow; the
//!   password never appears in an error.
//! - **A message**: its body (JSON when it parses as JSON, else the text, or
//!   base64 when not UTF-8) and its properties become the run's trigger
//!   (`{body, properties}`); the run is started (the tenant's quotas
//!   admitted) and **acknowledged only once its creation is committed**. A
//!   message with a `message_id` is recorded as a delivery with the run
//!   (the webhook's dedupe): a redelivery of a message whose run was
//!   committed (a crash between the commit and the ack) starts no second
//!   run and is acknowledged. Without a `message_id`, delivery is
//!   at-least-once.
//! - **Failures**: a message that cannot become a run (the store refused,
//!   the quota is reached, ...) is returned to the queue (nack, requeue)
//!   after a short pause, until it was delivered `max_attempts` times; then
//!   it is rejected without requeue, which the broker dead-letters to the
//!   queue's own `x-dead-letter-exchange`. A message over
//!   [`MAX_MESSAGE_BYTES`] is rejected at once. Deliveries are counted from
//!   the `x-delivery-count` header (quorum queues), else by this consumer
//!   per message id (or body digest) while it runs, starting from 2 for a
//!   message the broker marks redelivered.

use crate::{Error, Handle, Result, new_id};
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, ConnectionProperties, DefaultConnectionBuilder};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use weft_store::queue_trigger::{QueueConsumer, QueueReport};
use weft_types::{HostPattern, Injection, QueueTrigger, Trigger, Workflow};

/// How long a lease lasts; renewed every third of it.
pub const LEASE_MS: i64 = 15_000;
/// How often a worker looks for free consumer rows.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// The largest message body a run is started from; a larger one is
/// rejected (dead-lettered) at once.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Per-message delivery counts kept by a consumer (for queues without
/// `x-delivery-count`); forgotten all at once beyond.
const COUNTS_KEPT: usize = 10_000;

/// Why a consumer stopped or must reconnect.
enum Stop {
    /// Shut down, lease lost, or the workflow no longer consumes: stop.
    Done,
    /// The connection failed or was lost: report and try again.
    Retry(String),
}

/// What became of one message.
enum Outcome {
    /// A run was committed (or had been, for this message id): acked.
    Accepted,
    /// Could not become a run: returned or, over the budget, dead-lettered.
    Failed(String),
    /// Can never become a run: dead-lettered at once.
    Refused(String),
}

impl Handle {
    /// Takes free queue consumers (within the per-tenant cap) and runs them
    /// until `shutdown`; then stops them and releases their leases.
    pub(crate) async fn queue_trigger_loop(self, shutdown: CancellationToken) {
        let me = new_id("qc");
        let mut running: HashMap<(String, String), tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            running.retain(|_, h| !h.is_finished());
            if let Err(e) = self.take_free_consumers(&me, &mut running, &shutdown).await {
                tracing::debug!(error = %e, "queue consumers not looked for");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
        for (_, h) in running {
            let _ = h.await;
        }
    }

    async fn take_free_consumers(
        &self,
        me: &str,
        running: &mut HashMap<(String, String), tokio::task::JoinHandle<()>>,
        shutdown: &CancellationToken,
    ) -> Result<()> {
        let now = crate::now_ms();
        let cap = self.options().max_queue_consumers_per_tenant;
        for row in self.store().free_queue_consumers(now, 100).await? {
            let key = (row.tenant_id.clone(), row.workflow_id.clone());
            if running.contains_key(&key) {
                continue;
            }
            if !self
                .store()
                .queue_lease(
                    &row.tenant_id,
                    &row.workflow_id,
                    me,
                    now,
                    now + LEASE_MS,
                    cap,
                )
                .await?
            {
                continue;
            }
            tracing::info!(
                tenant.id = %row.tenant_id,
                workflow.id = %row.workflow_id,
                "queue consumer taken"
            );
            let (this, owner, stop) = (self.clone(), me.to_owned(), shutdown.clone());
            running.insert(
                key,
                tokio::spawn(async move { this.run_consumer(row, owner, stop).await }),
            );
        }
        Ok(())
    }

    /// One leased consumer, until its lease is lost, its workflow stops
    /// consuming, or shutdown.
    async fn run_consumer(&self, row: QueueConsumer, owner: String, shutdown: CancellationToken) {
        let mut c = Consumer {
            tenant: row.tenant_id,
            workflow: row.workflow_id,
            owner,
            report: row.report,
            counts: HashMap::new(),
            backoff: Duration::from_secs(1),
        };
        c.report.consuming = false;
        loop {
            match self.consume(&mut c, &shutdown).await {
                Stop::Done => break,
                Stop::Retry(why) => {
                    c.report.consuming = false;
                    c.report.failures = c.report.failures.saturating_add(1);
                    tracing::warn!(
                        tenant.id = %c.tenant,
                        workflow.id = %c.workflow,
                        failures = c.report.failures,
                        retry_in_ms = c.backoff.as_millis() as u64,
                        error = %why,
                        "queue consumer not connected"
                    );
                    c.report.last_error = Some(why);
                    if !self.report(&c).await {
                        break;
                    }
                    // Wait, renewing the lease, then connect again.
                    let wait = c.backoff;
                    c.backoff = (c.backoff * 2).min(MAX_BACKOFF);
                    if !self.wait_renewing(&c, wait, &shutdown).await {
                        break;
                    }
                }
            }
        }
        let _ = self
            .store()
            .queue_release(&c.tenant, &c.workflow, &c.owner)
            .await;
        tracing::info!(tenant.id = %c.tenant, workflow.id = %c.workflow, "queue consumer stopped");
    }

    /// Renews the lease: false when it is lost (or the row disarmed).
    async fn renew(&self, c: &Consumer) -> bool {
        let now = crate::now_ms();
        let cap = self.options().max_queue_consumers_per_tenant;
        match self
            .store()
            .queue_lease(&c.tenant, &c.workflow, &c.owner, now, now + LEASE_MS, cap)
            .await
        {
            Ok(held) => held,
            // A store that does not answer: keep going until the lease
            // would have lapsed anyway (the next renewal tells).
            Err(e) => {
                tracing::warn!(workflow.id = %c.workflow, error = %e, "queue lease not renewed");
                true
            }
        }
    }

    /// Writes the consumer's report; false when the lease is lost.
    async fn report(&self, c: &Consumer) -> bool {
        self.store()
            .queue_report(&c.tenant, &c.workflow, &c.owner, &c.report)
            .await
            .unwrap_or(true)
    }

    /// Sleeps `wait`, renewing the lease; false when it should stop.
    async fn wait_renewing(&self, c: &Consumer, wait: Duration, stop: &CancellationToken) -> bool {
        let end = tokio::time::Instant::now() + wait;
        loop {
            let step = end
                .saturating_duration_since(tokio::time::Instant::now())
                .min(renew_every());
            if step.is_zero() {
                return true;
            }
            tokio::select! {
                () = stop.cancelled() => return false,
                () = tokio::time::sleep(step) => {}
            }
            if !self.renew(c).await {
                return false;
            }
        }
    }

    /// The workflow and its queue trigger, if it still consumes.
    async fn consuming(&self, c: &Consumer) -> Result<Option<(Workflow, QueueTrigger)>> {
        let Some(wf) = self.store().get_workflow(&c.tenant, &c.workflow).await? else {
            return Ok(None);
        };
        if !wf.active {
            return Ok(None);
        }
        let def = self.definition(&c.tenant, &wf.id, wf.version).await?;
        Ok(def.triggers.queue.clone().map(|q| (wf, q)))
    }

    /// Connects and consumes until something stops it.
    async fn consume(&self, c: &mut Consumer, stop: &CancellationToken) -> Stop {
        let (wf, trigger) = match self.consuming(c).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                // Paused, deleted or no longer a queue trigger: disarmed.
                let _ = self.store().queue_arm(&c.tenant, &c.workflow, false).await;
                return Stop::Done;
            }
            Err(e) => return Stop::Retry(format!("the workflow could not be read: {e}")),
        };
        let broker = match self.broker(&c.tenant, &trigger).await {
            Ok(b) => b,
            Err(why) => return Stop::Retry(why),
        };
        let conn = match DefaultConnectionBuilder::new() {
            Ok(b) => {
                b.with_uri_str(broker.uri.clone())
                    .with_properties(ConnectionProperties::default())
                    .connect()
                    .await
            }
            Err(e) => Err(e),
        };
        let conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                return Stop::Retry(broker.redact(&format!(
                    "cannot connect to {}{}: {e}",
                    broker.shown,
                    if broker.tls {
                        " (over TLS, its certificate checked against the system's roots)"
                    } else {
                        ""
                    }
                )));
            }
        };
        let subscribed = async {
            let ch = conn.create_channel().await?;
            ch.basic_qos(trigger.prefetch(), BasicQosOptions::default())
                .await?;
            let stream = ch
                .basic_consume(
                    trigger.queue.as_str().into(),
                    format!("weft-{}", c.workflow).as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            Ok::<_, lapin::Error>((ch, stream))
        }
        .await;
        let (_channel, mut stream) = match subscribed {
            Ok(v) => v,
            Err(e) => {
                let _ = conn.close(200, "".into()).await;
                return Stop::Retry(broker.redact(&format!(
                    "cannot consume queue `{}` on {}: {e}",
                    trigger.queue, broker.shown
                )));
            }
        };
        tracing::info!(
            tenant.id = %c.tenant,
            workflow.id = %c.workflow,
            broker = %broker.shown,
            queue = %trigger.queue,
            "queue consumer subscribed"
        );
        c.backoff = Duration::from_secs(1);
        c.report.consuming = true;
        c.report.last_error = None;
        c.report.failures = 0;
        if !self.report(c).await {
            let _ = conn.close(200, "".into()).await;
            return Stop::Done;
        }
        let mut tick = tokio::time::interval(renew_every());
        tick.tick().await;
        let out = loop {
            tokio::select! {
                () = stop.cancelled() => break Stop::Done,
                _ = tick.tick() => {
                    if !self.renew(c).await {
                        break Stop::Done;
                    }
                    match self.consuming(c).await {
                        Ok(Some((now_wf, _))) if now_wf.version == wf.version => {}
                        // A new version: consume again with its settings.
                        Ok(Some(_)) => break Stop::Retry("the workflow changed; reconnecting".into()),
                        Ok(None) => {
                            let _ = self.store().queue_arm(&c.tenant, &c.workflow, false).await;
                            break Stop::Done;
                        }
                        Err(e) => tracing::debug!(error = %e, "workflow not re-read"),
                    }
                    if !self.report(c).await {
                        break Stop::Done;
                    }
                }
                next = stream.next() => match next {
                    Some(Ok(d)) => {
                        self.on_message(c, &wf, &trigger, d).await;
                    }
                    Some(Err(e)) => break Stop::Retry(broker.redact(&format!(
                        "the connection to {} was lost: {e}", broker.shown
                    ))),
                    None => break Stop::Retry(format!(
                        "the broker cancelled the consumer of queue `{}` (deleted?)",
                        trigger.queue
                    )),
                },
            }
        };
        // Unacknowledged messages go back to the queue with the connection.
        let _ = conn.close(200, "".into()).await;
        out
    }

    /// The broker's URI (with the password) and how errors name it, after
    /// the credential and egress checks.
    async fn broker(&self, tenant: &str, trigger: &QueueTrigger) -> Result<Broker, String> {
        let name = &trigger.credential;
        let record = self
            .store()
            .credential_by_name(tenant, name)
            .await
            .map_err(|e| format!("credential `{name}` could not be read: {e}"))?
            .ok_or_else(|| format!("credential `{name}` does not exist"))?;
        let (plain, injection) = self
            .open_credential(&record)
            .await
            .map_err(|e| format!("credential `{name}` could not be opened: {e}"))?;
        let Injection::Amqp { url } = injection else {
            return Err(format!(
                "credential `{name}` is not an `amqp` login (its type is not `amqp`); \
                 a queue trigger needs one"
            ));
        };
        let password = String::from_utf8(plain.to_vec())
            .map_err(|_| format!("credential `{name}`: the password is not UTF-8"))?;
        let hosts: Vec<HostPattern> = record.hosts.iter().filter_map(|h| h.parse().ok()).collect();
        let allow_private = self.sandbox().egress().allow_private;
        let target = check_broker(&url, &hosts, allow_private)
            .map_err(|e| format!("credential `{name}`: {e}"))?;
        let addrs = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| format!("cannot resolve broker host `{}`: {e}", target.host))?
            .collect::<Vec<_>>();
        if addrs.is_empty() {
            return Err(format!("broker host `{}` has no address", target.host));
        }
        for a in &addrs {
            weft_sandbox::egress::policy::check_addr(canonical(a.ip()), allow_private).map_err(
                |why| {
                    format!(
                        "the broker {}:{} is refused by the egress policy: {why}",
                        target.host, target.port
                    )
                },
            )?;
        }
        let mut uri = target.url.clone();
        uri.set_password(Some(&password))
            .map_err(|()| format!("credential `{name}`: the URL takes no password"))?;
        if !target.tls {
            // Plain AMQP connects to the address just checked, not to a name
            // lapin would resolve again (DNS rebinding: a second answer could
            // be a private address). Over TLS the name stays: the broker must
            // prove it with its certificate, which an address a rebinding
            // answer points at cannot.
            uri.set_ip_host(addrs[0].ip())
                .map_err(|()| format!("credential `{name}`: the URL takes no address"))?;
        }
        Ok(Broker {
            uri: uri.to_string(),
            shown: target.url.to_string(),
            tls: target.tls,
            secrets: secrets_of(&password),
        })
    }

    /// Turns one delivery into a run, acks, nacks or rejects it, and
    /// updates the report.
    async fn on_message(&self, c: &mut Consumer, wf: &Workflow, t: &QueueTrigger, d: Delivery) {
        let now = crate::now_ms();
        c.report.last_message_at = Some(now);
        let id = d
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_owned());
        let deliveries = c.deliveries(&d, id.as_deref());
        if d.data.len() > MAX_MESSAGE_BYTES {
            let why = format!(
                "a message of {} bytes is over the limit of {MAX_MESSAGE_BYTES}; \
                 rejected to the queue's dead-letter exchange",
                d.data.len()
            );
            let _ = d.acker.reject(BasicRejectOptions { requeue: false }).await;
            self.message_failed(c, &why);
            return;
        }
        match self.accept(wf, &d, id.as_deref(), now).await {
            Outcome::Accepted => {
                if let Err(e) = d.acker.ack(BasicAckOptions::default()).await {
                    // The run stands; the broker redelivers and the message
                    // id (if any) dedupes it.
                    tracing::warn!(workflow.id = %wf.id, error = %e, "queue message not acked");
                }
                c.forget(&d, id.as_deref());
                if c.report.last_error.is_some() || c.report.failures > 0 {
                    c.report.last_error = None;
                    c.report.failures = 0;
                    self.report(c).await;
                }
            }
            Outcome::Refused(why) => {
                let why = format!("{why}; rejected to the queue's dead-letter exchange");
                let _ = d.acker.reject(BasicRejectOptions { requeue: false }).await;
                c.forget(&d, id.as_deref());
                self.message_failed(c, &why);
                self.report(c).await;
            }
            Outcome::Failed(why) => {
                if deliveries >= t.max_attempts() {
                    let why = format!(
                        "{why} (delivery {deliveries} of {}: rejected to the queue's \
                         dead-letter exchange)",
                        t.max_attempts()
                    );
                    let _ = d.acker.reject(BasicRejectOptions { requeue: false }).await;
                    c.forget(&d, id.as_deref());
                    self.message_failed(c, &why);
                } else {
                    let why = format!(
                        "{why} (delivery {deliveries} of {}: returned to the queue)",
                        t.max_attempts()
                    );
                    self.message_failed(c, &why);
                    // A pause, so a failing message is not spun on.
                    let pause = Duration::from_millis(200 * u64::from(deliveries.min(25)));
                    tokio::time::sleep(pause).await;
                    let _ = d
                        .acker
                        .nack(BasicNackOptions {
                            requeue: true,
                            multiple: false,
                        })
                        .await;
                }
                self.report(c).await;
            }
        }
    }

    fn message_failed(&self, c: &mut Consumer, why: &str) {
        c.report.failures = c.report.failures.saturating_add(1);
        c.report.last_error = Some(why.to_owned());
        tracing::warn!(
            tenant.id = %c.tenant,
            workflow.id = %c.workflow,
            failures = c.report.failures,
            error = %why,
            "queue message did not start a run"
        );
    }

    /// Starts the message's run; `Accepted` once its creation is committed.
    async fn accept(&self, wf: &Workflow, d: &Delivery, id: Option<&str>, now: i64) -> Outcome {
        let input = json!({
            "body": body_of(&d.properties, &d.data),
            "properties": properties_of(d),
        });
        let delivery = id.filter(|i| !i.is_empty()).map(|i| {
            let retention = self.options().webhook_delivery_retention_ms;
            weft_store::Delivery {
                tenant_id: wf.tenant_id.clone(),
                workflow_id: wf.id.clone(),
                delivery_id: delivery_id(i),
                run_id: String::new(),
                body_sha256: hex::encode(Sha256::digest(&d.data)),
                created_at: now,
                expires_at: now.saturating_add(i64::try_from(retention).unwrap_or(i64::MAX)),
            }
        });
        match self
            .start_with(&wf.tenant_id, wf, Trigger::Queue, input, None, delivery)
            .await
        {
            Ok(run) => {
                tracing::debug!(workflow.id = %wf.id, run.id = %run.id, "queue message started a run");
                Outcome::Accepted
            }
            // This message id's run was committed before: a redelivery if
            // the body is the same byte for byte; another message reusing
            // the id is refused, as a webhook delivery id is.
            Err(Error::Store(weft_store::Error::Duplicate(_))) => {
                let i = id.unwrap_or_default();
                let seen = self
                    .store()
                    .get_delivery(&wf.tenant_id, &wf.id, &delivery_id(i), now)
                    .await;
                if let Ok(Some(first)) = seen
                    && first.body_sha256 != hex::encode(Sha256::digest(&d.data))
                {
                    return Outcome::Refused(format!(
                        "message id `{i}` was already used by a message with another body \
                         (a redelivery repeats the body byte for byte; give a new message \
                         a new id)"
                    ));
                }
                tracing::info!(
                    workflow.id = %wf.id,
                    message.id = id.unwrap_or_default(),
                    "queue message seen before; acked without a second run"
                );
                Outcome::Accepted
            }
            Err(e) => Outcome::Failed(format!("the run was not started: {e}")),
        }
    }
}

/// The renewal period.
fn renew_every() -> Duration {
    Duration::from_millis(u64::try_from(LEASE_MS / 3).unwrap_or(5_000))
}

/// One consumer's state while it runs.
struct Consumer {
    tenant: String,
    workflow: String,
    owner: String,
    report: QueueReport,
    /// Deliveries seen per message (queues without `x-delivery-count`).
    counts: HashMap<String, u32>,
    backoff: Duration,
}

impl Consumer {
    /// Which delivery of its message `d` is (1 for the first).
    fn deliveries(&mut self, d: &Delivery, id: Option<&str>) -> u32 {
        if let Some(n) = header_int(&d.properties, "x-delivery-count") {
            return u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1);
        }
        if self.counts.len() >= COUNTS_KEPT {
            self.counts.clear();
        }
        let n = self.counts.entry(count_key(d, id)).or_insert(0);
        *n = n.saturating_add(1);
        if d.redelivered && *n == 1 {
            *n = 2;
        }
        *n
    }

    fn forget(&mut self, d: &Delivery, id: Option<&str>) {
        self.counts.remove(&count_key(d, id));
    }
}

fn count_key(d: &Delivery, id: Option<&str>) -> String {
    match id {
        Some(i) if !i.is_empty() => format!("id:{i}"),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(&d.data))),
    }
}

/// The delivery id a message id is recorded under (hashed when longer than
/// a delivery id may be).
fn delivery_id(message_id: &str) -> String {
    let id = format!("amqp:{message_id}");
    if id.len() <= weft_types::webhook::MAX_DELIVERY_ID {
        id
    } else {
        format!("amqp-sha256:{}", hex::encode(Sha256::digest(message_id)))
    }
}

/// A broker to connect to.
struct Broker {
    /// With the password.
    uri: String,
    /// Without it.
    shown: String,
    tls: bool,
    /// What must never appear in an error: the password, raw and encoded.
    secrets: Vec<String>,
}

impl Broker {
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if !s.is_empty() {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

fn secrets_of(password: &str) -> Vec<String> {
    let mut u = url::Url::parse("amqp://h").unwrap_or_else(|_| unreachable_url());
    let encoded = match u.set_password(Some(password)) {
        Ok(()) => u.password().unwrap_or_default().to_owned(),
        Err(()) => String::new(),
    };
    vec![password.to_owned(), encoded]
}

fn unreachable_url() -> url::Url {
    // `amqp://h` always parses; this is never called.
    url::Url::parse("http://localhost").unwrap_or_else(|_| std::process::abort())
}

/// A checked broker URL.
#[derive(Debug)]
pub struct BrokerTarget {
    /// The URL, without a password.
    pub url: url::Url,
    /// Its host, lowercase, without brackets.
    pub host: String,
    /// Its port (5672 or 5671 by default).
    pub port: u16,
    /// `amqps://`.
    pub tls: bool,
}

/// [`check_broker_url`], and plain `amqp://` only where private addresses
/// are allowed: like a plugin's request, which carries a secret only over
/// TLS elsewhere, a login goes over the network in clear on plain AMQP.
///
/// # Errors
/// What is wrong.
pub fn check_broker(
    raw: &str,
    hosts: &[HostPattern],
    allow_private: bool,
) -> Result<BrokerTarget, String> {
    let target = check_broker_url(raw, hosts)?;
    if !target.tls && !allow_private {
        return Err(format!(
            "`amqp://` sends the login in clear: use `amqps://` (TLS) for {}:{}",
            target.host, target.port
        ));
    }
    Ok(target)
}

/// Checks an `amqp` credential's URL: the scheme, no password in it, a
/// host that is no metadata endpoint nor (as an IP literal) refused by the
/// policy's address check, and one of the credential's `hosts`.
///
/// # Errors
/// What is wrong, for the workflow's status.
pub fn check_broker_url(raw: &str, hosts: &[HostPattern]) -> Result<BrokerTarget, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("the URL does not parse: {e}"))?;
    let tls = match url.scheme() {
        "amqp" => false,
        "amqps" => true,
        other => {
            return Err(format!(
                "scheme `{other}` is not an AMQP one; use amqp:// or amqps://"
            ));
        }
    };
    if url.password().is_some() {
        return Err(
            "the URL carries a password: keep it out of the URL, it is the credential's secret"
                .into(),
        );
    }
    let port = url.port().unwrap_or(if tls { 5671 } else { 5672 });
    let Some((host, _)) = weft_sandbox::egress::policy::host_port(&url).or_else(|| {
        url.host_str()
            .map(|h| (h.trim_matches(['[', ']']).to_ascii_lowercase(), port))
    }) else {
        return Err("the URL has no host".into());
    };
    if weft_sandbox::egress::policy::is_metadata_name(&host) {
        return Err(format!("`{host}` is a cloud metadata endpoint"));
    }
    if !hosts.iter().any(|p| p.matches(&host, port)) {
        return Err(format!(
            "the broker {host}:{port} is not one of the credential's hosts"
        ));
    }
    Ok(BrokerTarget {
        url,
        host,
        port,
        tls,
    })
}

fn canonical(ip: IpAddr) -> IpAddr {
    weft_sandbox::egress::policy::canonical(ip)
}

/// The trigger's `body`: JSON when the message is JSON, else its text, else
/// base64.
fn body_of(props: &BasicProperties, data: &[u8]) -> Value {
    let declared_json = props
        .content_type()
        .as_ref()
        .is_some_and(|t| t.as_str().to_ascii_lowercase().contains("json"));
    if let Ok(v) = serde_json::from_slice::<Value>(data)
        && (declared_json || matches!(v, Value::Object(_) | Value::Array(_)))
    {
        return v;
    }
    match std::str::from_utf8(data) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => {
            use base64::Engine as _;
            json!({ "base64": base64::engine::general_purpose::STANDARD.encode(data) })
        }
    }
}

/// The trigger's `properties`: where the message came from and its AMQP
/// properties and headers.
fn properties_of(d: &Delivery) -> Value {
    let p = &d.properties;
    let mut m = Map::new();
    m.insert("exchange".into(), json!(d.exchange.as_str()));
    m.insert("routing_key".into(), json!(d.routing_key.as_str()));
    m.insert("redelivered".into(), json!(d.redelivered));
    let mut text = |k: &str, v: Option<&lapin::types::ShortString>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v.as_str()));
        }
    };
    text("message_id", p.message_id().as_ref());
    text("correlation_id", p.correlation_id().as_ref());
    text("content_type", p.content_type().as_ref());
    text("content_encoding", p.content_encoding().as_ref());
    text("type", p.kind().as_ref());
    text("app_id", p.app_id().as_ref());
    text("user_id", p.user_id().as_ref());
    text("reply_to", p.reply_to().as_ref());
    if let Some(t) = p.timestamp() {
        m.insert("timestamp".into(), json!(t));
    }
    if let Some(h) = p.headers() {
        m.insert("headers".into(), table(h));
    }
    Value::Object(m)
}

fn table(t: &FieldTable) -> Value {
    Value::Object(
        t.inner()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), amqp_value(v)))
            .collect(),
    )
}

fn amqp_value(v: &AMQPValue) -> Value {
    match v {
        AMQPValue::Boolean(b) => json!(b),
        AMQPValue::ShortShortInt(n) => json!(n),
        AMQPValue::ShortShortUInt(n) => json!(n),
        AMQPValue::ShortInt(n) => json!(n),
        AMQPValue::ShortUInt(n) => json!(n),
        AMQPValue::LongInt(n) => json!(n),
        AMQPValue::LongUInt(n) => json!(n),
        AMQPValue::LongLongInt(n) => json!(n),
        AMQPValue::Float(f) => json!(f),
        AMQPValue::Double(f) => json!(f),
        AMQPValue::ShortString(s) => json!(s.as_str()),
        AMQPValue::LongString(s) => json!(s.to_string()),
        AMQPValue::Timestamp(t) => json!(t),
        AMQPValue::FieldArray(a) => Value::Array(a.as_slice().iter().map(amqp_value).collect()),
        AMQPValue::FieldTable(t) => table(t),
        AMQPValue::ByteArray(b) => {
            use base64::Engine as _;
            json!(base64::engine::general_purpose::STANDARD.encode(b.as_slice()))
        }
        AMQPValue::DecimalValue(_) | AMQPValue::Void => Value::Null,
    }
}

fn header_int(props: &BasicProperties, name: &str) -> Option<i64> {
    let key: lapin::types::ShortString = name.into();
    match props.headers().as_ref()?.inner().get(&key)? {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hosts(p: &[&str]) -> Vec<HostPattern> {
        p.iter().map(|h| h.parse().unwrap()).collect()
    }

    #[test]
    fn broker_urls_are_checked() {
        let t = check_broker_url(
            "amqps://app@mq.example.com/orders",
            &hosts(&["mq.example.com"]),
        )
        .unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.tls),
            ("mq.example.com", 5671, true)
        );
        let t = check_broker_url(
            "amqp://app@mq.example.com:5673/%2f",
            &hosts(&["mq.example.com:5673"]),
        )
        .unwrap();
        assert_eq!((t.port, t.tls), (5673, false));
        for (url, hs, why) in [
            (
                "http://mq.example.com",
                vec!["mq.example.com"],
                "not an AMQP one",
            ),
            (
                "amqp://app:hunter2@mq.example.com",
                vec!["mq.example.com"],
                "carries a password",
            ),
            (
                "amqp://app@other.example.com",
                vec!["mq.example.com"],
                "not one of the credential's hosts",
            ),
            ("amqp://app@metadata.google.internal", vec!["*"], "metadata"),
        ] {
            let e = check_broker_url(url, &hosts(&hs)).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
            assert!(!e.contains("hunter2"), "the password is not repeated: {e}");
        }
    }

    #[test]
    fn plain_amqp_only_where_private_addresses_are_allowed() {
        let h = hosts(&["mq.example.com"]);
        let e = check_broker("amqp://app@mq.example.com/%2f", &h, false).unwrap_err();
        assert!(e.contains("in clear") && e.contains("amqps://"), "{e}");
        assert!(check_broker("amqp://app@mq.example.com/%2f", &h, true).is_ok());
        assert!(check_broker("amqps://app@mq.example.com/%2f", &h, false).is_ok());
    }

    #[test]
    fn redaction_covers_the_encoded_password() {
        let b = Broker {
            uri: String::new(),
            shown: String::new(),
            tls: false,
            secrets: secrets_of("p@ss word"),
        };
        let out = b.redact("amqp://u:p%40ss%20word@h refused; p@ss word");
        assert!(!out.contains("p%40ss") && !out.contains("p@ss"), "{out}");
    }

    #[test]
    fn bodies_are_json_text_or_base64() {
        let plain = BasicProperties::default();
        assert_eq!(body_of(&plain, br#"{"a":1}"#), json!({"a": 1}));
        assert_eq!(
            body_of(&plain, b"42"),
            json!("42"),
            "a bare number without a JSON type is text"
        );
        let js = BasicProperties::default().with_content_type("application/json".into());
        assert_eq!(body_of(&js, b"42"), json!(42));
        assert_eq!(body_of(&plain, b"hello"), json!("hello"));
        assert_eq!(body_of(&plain, &[0xff, 0x00]), json!({"base64": "/wA="}));
        assert_eq!(delivery_id("m-1"), "amqp:m-1");
        assert!(delivery_id(&"x".repeat(300)).starts_with("amqp-sha256:"));
    }
}
