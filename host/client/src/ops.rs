//! The operator's routes (`/v1/ops/…`, `docs/TENANCY.md` section 1), called
//! with an operator key (`weft_op_…`) as the client's key. The registry's
//! verify and takedown are in `registry.rs`.

use crate::routes::pairs;
use crate::{Body, Client, Result};
use reqwest::Method;
use reqwest::header::HeaderMap;
use weft_model::ops::{
    NewOperatorKey, NewTenant, OperatorKey, Suspend, Tenant, TenantInvitation, TenantPatch,
    UserReset,
};
use weft_model::people::Invitation;
use weft_model::usage::{UsageQuery, UsageReport};
use weft_model::{AuditEntry, AuditQuery, List};

impl Client {
    /// `POST /v1/ops/tenants`: the answer has the owner key's secret.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_create_tenant(&self, new: &NewTenant) -> Result<Tenant> {
        self.call(
            Method::POST,
            &["v1", "ops", "tenants"],
            &[],
            Body::json(new)?,
        )
        .await
    }

    /// `GET /v1/ops/tenants`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_list_tenants(&self) -> Result<Vec<Tenant>> {
        let l: List<Tenant> = self
            .call(Method::GET, &["v1", "ops", "tenants"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `GET /v1/ops/tenants/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_get_tenant(&self, id: &str) -> Result<Tenant> {
        self.call(Method::GET, &["v1", "ops", "tenants", id], &[], Body::None)
            .await
    }

    /// `PATCH /v1/ops/tenants/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_update_tenant(&self, id: &str, patch: &TenantPatch) -> Result<Tenant> {
        self.call(
            Method::PATCH,
            &["v1", "ops", "tenants", id],
            &[],
            Body::json(patch)?,
        )
        .await
    }

    /// `DELETE /v1/ops/tenants/{id}` (erased after the grace period).
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_delete_tenant(&self, id: &str) -> Result<Tenant> {
        self.call(
            Method::DELETE,
            &["v1", "ops", "tenants", id],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/ops/tenants/{id}/suspend`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_suspend_tenant(&self, id: &str, reason: &str) -> Result<Tenant> {
        self.call(
            Method::POST,
            &["v1", "ops", "tenants", id, "suspend"],
            &[],
            Body::json(&Suspend {
                reason: reason.into(),
            })?,
        )
        .await
    }

    /// `POST /v1/ops/tenants/{id}/resume`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_resume_tenant(&self, id: &str) -> Result<Tenant> {
        self.call(
            Method::POST,
            &["v1", "ops", "tenants", id, "resume"],
            &[],
            Body::None,
        )
        .await
    }

    /// `POST /v1/ops/tenants/{id}/invitations`: the token is in this answer
    /// only.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_invite(&self, id: &str, new: &TenantInvitation) -> Result<Invitation> {
        self.call(
            Method::POST,
            &["v1", "ops", "tenants", id, "invitations"],
            &[],
            Body::json(new)?,
        )
        .await
    }

    /// `POST /v1/ops/users/reset`: the token is in this answer only.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_reset_user(&self, email: &str) -> Result<Invitation> {
        self.call(
            Method::POST,
            &["v1", "ops", "users", "reset"],
            &[],
            Body::json(&UserReset {
                email: email.into(),
            })?,
        )
        .await
    }

    /// `GET /v1/ops/usage`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_usage(&self, q: &UsageQuery) -> Result<UsageReport> {
        self.call(Method::GET, &["v1", "ops", "usage"], &pairs(q), Body::None)
            .await
    }

    /// `GET /v1/ops/usage.csv`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_usage_csv(&self, q: &UsageQuery) -> Result<String> {
        let url = self.url(&["v1", "ops", "usage.csv"], &pairs(q))?;
        let resp = self
            .send(Method::GET, url.clone(), Body::None, &HeaderMap::new())
            .await?;
        if !resp.status.is_success() {
            return crate::raw::decode(Method::GET, &url, resp);
        }
        Ok(resp.text())
    }

    /// `POST /v1/ops/keys`: the secret is in this answer only.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_create_key(&self, name: &str) -> Result<OperatorKey> {
        self.call(
            Method::POST,
            &["v1", "ops", "keys"],
            &[],
            Body::json(&NewOperatorKey { name: name.into() })?,
        )
        .await
    }

    /// `GET /v1/ops/keys`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_list_keys(&self) -> Result<Vec<OperatorKey>> {
        let l: List<OperatorKey> = self
            .call(Method::GET, &["v1", "ops", "keys"], &[], Body::None)
            .await?;
        Ok(l.items)
    }

    /// `DELETE /v1/ops/keys/{id}`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_revoke_key(&self, id: &str) -> Result<()> {
        self.call(Method::DELETE, &["v1", "ops", "keys", id], &[], Body::None)
            .await
    }

    /// `GET /v1/ops/audit`.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn op_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let l: List<AuditEntry> = self
            .call(Method::GET, &["v1", "ops", "audit"], &pairs(q), Body::None)
            .await?;
        Ok(l.items)
    }
}
