//! `/v1/notifications`: rules (which event of which workflow goes where) and
//! their deliveries (`docs/TENANCY.md`, section 6). A rule's signing secret is
//! shown once, in the answer that creates it (or rotates it).

use crate::query::{BadQuery, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// A run failed.
    RunFailed,
    /// A run waits for someone: a step waits for its resume (an approval).
    RunWaiting,
    /// A run succeeded after the previous finished run of its workflow failed.
    RunRecovered,
}

/// Where a rule's events go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum NotifyTarget {
    /// A POST of the event as JSON, signed like Standard Webhooks
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
    /// HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed by the secret).
    Webhook {
        /// `https://…` (a private address only where the deployment allows it).
        url: String,
    },
    /// An action of a connector of the tenant (`slack` `post-message`, `http`
    /// `request`), run in the sandbox under a step's limits and egress policy,
    /// with the credentials granted by name. Strings of `input` and `config`
    /// may hold `{{ event.<field> }}` placeholders (`type`, `tenant_id`,
    /// `workflow_id`, `workflow_name`, `workflow_version`, `run_id`, `status`,
    /// `error`, `step`, `at`, `link`), rendered for each event.
    Connector {
        /// The connector's name.
        connector: String,
        /// Its action.
        action: String,
        /// The action's input.
        #[serde(default)]
        input: Value,
        /// The action's config (an object), if it takes one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        config: Option<Value>,
        /// Hosts and credentials granted, as a workflow's `grants`.
        #[serde(default)]
        grants: NotifyGrants,
    },
}

/// What a connector rule's action may reach and use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyGrants {
    /// Hosts it may reach (still within what the connector declares).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Credential slot of the connector (`bot-token`, or `slack/bot-token`)
    /// -> name of a stored credential of the tenant.
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
}

/// `POST /v1/notifications/rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotificationRule {
    /// Only this workflow's runs; absent: every workflow of the tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// The event.
    pub on: NotifyEvent,
    /// Where it goes.
    pub target: NotifyTarget,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

/// `PATCH /v1/notifications/rules/{id}`: only the fields sent change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRulePatch {
    /// A workflow id, or `null` for every workflow.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub workflow_id: Option<Option<String>>,
    /// The event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<NotifyEvent>,
    /// The destination (the secret stays unless `rotate_secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<NotifyTarget>,
    /// On or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// A new signing secret, shown once in the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_secret: Option<bool>,
}

/// A rule (never its secret, except `signing_secret` in the answer that makes one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationRule {
    /// `ntr_…`.
    pub id: String,
    /// Only this workflow's runs; absent: every workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// The event.
    pub on: NotifyEvent,
    /// Where it goes.
    pub target: NotifyTarget,
    /// Whether it makes deliveries.
    pub enabled: bool,
    /// The signing secret (`whsec_…`): only in the answer that creates or
    /// rotates it. Keep it; it cannot be read again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not accepted yet; tried again at `next_attempt_at`.
    Pending,
    /// The destination answered 2xx.
    Delivered,
    /// Given up (24 h of retries by default, or the rule was deleted).
    Failed,
    /// Never sent: its rule was at `rule_per_minute`, and waiting for a
    /// free send would have passed the give-up (the try's `error` says so).
    Suppressed,
}

/// One try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryTry {
    /// Unix milliseconds.
    pub at: i64,
    /// The destination's status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Why it did not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One event sent (or being sent) for one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationDelivery {
    /// `ntd_…`, also the `webhook-id` header.
    pub id: String,
    /// The rule.
    pub rule_id: String,
    /// The event.
    pub on: NotifyEvent,
    /// The run.
    pub run_id: String,
    /// Its workflow.
    pub workflow_id: String,
    /// Where it stands.
    pub status: DeliveryState,
    /// Tries so far.
    pub attempts: u32,
    /// The last try's error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The next try (pending only), Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<i64>,
    /// Every try, oldest first.
    pub tries: Vec<DeliveryTry>,
    /// The body sent.
    pub payload: Value,
    /// When the event happened, Unix milliseconds.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// `GET /v1/notifications/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only this rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Only in this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryState>,
    /// The `next` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Per page, 1-500 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Query for DeliveriesQuery {
    const PARAMS: &'static [&'static str] = &["rule_id", "status", "before", "limit"];
    fn check(&self) -> Result<(), BadQuery> {
        match &self.before {
            Some(b) if !b.starts_with("ntd_") => Err(BadQuery {
                param: "before".into(),
                value: b.clone(),
                reason: "is not a delivery id (`ntd_…`, from a page's `next`)".into(),
            }),
            _ => Ok(()),
        }
    }
}
