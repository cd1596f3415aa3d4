//! The usage report (`docs/TENANCY.md`, section 5): `GET /v1/usage`, the
//! tenant's limits and quotas `GET /v1/tenant`, and the report's CSV form
//! `GET /v1/usage.csv`, in the order of `weft_api::routes::ROUTES`.

use crate::routes::pairs;
use crate::{Body, Client, Result};
use reqwest::Method;
use reqwest::header::HeaderMap;
use weft_model::usage::{UsageQuery, UsageReport};

impl Client {
    /// `GET /v1/usage`: the tenant's counters by day or by workflow.
    ///
    /// # Errors
    /// [`crate::Error`]; a bad `from`, `to` or `group` is 400 naming it.
    pub async fn usage(&self, q: &UsageQuery) -> Result<UsageReport> {
        self.call(Method::GET, &["v1", "usage"], &pairs(q), Body::None)
            .await
    }

    /// `GET /v1/tenant`: the caller's tenant, the limits in force for it,
    /// each quota with what was used of it.
    ///
    /// # Errors
    /// [`crate::Error`].
    pub async fn own_tenant(&self) -> Result<weft_model::tenant::OwnTenant> {
        self.call(Method::GET, &["v1", "tenant"], &[], Body::None)
            .await
    }

    /// `GET /v1/usage.csv`: the same report as CSV text (a header, the
    /// lines, a `total` line).
    ///
    /// # Errors
    /// As [`Client::usage`].
    pub async fn usage_csv(&self, q: &UsageQuery) -> Result<String> {
        let url = self.url(&["v1", "usage.csv"], &pairs(q))?;
        let resp = self
            .send(Method::GET, url.clone(), Body::None, &HeaderMap::new())
            .await?;
        if !resp.status.is_success() {
            return crate::raw::decode(Method::GET, &url, resp);
        }
        Ok(resp.text())
    }
}
