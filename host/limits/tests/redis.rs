//! The limits against a real Redis (`WEFT_TEST_REDIS_URL`, started by
//! `scripts/test`), each test under a key prefix of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};
use weft_limits::{Class, Limits, RateDecision, SlotDecision};

async fn limits() -> Limits {
    let url = std::env::var("WEFT_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_REDIS_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    });
    let prefix = format!("t{:x}", rand::random::<u64>());
    Limits::connect(&url, &prefix).await.unwrap()
}

#[tokio::test]
async fn a_bucket_allows_its_burst_then_limits_then_refills() {
    let l = limits().await;
    for _ in 0..3 {
        assert_eq!(
            l.check_rate("a", Class::Api, 20.0, 3).await,
            RateDecision::Allowed
        );
    }
    let RateDecision::Limited { retry_after } = l.check_rate("a", Class::Api, 20.0, 3).await else {
        panic!("the fourth call is over the burst");
    };
    assert!(retry_after <= Duration::from_millis(60), "{retry_after:?}");
    // Another tenant and another class have buckets of their own.
    assert_eq!(
        l.check_rate("b", Class::Api, 20.0, 3).await,
        RateDecision::Allowed
    );
    assert_eq!(
        l.check_rate("a", Class::Webhook, 20.0, 3).await,
        RateDecision::Allowed
    );
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    assert_eq!(
        l.check_rate("a", Class::Api, 20.0, 3).await,
        RateDecision::Allowed
    );
}

#[tokio::test]
async fn slots_are_bounded_released_expired_and_idempotent() {
    let l = limits().await;
    let ttl = Duration::from_secs(30);
    assert_eq!(
        l.acquire_slot("a", "s1", 2, ttl).await,
        SlotDecision::Granted
    );
    assert_eq!(
        l.acquire_slot("a", "s1", 2, ttl).await,
        SlotDecision::Granted,
        "re-taking a held slot"
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
    let l = Limits::connect("redis://127.0.0.1:1", "down")
        .await
        .unwrap();
    assert_eq!(
        l.check_rate("a", Class::Api, 1.0, 1).await,
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
