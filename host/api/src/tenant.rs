//! `GET /v1/tenant`: the caller's own tenant with the limits and quotas in
//! force for it (`docs/TENANCY.md`, section 5). The rates are the rate
//! limiter's (this crate's port); the rest is `weft_app::App::own_tenant`.

use crate::{ApiResult, AppState, Bucket, Caller};
use axum::Json;
use axum::extract::State;
use weft_model::tenant::{EffectiveLimits, OwnTenant, QuotaName, QuotaStatus};

/// `Some(n)` unless `n` is 0 (no limit).
fn limited<T: Default + PartialEq>(n: T) -> Option<T> {
    (n != T::default()).then_some(n)
}

pub async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<OwnTenant>> {
    let own = state.app.own_tenant(&caller).await?;
    let rate = |bucket| {
        let limiter = state.rate_limiter.clone();
        let tenant = caller.tenant_id.clone();
        async move {
            match limiter {
                // A rate of 0 turns the bucket off.
                Some(l) => l.rate(&tenant, bucket).await.filter(|(r, _)| *r > 0.0),
                None => None,
            }
        }
    };
    let (api, webhook) = (rate(Bucket::Api).await, rate(Bucket::Webhook).await);
    let quotas = own.tenant.limits.quotas.clone().unwrap_or_default();
    let used = own.used;
    let quota = |quota, limit, used, resets_at| QuotaStatus {
        quota,
        limit,
        used,
        resets_at,
    };
    Ok(Json(OwnTenant {
        limits: EffectiveLimits {
            api_rate: api.map(|r| r.0),
            api_burst: api.map(|r| r.1),
            webhook_rate: webhook.map(|r| r.0),
            webhook_burst: webhook.map(|r| r.1),
            max_running_steps: limited(own.max_running_steps),
            max_active_runs: limited(own.max_active_runs),
            active_runs: own.active_runs,
            component_bytes: own.component_bytes,
            run_retention_days: limited(own.run_retention_days),
        },
        quotas: vec![
            quota(
                QuotaName::RunsPerMonth,
                quotas.runs_per_month,
                used.runs_month,
                used.month_resets_at,
            ),
            quota(
                QuotaName::StepsPerMonth,
                quotas.steps_per_month,
                used.steps_month,
                used.month_resets_at,
            ),
            quota(
                QuotaName::LlmCostMicrosPerMonth,
                quotas.llm_cost_micros_per_month,
                used.llm_cost_micros_month,
                used.month_resets_at,
            ),
            quota(
                QuotaName::EgressBytesPerDay,
                quotas.egress_bytes_per_day,
                used.egress_bytes_today,
                used.day_resets_at,
            ),
        ],
        id: own.tenant.id,
        name: own.tenant.name,
        created_at: own.tenant.created_at,
        state: own.tenant.state,
        overrides: own.tenant.limits,
    }))
}
