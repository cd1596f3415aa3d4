//! The limits over TLS to a real Redis (`scripts/services` starts it with
//! `--tls-port`, a client certificate optional but verified when presented).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft_tls::testing::{env, files};

use std::time::Duration;
use weft_api::Bucket;
use weft_limits::{Options, RateDecision, SlotDecision, TenantLimits};

fn options(url: String, ca: &str, client: bool) -> Options {
    Options {
        url,
        prefix: format!("t{:x}", rand::random::<u64>()),
        tls: files(ca, client),
    }
}

#[tokio::test]
async fn over_tls_the_limits_answer() {
    for client in [false, true] {
        let l = TenantLimits::open(&options(
            env("WEFT_TEST_REDIS_TLS_URL"),
            "WEFT_TEST_TLS_CA_FILE",
            client,
        ))
        .await
        .unwrap();
        l.ping().await.unwrap();
        assert_eq!(
            l.check_rate("a", Bucket::Api, 10.0, 1).await,
            RateDecision::Allowed
        );
        assert!(matches!(
            l.check_rate("a", Bucket::Api, 10.0, 1).await,
            RateDecision::Limited { .. }
        ));
        let ttl = Duration::from_secs(30);
        assert_eq!(
            l.acquire_slot("a", "s1", 1, ttl).await,
            SlotDecision::Granted
        );
        assert!(matches!(
            l.acquire_slot("a", "s2", 1, ttl).await,
            SlotDecision::Full { .. }
        ));
        assert_eq!(l.unavailable_total(), 0);
    }
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused_naming_the_ca_file() {
    let other = env("WEFT_TEST_TLS_OTHER_CA_FILE");
    let l = TenantLimits::open(&options(
        env("WEFT_TEST_REDIS_TLS_URL"),
        "WEFT_TEST_TLS_OTHER_CA_FILE",
        false,
    ))
    .await
    .unwrap();
    let e = l.ping().await.unwrap_err();
    assert!(
        e.contains("UnknownIssuer") && e.contains("redis.tls.ca_file") && e.contains(&other),
        "{e}"
    );
    assert_eq!(
        l.check_rate("a", Bucket::Api, 10.0, 1).await,
        RateDecision::Unavailable
    );
    // No CA file: the system's roots, which do not know the test CA.
    let l = TenantLimits::connect(&env("WEFT_TEST_REDIS_TLS_URL"), "t")
        .await
        .unwrap();
    let e = l.ping().await.unwrap_err();
    assert!(
        e.contains("UnknownIssuer") && e.contains("system's trusted roots"),
        "{e}"
    );
}

#[tokio::test]
async fn plain_redis_to_the_tls_port_fails_and_tls_files_need_rediss() {
    let plain = env("WEFT_TEST_REDIS_TLS_URL").replacen("rediss://", "redis://", 1);
    let l = TenantLimits::connect(&plain, "t").await.unwrap();
    let e = l.ping().await.unwrap_err();
    assert!(e.starts_with("redis is not reachable"), "{e}");
    assert_eq!(
        l.check_rate("a", Bucket::Api, 10.0, 1).await,
        RateDecision::Unavailable
    );
    let e = TenantLimits::open(&options(plain, "WEFT_TEST_TLS_CA_FILE", false))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("redis.tls") && e.contains("rediss://"), "{e}");
}

#[tokio::test]
async fn there_is_no_insecure_mode() {
    let url = format!("{}/#insecure", env("WEFT_TEST_REDIS_TLS_URL"));
    let refused =
        match TenantLimits::open(&options(url, "WEFT_TEST_TLS_OTHER_CA_FILE", false)).await {
            Err(e) => e.to_string(),
            Ok(l) => l.ping().await.unwrap_err(),
        };
    assert!(refused.contains("insecure"), "{refused}");
}
