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
/// The top of a pooled fiber stack zeroed with `memset` when it is returned
/// (the part a step uses); the rest is decommitted. Without it the whole stack
/// (`stack_bytes` + 1 MiB) would be given back to the kernel after every step
/// and faulted in again by the next.
const KEEP_RESIDENT_STACK_BYTES: usize = 64 * 1024;

/// Builds the engine: component model, epoch interruption, pooling allocator sized
/// by [`crate::EngineLimits`], and the proposals plugins may not use turned off.
pub(crate) fn engine(options: &Options) -> Result<(Engine, PageReset), Error> {
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
        .max_unused_warm_slots(n.min(64))
        .async_stack_keep_resident(KEEP_RESIDENT_STACK_BYTES);
    // Every invocation gets a fresh instance, so resetting its memories and tables
    // is on the step's path. By default that is `madvise(DONTNEED)`: TLB flushes
    // (IPIs to the other cores) on free and page faults on the next use. Where the
    // kernel has `PAGEMAP_SCAN` (Linux 6.7+), restore just the pages the guest
    // dirtied to their initial contents in place instead, up to a budget per slot
    // (beyond it, `madvise` as before). The scan sees only resident pages, so a
    // dirty page that was swapped out would keep the last tenant's data: with any
    // swap, zswap or zram in use the decommitting reset is kept (see [`PageReset`]).
    let reset = page_reset();
    if reset == PageReset::InPlace {
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
        // A pooled fiber stack is reused by the next instance, of any tenant:
        // zero it when it is returned, so no frame of one step is readable by
        // the next.
        .async_stack_zeroing(true)
        .wasm_shared_everything_threads(false)
        .wasm_memory64(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        .wasm_custom_page_sizes(false)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).map_err(|e| Error::Engine(format!("{e:#}")))?;
    Ok((engine, reset))
}

/// How the pooling allocator gives a slot's memories and tables back between
/// instances. Chosen once, when the engine is built, and logged by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageReset {
    /// Pages the guest dirtied are restored in place (`PAGEMAP_SCAN`), up to a
    /// budget per slot; the rest are decommitted.
    InPlace,
    /// Every dirty page is decommitted (`madvise(DONTNEED)`), for the reason given.
    Decommit(String),
}

impl std::fmt::Display for PageReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InPlace => f.write_str("in place (PAGEMAP_SCAN; no swap, zswap or zram in use)"),
            Self::Decommit(why) => write!(f, "decommit (madvise): {why}"),
        }
    }
}

/// The page reset this machine allows: in place only where `PAGEMAP_SCAN` exists
/// and no page can be swapped out (no active swap area, zram among them, and
/// zswap off). Swap turned on after start is not seen: the check is made once.
pub fn page_reset() -> PageReset {
    let swaps = std::fs::read_to_string("/proc/swaps").ok();
    let zswap = std::fs::read_to_string("/sys/module/zswap/parameters/enabled").ok();
    choose_page_reset(
        PoolingAllocationConfig::is_pagemap_scan_available(),
        swaps.as_deref(),
        zswap.as_deref(),
    )
}

/// [`page_reset`] on given readings: `swaps` is `/proc/swaps` (`None` when it
/// cannot be read, which counts as swap in use), `zswap` the zswap `enabled`
/// parameter (`None` when zswap is not built in).
fn choose_page_reset(pagemap_scan: bool, swaps: Option<&str>, zswap: Option<&str>) -> PageReset {
    if !pagemap_scan {
        return PageReset::Decommit("the kernel has no PAGEMAP_SCAN (Linux 6.7+)".into());
    }
    let Some(swaps) = swaps else {
        return PageReset::Decommit("/proc/swaps cannot be read, so swap may be in use".into());
    };
    // The first line is the header; each further line is an active swap area.
    let areas: Vec<&str> = swaps
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if !areas.is_empty() {
        return PageReset::Decommit(format!(
            "swap is in use ({}): a swapped-out dirty page would not be reset in place",
            areas.join(", ")
        ));
    }
    if zswap.is_some_and(|z| matches!(z.trim(), "Y" | "y" | "1")) {
        return PageReset::Decommit("zswap is enabled".into());
    }
    PageReset::InPlace
}

/// The linker every plugin is instantiated from: the `weft:plugin` imports and
/// WASI 0.2 with no preopens, no environment and no network. Components that
/// import interfaces outside the world are refused before they get here
/// (see [`weft_world::fit`]). The `wasi:sockets` functions this adds are linked
/// for the interpreters that import them ([`weft_world::fit::DENIED_WASI`]) and
/// refused by the WASI context each store is given: no TCP, no UDP, no name
/// lookup, and no address passes its check (see `Sandbox::new_store`).
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

#[cfg(test)]
mod tests {
    use super::{PageReset, choose_page_reset};

    const HEADER: &str = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

    #[test]
    fn in_place_only_with_pagemap_scan_and_nothing_that_swaps() {
        assert_eq!(
            choose_page_reset(true, Some(HEADER), Some("N\n")),
            PageReset::InPlace
        );
        assert_eq!(
            choose_page_reset(true, Some(HEADER), None),
            PageReset::InPlace
        );
    }

    #[test]
    fn any_swap_area_zram_included_keeps_the_decommitting_reset() {
        for area in [
            "/dev/vda2 partition 1048572 0 -2",
            "/swapfile file 2097148 512 -2",
            "/dev/zram0 partition 4194300 0 100",
        ] {
            let swaps = format!("{HEADER}{area}\n");
            let PageReset::Decommit(why) = choose_page_reset(true, Some(&swaps), Some("N")) else {
                panic!("{area} was not seen as swap");
            };
            let name = area.split(' ').next().unwrap_or_default();
            assert!(why.contains(name), "{why}");
        }
    }

    #[test]
    fn zswap_an_unreadable_swap_list_or_no_pagemap_scan_decommit() {
        for (scan, swaps, zswap) in [
            (true, Some(HEADER), Some("Y\n")),
            (true, None, Some("N")),
            (false, Some(HEADER), Some("N")),
        ] {
            assert!(matches!(
                choose_page_reset(scan, swaps, zswap),
                PageReset::Decommit(_)
            ));
        }
    }
}
