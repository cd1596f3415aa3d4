//! Usage quotas (`docs/TENANCY.md`, section 5), checked when a run starts:
//! a new run is refused while a quota of the tenant (`limits.quotas`) is
//! reached. A run already going is not stopped, so the usage can pass a quota
//! by what the runs in flight use.
//!
//! The tenant's quotas and its month's counters are read at most every
//! `quota_cache_ms` (5 s) per tenant and process (a few indexed rows: the `usage` key is
//! (tenant, day, …)), so the check costs no query on most starts.

use crate::Result;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use weft_store::Store;
use weft_store::usage::{civil, day};
use weft_types::Quotas;

/// What one read found.
#[derive(Clone)]
struct Seen {
    at: Instant,
    quotas: Option<Quotas>,
    /// Summed over the current UTC month: (runs, steps, llm_cost_micros).
    month: (i64, i64, i64),
    /// Today's egress bytes.
    egress_today: i64,
    /// The month and day the sums are for (`YYYY-MM`, `YYYY-MM-DD`).
    day: String,
}

/// A run start refused: which limit (`max_active_runs` or a quota's name,
/// the `reason` of `weft_schedule_ticks_refused_total`) and what to tell.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub quota: &'static str,
    pub message: String,
}

impl From<Refusal> for crate::Error {
    fn from(r: Refusal) -> Self {
        Self::Quota(r.message)
    }
}

/// The per-process cache.
#[derive(Default)]
pub(crate) struct QuotaCache(Mutex<HashMap<String, Seen>>);

impl QuotaCache {
    /// The first quota reached, with its limit, the use and when it resets;
    /// `None` when none is (or the tenant has none).
    pub(crate) async fn check(
        &self,
        store: &dyn Store,
        tenant: &str,
        now_ms: i64,
        ttl: Duration,
    ) -> Result<Option<Refusal>> {
        let today = day(now_ms);
        let cached = {
            let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            map.get(tenant)
                .filter(|s| s.at.elapsed() < ttl && s.day == today)
                .cloned()
        };
        let seen = match cached {
            Some(s) => s,
            None => {
                let s = read(store, tenant, &today).await?;
                let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
                if map.len() > 10_000 {
                    map.clear();
                }
                map.insert(tenant.to_owned(), s.clone());
                s
            }
        };
        let Some(q) = &seen.quotas else {
            return Ok(None);
        };
        let (y, m, _) = civil(now_ms.div_euclid(86_400_000));
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let next_month = format!("{ny:04}-{nm:02}-01T00:00:00Z");
        let next_day = {
            let (y, m, d) = civil(now_ms.div_euclid(86_400_000) + 1);
            format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
        };
        let checks = [
            (
                "runs_per_month",
                q.runs_per_month,
                seen.month.0,
                &next_month,
            ),
            (
                "steps_per_month",
                q.steps_per_month,
                seen.month.1,
                &next_month,
            ),
            (
                "llm_cost_micros_per_month",
                q.llm_cost_micros_per_month,
                seen.month.2,
                &next_month,
            ),
            (
                "egress_bytes_per_day",
                q.egress_bytes_per_day,
                seen.egress_today,
                &next_day,
            ),
        ];
        for (name, limit, used, resets) in checks {
            if let Some(limit) = limit
                && u64::try_from(used).unwrap_or(0) >= limit
            {
                return Ok(Some(Refusal {
                    quota: name,
                    message: format!(
                        "quota {name} reached: {used} used of a limit of {limit}; \
                         it resets at {resets}"
                    ),
                }));
            }
        }
        Ok(None)
    }
}

async fn read(store: &dyn Store, tenant: &str, today: &str) -> Result<Seen> {
    let quotas = store
        .get_tenant(tenant)
        .await?
        .and_then(|t| t.limits.quotas)
        .filter(|q| q != &Quotas::default());
    let mut seen = Seen {
        at: Instant::now(),
        quotas,
        month: (0, 0, 0),
        egress_today: 0,
        day: today.to_owned(),
    };
    if seen.quotas.is_none() {
        return Ok(seen);
    }
    let used = sums(store, tenant, today).await?;
    seen.month = (
        used.runs_month,
        used.steps_month,
        used.llm_cost_micros_month,
    );
    seen.egress_today = used.egress_bytes_today;
    Ok(seen)
}

/// What a tenant has used of its quotas: the counters each quota is
/// compared with when a run starts, and when they reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuotaUse {
    /// Runs created this UTC month (`runs_per_month`).
    pub runs_month: i64,
    /// Step attempts finished this UTC month (`steps_per_month`).
    pub steps_month: i64,
    /// LLM cost reported this UTC month, in micros (`llm_cost_micros_per_month`).
    pub llm_cost_micros_month: i64,
    /// Egress bytes today, UTC (`egress_bytes_per_day`).
    pub egress_bytes_today: i64,
    /// When the monthly counters start again (Unix milliseconds).
    pub month_resets_at: i64,
    /// When the daily counter starts again (Unix milliseconds).
    pub day_resets_at: i64,
}

/// The tenant's use of its quotas at `now_ms`, read from the store (not the
/// cache): the sums the quota check makes.
///
/// # Errors
/// Store failures.
pub async fn quota_use(store: &dyn Store, tenant: &str, now_ms: i64) -> Result<QuotaUse> {
    let today = day(now_ms);
    let days = now_ms.div_euclid(86_400_000);
    let (y, m, _) = civil(days);
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    let mut used = sums(store, tenant, &today).await?;
    used.month_resets_at = weft_store::usage::days_from_civil(ny, nm, 1) * 86_400_000;
    used.day_resets_at = (days + 1) * 86_400_000;
    Ok(used)
}

/// The month's sums up to `today` and today's egress.
async fn sums(store: &dyn Store, tenant: &str, today: &str) -> Result<QuotaUse> {
    let mut used = QuotaUse::default();
    let first = format!("{}-01", &today[..7]);
    for r in store.usage(tenant, &first, today).await? {
        match r.counter.as_str() {
            // Saturating: a counter stored at its cap must still refuse,
            // never wrap to a negative that passes the quota.
            "runs" => used.runs_month = used.runs_month.saturating_add(r.value),
            "steps" => used.steps_month = used.steps_month.saturating_add(r.value),
            "llm_cost_micros" => {
                used.llm_cost_micros_month = used.llm_cost_micros_month.saturating_add(r.value);
            }
            "egress_bytes" if r.day == today => {
                used.egress_bytes_today = used.egress_bytes_today.saturating_add(r.value);
            }
            _ => {}
        }
    }
    Ok(used)
}
