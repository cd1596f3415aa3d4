//! Per-tenant limits: rate limits on API calls and webhook deliveries, and
//! slots of running steps. Two adapters of the same two ports (the API's
//! [`weft_api::RateLimiter`], with the configured [`Rates`], and the worker's
//! [`weft_worker::Slots`]), with the same semantics, checked by one
//! [`conformance`] suite (feature `conformance`):
//!
//! - [`TenantLimits`], in Redis, shared by every process (distributed mode,
//!   or any process with `redis.url`);
//! - [`memory::Limits`], in this process (`weft serve` without Redis).
//!
//! The binary plugs one of them into both ports.
//!
//! ```no_run
//! use std::sync::Arc;
//! use weft_api::{Bucket, RateLimiter};
//! use weft_limits::{RateDecision, Rates, TenantLimits};
//!
//! # async fn demo() {
//! let limits = TenantLimits::connect("redis://127.0.0.1:6379", "weft")
//!     .await
//!     .unwrap()
//!     .with_rates(Rates::default());
//! match limits.check_rate("ten_1", Bucket::Api, 100.0, 200).await {
//!     RateDecision::Allowed => {}
//!     RateDecision::Limited { retry_after } => { /* 429, Retry-After */ }
//!     RateDecision::Unavailable => { /* the caller's policy: open or closed */ }
//! }
//! // What the binary hands the API:
//! let limiter: Arc<dyn RateLimiter> = Arc::new(limits);
//! # let _ = limiter;
//! # }
//! ```
//!
//! # Algorithms
//!
//! - **Rate limit**: a token bucket per tenant and [`Bucket`] (`rate` tokens per
//!   second, at most `burst`), kept in one hash and updated by one Lua script,
//!   so concurrent API processes agree. The clock is Redis's (`TIME`), never
//!   the caller's. An idle bucket expires once it would be full again.
//! - **Running-step slots**: a sorted set per tenant, member = slot id (run,
//!   step, attempt), score = expiry. Taking a slot removes expired members,
//!   then adds this one if fewer than `limit` are held. Re-taking a held slot
//!   answers [`SlotDecision::Held`] and leaves it as it is: the caller is a
//!   second delivery of a step attempt another one holds, and owns nothing;
//!   a holder that died lets it expire with its lease. Slots expire with the step's lease, so a crashed
//!   worker's slots come back by themselves.
//!
//! # Redis down or flushed (D9)
//!
//! Start-up never waits for Redis: the connection is made on first use and
//! re-made after failures, and every call gives up after 250 ms. An answer that
//! cannot be had is [`RateDecision::Unavailable`] / [`SlotDecision::Unavailable`]
//! (counted in [`TenantLimits::unavailable_total`]); what to do with it is the
//! caller's policy, which Weft sets as: **authenticated API calls fail open**,
//! **public webhooks fail closed** (503 with `Retry-After`), **slots fail
//! open**. A flush only resets buckets (full again) and slots (free again);
//! hard quotas are counted in the database and do not depend on Redis.

#[cfg(feature = "conformance")]
pub mod conformance;
pub mod memory;
mod options;
mod overrides;
mod ports;
mod tls;

pub use options::{Options, Rates};
pub use overrides::Overrides;

use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use weft_api::Bucket;

/// How long one Redis call may take before it counts as unavailable.
const CALL_TIMEOUT: Duration = Duration::from_millis(250);

/// A rate limit's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Go on.
    Allowed,
    /// Over the limit: the next token comes after this long.
    Limited {
        /// Wait at least this long.
        retry_after: Duration,
    },
    /// Redis did not answer (never from [`memory::Limits`]).
    Unavailable,
}

/// A slot's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotDecision {
    /// Taken: held until released or expired.
    Granted,
    /// Held already (by another delivery of the same step attempt): left as
    /// it is (not extended), and this caller does not own it, so it must
    /// neither run the step nor release the slot.
    Held,
    /// The tenant holds its limit: try again after this long.
    Full {
        /// When the earliest held slot expires (at most 1 s, at least 50 ms).
        retry_after: Duration,
    },
    /// Redis did not answer (never from [`memory::Limits`]).
    Unavailable,
}

const BUCKET: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
";

const SLOT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {2, 0} end
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  local keep = redis.call('PTTL', KEYS[1])
  if keep < ttl + 1000 then redis.call('PEXPIRE', KEYS[1], ttl + 1000) end
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}
";

/// Per-tenant rate limits and running-step slots, over one (re)connecting
/// Redis connection.
pub struct TenantLimits {
    client: redis::Client,
    rates: Rates,
    overrides: Option<Arc<dyn Overrides>>,
    conn: Mutex<Option<ConnectionManager>>,
    prefix: String,
    bucket: redis::Script,
    slot: redis::Script,
    unavailable: AtomicU64,
    /// Over TLS: what the server's certificate is checked against (errors).
    tls_trust: Option<String>,
}

impl std::fmt::Debug for TenantLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantLimits")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl TenantLimits {
    /// Limits on the Redis of `options`, over TLS when the URL is
    /// `rediss://` (with `options.tls`'s CA file and client certificate);
    /// otherwise as [`TenantLimits::connect`].
    ///
    /// # Errors
    /// The URL does not parse, or a TLS file cannot be used (the message
    /// names the option and the file).
    pub async fn open(options: &Options) -> Result<Self, redis::RedisError> {
        let (client, trust) = tls::client(options)?;
        Self::with_client(client, &options.prefix, trust).await
    }

    /// Limits on the Redis at `url`, with keys under `prefix:`, and the
    /// default [`Rates`]. Does not wait for Redis: a Redis that is down only
    /// makes answers `Unavailable`. A `rediss://` URL verifies the server
    /// against the system's trusted roots.
    ///
    /// # Errors
    /// The URL does not parse.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let trust = tls::is_rediss(url).then(|| tls::SYSTEM_ROOTS.to_owned());
        Self::with_client(redis::Client::open(url)?, prefix, trust).await
    }

    async fn with_client(
        client: redis::Client,
        prefix: &str,
        tls_trust: Option<String>,
    ) -> Result<Self, redis::RedisError> {
        let limits = Self {
            tls_trust,
            client,
            rates: Rates::default(),
            overrides: None,
            conn: Mutex::new(None),
            prefix: prefix.to_owned(),
            bucket: redis::Script::new(BUCKET),
            slot: redis::Script::new(SLOT),
            unavailable: AtomicU64::new(0),
        };
        if limits.connect_now().await.is_err() {
            let e = tls::diagnose(&limits.client, limits.tls_trust.as_deref()).await;
            tracing::warn!(error = %e, "redis is not reachable; limits answer `unavailable` until it is");
        }
        Ok(limits)
    }

    /// The same limits with these rates for [`weft_api::RateLimiter::check`].
    #[must_use]
    pub fn with_rates(mut self, rates: Rates) -> Self {
        self.rates = rates;
        self
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

    /// How many answers could not be had from Redis (metrics).
    pub fn unavailable_total(&self) -> u64 {
        self.unavailable.load(Ordering::Relaxed)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        self.connect_now().await.ok()
    }

    /// The connection, made now if there is none; why not, if it cannot be.
    async fn connect_now(&self) -> Result<ConnectionManager, String> {
        let mut g = self.conn.lock().await;
        if let Some(c) = g.as_ref() {
            return Ok(c.clone());
        }
        let made = tokio::time::timeout(CALL_TIMEOUT, self.client.get_connection_manager()).await;
        match made {
            Ok(Ok(c)) => {
                *g = Some(c.clone());
                Ok(c)
            }
            Ok(Err(e)) => Err(tls::describe(&e, self.tls_trust.as_deref())),
            Err(_) => Err("no connection within 250 ms".into()),
        }
    }

    /// Runs `script`; `None` (and counted) when Redis does not answer in time.
    async fn run(
        &self,
        script: &redis::Script,
        key: String,
        args: &[String],
    ) -> Option<(i64, i64)> {
        let answer = async {
            let mut conn = self.connection().await?;
            let mut inv = script.key(key);
            for a in args {
                inv.arg(a);
            }
            let r: redis::RedisResult<(i64, i64)> =
                tokio::time::timeout(CALL_TIMEOUT, inv.invoke_async(&mut conn))
                    .await
                    .unwrap_or_else(|_| {
                        Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out")))
                    });
            r.ok()
        }
        .await;
        if answer.is_none() {
            self.unavailable.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// Takes one token from `tenant`'s `bucket`, at `rate` per second and at
    /// most `burst` (a rate of 0 or less: no limit).
    pub async fn check_rate(
        &self,
        tenant: &str,
        bucket: Bucket,
        rate: f64,
        burst: u32,
    ) -> RateDecision {
        if rate <= 0.0 {
            return RateDecision::Allowed;
        }
        let key = format!("{}:rate:{}:{tenant}", self.prefix, bucket.as_str());
        let args = [rate.to_string(), burst.max(1).to_string()];
        match self.run(&self.bucket, key, &args).await {
            Some((1, _)) => RateDecision::Allowed,
            Some((_, wait)) => RateDecision::Limited {
                retry_after: Duration::from_millis(u64::try_from(wait.max(1)).unwrap_or(1)),
            },
            None => RateDecision::Unavailable,
        }
    }

    /// Takes slot `slot` of `tenant` for `ttl` if fewer than `limit` are held.
    pub async fn acquire_slot(
        &self,
        tenant: &str,
        slot: &str,
        limit: u32,
        ttl: Duration,
    ) -> SlotDecision {
        let key = format!("{}:slots:{tenant}", self.prefix);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let args = [slot.to_owned(), limit.to_string(), ttl_ms.to_string()];
        match self.run(&self.slot, key, &args).await {
            Some((1, _)) => SlotDecision::Granted,
            Some((2, _)) => SlotDecision::Held,
            Some((_, wait)) => SlotDecision::Full {
                retry_after: Duration::from_millis(
                    u64::try_from(wait.clamp(50, 1_000)).unwrap_or(50),
                ),
            },
            None => SlotDecision::Unavailable,
        }
    }

    /// Gives a slot back (best effort: it expires anyway).
    pub async fn release_slot(&self, tenant: &str, slot: &str) {
        let key = format!("{}:slots:{tenant}", self.prefix);
        let Some(mut conn) = self.connection().await else {
            return;
        };
        let cmd = redis::cmd("ZREM").arg(key).arg(slot).to_owned();
        let done: Result<Result<i64, _>, _> =
            tokio::time::timeout(CALL_TIMEOUT, cmd.query_async(&mut conn)).await;
        if !matches!(done, Ok(Ok(_))) {
            self.unavailable.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether Redis answers now (readiness).
    ///
    /// # Errors
    /// A message saying why not.
    pub async fn ping(&self) -> Result<(), String> {
        let Ok(mut conn) = self.connect_now().await else {
            let e = tls::diagnose(&self.client, self.tls_trust.as_deref()).await;
            return Err(format!("redis is not reachable: {e}"));
        };
        let cmd = redis::cmd("PING");
        let r: Result<Result<String, _>, _> =
            tokio::time::timeout(CALL_TIMEOUT, cmd.query_async(&mut conn)).await;
        match r {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err("redis: no answer within 250 ms".into()),
        }
    }
}
