//! Signed webhooks and delivery-id dedupe: what a workflow's
//! `triggers.webhook.signature` and `triggers.webhook.dedupe` say, and why a
//! signature check fails ([`SignatureFailure`], on the wire as the 401's `reason`).
//!
//! The check itself (HMAC-SHA256, the replay window, constant-time comparison)
//! lives in the application layer (`weft_app::signing`); this module only holds
//! the shapes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The default replay window of a signed webhook: five minutes (what Stripe,
/// Slack and Standard Webhooks use).
pub const DEFAULT_TOLERANCE_MS: u64 = 300_000;

/// `triggers.webhook.signature`: every call must carry a valid HMAC-SHA256
/// signature made with the tenant credential `credential`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSignature {
    /// The sender's convention (headers and signed payload).
    pub scheme: SignatureScheme,
    /// Name of the tenant credential that holds the signing secret (stored
    /// sealed like every credential; never the secret itself).
    pub credential: String,
    /// Replay window: a signed timestamp further than this from the server's
    /// clock (either way) is refused, in milliseconds (default 300 000; at
    /// most the deployment's `max_webhook_tolerance_ms`). Not allowed with
    /// `github`, whose signature covers no timestamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_ms: Option<u64>,
}

impl WebhookSignature {
    /// The replay window in force (`None` for a scheme without timestamp).
    pub fn tolerance_ms(&self) -> Option<u64> {
        self.scheme
            .timestamped()
            .then(|| self.tolerance_ms.unwrap_or(DEFAULT_TOLERANCE_MS))
    }
}

/// A webhook signing convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureScheme {
    /// `Stripe-Signature: t=<unix s>,v1=<hex>` (several `v1` allowed), over
    /// `<t>.<body>`.
    Stripe,
    /// `X-Slack-Request-Timestamp: <unix s>` and `X-Slack-Signature: v0=<hex>`,
    /// over `v0:<ts>:<body>`.
    Slack,
    /// `X-Hub-Signature-256: sha256=<hex>` over the body alone: no timestamp,
    /// so no replay window, and `X-GitHub-Delivery` is not signed: a signed
    /// body can be sent again under a fresh delivery id. No replay protection.
    Github,
    /// Standard Webhooks (Svix): `webhook-id`, `webhook-timestamp` (unix s),
    /// `webhook-signature: v1,<base64>` (several, space separated), over
    /// `<id>.<timestamp>.<body>`; a `whsec_` secret is base64.
    Standard,
}

impl SignatureScheme {
    /// The name in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stripe => "stripe",
            Self::Slack => "slack",
            Self::Github => "github",
            Self::Standard => "standard",
        }
    }

    /// Whether the signature covers a timestamp (so a replay window applies).
    pub fn timestamped(self) -> bool {
        !matches!(self, Self::Github)
    }

    /// The headers a signed call must carry in this convention, for messages.
    pub fn signature_headers(self) -> &'static str {
        match self {
            Self::Stripe => "`Stripe-Signature` (t=...,v1=...)",
            Self::Slack => "`X-Slack-Signature` (v0=...) and `X-Slack-Request-Timestamp`",
            Self::Github => "`X-Hub-Signature-256` (sha256=...)",
            Self::Standard => "`webhook-id`, `webhook-timestamp` and `webhook-signature` (v1,...)",
        }
    }

    /// The header that carries the sender's delivery id, by convention.
    pub fn delivery_header(self) -> Option<&'static str> {
        match self {
            Self::Github => Some("x-github-delivery"),
            Self::Standard => Some("webhook-id"),
            Self::Stripe | Self::Slack => None,
        }
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `triggers.webhook.dedupe`: a repeated delivery id with the same body
/// starts no second run and gets the first delivery's answer; with another
/// body it is refused (409). Where the id is: `header`, else `body`, else the
/// signature scheme's delivery header (`X-GitHub-Delivery`, `webhook-id`).
/// Dedupe stops a sender's retries; it is replay protection only when the
/// signature covers the id ([`WebhookDedupe::signed_by`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDedupe {
    /// The request header that carries the delivery id (e.g. `Idempotency-Key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// A JSON pointer into the JSON body (e.g. `/id`, Stripe's event id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// Where a workflow's delivery id is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverySource {
    /// A request header (lower-case name).
    Header(String),
    /// A JSON pointer into the body.
    Body(String),
}

impl WebhookDedupe {
    /// Where the delivery id is read, given the signature scheme (if any);
    /// `None` when nothing names it (refused at save).
    pub fn source(&self, scheme: Option<SignatureScheme>) -> Option<DeliverySource> {
        if let Some(h) = &self.header {
            return Some(DeliverySource::Header(h.to_ascii_lowercase()));
        }
        if let Some(p) = &self.body {
            return Some(DeliverySource::Body(p.clone()));
        }
        scheme
            .and_then(SignatureScheme::delivery_header)
            .map(|h| DeliverySource::Header(h.to_owned()))
    }

    /// Whether a `scheme` signature covers the delivery id: an id in the body
    /// (every scheme signs the body) or `standard`'s `webhook-id`. When not,
    /// anyone holding one signed body can send it again with a new id.
    pub fn signed_by(&self, scheme: SignatureScheme) -> bool {
        match self.source(Some(scheme)) {
            Some(DeliverySource::Body(_)) => true,
            Some(DeliverySource::Header(h)) => {
                scheme == SignatureScheme::Standard && h == "webhook-id"
            }
            None => false,
        }
    }
}

/// Longest delivery id kept, in bytes (a longer one is refused).
pub const MAX_DELIVERY_ID: usize = 200;

/// Why a signed webhook was refused (401 `invalid_signature`, its `reason`;
/// counted in `weft_webhook_rejections_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureFailure {
    /// A header the scheme needs is absent.
    MissingHeader,
    /// A header is present but not in the scheme's format.
    MalformedHeader,
    /// No signature matches the body (wrong secret, altered body).
    BadSignature,
    /// The signed timestamp is outside the replay window.
    StaleTimestamp,
    /// The workflow's signing credential cannot be read (deleted, or the
    /// vault fails): nothing can be verified, so nothing is accepted.
    SecretUnavailable,
}

impl SignatureFailure {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::MalformedHeader => "malformed_header",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp => "stale_timestamp",
            Self::SecretUnavailable => "secret_unavailable",
        }
    }
}

impl fmt::Display for SignatureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
