//! The limits against a real Redis (`WEFT_TEST_REDIS_URL`, started by
//! `scripts/test`), each test under a key prefix of its own: the conformance
//! suite the in-process adapter also runs (`tests/memory.rs`), then what only
//! Redis has (being unreachable).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use weft_api::Bucket;
use weft_limits::{RateDecision, SlotDecision, TenantLimits};

async fn limits() -> TenantLimits {
    let url = std::env::var("WEFT_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_REDIS_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    });
    let prefix = format!("t{:x}", rand::random::<u64>());
    TenantLimits::connect(&url, &prefix).await.unwrap()
}

async fn with_rates(
    rates: weft_limits::Rates,
    overrides: std::sync::Arc<dyn weft_limits::Overrides>,
) -> TenantLimits {
    limits().await.with_rates(rates).with_overrides(overrides)
}

weft_limits::conformance_tests!(
    #[tokio::test]
    with_rates
);

#[tokio::test]
async fn the_inherent_calls_allow_the_burst_then_limit_then_refill() {
    let l = limits().await;
    for _ in 0..3 {
        assert_eq!(
            l.check_rate("a", Bucket::Api, 20.0, 3).await,
            RateDecision::Allowed
        );
    }
    let RateDecision::Limited { retry_after } = l.check_rate("a", Bucket::Api, 20.0, 3).await
    else {
        panic!("the fourth call is over the burst");
    };
    assert!(retry_after <= Duration::from_millis(60), "{retry_after:?}");
    // Another tenant and another class have buckets of their own.
    assert_eq!(
        l.check_rate("b", Bucket::Api, 20.0, 3).await,
        RateDecision::Allowed
    );
    assert_eq!(
        l.check_rate("a", Bucket::Webhook, 20.0, 3).await,
        RateDecision::Allowed
    );
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert_eq!(
        l.check_rate("a", Bucket::Api, 20.0, 3).await,
        RateDecision::Allowed
    );
}

#[tokio::test]
async fn the_inherent_slot_calls_are_bounded_released_expired_and_idempotent() {
    let l = limits().await;
    let ttl = Duration::from_secs(30);
    assert_eq!(
        l.acquire_slot("a", "s1", 2, ttl).await,
        SlotDecision::Granted
    );
    assert_eq!(
        l.acquire_slot("a", "s1", 2, ttl).await,
        SlotDecision::Held,
        "re-taking a held slot: held, not granted"
    );
    assert_eq!(
        l.acquire_slot("a", "s2", 2, ttl).await,
        SlotDecision::Granted
    );
    assert!(matches!(
        l.acquire_slot("a", "s3", 2, ttl).await,
        SlotDecision::Full { .. }
    ));
    assert_eq!(
        l.acquire_slot("b", "s3", 2, ttl).await,
        SlotDecision::Granted,
        "tenants are apart"
    );
    l.release_slot("a", "s1").await;
    assert_eq!(
        l.acquire_slot("a", "s3", 2, ttl).await,
        SlotDecision::Granted
    );
    // A slot whose holder died comes back when its lease runs out.
    let short = Duration::from_millis(200);
    assert_eq!(
        l.acquire_slot("c", "x", 1, short).await,
        SlotDecision::Granted
    );
    assert!(matches!(
        l.acquire_slot("c", "y", 1, short).await,
        SlotDecision::Full { .. }
    ));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        l.acquire_slot("c", "y", 1, short).await,
        SlotDecision::Granted
    );
}

#[tokio::test]
async fn an_unreachable_redis_answers_unavailable_quickly() {
    let t = Instant::now();
    let l = TenantLimits::connect("redis://127.0.0.1:1", "down")
        .await
        .unwrap();
    assert_eq!(
        l.check_rate("a", Bucket::Api, 1.0, 1).await,
        RateDecision::Unavailable
    );
    assert_eq!(
        l.acquire_slot("a", "s", 1, Duration::from_secs(1)).await,
        SlotDecision::Unavailable
    );
    assert!(l.ping().await.is_err());
    assert!(l.unavailable_total() >= 2);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test]
async fn the_ports_use_the_configured_rates_and_their_failure_policies() {
    use std::sync::Arc;
    use weft_api::{RateLimiter, Verdict};
    use weft_limits::Rates;
    use weft_worker::{SlotGrant, Slots};
    let rates = Rates {
        api_rate: 20.0,
        api_burst: 2,
        webhook_rate: 0.0,
        webhook_burst: 1,
    };
    let limiter: Arc<dyn RateLimiter> = Arc::new(limits().await.with_rates(rates));
    assert_eq!(limiter.backend(), Some(weft_api::Backend::Redis));
    assert!(limiter.ping().await.is_ok());
    for _ in 0..2 {
        assert_eq!(limiter.check("a", Bucket::Api).await, Verdict::Allow);
    }
    let Verdict::Deny { retry_after } = limiter.check("a", Bucket::Api).await else {
        panic!("the third call is over the burst of 2");
    };
    assert!(retry_after <= Duration::from_millis(50), "{retry_after:?}");
    // A rate of 0 turns the bucket off.
    for _ in 0..5 {
        assert_eq!(limiter.check("a", Bucket::Webhook).await, Verdict::Allow);
    }
    // Redis down: the rate port says so (the API decides), slots fail open.
    let down = Arc::new(
        TenantLimits::connect("redis://127.0.0.1:1", "down")
            .await
            .unwrap(),
    );
    let as_limiter: Arc<dyn RateLimiter> = down.clone();
    assert_eq!(
        as_limiter.check("a", Bucket::Api).await,
        Verdict::Unavailable
    );
    assert!(as_limiter.ping().await.is_err());
    let as_slots: Arc<dyn Slots> = down;
    assert_eq!(
        as_slots.acquire("a", "s", 1, Duration::from_secs(1)).await,
        SlotGrant::Granted
    );
}
