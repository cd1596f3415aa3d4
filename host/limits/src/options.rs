//! What the binary configures: where Redis is (`[redis]`) and the per-tenant
//! rates the API's checks use (`[limits]`). Plain serde data with defaults.

use serde::{Deserialize, Serialize};

/// `[redis]`: where the limits are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// `redis://host:6379`; empty: no Redis, so `weft serve` keeps the rate
    /// limits and running-step slots in memory ([`crate::memory::Limits`])
    /// and `weft api` / `weft worker` have none.
    pub url: String,
    /// Prefix of every key (`PREFIX:rate:...`, `PREFIX:slots:...`); processes
    /// of one deployment share it.
    pub prefix: String,
    /// `[redis.tls]`: the CA file and client certificate for TLS (turned on
    /// by a `rediss://` URL).
    pub tls: weft_tls::Files,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            url: String::new(),
            prefix: "weft".into(),
            tls: weft_tls::Files::default(),
        }
    }
}

/// `[limits]`: per-tenant rates (tokens per second) and bursts of the two
/// buckets, in Redis or in memory alike. A rate of 0 turns its bucket off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// Authenticated `/v1` calls per second.
    pub api_rate: f64,
    /// Their burst.
    pub api_burst: u32,
    /// Webhook deliveries per second.
    pub webhook_rate: f64,
    /// Their burst.
    pub webhook_burst: u32,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            api_rate: 100.0,
            api_burst: 200,
            webhook_rate: 50.0,
            webhook_burst: 100,
        }
    }
}

impl Rates {
    /// The rate and burst of `bucket`.
    pub fn of(&self, bucket: weft_api::Bucket) -> (f64, u32) {
        match bucket {
            weft_api::Bucket::Api => (self.api_rate, self.api_burst),
            weft_api::Bucket::Webhook => (self.webhook_rate, self.webhook_burst),
        }
    }
}
