//! The one place `wasmtime::Config` is built, the linker, and the deadline clock.

use crate::{Error, Options, host::HostState};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
};
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

/// Dirty linear-memory bytes per pool slot reset in place (and so kept resident)
/// rather than returned to the kernel, when `PAGEMAP_SCAN` is available.
const KEEP_RESIDENT_MEMORY_BYTES: usize = 256 * 1024;
/// The same for tables.
const KEEP_RESIDENT_TABLE_BYTES: usize = 64 * 1024;

/// Builds the engine: component model, epoch interruption, pooling allocator sized
/// by [`crate::EngineLimits`], and the proposals plugins may not use turned off.
pub(crate) fn engine(options: &Options) -> Result<Engine, Error> {
    let e = &options.engine;
    let mut pool = PoolingAllocationConfig::default();
    let n = e.concurrent_instances.max(1);
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(e.core_instances_per_component.min(8)))
        .total_memories(n.saturating_mul(e.memories_per_component.min(2)))
        .total_tables(n.saturating_mul(e.tables_per_component.min(4)))
        .total_stacks(n)
        .max_core_instances_per_component(e.core_instances_per_component)
        .max_memories_per_component(e.memories_per_component)
        .max_tables_per_component(e.tables_per_component)
        .max_memory_size(usize::try_from(e.max_memory_bytes).unwrap_or(usize::MAX))
        .table_elements(
            usize::try_from(options.limits.table_elements)
                .unwrap_or(usize::MAX)
                .max(10_000),
        )
        .max_unused_warm_slots(n.min(64));
    // Every invocation gets a fresh instance, so resetting its memories and tables
    // is on the step's path. By default that is `madvise(DONTNEED)`: TLB flushes
    // (IPIs to the other cores) on free and page faults on the next use. Where the
    // kernel has `PAGEMAP_SCAN` (Linux 6.7+), restore just the pages the guest
    // dirtied to their initial contents in place instead, up to a budget per slot
    // (beyond it, `madvise` as before). Without the ioctl the budget would `memset` the lowest addresses
    // whether dirtied or not, which does not pay, so it stays off.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY_BYTES)
            .table_keep_resident(KEEP_RESIDENT_TABLE_BYTES);
    }

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(e.stack_bytes)
        .async_stack_size(e.stack_bytes + 1024 * 1024)
        .wasm_shared_everything_threads(false)
        .wasm_memory64(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        .wasm_custom_page_sizes(false)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| Error::Engine(format!("{e:#}")))
}

/// The linker every plugin is instantiated from: the `weft:plugin` imports and
/// WASI 0.2 with no preopens, no environment and no network. Components that
/// import interfaces outside the world are refused before they get here
/// (see [`weft_world::fit`]), so the WASI sockets functions this adds are
/// unreachable — and would be denied by the WASI context anyway.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<HostState>, Error> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| Error::Engine(format!("{e:#}")))?;
    weft_world::Connector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
        .map_err(|e| Error::Engine(format!("{e:#}")))?;
    Ok(linker)
}

/// Advances the engine's epoch every tick so deadlines are checked; stops when
/// dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine, tick: std::time::Duration) -> Result<Self, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::Builder::new()
            .name("weft-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| Error::Engine(format!("cannot start the epoch thread: {e}")))?;
        Ok(Self { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
