//! The limits conformance suite against the in-process adapter, and what
//! only it promises (no `Unavailable`, the backend it names).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;
use weft_api::{Backend, Bucket, RateLimiter, Verdict};
use weft_limits::{Rates, memory};
use weft_worker::{SlotGrant, Slots};

async fn limits(rates: Rates, overrides: Arc<dyn weft_limits::Overrides>) -> memory::Limits {
    memory::Limits::new(rates).with_overrides(overrides)
}

weft_limits::conformance_tests!(
    #[tokio::test]
    limits
);

#[tokio::test]
async fn the_ports_name_the_memory_backend_and_always_answer() {
    let l = Arc::new(memory::Limits::new(Rates::default()));
    let limiter: Arc<dyn RateLimiter> = l.clone();
    assert_eq!(limiter.backend(), Some(Backend::Memory));
    assert!(limiter.ping().await.is_ok());
    // The default webhook burst (100), then a denial, never `Unavailable`.
    for _ in 0..100 {
        assert_eq!(limiter.check("a", Bucket::Webhook).await, Verdict::Allow);
    }
    assert!(matches!(
        limiter.check("a", Bucket::Webhook).await,
        Verdict::Deny { .. }
    ));
    let slots: Arc<dyn Slots> = l.clone();
    let ttl = Duration::from_secs(35);
    assert_eq!(slots.acquire("a", "s", 1, ttl).await, SlotGrant::Granted);
    slots.release("a", "s").await;
    assert_eq!(l.len(), (1, 0), "a released tenant keeps no slot entry");
}
