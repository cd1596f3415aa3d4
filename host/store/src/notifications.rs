//! Notifications (`docs/TENANCY.md`, section 6): a tenant's rules ("when a run
//! of this workflow fails, call this URL") and the deliveries they make.
//!
//! A delivery row is written by the adapter **inside** [`Store::commit`](crate::Store::commit),
//! from the events [`events`] derives from the commit: a run committed
//! `failed`, a step committed `waiting` with a resume token (someone must act),
//! a run committed `completed` whose workflow's previous finished run failed
//! (`run_recovered`). Each matching enabled rule gets one row, unique by
//! (rule, event key): a commit retried after a lost race, or a terminal run
//! written again, inserts nothing new, so an event is delivered once. The
//! worker's delivery loop claims due rows with a lease
//! ([`NotificationStore::claim_notifications`]), so two workers never send the
//! same row at once, and records every attempt.

use crate::{Commit, Page, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::{fmt, str::FromStr};
use weft_types::Status;

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    /// A run failed.
    RunFailed,
    /// A run waits for someone (a step waiting with a resume token: an approval).
    RunWaiting,
    /// A run succeeded, and the previous finished run of its workflow had failed.
    RunRecovered,
}

impl NotifyOn {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::RunFailed, Self::RunWaiting, Self::RunRecovered];

    /// The stable name (`run_failed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunFailed => "run_failed",
            Self::RunWaiting => "run_waiting",
            Self::RunRecovered => "run_recovered",
        }
    }
}

impl fmt::Display for NotifyOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NotifyOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown event `{s}` (run_failed, run_waiting, run_recovered)"))
    }
}

/// A signing secret sealed by the vault (bound to the tenant and the rule id).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SealedSecret {
    /// The nonce.
    pub nonce: Vec<u8>,
    /// The ciphertext with its tag.
    pub ciphertext: Vec<u8>,
    /// The vault's binding version it was sealed under.
    pub ad_version: u32,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.ciphertext.len())
    }
}

/// Where a rule's events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    /// A signed outbound webhook (Standard Webhooks, HMAC-SHA256).
    Webhook {
        /// `https://...` (or `http://` where the deployment allows it).
        url: String,
        /// The signing secret (`whsec_...`), sealed.
        secret: SealedSecret,
    },
    /// An action of a connector of the tenant, run in the sandbox like a step.
    Connector(ConnectorTarget),
}

/// A connector action a rule runs for each event (stored as JSON in
/// `notification_rules.target`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorTarget {
    /// The connector's name in the tenant's catalogue (`slack`, `http`).
    pub connector: String,
    /// Its action (`post-message`, `request`).
    pub action: String,
    /// The action's input; `{{ event.* }}` placeholders are rendered per event.
    pub input: Value,
    /// The action's config (an object, or null); rendered likewise.
    pub config: Value,
    /// Hosts granted (intersected with what the connector declares).
    pub hosts: Vec<String>,
    /// Credential slot of the connector -> name of a stored credential.
    pub credentials: std::collections::BTreeMap<String, String>,
}

impl NotifyTarget {
    /// The `kind` column: `webhook` or `connector`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Connector(_) => "connector",
        }
    }

    /// The columns `url`, the secret and `target` (JSON) that store it.
    ///
    /// # Errors
    /// `Invalid` when the connector target does not serialise.
    pub fn columns(&self) -> Result<(String, SealedSecret, Option<String>)> {
        Ok(match self {
            Self::Webhook { url, secret } => (url.clone(), secret.clone(), None),
            Self::Connector(c) => (
                String::new(),
                SealedSecret::default(),
                Some(serde_json::to_string(c).map_err(|e| {
                    crate::Error::Invalid(format!("notification_rules.target: {e}"))
                })?),
            ),
        })
    }

    /// The target the columns store (see [`NotifyTarget::columns`]).
    ///
    /// # Errors
    /// `Corrupt` when `kind` is unknown or `target` does not parse.
    pub fn from_columns(
        kind: &str,
        url: String,
        secret: SealedSecret,
        target: Option<&str>,
    ) -> Result<Self> {
        let bad = |m: String| crate::Error::Corrupt(format!("notification_rules.target: {m}"));
        match (kind, target) {
            ("webhook", _) => Ok(Self::Webhook { url, secret }),
            ("connector", Some(t)) => serde_json::from_str(t)
                .map(Self::Connector)
                .map_err(|e| bad(e.to_string())),
            (k, _) => Err(bad(format!("rule kind `{k}` without its target"))),
        }
    }
}

/// A tenant's notification rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRule {
    /// The owner.
    pub tenant_id: String,
    /// `ntr_...`.
    pub id: String,
    /// Only this workflow's runs; `None`: every workflow of the tenant.
    pub workflow_id: Option<String>,
    /// The event.
    pub on: NotifyOn,
    /// Where it goes.
    pub target: NotifyTarget,
    /// A disabled rule makes no deliveries (those already made still go).
    pub enabled: bool,
    /// When made.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet accepted by the destination; tried again at `next_at`.
    Pending,
    /// The destination answered 2xx.
    Delivered,
    /// Given up (retries ran out, or the rule is gone).
    Failed,
    /// Not sent: its rule had already sent `rule_per_minute` deliveries in
    /// the last minute (a loop through an external relay is bounded).
    Suppressed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [
        Self::Pending,
        Self::Delivered,
        Self::Failed,
        Self::Suppressed,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown delivery status `{s}` (pending, delivered, failed, suppressed)")
            })
    }
}

/// One try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// When it was sent (ms since the epoch).
    pub at: i64,
    /// The destination's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why it did not count as delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One event for one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationDelivery {
    /// The owner.
    pub tenant_id: String,
    /// `ntd_<ms hex>_<hash>`: sortable by creation, sent as `webhook-id`.
    pub id: String,
    /// The rule that made it.
    pub rule_id: String,
    /// Unique per rule (`<run>:failed`, `<run>:recovered`, `<run>:waiting:<step>:<attempt>`).
    pub event_key: String,
    /// The event.
    pub on: NotifyOn,
    /// The run.
    pub run_id: String,
    /// Its workflow.
    pub workflow_id: String,
    /// The JSON body sent.
    pub payload: Value,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Every try so far, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
    /// The next try (pending only).
    pub next_at: Option<i64>,
    /// When the event happened.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl NotificationDelivery {
    /// The last attempt's error.
    pub fn last_error(&self) -> Option<&str> {
        self.attempts.last().and_then(|a| a.error.as_deref())
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryFilter {
    /// Only this rule's.
    pub rule_id: Option<String>,
    /// Only in this status.
    pub status: Option<DeliveryStatus>,
}

/// The outcome of one try, recorded by [`NotificationStore::record_notification`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// The try.
    pub attempt: DeliveryAttempt,
    /// The delivery's status after it.
    pub status: DeliveryStatus,
    /// The next try, when still pending.
    pub next_at: Option<i64>,
}

/// An event a commit makes, before rules are matched (see [`events`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEvent {
    /// The run's tenant.
    pub tenant_id: String,
    /// The run.
    pub run_id: String,
    /// Its workflow.
    pub workflow_id: String,
    /// The event; `RunRecovered` is a candidate, kept only if the workflow's
    /// previous finished run (before `at`) failed.
    pub on: NotifyOn,
    /// Unique per run and event.
    pub key: String,
    /// When (the run's `updated_at`, or `finished_at`).
    pub at: i64,
    /// The body to send.
    pub payload: Value,
    /// The run's parent (a sub-workflow's or an error workflow's run): the
    /// adapter drops the event when an ancestor was started by a notification
    /// ([`started_by_notification`]).
    pub parent: Option<String>,
}

impl RunEvent {
    /// The delivery this event makes for `rule`: its id is derived from
    /// the rule, the event key and the time, so a retried commit computes the
    /// same row (and the unique key keeps one).
    pub fn delivery(&self, rule_id: &str) -> NotificationDelivery {
        NotificationDelivery {
            tenant_id: self.tenant_id.clone(),
            id: delivery_id(self.at, rule_id, &self.key),
            rule_id: rule_id.to_owned(),
            event_key: self.key.clone(),
            on: self.on,
            run_id: self.run_id.clone(),
            workflow_id: self.workflow_id.clone(),
            payload: self.payload.clone(),
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            next_at: Some(self.at),
            created_at: self.at,
            updated_at: self.at,
        }
    }
}

/// The header every outbound notification request carries (the delivery id).
pub const NOTIFICATION_HEADER: &str = "weft-notification";

/// Whether a run was started by one of this deployment's notifications: a
/// webhook run whose request carried [`NOTIFICATION_HEADER`] (the trigger
/// payload keeps the headers). Such a run, and every run below it, makes no
/// notification event, so a rule pointed at a webhook of a workflow that
/// fails cannot loop.
pub fn started_by_notification(trigger: weft_types::Trigger, input: &Value) -> bool {
    trigger == weft_types::Trigger::Webhook
        && input
            .get("headers")
            .and_then(|h| h.get(NOTIFICATION_HEADER))
            .is_some()
}

/// How many parents up a loop mark is looked for (sub-workflows nest less).
pub const MAX_ANCESTORS: usize = 64;

/// `ntd_<ms, 12 hex>_<FNV-1a 64 of rule and key, 16 hex>`.
fn delivery_id(at: i64, rule_id: &str, key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule_id.bytes().chain([0]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("ntd_{:012x}_{h:016x}", at.max(0))
}

/// The events a commit makes (rules not yet matched): see the module doc.
pub fn events(c: &Commit) -> Vec<RunEvent> {
    let mut out = Vec::new();
    for (run, _) in &c.runs {
        if started_by_notification(run.trigger, &run.input) {
            continue;
        }
        // A test run (`until`) makes no `run_failed` or `run_recovered`:
        // nothing was meant to happen for real, and it is not the run a
        // recovery follows. A wait in it still makes `run_waiting` (with
        // `until` in the payload): someone must act or the test never ends.
        let test = run.until.is_some();
        let at = run.finished_at.unwrap_or(run.updated_at);
        let base = |on: NotifyOn, key: String, extra: Value| {
            let mut payload = json!({
                "type": on.as_str(),
                "tenant_id": run.tenant_id,
                "workflow_id": run.workflow_id,
                "workflow_version": run.version,
                "run_id": run.id,
                "status": run.status.as_str(),
                "at": at,
            });
            if let (Value::Object(p), Value::Object(e)) = (&mut payload, extra) {
                p.extend(e);
            }
            RunEvent {
                tenant_id: run.tenant_id.clone(),
                run_id: run.id.clone(),
                workflow_id: run.workflow_id.clone(),
                on,
                key,
                at,
                payload,
                parent: run.parent.as_ref().map(|p| p.run_id.clone()),
            }
        };
        match run.status {
            _ if test => {}
            Status::Failed => out.push(base(
                NotifyOn::RunFailed,
                format!("{}:failed", run.id),
                json!({ "error": run.error }),
            )),
            Status::Completed => out.push(base(
                NotifyOn::RunRecovered,
                format!("{}:recovered", run.id),
                json!({}),
            )),
            _ => {}
        }
        for s in c.steps.iter().filter(|s| {
            s.run_id == run.id
                && s.tenant_id == run.tenant_id
                && s.status == Status::Waiting
                && s.resume_token.is_some()
        }) {
            let mut extra = json!({ "step": s.key });
            if let (Some(u), Value::Object(e)) = (&run.until, &mut extra) {
                e.insert("until".into(), json!(u));
            }
            let mut e = base(
                NotifyOn::RunWaiting,
                format!("{}:waiting:{}:{}", run.id, s.key, s.attempt),
                extra,
            );
            e.at = s.updated_at;
            out.push(e);
        }
    }
    out
}

/// Rules and deliveries. Every method takes the tenant, except the delivery
/// loop's claim, which works across tenants.
#[async_trait]
pub trait NotificationStore: Send + Sync + 'static {
    /// Stores a rule. # Errors: `Duplicate` when the id exists.
    async fn create_rule(&self, rule: &NotificationRule) -> Result<()>;
    /// Reads a rule.
    async fn get_rule(&self, tenant: &str, id: &str) -> Result<Option<NotificationRule>>;
    /// The tenant's rules, oldest first.
    async fn list_rules(&self, tenant: &str) -> Result<Vec<NotificationRule>>;
    /// Replaces a rule's workflow, event, target, `enabled` and `updated_at`.
    /// # Errors: `NotFound`.
    async fn update_rule(&self, rule: &NotificationRule) -> Result<()>;
    /// Deletes a rule; its deliveries stay (a pending one fails when tried).
    /// # Errors: `NotFound`.
    async fn delete_rule(&self, tenant: &str, id: &str) -> Result<()>;
    /// The tenant's deliveries, newest first.
    async fn list_notifications(
        &self,
        tenant: &str,
        filter: &DeliveryFilter,
        page: &Page,
    ) -> Result<Vec<NotificationDelivery>>;
    /// Up to `limit` pending deliveries (any tenant) due at `now` and not
    /// claimed (or whose claim lapsed), earliest first, claimed until
    /// `now + lease_ms`; of one tenant, its earliest, and only as many as
    /// keep its live claims (rows being sent, by any caller) at most
    /// `per_tenant`. Fair: a tenant with thousands of due rows, or whose
    /// destination hangs, holds `per_tenant` sends, and the others' rows are
    /// claimed beside them. Two callers never get the same row while its
    /// claim is live.
    async fn claim_notifications(
        &self,
        now: i64,
        lease_ms: i64,
        limit: u32,
        per_tenant: u32,
    ) -> Result<Vec<NotificationDelivery>>;
    /// Appends a try to a pending delivery, sets its status and next try, and
    /// releases its claim. `false`: it is no longer pending (another worker
    /// recorded it after a lapsed claim): nothing changed.
    async fn record_notification(
        &self,
        tenant: &str,
        id: &str,
        outcome: &DeliveryOutcome,
        at: i64,
    ) -> Result<bool>;
    /// Puts a pending delivery off until `next_at` without a try (its rule
    /// is at `rule_per_minute`) and releases its claim. `false`: it is no
    /// longer pending: nothing changed.
    async fn defer_notification(
        &self,
        tenant: &str,
        id: &str,
        next_at: i64,
        at: i64,
    ) -> Result<bool>;
}
