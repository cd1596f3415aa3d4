//! The rate-limiter port: how the API asks whether a tenant may make one more
//! call. The API owns the port and the policy (what an answer means for a
//! request); an adapter owns the buckets (rates, bursts, where they are kept).
//!
//! The composition root plugs in the Redis adapter (`weft_limits::TenantLimits`)
//! when Redis is configured, else, in embedded mode, the in-process one
//! (`weft_limits::memory::Limits`), which never answers [`Verdict::Unavailable`].
//!
//! ```
//! use std::sync::Arc;
//! use weft_api::{Bucket, RateLimiter, Verdict};
//!
//! struct Always;
//!
//! #[async_trait::async_trait]
//! impl RateLimiter for Always {
//!     async fn check(&self, _tenant: &str, _bucket: Bucket) -> Verdict {
//!         Verdict::Allow
//!     }
//! }
//!
//! let limiter: Arc<dyn RateLimiter> = Arc::new(Always);
//! # let _ = limiter;
//! ```

use std::time::Duration;

/// Which of a tenant's buckets a request takes a token from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Authenticated `/v1` calls.
    Api,
    /// Webhook deliveries (`/hooks/{token}`).
    Webhook,
}

impl Bucket {
    /// `api` or `webhook`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Webhook => "webhook",
        }
    }
}

/// A rate limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on (a token was taken).
    Allow,
    /// Over the limit: the next token comes after this long.
    Deny {
        /// Wait at least this long (the `Retry-After`).
        retry_after: Duration,
    },
    /// The limiter could not answer (its backend is down). The API decides:
    /// authenticated calls fail open, public webhooks fail closed.
    Unavailable,
}

/// Where a limiter keeps its buckets (named in `/readyz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// In this process (embedded mode without Redis).
    Memory,
    /// In Redis, shared by every process; `/readyz` pings it.
    Redis,
}

/// Per-tenant rate limits, as the API needs them. Object-safe: the API holds an
/// `Arc<dyn RateLimiter>`.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one token from `tenant`'s `bucket`.
    async fn check(&self, tenant: &str, bucket: Bucket) -> Verdict;

    /// Where the limiter keeps its buckets, named in `/readyz` (`None`: not
    /// said).
    fn backend(&self) -> Option<Backend> {
        None
    }

    /// The rate (tokens per second) and burst of `tenant`'s `bucket`, as
    /// [`RateLimiter::check`] applies them now (the tenant's overrides over
    /// the deployment's; a rate of 0 turns the bucket off); `None`: not said.
    /// What `GET /v1/tenant` shows.
    async fn rate(&self, _tenant: &str, _bucket: Bucket) -> Option<(f64, u32)> {
        None
    }

    /// Whether the backend answers now (readiness).
    ///
    /// # Errors
    /// A message saying why not.
    async fn ping(&self) -> Result<(), String> {
        Ok(())
    }
}
