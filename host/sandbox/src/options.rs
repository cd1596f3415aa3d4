//! Options for the sandbox: every limit has a name and a default.

use serde::{Deserialize, Serialize};
use std::{collections::HashMap, net::IpAddr, path::PathBuf, time::Duration};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// The longest deadline the sandbox gives one invocation, whatever its
/// [`StepLimits::timeout`] says (seven days): a longer one is clamped, so
/// that no deadline computed from a configured or requested timeout can
/// overflow. The worker caps step timeouts far lower (`max_step_timeout_ms`).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3_600);

/// How the sandbox is built. Plain data with defaults; it is the `[sandbox]`
/// section of the binary's configuration file, as it is (`[sandbox.limits]`,
/// `[sandbox.engine]`, `[sandbox.egress]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Per-step limits (the defaults for every invocation).
    pub limits: StepLimits,
    /// Engine-wide shape limits, fixed when the sandbox is built.
    pub engine: EngineLimits,
    /// Outbound network policy.
    pub egress: EgressOptions,
    /// Where precompiled components are kept between runs (`None`: memory only).
    pub cache_dir: Option<PathBuf>,
    /// How often the deadline clock ticks; a plugin in a tight loop is stopped
    /// within one tick of its deadline (key `epoch_tick_ms`).
    #[serde(with = "weft_types::millis", rename = "epoch_tick_ms")]
    pub epoch_tick: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: StepLimits::default(),
            engine: EngineLimits::default(),
            egress: EgressOptions::default(),
            cache_dir: None,
            epoch_tick: Duration::from_millis(1),
        }
    }
}

/// StepLimits applied to each step. An invocation may carry its own copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepLimits {
    /// Wall-clock deadline of one invocation (key `timeout_ms`; at most
    /// [`MAX_TIMEOUT`]).
    #[serde(with = "weft_types::millis", rename = "timeout_ms")]
    pub timeout: Duration,
    /// Linear memory of one instance, all memories together (at most
    /// [`EngineLimits::max_memory_bytes`]).
    pub memory_bytes: u64,
    /// Elements in any one table.
    pub table_elements: u64,
    /// Live resource handles (streams, pollables, ...) held by one instance.
    pub resource_handles: usize,
    /// Input plus config, in bytes.
    pub input_bytes: usize,
    /// The plugin's output, in bytes.
    pub output_bytes: usize,
    /// Log and stdio bytes kept per step; the rest is dropped with a marker.
    pub log_bytes: usize,
    /// Any single value handed to a host import (a log message, a request body, a
    /// state value).
    pub hostcall_bytes: usize,
    /// One outbound response body, after decompression.
    pub response_bytes: usize,
    /// Outbound requests per step (each redirect hop counts).
    pub requests_per_step: u32,
    /// Redirect hops followed per request.
    pub redirects: u32,
}

impl Default for StepLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            memory_bytes: 64 * MIB,
            table_elements: 20_000,
            resource_handles: 1_000,
            input_bytes: MIB as usize,
            output_bytes: MIB as usize,
            log_bytes: (64 * KIB) as usize,
            hostcall_bytes: (4 * MIB) as usize,
            response_bytes: (8 * MIB) as usize,
            requests_per_step: 32,
            redirects: 5,
        }
    }
}

/// StepLimits on the shape of components and on the engine, fixed at start-up
/// (they size the pooling allocator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineLimits {
    /// Instances that may be alive at once (steps running concurrently).
    pub concurrent_instances: u32,
    /// Upper bound for [`StepLimits::memory_bytes`].
    pub max_memory_bytes: u64,
    /// Wasm stack, in bytes.
    pub stack_bytes: usize,
    /// Core instances inside one component. A Rust connector has 3; one built
    /// by componentize-py 14 (38 with its `--stub-wasi`), by componentize-js 4,
    /// by componentize-qjs 8.
    pub core_instances_per_component: u32,
    /// Memories inside one component.
    pub memories_per_component: u32,
    /// Tables inside one component.
    pub tables_per_component: u32,
    /// Largest component accepted, in bytes.
    pub component_bytes: usize,
}

impl Default for EngineLimits {
    fn default() -> Self {
        Self {
            concurrent_instances: 256,
            max_memory_bytes: 256 * MIB,
            stack_bytes: 512 * KIB as usize,
            core_instances_per_component: 64,
            memories_per_component: 4,
            tables_per_component: 8,
            component_bytes: 64 * MIB as usize,
        }
    }
}

/// Outbound network policy, on top of each plugin's declared and granted hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EgressOptions {
    /// Allow loopback, private, link-local and other non-public addresses
    /// (cloud metadata addresses stay denied). Off by default; for
    /// on-premises services and tests. Older name:
    /// `sandbox.allow_private_network`.
    pub allow_private: bool,
    /// Static name resolution that takes precedence over DNS (like /etc/hosts).
    pub resolve: HashMap<String, Vec<IpAddr>>,
}
