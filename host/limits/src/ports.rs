//! [`TenantLimits`] behind the ports that use it: the API's rate limiter and
//! the worker's running-step slots.

use crate::{RateDecision, SlotDecision, TenantLimits};
use std::time::Duration;
use weft_api::{Bucket, RateLimiter, Verdict};
use weft_worker::{SlotGrant, Slots};

#[async_trait::async_trait]
impl RateLimiter for TenantLimits {
    async fn check(&self, tenant: &str, bucket: Bucket) -> Verdict {
        let (rate, burst) = self.rates().of(bucket);
        match self.check_rate(tenant, bucket, rate, burst).await {
            RateDecision::Allowed => Verdict::Allow,
            RateDecision::Limited { retry_after } => Verdict::Deny { retry_after },
            RateDecision::Unavailable => Verdict::Unavailable,
        }
    }

    fn backend(&self) -> Option<&'static str> {
        Some("redis")
    }

    async fn ping(&self) -> Result<(), String> {
        TenantLimits::ping(self).await
    }
}

#[async_trait::async_trait]
impl Slots for TenantLimits {
    async fn acquire(&self, tenant: &str, slot: &str, limit: u32, ttl: Duration) -> SlotGrant {
        match self.acquire_slot(tenant, slot, limit, ttl).await {
            SlotDecision::Full { retry_after } => SlotGrant::Full(retry_after),
            // Granted, or Redis unavailable: slots fail open (docs/DISTRIBUTED.md, D9).
            SlotDecision::Granted | SlotDecision::Unavailable => SlotGrant::Granted,
        }
    }

    async fn release(&self, tenant: &str, slot: &str) {
        self.release_slot(tenant, slot).await;
    }
}
