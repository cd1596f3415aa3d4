//! The per-invocation host state (the `T` of `Store<T>`) and the host side of the
//! WIT imports: [`log`], [`state`], [`http`], plus the neutered WASI context.

pub(crate) mod http;
pub(crate) mod log;
pub(crate) mod sigv4;
pub(crate) mod state;

use crate::{StepLimits, egress::Egress, grants::Grants};
use std::{sync::Arc, time::Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use weft_types::{Manifest, Reason};

/// A limit breach or host decision that stops the plugin. Raised as a trap so the
/// guest cannot catch it; [`crate::invoke`] turns it back into a [`Reason`].
#[derive(Debug, thiserror::Error)]
#[error("{reason}: {message}")]
pub(crate) struct Breach {
    pub reason: Reason,
    pub message: String,
}

impl Breach {
    pub(crate) fn trap(reason: Reason, message: impl Into<String>) -> wasmtime::Error {
        wasmtime::Error::new(Self {
            reason,
            message: message.into(),
        })
    }
}

/// What an invocation used, measured by the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Wall time from instantiation to result, in microseconds.
    pub wall_time_us: u64,
    /// Peak linear memory of the instance, in bytes.
    pub peak_memory_bytes: u64,
    /// Outbound requests sent (each redirect hop counts).
    pub egress_requests: u32,
    /// Request bodies sent, in bytes.
    pub egress_bytes_out: u64,
    /// Response bodies received (after decompression), in bytes.
    pub egress_bytes_in: u64,
    /// Log and stdio bytes the plugin wrote (including dropped ones).
    pub log_bytes: u64,
    /// LLM input tokens the plugin reported (a `weft.usage` log record).
    #[serde(default)]
    pub llm_input_tokens: u64,
    /// LLM output tokens the plugin reported.
    #[serde(default)]
    pub llm_output_tokens: u64,
    /// LLM cost the plugin reported, in millionths of the currency unit.
    #[serde(default)]
    pub llm_cost_micros: u64,
}

/// Whether the plugin is describing itself or running its one-time set-up
/// (both with no capabilities), or running a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Describe,
    /// `init`, before the snapshot (see `crate::preinit`).
    Init,
    Invoke,
}

/// `Store<T>` data for one invocation.
pub(crate) struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: StepLimits,
    pub phase: Phase,
    pub manifest: Option<Arc<Manifest>>,
    pub grants: Grants,
    pub egress: Egress,
    pub logs: log::Sink,
    pub usage: Usage,
    pub memory_now: u64,
    pub deadline: Instant,
    /// Every granted secret in its wire forms, scrubbed from what the plugin
    /// receives and emits.
    pub secrets: Arc<crate::scrub::Scrubber>,
    /// The first breach a host import raised (kept even if the guest's unwinding
    /// produces a different trap).
    pub breach: Option<(Reason, String)>,
}

impl HostState {
    /// Records a breach and returns the trap that carries it.
    pub(crate) fn breach(&mut self, reason: Reason, message: impl Into<String>) -> wasmtime::Error {
        let message = message.into();
        if self.breach.is_none() {
            self.breach = Some((reason, message.clone()));
        }
        Breach::trap(reason, message)
    }

    /// Traps with `hostcall_too_large` when `len` is over the limit.
    pub(crate) fn check_hostcall(&mut self, what: &str, len: usize) -> wasmtime::Result<()> {
        if len > self.limits.hostcall_bytes {
            return Err(self.breach(
                Reason::HostcallTooLarge,
                format!(
                    "{what} is {len} bytes; the limit is {} bytes",
                    self.limits.hostcall_bytes
                ),
            ));
        }
        Ok(())
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wasmtime::ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let delta = (desired as u64).saturating_sub(current as u64);
        let next = self.memory_now.saturating_add(delta);
        if next > self.limits.memory_bytes {
            return Err(self.breach(
                Reason::MemoryLimit,
                format!(
                    "linear memory would grow to {next} bytes; the limit is {} bytes",
                    self.limits.memory_bytes
                ),
            ));
        }
        self.memory_now = next;
        self.usage.peak_memory_bytes = self.usage.peak_memory_bytes.max(next);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limits.table_elements {
            return Err(self.breach(
                Reason::TableLimit,
                format!(
                    "a table would grow to {desired} elements; the limit is {}",
                    self.limits.table_elements
                ),
            ));
        }
        Ok(true)
    }
}

impl weft_world::wit_types::Host for HostState {}
