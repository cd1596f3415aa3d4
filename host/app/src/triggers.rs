//! Triggers reached without an API key: a workflow's webhook (the unguessable
//! token is the credential, and optionally a signature) and a waiting step's
//! resume URL.

use crate::{App, Error, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use weft_types::webhook::MAX_DELIVERY_ID;
use weft_types::{
    DeliverySource, Run, SignatureFailure, Trigger, WebhookMode, WebhookSignature, Workflow,
};
use weft_worker::now_ms;

/// How long a synchronous webhook waits when the workflow sets nothing.
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(30);

/// A webhook call: the workflow it starts, the trigger payload
/// (`{"body", "query", "headers"}`), and the request as received (what a
/// signature is computed over and a delivery id read from).
#[derive(Debug, Clone)]
pub struct WebhookCall {
    /// The active workflow the token belongs to.
    pub workflow: Workflow,
    /// The trigger payload.
    pub input: Value,
    /// The request body, byte for byte.
    pub body: Vec<u8>,
    /// The request headers, names lower-case (values that are not visible
    /// ASCII are left out).
    pub headers: BTreeMap<String, String>,
}

impl WebhookCall {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// What starting a run from a webhook gave.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookStart {
    /// An asynchronous webhook: the run was started (answer 202 with its id).
    Accepted(Run),
    /// A synchronous webhook: the run as it stood when it responded, ended, or
    /// the workflow's webhook timeout passed.
    Waited(Run),
}

impl App {
    /// The active workflow whose webhook token this is.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown token or an inactive workflow (the same
    /// answer, so a token's existence does not leak).
    pub async fn webhook_workflow(&self, token: &str) -> Result<Workflow> {
        match self.store().workflow_by_token(token).await? {
            Some(wf) if wf.active => {
                // A suspended or deleted tenant's webhooks start no run (403).
                self.tenants.gate(&wf.tenant_id).await?;
                Ok(wf)
            }
            _ => Err(Error::NotFound("webhook")),
        }
    }

    /// Starts the run a webhook call asks for; a synchronous webhook waits for
    /// the run's response or end (the workflow's `triggers.webhook.timeout_ms`,
    /// else [`DEFAULT_SYNC_WAIT`]).
    ///
    /// A signed webhook (`triggers.webhook.signature`) is verified first
    /// ([`crate::signing`]); with `triggers.webhook.dedupe`, a delivery id
    /// seen within the retention starts no run and answers as the first
    /// delivery did (the same run: 202 with its id, or its response once it
    /// has one). The delivery is recorded in the commit that creates the run,
    /// so two concurrent deliveries with one id start one run.
    ///
    /// # Errors
    /// [`Error::Signature`] (counted in metrics); [`Error::Invalid`] for a
    /// missing or oversized delivery id; [`Error::InvalidInput`] for a body
    /// that does not match the workflow's `input_schema` (no run, no
    /// delivery recorded); [`Error::Quota`]; queue or store failures.
    pub async fn start_webhook(&self, call: WebhookCall) -> Result<WebhookStart> {
        let wf = &call.workflow;
        let def = self
            .handle
            .definition(&wf.tenant_id, &wf.id, wf.version)
            .await?;
        let hook = def.triggers.webhook.clone().unwrap_or_default();
        if let Some(sig) = &hook.signature
            && let Err(reason) = self.check_signature(&call, sig).await
        {
            self.handle.metrics().webhook_rejected(reason.as_str());
            tracing::info!(workflow.id = %wf.id, reason = %reason, "webhook signature refused");
            return Err(Error::Signature(reason, sig.scheme));
        }
        let scheme = hook.signature.as_ref().map(|s| s.scheme);
        let source = hook.dedupe.as_ref().and_then(|d| d.source(scheme));
        let wait = hook
            .timeout_ms
            .map_or(DEFAULT_SYNC_WAIT, Duration::from_millis);
        let run = match source {
            // Registered as the run's waiter before its first commit: no
            // read of the store for the answer this process commits.
            None if hook.mode == WebhookMode::Sync => {
                let run = self
                    .handle
                    .start_and_wait(&wf.tenant_id, wf, Trigger::Webhook, call.input, wait)
                    .await?;
                return Ok(WebhookStart::Waited(run));
            }
            None => {
                self.handle
                    .start(&wf.tenant_id, wf, Trigger::Webhook, call.input)
                    .await?
            }
            Some(source) => {
                let id = delivery_id(&call, &source)?;
                match self.start_once(&call, id).await? {
                    Once::Started(run) => run,
                    Once::Seen(run) => {
                        self.handle
                            .metrics()
                            .webhook_replays
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        run
                    }
                }
            }
        };
        if hook.mode == WebhookMode::Async {
            return Ok(WebhookStart::Accepted(run));
        }
        if run.response.is_some() || run.status.is_terminal() {
            return Ok(WebhookStart::Waited(run));
        }
        let run = self.handle.wait(&wf.tenant_id, &run.id, wait).await?;
        Ok(WebhookStart::Waited(run))
    }

    /// Verifies the call's signature with the workflow's signing credential.
    async fn check_signature(
        &self,
        call: &WebhookCall,
        sig: &WebhookSignature,
    ) -> std::result::Result<(), SignatureFailure> {
        let wf = &call.workflow;
        let secret = match self
            .handle
            .signing_secret(&wf.tenant_id, &sig.credential)
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(workflow.id = %wf.id, error = %e, "webhook signing credential unavailable");
                return Err(SignatureFailure::SecretUnavailable);
            }
        };
        let header = |name: &str| call.header(name);
        crate::signing::verify(
            sig.scheme,
            &secret,
            sig.tolerance_ms(),
            &header,
            &call.body,
            now_ms(),
        )
    }

    /// Starts the run of delivery `id` unless an unexpired delivery with that
    /// id started one: then that run, as it stands, if this body is the
    /// first one byte for byte (its SHA-256); `Conflict` if not.
    async fn start_once(&self, call: &WebhookCall, id: String) -> Result<Once> {
        let wf = &call.workflow;
        let now = now_ms();
        let body_sha256 = hex::encode(Sha256::digest(&call.body));
        let (digest, key) = (body_sha256.clone(), id.clone());
        let seen = |store: Option<weft_store::Delivery>| async move {
            match store {
                // The same id with another body: not a redelivery. Refused,
                // so a known id cannot fetch its run's answer with any body.
                Some(d) if d.body_sha256 != digest => Err(Error::Conflict(format!(
                    "delivery id `{key}` was already used with a different body; \
                     a redelivery must repeat the body byte for byte (send a new \
                     delivery id for a new event)"
                ))),
                Some(d) => self
                    .store()
                    .get_run(&wf.tenant_id, &d.run_id)
                    .await?
                    .map(Once::Seen)
                    .ok_or(Error::NotFound("run")),
                None => Err(Error::Conflict(
                    "a delivery with this id was started at the same time; retry".into(),
                )),
            }
        };
        if let Some(d) = self
            .store()
            .get_delivery(&wf.tenant_id, &wf.id, &id, now)
            .await?
        {
            return seen(Some(d)).await;
        }
        let retention = self.handle.options().webhook_delivery_retention_ms;
        let delivery = weft_store::Delivery {
            tenant_id: wf.tenant_id.clone(),
            workflow_id: wf.id.clone(),
            delivery_id: id.clone(),
            run_id: String::new(),
            body_sha256,
            created_at: now,
            expires_at: now.saturating_add(i64::try_from(retention).unwrap_or(i64::MAX)),
        };
        match self
            .handle
            .start_delivery(&wf.tenant_id, wf, call.input.clone(), delivery)
            .await
        {
            Ok(run) => Ok(Once::Started(run)),
            // Another delivery with this id committed first: its run.
            Err(weft_worker::Error::Store(weft_store::Error::Duplicate(_))) => {
                let d = self
                    .store()
                    .get_delivery(&wf.tenant_id, &wf.id, &id, now)
                    .await?;
                seen(d).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Resumes the waiting step a resume token belongs to.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown token, or one whose step no longer
    /// waits (the same answer); [`Error::TenantSuspended`] while its tenant
    /// is not active.
    pub async fn resume_by_token(&self, token: &str, payload: Value) -> Result<Run> {
        // A suspended or deleted tenant's waits accept nothing (403
        // `tenant_suspended`, like its webhooks), checked before the resume.
        if let Some(step) = self.store().step_by_resume_token(token).await? {
            self.tenants.gate(&step.tenant_id).await?;
        }
        self.handle
            .resume_token(token, payload)
            .await
            .map_err(|e| match e {
                weft_worker::Error::NotFound(_) | weft_worker::Error::Conflict(_) => {
                    Error::NotFound("resume token")
                }
                other => other.into(),
            })
    }
}

/// A delivery's run: started now, or by an earlier delivery with its id.
enum Once {
    Started(Run),
    Seen(Run),
}

/// The call's delivery id, from where the workflow says it is.
fn delivery_id(call: &WebhookCall, source: &DeliverySource) -> Result<String> {
    let (id, at) = match source {
        DeliverySource::Header(h) => (call.header(h).map(str::to_owned), format!("header `{h}`")),
        DeliverySource::Body(p) => {
            let v = call.input.get("body").and_then(|b| b.pointer(p));
            let id = match v {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            (id, format!("body at `{p}`"))
        }
    };
    match id {
        Some(id) if !id.is_empty() && id.len() <= MAX_DELIVERY_ID => Ok(id),
        Some(id) if !id.is_empty() => Err(Error::Invalid(format!(
            "the delivery id ({at}) is longer than {MAX_DELIVERY_ID} bytes"
        ))),
        _ => Err(Error::Invalid(format!(
            "this webhook dedupes deliveries: a delivery id is required ({at}, \
             triggers.webhook.dedupe)"
        ))),
    }
}
