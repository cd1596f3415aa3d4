//! Trigger checks: the webhook's timeout, signature and dedupe, the
//! schedule's expression and zone, the poll's connector, trigger, config,
//! interval and credentials, the queue's credential, queue and budgets.

use super::Checker;
use crate::schedule::{self, Cron};
use weft_types::webhook::DeliverySource;
use weft_types::{Definition, PollTrigger, Problem, QueueTrigger, SignatureScheme, WebhookTrigger};

/// Shortest `triggers.poll.interval_ms` a definition may set (a deployment
/// may set a longer one: [`crate::DefinitionLimits::min_poll_interval_ms`],
/// the worker's `min_poll_interval_ms`).
pub const MIN_POLL_INTERVAL_MS: u64 = 1_000;

/// Longest a synchronous webhook may wait for its run's response, in milliseconds.
pub const MAX_WEBHOOK_TIMEOUT_MS: u64 = 300_000;

impl Checker<'_> {
    /// Checks `triggers`: the webhook timeout, the schedule's cron and zone.
    pub(super) fn triggers(&mut self) {
        let t = &self.def.triggers;
        if let Some(timeout) = t.webhook.as_ref().and_then(|w| w.timeout_ms)
            && !(1..=MAX_WEBHOOK_TIMEOUT_MS).contains(&timeout)
        {
            self.problem(
                "/triggers/webhook/timeout_ms",
                format!("must be between 1 and {MAX_WEBHOOK_TIMEOUT_MS}"),
            );
        }
        if let Some(w) = &t.webhook {
            self.signature(w);
        }
        if let Some(s) = &t.schedule {
            // The expression is checked in UTC so that a bad zone and a bad
            // expression are both reported.
            if let Err(e) = Cron::parse(&s.cron, "UTC") {
                self.problem("/triggers/schedule/cron", e);
            }
            if let Err(e) = schedule::check_zone(&s.timezone) {
                self.problem("/triggers/schedule/timezone", e);
            }
        }
        if let Some(p) = &t.poll {
            self.poll(p);
        }
        if let Some(q) = &t.queue {
            self.queue(q);
        }
    }

    /// `triggers.queue`: a credential name, a queue name AMQP can carry
    /// (1-255 bytes), the prefetch and the retry budget in bounds. Whether
    /// the credential exists and is an `amqp` login is checked when the
    /// consumer starts (and shown on the workflow): credentials are not the
    /// definition's.
    fn queue(&mut self, q: &QueueTrigger) {
        use weft_types::workflow::{MAX_QUEUE_MAX_ATTEMPTS, MAX_QUEUE_PREFETCH};
        const QUEUE: &str = "/triggers/queue";
        if q.credential.trim().is_empty() || q.credential.len() > 100 {
            self.problem(
                format!("{QUEUE}/credential"),
                "must name an `amqp` credential of the tenant (1-100 characters)",
            );
        }
        if q.queue.is_empty() || q.queue.len() > 255 {
            self.problem(
                format!("{QUEUE}/queue"),
                "must name a queue on the broker (1-255 bytes)",
            );
        }
        if let Some(p) = q.prefetch
            && !(1..=MAX_QUEUE_PREFETCH).contains(&p)
        {
            self.problem(
                format!("{QUEUE}/prefetch"),
                format!("must be between 1 and {MAX_QUEUE_PREFETCH}"),
            );
        }
        if let Some(n) = q.max_attempts
            && !(1..=MAX_QUEUE_MAX_ATTEMPTS).contains(&n)
        {
            self.problem(
                format!("{QUEUE}/max_attempts"),
                format!(
                    "must be between 1 and {MAX_QUEUE_MAX_ATTEMPTS} (deliveries of a message \
                     before it is rejected to the queue's dead-letter exchange)"
                ),
            );
        }
    }

    /// `triggers.poll`: the connector is in the catalogue (in the range) and
    /// declares the trigger; the config fits its schema; the interval is in
    /// bounds; every credential names a slot the connector declares.
    fn poll(&mut self, p: &PollTrigger) {
        const POLL: &str = "/triggers/poll";
        let interval = p.interval_ms();
        let min = self.limits.min_poll_interval();
        if !(min..=weft_types::workflow::MAX_POLL_INTERVAL_MS).contains(&interval) {
            let floor = if min > MIN_POLL_INTERVAL_MS {
                " (the deployment's limit `min_poll_interval_ms`)"
            } else {
                ""
            };
            self.problem(
                format!("{POLL}/interval_ms"),
                format!(
                    "must be between {min}{floor} and {} (one day)",
                    weft_types::workflow::MAX_POLL_INTERVAL_MS
                ),
            );
        }
        if let Some(range) = &p.version
            && let Err(e) = semver::VersionReq::parse(range)
        {
            self.problem(
                format!("{POLL}/version"),
                format!("`{range}` is not a semver range (e.g. `^1` or `=1.2.3`): {e}"),
            );
        }
        let Some(manifest) = self.catalog.connector(&p.connector) else {
            self.problem(
                format!("{POLL}/connector"),
                format!("unknown connector `{}`", p.connector),
            );
            return;
        };
        if let Some(range) = &p.version
            && semver::VersionReq::parse(range).is_ok()
            && !p.accepts(&manifest.version)
        {
            self.problem(
                format!("{POLL}/version"),
                format!(
                    "connector `{}` is at {}, outside `{range}`",
                    p.connector, manifest.version
                ),
            );
        }
        for slot in p.credentials.keys() {
            if manifest.credential(slot).is_none() {
                self.problem(
                    format!(
                        "{POLL}/credentials/{}",
                        crate::template::pointer_escape(slot)
                    ),
                    format!(
                        "connector `{}` declares no credential slot `{slot}`",
                        p.connector
                    ),
                );
            }
        }
        let Some(spec) = manifest.trigger(&p.trigger) else {
            let names: Vec<&str> = manifest
                .triggers
                .iter()
                .take(20)
                .map(|t| t.name.as_str())
                .collect();
            self.problem(
                format!("{POLL}/trigger"),
                if names.is_empty() {
                    format!("connector `{}` offers no polling triggers", p.connector)
                } else {
                    format!(
                        "connector `{}` has no trigger `{}` (it has: {})",
                        p.connector,
                        p.trigger,
                        names.join(", ")
                    )
                },
            );
            return;
        };
        let config = if p.config.is_null() {
            serde_json::json!({})
        } else {
            p.config.clone()
        };
        let limit = self.limits.max_problems + 1;
        crate::schema::check(
            &spec.config_schema,
            &config,
            &format!("{POLL}/config"),
            &mut self.out,
            limit,
        );
    }
}

impl Checker<'_> {
    /// `triggers.webhook.signature` and `triggers.webhook.dedupe`.
    fn signature(&mut self, w: &WebhookTrigger) {
        const SIG: &str = "/triggers/webhook/signature";
        if let Some(sig) = &w.signature {
            if sig.credential.trim().is_empty() || sig.credential.len() > 100 {
                self.problem(
                    format!("{SIG}/credential"),
                    "must name a credential of the tenant (1-100 characters)",
                );
            }
            match sig.tolerance_ms {
                Some(_) if sig.scheme == SignatureScheme::Github => self.problem(
                    format!("{SIG}/tolerance_ms"),
                    "a `github` signature covers no timestamp, so there is no replay window \
                     to set (and `X-GitHub-Delivery` is not signed either: a `github` webhook \
                     has no replay protection, see docs/WORKFLOWS.md)",
                ),
                Some(0) => self.problem(format!("{SIG}/tolerance_ms"), "must be positive"),
                v => {
                    let max = self.limits.max_webhook_tolerance_ms;
                    self.at_most(
                        &format!("{SIG}/tolerance_ms"),
                        v,
                        max,
                        "max_webhook_tolerance_ms",
                    );
                }
            }
        }
        let Some(d) = &w.dedupe else { return };
        const DEDUPE: &str = "/triggers/webhook/dedupe";
        match (&d.header, &d.body) {
            (Some(_), Some(_)) => {
                self.problem(DEDUPE, "set one of `header` and `body`, not both");
            }
            (Some(h), None) if !is_header_name(h) => self.problem(
                format!("{DEDUPE}/header"),
                format!("`{h}` is not an HTTP header name"),
            ),
            (None, Some(p)) if !p.starts_with('/') || p.len() > 200 => self.problem(
                format!("{DEDUPE}/body"),
                "must be a JSON pointer into the body, such as `/id` (at most 200 characters)",
            ),
            (None, None)
                if w.signature
                    .as_ref()
                    .is_none_or(|s| s.scheme.delivery_header().is_none()) =>
            {
                self.problem(
                    DEDUPE,
                    "name where the delivery id is: `header` (e.g. `Idempotency-Key`) or \
                     `body` (a JSON pointer, e.g. `/id` for Stripe's event id); only `github` \
                     and `standard` signatures have a delivery header by default",
                );
            }
            _ => {}
        }
    }
}

/// What is allowed but worth knowing about a webhook trigger: a dedupe id the
/// signature does not cover (dedupe then stops retries, not replays).
pub fn warnings(def: &Definition) -> Vec<Problem> {
    let Some(w) = &def.triggers.webhook else {
        return Vec::new();
    };
    let (Some(sig), Some(d)) = (&w.signature, &w.dedupe) else {
        return Vec::new();
    };
    if d.signed_by(sig.scheme) {
        return Vec::new();
    }
    let Some(DeliverySource::Header(h)) = d.source(Some(sig.scheme)) else {
        return Vec::new();
    };
    let path = if d.header.is_some() {
        "/triggers/webhook/dedupe/header"
    } else {
        "/triggers/webhook/dedupe"
    };
    vec![Problem::new(
        path,
        format!(
            "the delivery id (header `{h}`) is not covered by the `{}` signature: dedupe stops \
             a sender's retries, not replays (anyone holding one signed body can send it again \
             with a new id and start another run); dedupe on an id inside the signed body \
             (`body: /id`) if the sender puts one there",
            sig.scheme
        ),
    )]
}

/// An HTTP header name (RFC 9110 token), at most 100 characters.
fn is_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 100
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod queue_tests {
    #![allow(clippy::unwrap_used)]

    use super::super::*;
    use crate::definition::from_value;
    use serde_json::json;

    fn with(queue: Value) -> Vec<String> {
        let limits = DefinitionLimits::default();
        let def = json!({
            "name": "w",
            "triggers": {"queue": queue},
            "steps": [{"id": "r", "kind": "respond", "body": "ok"}]
        });
        let def = from_value(def, &limits).unwrap();
        check(&def, &Vec::new(), &limits)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn good_queue_settings_pass() {
        for v in [
            json!({"credential": "orders-mq", "queue": "orders"}),
            json!({"credential": "mq", "queue": "q", "prefetch": 1, "max_attempts": 100}),
        ] {
            assert_eq!(with(v.clone()), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn bad_queue_settings_name_their_path() {
        assert_eq!(
            with(json!({"credential": " ", "queue": "", "prefetch": 0, "max_attempts": 101})),
            vec![
                "/triggers/queue/credential: must name an `amqp` credential of the tenant (1-100 characters)",
                "/triggers/queue/queue: must name a queue on the broker (1-255 bytes)",
                "/triggers/queue/prefetch: must be between 1 and 1000",
                "/triggers/queue/max_attempts: must be between 1 and 100 (deliveries of a message \
                 before it is rejected to the queue's dead-letter exchange)",
            ]
        );
        let limits = DefinitionLimits::default();
        let e = from_value(
            json!({"name": "w", "triggers": {"queue": {"credential": "c", "queue": "q",
                   "url": "amqp://u:p@h"}}, "steps": []}),
            &limits,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("url"), "an unknown field is refused: {e}");
    }
}
