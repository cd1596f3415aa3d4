//! One method per route of `weft_api::routes::ROUTES` (the same order).

use crate::{Body, Client, Response, Result};
use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use weft_model::{
    AuditEntry, AuditQuery, Connector, Credential, CredentialAuthorization, DeadLetter, Health,
    Key, List, NewCredential, NewKey, Page, Ready, Redriven, Rerun, Resume, Run, RunRef, RunsQuery,
    StartQuery, StartRun, Validation, Workflow, WorkflowVersion, WorkflowsQuery,
};

/// A workflow definition to upload.
#[derive(Debug, Clone, Copy)]
pub enum Definition<'a> {
    /// A JSON document.
    Json(&'a Value),
    /// A JSON file as written; sent as `application/json`.
    JsonText(&'a [u8]),
    /// A YAML (or JSON) file as written; sent as `application/yaml`.
    Yaml(&'a [u8]),
}

impl Definition<'_> {
    fn body(self) -> Result<Body> {
        match self {
            Self::Json(v) => Body::json(v),
            Self::JsonText(b) => Ok(Body::Json(b.to_vec())),
            Self::Yaml(b) => Ok(Body::Raw(b.to_vec(), "application/yaml".into())),
        }
    }
}

/// The query pairs of a query type (its set fields).
pub(crate) fn pairs<Q: Serialize>(q: &Q) -> Vec<(String, String)> {
    let Ok(Value::Object(map)) = serde_json::to_value(q) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

impl Client {
    /// `GET /healthz`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn health(&self) -> Result<Health> {
        self.call(Method::GET, &["healthz"], &[], Body::None).await
    }

    /// `GET /readyz`: the dependencies' states, also when it answers 503.
    ///
    /// # Errors
    /// [`crate::Error`] but for a 503 with the readiness body.
    pub async fn ready(&self) -> Result<Ready> {
        let url = self.url(&["readyz"], &[])?;
        let resp = self
            .send(Method::GET, url.clone(), Body::None, &Default::default())
            .await?;
        if resp.status == reqwest::StatusCode::SERVICE_UNAVAILABLE
            && let Some(r) = resp.json::<Ready>()
        {
            return Ok(r);
        }
        crate::raw::decode(Method::GET, &url, resp)
    }

    /// `GET /metrics`: the Prometheus text.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn metrics(&self) -> Result<String> {
        let resp = self.raw(Method::GET, "/metrics", Body::None).await?;
        if !resp.status.is_success() {
            let url = self.url(&["metrics"], &[])?;
            return crate::raw::decode(Method::GET, &url, resp);
        }
        Ok(resp.text())
    }

    /// `GET /openapi.json`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn openapi(&self) -> Result<Value> {
        self.call(Method::GET, &["openapi.json"], &[], Body::None)
            .await
    }

    /// `POST /hooks/{token}` with a JSON body: the answer as it came (a
    /// workflow decides its status, headers and body).
    ///
    /// # Errors
    /// Only when no answer arrived.
    pub async fn hook(&self, token: &str, body: &Value) -> Result<Response> {
        let url = self.url(&["hooks", token], &[])?;
        self.send(Method::POST, url, Body::json(body)?, &Default::default())
            .await
    }

    /// `POST /resume/{token}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn resume(&self, token: &str, payload: &Value) -> Result<RunRef> {
        self.call(Method::POST, &["resume", token], &[], Body::json(payload)?)
            .await
    }

    /// `POST /v1/workflows`.
    ///
    /// # Errors
    /// [`crate::Error`]; an invalid definition is `invalid_workflow` with
    /// every problem in `details`.
    pub async fn create_workflow(&self, def: Definition<'_>) -> Result<Workflow> {
        self.call(Method::POST, &["v1", "workflows"], &[], def.body()?)
            .await
    }

    /// `GET /v1/workflows`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_workflows(&self, q: &WorkflowsQuery) -> Result<Page<Workflow>> {
        self.call(Method::GET, &["v1", "workflows"], &pairs(q), Body::None)
            .await
    }

    /// `POST /v1/workflows/validate`.
    ///
    /// # Errors
    /// [`crate::Error`]; an invalid definition is `invalid_workflow`.
    pub async fn validate_workflow(&self, def: Definition<'_>) -> Result<Validation> {
        self.call(
            Method::POST,
            &["v1", "workflows", "validate"],
            &[],
            def.body()?,
        )
        .await
    }

    /// `GET /v1/workflows/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_workflow(&self, id: &str) -> Result<Workflow> {
        self.call(Method::GET, &["v1", "workflows", id], &[], Body::None)
            .await
    }

    /// `PUT /v1/workflows/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn update_workflow(&self, id: &str, def: Definition<'_>) -> Result<Workflow> {
        self.call(Method::PUT, &["v1", "workflows", id], &[], def.body()?)
            .await
    }

    /// `DELETE /v1/workflows/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn delete_workflow(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "workflows", id], &[], Body::None)
            .await
    }

    /// `GET /v1/workflows/{id}/versions/{version}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_version(&self, id: &str, version: u32) -> Result<WorkflowVersion> {
        let v = version.to_string();
        self.call(
            Method::GET,
            &["v1", "workflows", id, "versions", &v],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/workflows/{id}/activate`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn activate_workflow(&self, id: &str) -> Result<Workflow> {
        self.call(
            Method::POST,
            &["v1", "workflows", id, "activate"],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/workflows/{id}/deactivate`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn deactivate_workflow(&self, id: &str) -> Result<Workflow> {
        self.call(
            Method::POST,
            &["v1", "workflows", id, "deactivate"],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/workflows/{id}/runs`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn start_run(
        &self,
        workflow_id: &str,
        body: &StartRun,
        q: &StartQuery,
    ) -> Result<Run> {
        self.call(
            Method::POST,
            &["v1", "workflows", workflow_id, "runs"],
            &pairs(q),
            Body::json(body)?,
        )
        .await
    }

    /// `GET /v1/runs`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_runs(&self, q: &RunsQuery) -> Result<Page<Run>> {
        self.call(Method::GET, &["v1", "runs"], &pairs(q), Body::None)
            .await
    }

    /// `GET /v1/runs/stats`: runs per time bucket and status, the busiest
    /// workflows.
    ///
    /// # Errors
    /// [`crate::Error`]; a bad window is `invalid_request`.
    pub async fn run_stats(
        &self,
        q: &weft_model::stats::RunStatsQuery,
    ) -> Result<weft_model::stats::RunStats> {
        self.call(Method::GET, &["v1", "runs", "stats"], &pairs(q), Body::None)
            .await
    }

    /// `GET /v1/runs/{id}`: with its steps and attempts.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn get_run(&self, id: &str) -> Result<Run> {
        self.call(Method::GET, &["v1", "runs", id], &[], Body::None)
            .await
    }

    /// `POST /v1/runs/{id}/cancel`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn cancel_run(&self, id: &str) -> Result<Run> {
        self.call(Method::POST, &["v1", "runs", id, "cancel"], &[], Body::None)
            .await
    }

    /// `POST /v1/runs/{id}/retry`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn retry_run(&self, id: &str) -> Result<Run> {
        self.call(Method::POST, &["v1", "runs", id, "retry"], &[], Body::None)
            .await
    }

    /// `POST /v1/runs/{id}/rerun`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn rerun_run(&self, id: &str, from: &str) -> Result<Run> {
        let body = Rerun { from: from.into() };
        self.call(
            Method::POST,
            &["v1", "runs", id, "rerun"],
            &[],
            Body::json(&body)?,
        )
        .await
    }

    /// `POST /v1/runs/{id}/steps/{key}/resume`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn resume_step(&self, id: &str, key: &str, payload: Value) -> Result<Run> {
        self.call(
            Method::POST,
            &["v1", "runs", id, "steps", key, "resume"],
            &[],
            Body::json(&Resume { payload })?,
        )
        .await
    }

    /// `POST /v1/credentials`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn create_credential(&self, new: &NewCredential) -> Result<Credential> {
        self.call(Method::POST, &["v1", "credentials"], &[], Body::json(new)?)
            .await
    }

    /// `GET /v1/credentials`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_credentials(&self) -> Result<Vec<Credential>> {
        let l: List<Credential> = self
            .call(Method::GET, &["v1", "credentials"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `DELETE /v1/credentials/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn delete_credential(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "credentials", id], &[], Body::None)
            .await
    }

    /// `POST /v1/credentials/{id}/authorize`: the provider URL that
    /// authorizes an OAuth2 credential.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn authorize_credential(&self, id: &str) -> Result<CredentialAuthorization> {
        self.call(
            Method::POST,
            &["v1", "credentials", id, "authorize"],
            &[],
            Body::None,
        )
        .await
    }

    /// `GET /v1/connectors`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_connectors(&self) -> Result<Vec<Connector>> {
        let l: List<Connector> = self
            .call(Method::GET, &["v1", "connectors"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `POST /v1/keys`: the answer carries the secret, once.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn create_key(&self, new: &NewKey) -> Result<Key> {
        self.call(Method::POST, &["v1", "keys"], &[], Body::json(new)?)
            .await
    }

    /// `GET /v1/keys`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_keys(&self) -> Result<Vec<Key>> {
        let l: List<Key> = self
            .call(Method::GET, &["v1", "keys"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `DELETE /v1/keys/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn revoke_key(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "keys", id], &[], Body::None)
            .await
    }

    /// `GET /v1/audit`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let l: List<AuditEntry> = self
            .call(Method::GET, &["v1", "audit"], &pairs(q), Body::None)
            .await?;
        Ok(l.items)
    }

    /// `GET /v1/dead-letters`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn list_dead_letters(&self) -> Result<Vec<DeadLetter>> {
        let l: List<DeadLetter> = self
            .call(Method::GET, &["v1", "dead-letters"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `POST /v1/dead-letters/{id}/redrive`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn redrive_dead_letter(&self, id: &str) -> Result<Redriven> {
        self.call(
            Method::POST,
            &["v1", "dead-letters", id, "redrive"],
            &[],
            Body::None,
        )
        .await
    }
}
