//! [`TenantLimits`] and [`memory::Limits`] behind the ports that use them:
//! the API's rate limiter and the worker's running-step slots.

use crate::{RateDecision, SlotDecision, TenantLimits, memory};
use std::time::Duration;
use weft_api::{Backend, Bucket, RateLimiter, Verdict};
use weft_worker::{SlotGrant, Slots};

#[async_trait::async_trait]
impl RateLimiter for TenantLimits {
    async fn check(&self, tenant: &str, bucket: Bucket) -> Verdict {
        let (rate, burst) = self.rates_of(tenant).await.of(bucket);
        match self.check_rate(tenant, bucket, rate, burst).await {
            RateDecision::Allowed => Verdict::Allow,
            RateDecision::Limited { retry_after } => Verdict::Deny { retry_after },
            RateDecision::Unavailable => Verdict::Unavailable,
        }
    }

    async fn rate(&self, tenant: &str, bucket: Bucket) -> Option<(f64, u32)> {
        Some(self.rates_of(tenant).await.of(bucket))
    }

    fn backend(&self) -> Option<Backend> {
        Some(Backend::Redis)
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
            SlotDecision::Held => SlotGrant::Held,
            SlotDecision::Granted | SlotDecision::Unavailable => SlotGrant::Granted,
        }
    }

    async fn release(&self, tenant: &str, slot: &str) {
        self.release_slot(tenant, slot).await;
    }
}

#[async_trait::async_trait]
impl RateLimiter for memory::Limits {
    async fn check(&self, tenant: &str, bucket: Bucket) -> Verdict {
        let (rate, burst) = self.rates_of(tenant).await.of(bucket);
        match self.check_rate(tenant, bucket, rate, burst) {
            RateDecision::Allowed | RateDecision::Unavailable => Verdict::Allow,
            RateDecision::Limited { retry_after } => Verdict::Deny { retry_after },
        }
    }

    async fn rate(&self, tenant: &str, bucket: Bucket) -> Option<(f64, u32)> {
        Some(self.rates_of(tenant).await.of(bucket))
    }

    fn backend(&self) -> Option<Backend> {
        Some(Backend::Memory)
    }
}

#[async_trait::async_trait]
impl Slots for memory::Limits {
    async fn acquire(&self, tenant: &str, slot: &str, limit: u32, ttl: Duration) -> SlotGrant {
        match self.acquire_slot(tenant, slot, limit, ttl) {
            SlotDecision::Full { retry_after } => SlotGrant::Full(retry_after),
            SlotDecision::Held => SlotGrant::Held,
            SlotDecision::Granted | SlotDecision::Unavailable => SlotGrant::Granted,
        }
    }

    async fn release(&self, tenant: &str, slot: &str) {
        self.release_slot(tenant, slot);
    }
}
