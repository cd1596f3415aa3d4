//! The limits conformance suite: one async function per behaviour that both
//! adapters ([`TenantLimits`](crate::TenantLimits) and
//! [`memory::Limits`](crate::memory::Limits)) must show through the two ports
//! the server uses, [`RateLimiter`] and [`Slots`]. Every adapter runs all of
//! them, unchanged, through [`conformance_tests!`](crate::conformance_tests):
//!
//! ```text
//! async fn limits(
//!     rates: weft_limits::Rates,
//!     overrides: Arc<dyn weft_limits::Overrides>,
//! ) -> weft_limits::memory::Limits {
//!     weft_limits::memory::Limits::new(rates).with_overrides(overrides)
//! }
//! weft_limits::conformance_tests!(#[tokio::test] limits);
//! ```
//!
//! Each function takes a factory that returns fresh limits (nothing held,
//! every bucket full) checked against the given deployment [`Rates`] and
//! reading tenants' own rates from the given [`Overrides`]. Time is the wall
//! clock (Redis keeps its own): the whole suite sleeps about two seconds.
//! Failures panic with a message naming the broken behaviour: this module is
//! test support, compiled only with the `conformance` feature.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use crate::{Overrides, Rates};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use weft_api::{Bucket, RateLimiter, Verdict};
use weft_worker::{SlotGrant, Slots};

/// What an adapter under test must be: both ports.
pub trait Adapter: RateLimiter + Slots {}
impl<T: RateLimiter + Slots> Adapter for T {}

fn rates(api: (f64, u32), webhook: (f64, u32)) -> Rates {
    Rates {
        api_rate: api.0,
        api_burst: api.1,
        webhook_rate: webhook.0,
        webhook_burst: webhook.1,
    }
}

/// No tenant has rates of its own.
fn none() -> Arc<dyn Overrides> {
    Arc::new(RwLock::new(HashMap::<String, Rates>::new()))
}

async fn allowed<L: Adapter>(l: &L, tenant: &str, bucket: Bucket, n: usize, what: &str) {
    for i in 0..n {
        assert_eq!(
            l.check(tenant, bucket).await,
            Verdict::Allow,
            "{what}: call {} of {n}",
            i + 1
        );
    }
}

fn denied(v: Verdict, what: &str) -> Duration {
    match v {
        Verdict::Deny { retry_after } => retry_after,
        other => panic!("{what}: expected a denial, got {other:?}"),
    }
}

/// A bucket allows its burst, then denies with the wait for the next token,
/// then refills; another tenant and another bucket are untouched.
pub async fn a_bucket_allows_its_burst_then_limits_then_refills<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter,
{
    // 1/s: the four calls need not land within a token's time on a busy box.
    let l = factory(rates((1.0, 3), (1.0, 3)), none()).await;
    allowed(&l, "a", Bucket::Api, 3, "the burst of 3").await;
    let wait = denied(l.check("a", Bucket::Api).await, "the fourth call");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(1),
        "the next token at 1/s comes within 1 s: {wait:?}"
    );
    allowed(&l, "b", Bucket::Api, 3, "another tenant's bucket").await;
    allowed(
        &l,
        "a",
        Bucket::Webhook,
        3,
        "the same tenant's other bucket",
    )
    .await;
    tokio::time::sleep(wait + Duration::from_millis(20)).await;
    allowed(&l, "a", Bucket::Api, 1, "after the wait").await;
}

/// The wait a denial gives is the time to the next token, not a constant.
pub async fn a_denial_says_when_the_next_token_comes<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter,
{
    let l = factory(rates((2.0, 1), (0.5, 1)), none()).await;
    allowed(&l, "a", Bucket::Api, 1, "the burst of 1").await;
    let wait = denied(l.check("a", Bucket::Api).await, "at 2/s");
    assert!(
        (Duration::from_millis(300)..=Duration::from_millis(500)).contains(&wait),
        "about 500 ms at 2/s: {wait:?}"
    );
    allowed(&l, "a", Bucket::Webhook, 1, "the burst of 1").await;
    let wait = denied(l.check("a", Bucket::Webhook).await, "at 0.5/s");
    assert!(
        (Duration::from_millis(1_000)..=Duration::from_secs(2)).contains(&wait),
        "at most 2 s at 0.5/s, and more than the 2/s bucket's 500 ms: {wait:?}"
    );
}

/// A rate of 0 turns its bucket off.
pub async fn a_rate_of_zero_turns_the_bucket_off<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter,
{
    let l = factory(rates((0.0, 1), (1.0, 1)), none()).await;
    allowed(&l, "a", Bucket::Api, 50, "an api rate of 0").await;
    allowed(&l, "a", Bucket::Webhook, 1, "the webhook burst").await;
    denied(
        l.check("a", Bucket::Webhook).await,
        "the webhook rate is on",
    );
}

/// Concurrent checks take exactly the burst: no token is given twice.
pub async fn concurrent_checks_take_exactly_the_burst<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter + 'static,
{
    let l = Arc::new(factory(rates((0.01, 10), (0.0, 1)), none()).await);
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let l = l.clone();
            tokio::spawn(async move { l.check("a", Bucket::Api).await })
        })
        .collect();
    let mut allowed = 0;
    for c in calls {
        match c.await.unwrap() {
            Verdict::Allow => allowed += 1,
            Verdict::Deny { .. } => {}
            Verdict::Unavailable => panic!("the limiter did not answer"),
        }
    }
    assert_eq!(allowed, 10, "40 concurrent calls against a burst of 10");
}

/// Slots are bounded per tenant, re-taking a held one answers `Held` (the
/// second taker owns nothing: it must not run the step or release), a released
/// one is free again, and one whose holder vanished comes back at its expiry.
pub async fn slots_are_bounded_released_expired_and_idempotent<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter,
{
    let l = factory(Rates::default(), none()).await;
    let ttl = Duration::from_secs(30);
    assert_eq!(l.acquire("a", "s1", 2, ttl).await, SlotGrant::Granted);
    assert_eq!(
        l.acquire("a", "s1", 2, ttl).await,
        SlotGrant::Held,
        "re-taking a held slot"
    );
    let SlotGrant::Full(_) = l.acquire("a", "s2", 1, ttl).await else {
        panic!("re-taking s1 took a second slot");
    };
    assert_eq!(l.acquire("a", "s2", 2, ttl).await, SlotGrant::Granted);
    let SlotGrant::Full(wait) = l.acquire("a", "s3", 2, ttl).await else {
        panic!("a third slot over a limit of 2");
    };
    assert_eq!(
        wait,
        Duration::from_secs(1),
        "the earliest expiry is 30 s away: at most a second"
    );
    assert_eq!(
        l.acquire("b", "s3", 2, ttl).await,
        SlotGrant::Granted,
        "tenants are apart"
    );
    l.release("a", "s1").await;
    assert_eq!(l.acquire("a", "s3", 2, ttl).await, SlotGrant::Granted);
    l.release("a", "never-taken").await;
    l.release("nobody", "s").await;
    // A slot whose holder died comes back when its lease runs out.
    let short = Duration::from_millis(300);
    assert_eq!(l.acquire("c", "x", 1, short).await, SlotGrant::Granted);
    let SlotGrant::Full(wait) = l.acquire("c", "y", 1, short).await else {
        panic!("a second slot over a limit of 1");
    };
    assert!(
        (Duration::from_millis(50)..=short).contains(&wait),
        "until x expires: {wait:?}"
    );
    // Its duplicate tasks (the sweeper's) keep coming: they do not keep the
    // dead holder's slot alive.
    tokio::time::sleep(short / 2).await;
    assert_eq!(l.acquire("c", "x", 1, short).await, SlotGrant::Held);
    tokio::time::sleep(short / 2 + Duration::from_millis(50)).await;
    assert_eq!(
        l.acquire("c", "y", 1, short).await,
        SlotGrant::Granted,
        "x expired, re-taken or not"
    );
}

/// Concurrent takers get exactly `limit` slots.
pub async fn concurrent_acquires_grant_exactly_the_limit<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter + 'static,
{
    let l = Arc::new(factory(Rates::default(), none()).await);
    let takers: Vec<_> = (0..30)
        .map(|i| {
            let l = l.clone();
            tokio::spawn(async move {
                l.acquire("a", &format!("s{i}"), 5, Duration::from_secs(30))
                    .await
            })
        })
        .collect();
    let mut granted = 0;
    for t in takers {
        if t.await.unwrap() == SlotGrant::Granted {
            granted += 1;
        }
    }
    assert_eq!(granted, 5, "30 concurrent takers against a limit of 5");
}

/// A tenant's own rates replace the deployment's for it alone, a rate of 0
/// of its own turns its bucket off, and a change applies at the next check
/// (what an operator's `PATCH` of `limits` does, once the adapter's source
/// has read it).
pub async fn a_tenants_own_rates_replace_the_deployments<F, Fut, L>(factory: F)
where
    F: FnOnce(Rates, Arc<dyn Overrides>) -> Fut,
    Fut: Future<Output = L>,
    L: Adapter,
{
    let deployment = rates((0.01, 5), (0.01, 5));
    let table = Arc::new(RwLock::new(HashMap::from([
        ("a".to_owned(), rates((0.01, 2), (0.01, 1))),
        ("off".to_owned(), rates((0.0, 1), (0.01, 5))),
    ])));
    let l = factory(deployment, table.clone()).await;
    allowed(&l, "a", Bucket::Api, 2, "a's own api burst of 2").await;
    denied(l.check("a", Bucket::Api).await, "past a's own burst");
    allowed(&l, "a", Bucket::Webhook, 1, "a's own webhook burst of 1").await;
    denied(
        l.check("a", Bucket::Webhook).await,
        "past a's webhook burst",
    );
    allowed(&l, "b", Bucket::Api, 5, "b: the deployment's burst of 5").await;
    denied(
        l.check("b", Bucket::Api).await,
        "past the deployment's burst",
    );
    allowed(&l, "off", Bucket::Api, 30, "an own api rate of 0").await;
    // The operator limits `off` and turns `b`'s bucket off: the next checks
    // follow.
    table
        .write()
        .unwrap()
        .insert("off".to_owned(), rates((0.01, 1), (0.01, 5)));
    allowed(&l, "off", Bucket::Api, 1, "off's new burst of 1").await;
    denied(l.check("off", Bucket::Api).await, "off is limited now");
    table
        .write()
        .unwrap()
        .insert("b".to_owned(), rates((0.0, 1), (0.01, 5)));
    allowed(&l, "b", Bucket::Api, 10, "b's bucket turned off").await;
}

/// Declares one `#[test]` per conformance function for an adapter factory
/// (`async fn(Rates, Arc<dyn Overrides>) -> impl RateLimiter + Slots`), with
/// the given attributes.
#[macro_export]
macro_rules! conformance_tests {
    ($(#[$attr:meta])* $factory:path) => {
        $crate::conformance_tests!(@each [$(#[$attr])*] $factory;
            a_bucket_allows_its_burst_then_limits_then_refills,
            a_denial_says_when_the_next_token_comes,
            a_rate_of_zero_turns_the_bucket_off,
            concurrent_checks_take_exactly_the_burst,
            slots_are_bounded_released_expired_and_idempotent,
            concurrent_acquires_grant_exactly_the_limit,
            a_tenants_own_rates_replace_the_deployments,
        );
    };
    (@each $attrs:tt $factory:path; $($name:ident,)*) => {
        $( $crate::conformance_tests!(@one $attrs $factory; $name); )*
    };
    (@one [$($attr:tt)*] $factory:path; $name:ident) => {
        $($attr)*
        async fn $name() {
            $crate::conformance::$name($factory).await;
        }
    };
}
