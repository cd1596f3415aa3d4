//! The in-process adapter: the same limits as [`TenantLimits`](crate::TenantLimits)
//! for one process (`weft serve` without Redis), kept in memory behind one
//! mutex. It never answers `Unavailable`: there is no service to lose.
//!
//! ```
//! use std::time::Duration;
//! use weft_api::Bucket;
//! use weft_limits::{RateDecision, SlotDecision, memory};
//!
//! let limits = memory::Limits::default();
//! assert_eq!(limits.check_rate("ten_1", Bucket::Webhook, 50.0, 1), RateDecision::Allowed);
//! assert!(matches!(
//!     limits.check_rate("ten_1", Bucket::Webhook, 50.0, 1),
//!     RateDecision::Limited { .. }
//! ));
//! let ttl = Duration::from_secs(35);
//! assert_eq!(limits.acquire_slot("ten_1", "run:step:1", 1, ttl), SlotDecision::Granted);
//! assert!(matches!(
//!     limits.acquire_slot("ten_1", "run:step2:1", 1, ttl),
//!     SlotDecision::Full { .. }
//! ));
//! limits.release_slot("ten_1", "run:step:1");
//! ```
//!
//! # Semantics (those of the Redis scripts, see the crate's docs)
//!
//! - A token bucket per tenant and [`Bucket`]: `rate` tokens per second, at
//!   most `burst`, full when first seen; a refused call says when the next
//!   token comes.
//! - Slots per tenant, each with an expiry; taking one drops the expired,
//!   then answers `Held` if the slot is held already (left as it is: the
//!   caller owns nothing), grants if fewer than `limit` are held; `Full` says when the earliest one expires
//!   (between 50 ms and 1 s).
//!
//! # Memory
//!
//! Tenant ids reach the limiter only from an authenticated key or an active
//! webhook, so entries are bounded by the tenants that exist. On top of that,
//! at most once per [`SWEEP_EVERY`] a call drops every bucket that has been
//! idle long enough to be full again (what Redis's key expiry does) and every
//! tenant whose slots have all expired or been released: what is kept is what
//! the tenants active in the last few seconds use.

use crate::{Overrides, RateDecision, Rates, SlotDecision};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use weft_api::Bucket;

/// How often idle entries are dropped (at most).
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

const DAY: Duration = Duration::from_secs(24 * 3_600);

/// A tenant's bucket.
struct Tokens {
    tokens: f64,
    at: Instant,
    /// Full again by then if untouched: droppable (a dropped bucket comes back full).
    idle_at: Instant,
}

#[derive(Default)]
struct State {
    buckets: HashMap<(String, Bucket), Tokens>,
    /// Tenant -> slot id -> expiry.
    slots: HashMap<String, HashMap<String, Instant>>,
    swept: Option<Instant>,
}

impl State {
    /// Drops idle buckets and empty slot sets, at most once per [`SWEEP_EVERY`].
    fn sweep(&mut self, now: Instant) {
        if self
            .swept
            .is_some_and(|t| now.saturating_duration_since(t) < SWEEP_EVERY)
        {
            return;
        }
        self.swept = Some(now);
        self.buckets.retain(|_, b| b.idle_at > now);
        self.slots.retain(|_, held| {
            held.retain(|_, expiry| *expiry > now);
            !held.is_empty()
        });
    }
}

/// Per-tenant rate limits and running-step slots of one process.
#[derive(Default)]
pub struct Limits {
    rates: Rates,
    overrides: Option<Arc<dyn Overrides>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (buckets, tenants) = self.len();
        f.debug_struct("memory::Limits")
            .field("rates", &self.rates)
            .field("buckets", &buckets)
            .field("slot_tenants", &tenants)
            .finish()
    }
}

impl Limits {
    /// Limits with these rates for [`weft_api::RateLimiter::check`].
    pub fn new(rates: Rates) -> Self {
        Self {
            rates,
            overrides: None,
            state: Mutex::default(),
        }
    }

    /// The same limits reading each tenant's rates from `overrides` (the
    /// deployment's rates for a tenant without any).
    #[must_use]
    pub fn with_overrides(mut self, overrides: Arc<dyn Overrides>) -> Self {
        self.overrides = Some(overrides);
        self
    }

    /// The rates the API's checks use (the deployment's).
    pub fn rates(&self) -> &Rates {
        &self.rates
    }

    /// `tenant`'s rates: the deployment's with its overrides.
    pub async fn rates_of(&self, tenant: &str) -> Rates {
        match &self.overrides {
            Some(o) => o.rates(tenant, self.rates).await,
            None => self.rates,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock, so a poisoned lock
        // still guards a consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Buckets and tenants with slots kept now (tests, debugging).
    pub fn len(&self) -> (usize, usize) {
        let s = self.lock();
        (s.buckets.len(), s.slots.len())
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }

    /// Takes one token from `tenant`'s `bucket`, at `rate` per second and at
    /// most `burst` (a rate of 0 or less: no limit).
    pub fn check_rate(&self, tenant: &str, bucket: Bucket, rate: f64, burst: u32) -> RateDecision {
        self.check_rate_at(Instant::now(), tenant, bucket, rate, burst)
    }

    fn check_rate_at(
        &self,
        now: Instant,
        tenant: &str,
        bucket: Bucket,
        rate: f64,
        burst: u32,
    ) -> RateDecision {
        if rate <= 0.0 || !rate.is_finite() {
            return RateDecision::Allowed;
        }
        let burst = f64::from(burst.max(1));
        let mut state = self.lock();
        state.sweep(now);
        let b = state
            .buckets
            .entry((tenant.to_owned(), bucket))
            .or_insert(Tokens {
                tokens: burst,
                at: now,
                idle_at: now,
            });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        let mut tokens = (b.tokens + elapsed * rate).min(burst);
        let decision = if tokens >= 1.0 {
            tokens -= 1.0;
            RateDecision::Allowed
        } else {
            let wait = ((1.0 - tokens) * 1_000.0 / rate).ceil().max(1.0);
            RateDecision::Limited {
                retry_after: Duration::try_from_secs_f64(wait / 1_000.0).unwrap_or(Duration::MAX),
            }
        };
        b.tokens = tokens;
        b.at = now;
        // Full again after (burst - tokens) / rate: as Redis, plus a second
        // (and after a day at most: a bucket that slow may then start full).
        let refill = Duration::try_from_secs_f64((burst - tokens) / rate + 1.0)
            .unwrap_or(DAY)
            .min(DAY);
        b.idle_at = now.checked_add(refill).unwrap_or(now);
        decision
    }

    /// Takes slot `slot` of `tenant` for `ttl` if fewer than `limit` are held
    /// (re-taking a held slot answers [`SlotDecision::Held`] and leaves it as
    /// it is).
    pub fn acquire_slot(
        &self,
        tenant: &str,
        slot: &str,
        limit: u32,
        ttl: Duration,
    ) -> SlotDecision {
        self.acquire_slot_at(Instant::now(), tenant, slot, limit, ttl)
    }

    fn acquire_slot_at(
        &self,
        now: Instant,
        tenant: &str,
        slot: &str,
        limit: u32,
        ttl: Duration,
    ) -> SlotDecision {
        let ttl = ttl.max(Duration::from_millis(1));
        // A lease too long to add is as good as a year (it is released anyway).
        let expiry = now
            .checked_add(ttl)
            .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3_600)))
            .unwrap_or(now);
        let mut state = self.lock();
        state.sweep(now);
        let held = state.slots.entry(tenant.to_owned()).or_default();
        held.retain(|_, e| *e > now);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // Held already: left as it is. Pushing its expiry back would keep
        // the slot of a worker that died alive for as long as duplicate
        // tasks keep coming (the sweeper's), and its step would never run.
        if held.contains_key(slot) {
            return SlotDecision::Held;
        }
        if held.len() < limit {
            held.insert(slot.to_owned(), expiry);
            return SlotDecision::Granted;
        }
        let first = held.values().min().copied().unwrap_or(now);
        let wait = first.saturating_duration_since(now);
        if held.is_empty() {
            state.slots.remove(tenant);
        }
        SlotDecision::Full {
            retry_after: wait.clamp(Duration::from_millis(50), Duration::from_secs(1)),
        }
    }

    /// Gives a slot back.
    pub fn release_slot(&self, tenant: &str, slot: &str) {
        let mut state = self.lock();
        if let Some(held) = state.slots.get_mut(tenant) {
            held.remove(slot);
            if held.is_empty() {
                state.slots.remove(tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let l = Limits::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            assert_eq!(
                l.check_rate_at(t0, "a", Bucket::Api, 10.0, 4),
                RateDecision::Allowed
            );
        }
        assert_eq!(
            l.check_rate_at(t0, "a", Bucket::Api, 10.0, 4),
            RateDecision::Limited {
                retry_after: ms(100)
            }
        );
        // 250 ms later: two and a half tokens; two calls pass, the third waits 50 ms.
        let t1 = t0 + ms(250);
        for _ in 0..2 {
            assert_eq!(
                l.check_rate_at(t1, "a", Bucket::Api, 10.0, 4),
                RateDecision::Allowed
            );
        }
        assert_eq!(
            l.check_rate_at(t1, "a", Bucket::Api, 10.0, 4),
            RateDecision::Limited {
                retry_after: ms(50)
            }
        );
        // An hour idle: never more than the burst.
        let t2 = t1 + Duration::from_secs(3_600);
        for _ in 0..4 {
            assert_eq!(
                l.check_rate_at(t2, "a", Bucket::Api, 10.0, 4),
                RateDecision::Allowed
            );
        }
        assert!(matches!(
            l.check_rate_at(t2, "a", Bucket::Api, 10.0, 4),
            RateDecision::Limited { .. }
        ));
    }

    #[test]
    fn a_clock_that_goes_nowhere_or_a_zero_rate_is_not_a_panic() {
        let l = Limits::default();
        let t0 = Instant::now();
        assert_eq!(
            l.check_rate_at(t0, "a", Bucket::Api, 0.0, 0),
            RateDecision::Allowed
        );
        assert_eq!(
            l.check_rate_at(t0, "a", Bucket::Api, f64::NAN, 0),
            RateDecision::Allowed
        );
        // Burst 0 counts as 1; a tiny rate gives a long but finite wait.
        assert_eq!(
            l.check_rate_at(t0, "a", Bucket::Api, 1e-9, 0),
            RateDecision::Allowed
        );
        let RateDecision::Limited { retry_after } = l.check_rate_at(t0, "a", Bucket::Api, 1e-9, 0)
        else {
            panic!("over the burst of 1");
        };
        assert!(retry_after > Duration::from_secs(3_600));
        // An earlier instant than the last one: no refill, no panic.
        assert!(matches!(
            l.check_rate_at(t0 - ms(10), "a", Bucket::Api, 1e-9, 0),
            RateDecision::Limited { .. }
        ));
    }

    #[test]
    fn slots_expire_and_full_says_when_the_first_one_does() {
        let l = Limits::default();
        let t0 = Instant::now();
        assert_eq!(
            l.acquire_slot_at(t0, "a", "x", 2, ms(300)),
            SlotDecision::Granted
        );
        assert_eq!(
            l.acquire_slot_at(t0 + ms(100), "a", "y", 2, ms(300)),
            SlotDecision::Granted
        );
        assert_eq!(
            l.acquire_slot_at(t0 + ms(150), "a", "z", 2, ms(300)),
            SlotDecision::Full {
                retry_after: ms(150)
            },
            "x expires at 300 ms"
        );
        assert_eq!(
            l.acquire_slot_at(t0 + ms(290), "a", "z", 2, ms(300)),
            SlotDecision::Full {
                retry_after: ms(50)
            },
            "at least 50 ms"
        );
        assert_eq!(
            l.acquire_slot_at(t0 + ms(300), "a", "z", 2, ms(300)),
            SlotDecision::Granted,
            "x expired"
        );
        // Long leases: at most a second.
        assert_eq!(
            l.acquire_slot_at(t0, "b", "x", 1, Duration::MAX),
            SlotDecision::Granted
        );
        assert_eq!(
            l.acquire_slot_at(t0, "b", "y", 1, Duration::MAX),
            SlotDecision::Full {
                retry_after: Duration::from_secs(1)
            }
        );
        // A limit of 0 grants nothing new.
        assert!(matches!(
            l.acquire_slot_at(t0, "c", "x", 0, ms(300)),
            SlotDecision::Full { .. }
        ));
    }

    #[test]
    fn idle_tenants_are_evicted_and_come_back_as_new() {
        let l = Limits::default();
        let t0 = Instant::now();
        for i in 0..1_000 {
            let tenant = format!("t{i}");
            // One token of 10 taken at 1/s: full again in 1 s, idle after 2 s.
            assert_eq!(
                l.check_rate_at(t0, &tenant, Bucket::Webhook, 1.0, 10),
                RateDecision::Allowed
            );
            assert_eq!(
                l.acquire_slot_at(t0, &tenant, "s", 1, ms(500)),
                SlotDecision::Granted
            );
        }
        l.release_slot("t0", "s");
        assert_eq!(
            l.len(),
            (1_000, 999),
            "a released tenant's slots go at once"
        );
        // Slots expired; buckets not full yet are kept (a dropped bucket
        // would come back full: a free burst).
        let t1 = t0 + ms(1_200);
        l.check_rate_at(t1, "t0", Bucket::Webhook, 1.0, 10);
        assert_eq!(l.len(), (1_000, 0), "every slot expired");
        // Idle buckets go; the one used at t1 stays.
        let t2 = t0 + ms(2_500);
        l.check_rate_at(t2, "new", Bucket::Webhook, 1.0, 10);
        assert_eq!(l.len(), (2, 0));
        // A held slot keeps its tenant.
        l.acquire_slot_at(t2, "held", "s", 1, Duration::from_secs(60));
        l.check_rate_at(t2 + ms(4_000), "other", Bucket::Api, 1.0, 10);
        assert_eq!(l.len(), (1, 1));
    }
}
