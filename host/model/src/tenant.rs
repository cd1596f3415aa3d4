//! `GET /v1/tenant`: the caller's own tenant, with the limits and quotas in
//! force for it and what it has used of them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use weft_types::{TenantLimits, TenantState};

/// The caller's tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OwnTenant {
    /// `ten_…`.
    pub id: String,
    /// For humans.
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// `active` (a tenant suspended or being deleted cannot call this).
    pub state: TenantState,
    /// The operator's overrides for this tenant (a key left out takes the
    /// deployment's value).
    pub overrides: TenantLimits,
    /// What applies now: the overrides over the deployment's settings.
    pub limits: EffectiveLimits,
    /// Every usage quota with what was used of it; a quota without `limit`
    /// is not set (unlimited), its use is still counted.
    pub quotas: Vec<QuotaStatus>,
}

/// The limits in force for a tenant, as the server enforces them; `null`
/// where nothing limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EffectiveLimits {
    /// Authenticated API calls per second (the bucket's refill rate).
    pub api_rate: Option<f64>,
    /// Calls allowed at once above the rate.
    pub api_burst: Option<u32>,
    /// Webhook deliveries per second.
    pub webhook_rate: Option<f64>,
    /// Deliveries allowed at once above the rate.
    pub webhook_burst: Option<u32>,
    /// Steps running at once (where the deployment keeps slots: `weft
    /// serve`, or Redis).
    pub max_running_steps: Option<u32>,
    /// Runs not yet ended; one more is refused (429 `quota_exceeded`).
    pub max_active_runs: Option<u64>,
    /// Runs not ended now.
    pub active_runs: u64,
    /// The largest component it may upload, publish or install (bytes).
    pub component_bytes: u64,
    /// Days an ended run is kept (`null`: forever).
    pub run_retention_days: Option<u32>,
}

/// A usage quota (`limits.quotas`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuotaName {
    /// Runs created in a calendar month (UTC).
    RunsPerMonth,
    /// Step attempts finished in a calendar month (UTC).
    StepsPerMonth,
    /// LLM cost in millionths of the currency unit, per calendar month (UTC).
    LlmCostMicrosPerMonth,
    /// Egress bytes per day (UTC).
    EgressBytesPerDay,
}

/// One quota and its use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct QuotaStatus {
    /// Which.
    pub quota: QuotaName,
    /// The limit; `null`: not set. A new run is refused once `used`
    /// reaches it (429 `quota_exceeded`).
    pub limit: Option<u64>,
    /// What was used in the current period.
    pub used: i64,
    /// When the period ends and `used` starts again from 0 (Unix
    /// milliseconds).
    pub resets_at: i64,
}
