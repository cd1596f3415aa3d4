//! The notification delivery loop (`docs/TENANCY.md`, section 6): claims due
//! deliveries with a lease (two workers never send one row at once), signs
//! each in the Standard Webhooks scheme with its rule's secret, POSTs it
//! through the same egress policy as plugins (no private or metadata address
//! unless `sandbox.egress.allow_private`; a name is checked again on every
//! resolved address), and records the try. A failure backs off exponentially
//! until `give_up_ms` after the event; it never touches the run.

use crate::{Error, Handle, Result, now_ms};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use url::{Host, Url};
use weft_sandbox::egress::{Outbound, policy};
use weft_store::notifications::{
    ConnectorTarget, DeliveryAttempt, DeliveryOutcome, DeliveryStatus, NOTIFICATION_HEADER,
    NotificationDelivery, NotifyTarget, SealedSecret,
};
use weft_vault::{BINDING_VERSION, Binding, Keyring, Sealed, Zeroizing};

/// `[worker.notifications]`: how deliveries are sent and retried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyOptions {
    /// How often the loop looks for due deliveries, in milliseconds (0: never).
    pub interval_ms: u64,
    /// The first retry's delay, doubled at each failure, in milliseconds.
    pub retry_base_ms: u64,
    /// The longest delay between two tries, in milliseconds.
    pub retry_max_ms: u64,
    /// A delivery not accepted this long after its event is given up
    /// (`failed`), in milliseconds.
    pub give_up_ms: u64,
    /// One try's timeout, in milliseconds.
    pub timeout_ms: u64,
    /// Deliveries sent at once (each its own task; the loop claims again as
    /// one ends, so one slow destination holds one slot, not a round).
    pub batch: u32,
    /// At most this many of one tenant's deliveries per claim (fairness: a
    /// tenant with a backlog does not hold the others').
    pub per_tenant: u32,
    /// A rule's deliveries sent in any minute, by this worker; more are
    /// recorded `suppressed` and not sent (bounds a loop through a relay).
    pub rule_per_minute: u32,
    /// The window `rule_per_minute` counts in, in milliseconds: a minute.
    /// Tests shorten it, so that waiting a window out takes seconds.
    pub rule_window_ms: u64,
    /// Rules a tenant may have (more are refused, 409).
    pub max_rules: u32,
    /// The public base URL of the API (`https://weft.example.com`): a
    /// connector rule's `{{ event.link }}` is `<link_base>/v1/runs/<run id>`
    /// (empty when unset).
    pub link_base: String,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        Self {
            interval_ms: 1_000,
            retry_base_ms: 30_000,
            retry_max_ms: 3_600_000,
            give_up_ms: 24 * 3_600_000,
            timeout_ms: 10_000,
            batch: 32,
            per_tenant: 4,
            rule_per_minute: 60,
            rule_window_ms: 60_000,
            max_rules: 100,
            link_base: String::new(),
        }
    }
}

impl NotifyOptions {
    /// The delay after the `n`th failed try (1-based).
    pub fn backoff_ms(&self, n: usize) -> u64 {
        let shift = u32::try_from(n.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(40);
        self.retry_base_ms
            .saturating_mul(1u64 << shift)
            .min(self.retry_max_ms)
    }
}

/// The seal's binding of a rule's signing secret: the tenant and the rule id
/// (a secret copied to another rule or tenant does not open).
fn binding<'a>(tenant: &'a str, rule_id: &'a str) -> Binding<'a> {
    Binding {
        tenant_id: tenant,
        credential_id: rule_id,
        name: "notification-webhook",
        hosts: &[],
        injection: "{}",
    }
}

/// A new signing secret, `whsec_<base64 of 24 random bytes>` (the Standard
/// Webhooks form), to be shown once.
pub fn new_secret() -> Zeroizing<String> {
    let bytes: [u8; 24] = rand::random();
    Zeroizing::new(format!("whsec_{}", B64.encode(bytes)))
}

/// Seals a rule's signing secret with the tenant's key.
///
/// # Errors
/// `Vault` when the tenant key does not open.
pub fn seal_secret(
    keyring: &Keyring,
    wrapped: &[u8],
    tenant: &str,
    rule_id: &str,
    secret: &str,
) -> Result<SealedSecret> {
    let s = keyring
        .seal(wrapped, &binding(tenant, rule_id), secret.as_bytes())
        .map_err(|e| Error::Vault(e.to_string()))?;
    Ok(SealedSecret {
        nonce: s.nonce,
        ciphertext: s.ciphertext,
        ad_version: BINDING_VERSION,
    })
}

/// Checks a destination before it is stored and before every try: http or
/// https, a host, no credentials in it, no cloud metadata endpoint, and no
/// non-public IP literal unless `allow_private` (a name is checked on its
/// resolved addresses when sent).
///
/// # Errors
/// What is wrong with the URL.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "scheme `{}` is not allowed; use https",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry credentials".into());
    }
    let Some((host, _)) = policy::host_port(&url) else {
        return Err("the URL has no host".into());
    };
    match url.host() {
        Some(Host::Ipv4(ip)) => policy::check_addr(IpAddr::V4(ip), allow_private)?,
        Some(Host::Ipv6(ip)) => policy::check_addr(IpAddr::V6(ip), allow_private)?,
        _ if policy::is_metadata_name(&host) => {
            return Err(format!("`{host}` is a cloud metadata endpoint"));
        }
        _ => {}
    }
    Ok(url)
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "<id>.<ts>.<body>">`,
/// keyed by the secret's decoded bytes (`whsec_` + base64), as Standard
/// Webhooks receivers verify it.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = secret
        .strip_prefix(b"whsec_")
        .and_then(|b| B64.decode(b).ok())
        .unwrap_or_else(|| secret.to_vec());
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(&key) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// How one try ended: accepted, failed (tried again), or failed for good.
enum Sent {
    Accepted(Option<u16>),
    Failed(Option<u16>, String),
    Permanent(String),
    Suppressed(String),
}

/// The delivery loop's state: the send slots (`batch`), a wake-up when one
/// frees, and each rule's sends in the last minute (`rule_per_minute`).
#[derive(Clone)]
pub(crate) struct Deliveries {
    slots: Arc<Semaphore>,
    freed: Arc<Notify>,
    sent: Arc<Mutex<HashMap<String, VecDeque<i64>>>>,
}

impl Deliveries {
    /// Slots for `o.batch` sends at once.
    pub(crate) fn new(o: &NotifyOptions) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(o.batch.max(1) as usize)),
            freed: Arc::new(Notify::new()),
            sent: Arc::default(),
        }
    }

    /// Counts a send of `rule` at `now` unless it already sent `cap` in the
    /// `window` (ms) before: then `Err(when)`, the time its earliest send in
    /// that window leaves it (a send may go then).
    fn admit(&self, rule: &str, now: i64, cap: u32, window: u64) -> std::result::Result<(), i64> {
        let window = i64::try_from(window.max(1)).unwrap_or(i64::MAX);
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.retain(|_, q| {
            while q.front().is_some_and(|t| *t <= now.saturating_sub(window)) {
                q.pop_front();
            }
            !q.is_empty()
        });
        let q = sent.entry(rule.to_owned()).or_default();
        if q.len() >= cap as usize {
            let first = q.front().copied().unwrap_or(now);
            return Err(first.saturating_add(window).max(now.saturating_add(1)));
        }
        q.push_back(now);
        Ok(())
    }
}

impl Handle {
    /// Claims as many due deliveries as there are free send slots (at most
    /// `per_tenant` of one tenant) and starts each as its own task; how many
    /// were started. A slow destination holds its slot only: the loop claims
    /// again as soon as any send ends.
    ///
    /// # Errors
    /// The store failed to claim.
    pub(crate) async fn deliver_notifications(&self, state: &Deliveries) -> Result<usize> {
        let o = &self.options().notifications;
        let free = u32::try_from(state.slots.available_permits()).unwrap_or(u32::MAX);
        if free == 0 {
            return Ok(0);
        }
        let lease = i64::try_from(o.timeout_ms.saturating_mul(3).max(1_000)).unwrap_or(i64::MAX);
        let due = self
            .store()
            .claim_notifications(now_ms(), lease, free, o.per_tenant.max(1))
            .await?;
        let n = due.len();
        for d in due {
            // The claim took at most `free` rows and only this loop takes
            // slots: a permit is there; if not, the row's lease lapses and it
            // is claimed again.
            let Ok(permit) = state.slots.clone().try_acquire_owned() else {
                break;
            };
            let (this, state) = (self.clone(), state.clone());
            tokio::spawn(async move {
                this.deliver(d, &state).await;
                drop(permit);
                state.freed.notify_one();
            });
        }
        Ok(n)
    }

    async fn deliver(&self, d: NotificationDelivery, state: &Deliveries) {
        let o = &self.options().notifications;
        let at = now_ms();
        let give_up = d
            .created_at
            .saturating_add(i64::try_from(o.give_up_ms).unwrap_or(i64::MAX));
        let sent = match state.admit(&d.rule_id, at, o.rule_per_minute, o.rule_window_ms) {
            Ok(()) => self.send(&d, at).await,
            // Past the rule's rate: put off (still pending, no try) to when
            // its minute frees a send, unless that is past the give-up (a
            // loop's backlog ends there, never sent).
            Err(when) if when <= give_up => {
                self.defer(&d, when).await;
                return;
            }
            Err(_) => Sent::Suppressed(format!(
                "suppressed: rule {} sent {} deliveries a minute \
                 (worker.notifications.rule_per_minute) until the give-up \
                 (worker.notifications.give_up_ms); never sent",
                d.rule_id, o.rule_per_minute
            )),
        };
        let (attempt, status, next_at) = match sent {
            Sent::Accepted(code) => (
                DeliveryAttempt {
                    at,
                    http_status: code,
                    error: None,
                },
                DeliveryStatus::Delivered,
                None,
            ),
            Sent::Permanent(e) => (
                DeliveryAttempt {
                    at,
                    http_status: None,
                    error: Some(e),
                },
                DeliveryStatus::Failed,
                None,
            ),
            Sent::Suppressed(e) => (
                DeliveryAttempt {
                    at,
                    http_status: None,
                    error: Some(e),
                },
                DeliveryStatus::Suppressed,
                None,
            ),
            Sent::Failed(code, e) => {
                let delay = i64::try_from(o.backoff_ms(d.attempts.len() + 1)).unwrap_or(i64::MAX);
                let next = at.saturating_add(delay);
                let attempt = DeliveryAttempt {
                    at,
                    http_status: code,
                    error: Some(e),
                };
                if next > give_up {
                    (attempt, DeliveryStatus::Failed, None)
                } else {
                    (attempt, DeliveryStatus::Pending, Some(next))
                }
            }
        };
        if let Some(e) = &attempt.error {
            tracing::warn!(tenant.id = %d.tenant_id, run.id = %d.run_id, notification.id = %d.id,
                status = status.as_str(), error = %e, "notification not delivered");
        }
        let m = &self.0.metrics;
        let counter = match status {
            DeliveryStatus::Delivered => &m.notifications_delivered,
            DeliveryStatus::Pending => &m.notification_retries,
            DeliveryStatus::Failed => &m.notifications_failed,
            DeliveryStatus::Suppressed => &m.notifications_suppressed,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outcome = DeliveryOutcome {
            attempt,
            status,
            next_at,
        };
        if let Err(e) = self
            .store()
            .record_notification(&d.tenant_id, &d.id, &outcome, now_ms())
            .await
        {
            tracing::warn!(notification.id = %d.id, error = %e, "notification try not recorded; it is tried again when its claim lapses");
        }
    }

    /// Puts `d` off until `when` (its rule is at `rule_per_minute`): it
    /// stays pending with no try recorded, and its claim is released.
    async fn defer(&self, d: &NotificationDelivery, when: i64) {
        self.0
            .metrics
            .notifications_deferred
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(tenant.id = %d.tenant_id, notification.id = %d.id, rule.id = %d.rule_id,
            until = when, "notification deferred: its rule is at rule_per_minute");
        if let Err(e) = self
            .store()
            .defer_notification(&d.tenant_id, &d.id, when, now_ms())
            .await
        {
            tracing::warn!(notification.id = %d.id, error = %e, "notification deferral not recorded; it is tried again when its claim lapses");
        }
    }

    async fn send(&self, d: &NotificationDelivery, at: i64) -> Sent {
        let rule = match self.store().get_rule(&d.tenant_id, &d.rule_id).await {
            Ok(Some(r)) => r,
            Ok(None) => return Sent::Permanent("the rule was deleted".into()),
            Err(e) => return Sent::Failed(None, format!("store: {e}")),
        };
        let (url, secret) = match &rule.target {
            NotifyTarget::Webhook { url, secret } => (url, secret),
            NotifyTarget::Connector(c) => return self.invoke_target(d, c).await,
        };
        let egress = self.sandbox().egress();
        let url = match check_url(url, egress.allow_private) {
            Ok(u) => u,
            Err(e) => return Sent::Permanent(format!("url: {e}")),
        };
        let secret = match self.open_secret(&d.tenant_id, &rule.id, secret).await {
            Ok(s) => s,
            Err(e) => return Sent::Failed(None, e.to_string()),
        };
        let body = match serde_json::to_vec(&d.payload) {
            Ok(b) => b,
            Err(e) => return Sent::Permanent(format!("body: {e}")),
        };
        let ts = at.div_euclid(1_000);
        let mut headers = http::HeaderMap::new();
        let signature = sign(&secret, &d.id, ts, &body);
        for (name, value) in [
            ("content-type", "application/json".to_owned()),
            ("webhook-id", d.id.clone()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature),
            // Marks a run this request starts on a deployment of Weft: it
            // makes no notification event (no loops).
            (NOTIFICATION_HEADER, d.id.clone()),
        ] {
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        let req = Outbound {
            method: http::Method::POST,
            url,
            headers,
            body: Some(body),
            timeout: Duration::from_millis(self.options().notifications.timeout_ms.max(1)),
            max_body: 64 * 1024,
            decode: false,
        };
        match egress.transport.send(req).await {
            Ok(r) if (200..300).contains(&r.status) => Sent::Accepted(Some(r.status)),
            Ok(r) => Sent::Failed(Some(r.status), format!("HTTP {}", r.status)),
            Err(weft_sandbox::egress::TransportError::Denied(e)) => {
                Sent::Failed(None, format!("egress denied: {e}"))
            }
            Err(e) => Sent::Failed(None, e.to_string()),
        }
    }

    async fn open_secret(
        &self,
        tenant: &str,
        rule_id: &str,
        s: &SealedSecret,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let sealed = Sealed {
            nonce: s.nonce.clone(),
            ciphertext: s.ciphertext.clone(),
        };
        self.keyring()
            .open(
                &t.wrapped_key,
                &binding(tenant, rule_id),
                s.ad_version,
                &sealed,
            )
            .map_err(|e| Error::Vault(format!("the rule's signing secret does not open: {e}")))
    }

    pub(crate) async fn notify_loop(self, shutdown: CancellationToken) {
        let ms = self.options().notifications.interval_ms;
        if ms == 0 {
            return;
        }
        let every = Duration::from_millis(ms.max(10));
        let state = Deliveries::new(&self.options().notifications);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
                () = state.freed.notified() => {}
            }
            if let Err(e) = self.deliver_notifications(&state).await {
                tracing::warn!(error = %e, "notification deliveries not claimed");
            }
        }
    }
}

/// The fields a connector rule's `{{ event.<field> }}` may name.
pub const EVENT_FIELDS: &[&str] = &[
    "type",
    "tenant_id",
    "workflow_id",
    "workflow_name",
    "workflow_version",
    "run_id",
    "status",
    "error",
    "step",
    "at",
    "link",
];

/// The placeholders of one string: (the text with braces, the field), or why
/// one is not an event field.
fn placeholders(s: &str) -> std::result::Result<Vec<(&str, &str)>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let Some(len) = rest[open..].find("}}") else {
            return Err(format!("`{{{{` without `}}}}` in `{s}`"));
        };
        let whole = &rest[open..open + len + 2];
        let inner = whole[2..whole.len() - 2].trim();
        let field = inner
            .strip_prefix("event.")
            .filter(|f| EVENT_FIELDS.contains(f))
            .ok_or_else(|| {
                format!(
                    "`{whole}` is not an event field (use {})",
                    EVENT_FIELDS
                        .iter()
                        .map(|f| format!("{{{{ event.{f} }}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        out.push((whole, field));
        rest = &rest[open + len + 2..];
    }
    Ok(out)
}

/// Checks every placeholder of a JSON tree; the error names its JSON pointer
/// under `at`.
pub fn check_placeholders(v: &serde_json::Value, at: &str) -> std::result::Result<(), String> {
    use serde_json::Value;
    match v {
        Value::String(s) => placeholders(s)
            .map(|_| ())
            .map_err(|e| format!("{at}: {e}")),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_placeholders(v, &format!("{at}/{i}"))),
        Value::Object(m) => m
            .iter()
            .try_for_each(|(k, v)| check_placeholders(v, &format!("{at}/{k}"))),
        _ => Ok(()),
    }
}

/// Renders `{{ event.<field> }}` from `event`: a string that is one
/// placeholder becomes the field's value (its type kept); otherwise each is
/// replaced by its text (strings as they are, null or absent as nothing,
/// other values as JSON).
pub fn render_event(v: &serde_json::Value, event: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let Ok(found) = placeholders(s) else {
                return v.clone();
            };
            if found.is_empty() {
                return v.clone();
            }
            if let [(whole, field)] = found.as_slice()
                && s.trim() == *whole
            {
                return event.get(*field).cloned().unwrap_or(Value::Null);
            }
            let mut out = s.clone();
            for (whole, field) in found {
                let text = match event.get(field) {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(t)) => t.clone(),
                    Some(other) => other.to_string(),
                };
                out = out.replacen(whole, &text, 1);
            }
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| render_event(v, event)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_event(v, event)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A slot key of a rule's grants: `slot` or `<connector>/slot`.
fn slot_of<'a>(connector: &str, key: &'a str) -> &'a str {
    key.strip_prefix(connector)
        .and_then(|k| k.strip_prefix('/'))
        .unwrap_or(key)
}

impl Handle {
    /// Checks a connector rule's target against the tenant's catalogue and
    /// credentials: `Ok(Err(why))` names the field (`target.connector`,
    /// `target.action`, `target.input/...`, `target.config`,
    /// `target.grants.hosts[i]`, `target.grants.credentials.<slot>`).
    ///
    /// # Errors
    /// The store or the registry cannot be read.
    pub async fn check_connector_target(
        &self,
        tenant: &str,
        t: &ConnectorTarget,
    ) -> Result<std::result::Result<(), String>> {
        let catalog = self.catalog(tenant).await?;
        let Some(m) = catalog.get(&t.connector) else {
            let have: Vec<&str> = catalog.keys().map(String::as_str).collect();
            return Ok(Err(format!(
                "target.connector: no connector `{}` in this tenant's catalogue (it has: {})",
                t.connector,
                have.join(", ")
            )));
        };
        if !m.actions.iter().any(|a| a.name == t.action) {
            let have: Vec<&str> = m.actions.iter().map(|a| a.name.as_str()).collect();
            return Ok(Err(format!(
                "target.action: connector `{}` has no action `{}` (it has: {})",
                t.connector,
                t.action,
                have.join(", ")
            )));
        }
        if !(t.config.is_null() || t.config.is_object()) {
            return Ok(Err("target.config: must be an object".into()));
        }
        for (v, at) in [(&t.input, "target.input"), (&t.config, "target.config")] {
            if let Err(e) = check_placeholders(v, at) {
                return Ok(Err(e));
            }
        }
        for (i, h) in t.hosts.iter().enumerate() {
            if let Err(e) = h.parse::<weft_types::HostPattern>() {
                return Ok(Err(format!("target.grants.hosts[{i}]: {e}")));
            }
        }
        for (key, name) in &t.credentials {
            let slot = slot_of(&t.connector, key);
            if !m.capabilities.credentials.iter().any(|c| c.name == slot) {
                let have: Vec<&str> = m
                    .capabilities
                    .credentials
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                return Ok(Err(format!(
                    "target.grants.credentials.{key}: connector `{}` declares no credential slot `{slot}` (it declares: {})",
                    t.connector,
                    have.join(", ")
                )));
            }
            if self
                .store()
                .credential_by_name(tenant, name)
                .await?
                .is_none()
            {
                return Ok(Err(format!(
                    "target.grants.credentials.{key}: no credential `{name}` in this tenant"
                )));
            }
        }
        Ok(Ok(()))
    }

    /// The event a connector rule renders: the delivery's payload with the
    /// workflow's name and a link to the run.
    async fn event_of(&self, d: &NotificationDelivery) -> serde_json::Value {
        let mut event = d.payload.clone();
        let name = match self
            .store()
            .get_workflow(&d.tenant_id, &d.workflow_id)
            .await
        {
            Ok(Some(w)) => serde_json::Value::String(w.name),
            _ => serde_json::Value::Null,
        };
        let base = self.options().notifications.link_base.trim_end_matches('/');
        let link = if base.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::String(format!("{base}/v1/runs/{}", d.run_id))
        };
        if let Some(o) = event.as_object_mut() {
            o.insert("workflow_name".into(), name);
            o.insert("link".into(), link);
        }
        event
    }

    /// Runs a connector rule's action for one delivery, in the sandbox with
    /// the step limits and egress policy, the rule's hosts and its
    /// credentials unsealed by name. It is not a run: nothing is committed,
    /// so it makes no event and cannot notify again.
    async fn invoke_target(&self, d: &NotificationDelivery, t: &ConnectorTarget) -> Sent {
        let entry = match self.resolve(&d.tenant_id, &t.connector).await {
            Ok(e) => e,
            Err(f) => {
                return Sent::Permanent(format!("connector `{}`: {}", t.connector, f.message));
            }
        };
        let mut grants = weft_sandbox::Grants {
            hosts: t.hosts.iter().filter_map(|h| h.parse().ok()).collect(),
            ..weft_sandbox::Grants::default()
        };
        for (key, name) in &t.credentials {
            let slot = slot_of(&t.connector, key);
            match self.unseal(&d.tenant_id, slot, name).await {
                Ok(c) => grants.credentials.push(c),
                Err(Error::NotFound(_)) => {
                    return Sent::Permanent(format!("credential `{name}` does not exist"));
                }
                Err(e) => return Sent::Failed(None, format!("credential `{name}`: {e}")),
            }
        }
        let event = self.event_of(d).await;
        let config = render_event(&t.config, &event);
        let mut limits = self.sandbox().options().limits;
        limits.timeout = Duration::from_millis(self.options().notifications.timeout_ms.max(1));
        let inv = weft_sandbox::Invocation {
            action: t.action.clone(),
            input: render_event(&t.input, &event).to_string(),
            config: if config.is_null() {
                "{}".into()
            } else {
                config.to_string()
            },
            context: weft_types::StepContext {
                workflow_id: d.workflow_id.clone(),
                run_id: d.run_id.clone(),
                step_id: format!("notification:{}", d.rule_id),
                attempt: u32::try_from(d.attempts.len() + 1).unwrap_or(u32::MAX),
                idempotency_key: d.id.clone(),
            },
            grants,
            limits,
            cancel: None,
        };
        let outcome = self.sandbox().invoke(&entry.plugin, inv).await;
        match outcome.result {
            Ok(_) => Sent::Accepted(None),
            Err(f) => {
                let kind = serde_json::to_value(f.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let why = format!("{kind}: {}", f.message);
                // What a retry can mend (a passing fault, a slow-down, a
                // credential that may be replaced) is tried again; a refused
                // input or a limit is not.
                if f.kind.is_retryable() || f.kind == weft_types::ErrorKind::Auth {
                    Sent::Failed(None, why)
                } else {
                    Sent::Permanent(why)
                }
            }
        }
    }
}
