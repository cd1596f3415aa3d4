//! Triggers reached without an API key: a workflow's webhook (the unguessable
//! token is the credential) and a waiting step's resume URL.

use crate::{App, Error, Result};
use serde_json::Value;
use std::time::Duration;
use weft_types::{Run, Trigger, WebhookMode, Workflow};

/// How long a synchronous webhook waits when the workflow sets nothing.
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(30);

/// A webhook call: the workflow it starts and the trigger payload
/// (`{"body", "query", "headers"}`).
#[derive(Debug, Clone)]
pub struct WebhookCall {
    /// The active workflow the token belongs to.
    pub workflow: Workflow,
    /// The trigger payload.
    pub input: Value,
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
            Some(wf) if wf.active => Ok(wf),
            _ => Err(Error::NotFound("webhook")),
        }
    }

    /// Starts the run a webhook call asks for; a synchronous webhook waits for
    /// the run's response or end (the workflow's `triggers.webhook.timeout_ms`,
    /// else [`DEFAULT_SYNC_WAIT`]).
    ///
    /// # Errors
    /// [`Error::Quota`]; queue or store failures.
    pub async fn start_webhook(&self, call: WebhookCall) -> Result<WebhookStart> {
        let wf = &call.workflow;
        let def = self
            .handle
            .definition(&wf.tenant_id, &wf.id, wf.version)
            .await?;
        let run = self
            .handle
            .start(&wf.tenant_id, wf, Trigger::Webhook, call.input)
            .await?;
        let hook = def.triggers.webhook.clone().unwrap_or_default();
        if hook.mode == WebhookMode::Async {
            return Ok(WebhookStart::Accepted(run));
        }
        if run.response.is_some() || run.status.is_terminal() {
            return Ok(WebhookStart::Waited(run));
        }
        let wait = hook
            .timeout_ms
            .map_or(DEFAULT_SYNC_WAIT, Duration::from_millis);
        let run = self.handle.wait(&wf.tenant_id, &run.id, wait).await?;
        Ok(WebhookStart::Waited(run))
    }

    /// Resumes the waiting step a resume token belongs to.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown token, or one whose step no longer
    /// waits (the same answer).
    pub async fn resume_by_token(&self, token: &str, payload: Value) -> Result<Run> {
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
