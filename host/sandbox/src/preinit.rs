//! Pre-initialisation: a connector that exports `init: func()` (the
//! `connector-with-init` world of `wit/plugin.wit`) has it run ONCE per digest,
//! at load, and every step is then instantiated from the snapshot of the
//! instance taken right after it (wasmtime-wizer). Its set-up (jaq parsing and
//! compiling its standard library, for `transform`) is off the step's path.
//!
//! What a step sees is unchanged: a fresh instance, now of the snapshot, so
//! nothing one step does is visible to the next (S10). What `init` can see is
//! narrow, so nothing tenant- or step-specific can end up in a snapshot: it
//! runs before any step, with no input, no config, no credentials, no grants
//! (the `http` and `state` imports refuse, as in `describe`), the clocks frozen
//! at the Unix epoch, and the step's default limits. WASI randomness is real,
//! but what `init` draws is part of the snapshot: every step of that digest on
//! this host shares it (Rust's `HashMap` keys, for example), until the cache is
//! cleared. A connector must draw per-step randomness in `invoke`.
//!
//! A resource handle (a stream, a pollable) that `init` left open would not
//! exist in a step's instance, so such a snapshot is refused: `init` may not
//! keep one (writing to stdout keeps a stream, so it may not print either).

use crate::{
    Error, Grants, Sandbox,
    host::{HostState, Phase},
};
use std::time::Duration;
use wasmtime::{
    Store,
    component::{Component, Instance, Lift, WasmList, types::ComponentItem},
};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

/// The root export a connector names its set-up with.
pub(crate) const INIT_EXPORT: &str = "init";

/// Extra time the host-side timer grants past `init`'s deadline.
const GRACE: Duration = Duration::from_millis(200);

/// Whether the component's root exports a function named `init` (read from the
/// bytes: no compilation). Nested components and modules are not looked into.
pub(crate) fn exports_init(bytes: &[u8]) -> bool {
    use wasmparser::{ComponentExternalKind, Parser, Payload};
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::ModuleSection { .. } | Payload::ComponentSection { .. }) => depth += 1,
            Ok(Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(Payload::ComponentExportSection(reader)) if depth == 0 => {
                let found = reader
                    .into_iter()
                    .flatten()
                    .any(|e| e.name.name == INIT_EXPORT && e.kind == ComponentExternalKind::Func);
                if found {
                    return true;
                }
            }
            Ok(_) => {}
            // The compiler reports invalid bytes with a better message.
            Err(_) => return false,
        }
    }
    false
}

impl Sandbox {
    /// Runs the component's `init` once in an instrumented instance and returns
    /// the bytes of the component rewritten with that instance's state.
    ///
    /// # Errors
    /// `Error::Init`, naming the connector (from `describe` on the same bytes)
    /// and what went wrong: the instrumentation, a wrong `init` type, a trap, a
    /// limit breach, the deadline, or a resource left open.
    pub(crate) async fn preinitialise(&self, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let wizer = {
            let mut w = Wizer::new();
            // Kept: removing it drops the core export but not the component's
            // lift of it (an invalid component). The host never calls it again.
            w.init_func(INIT_EXPORT).keep_init_func(true);
            w
        };
        let unnamed = |message: String| Error::Init {
            connector: "(not described yet)".into(),
            message,
        };
        let (cx, instrumented) = wizer
            .instrument_component(bytes)
            .map_err(|e| unnamed(format!("cannot instrument the component for set-up: {e:#}")))?;
        let engine = self.inner.engine.clone();
        let component = tokio::task::spawn_blocking(move || {
            Component::new(&engine, &instrumented).map_err(crate::cache::compile_error)
        })
        .await
        .map_err(|e| Error::Engine(format!("compilation task failed: {e}")))??;
        let instance_pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| Error::Link(format!("{e:#}")))?;
        let pre = weft_world::ConnectorPre::new(instance_pre.clone())
            .map_err(|e| Error::Link(format!("{e:#}")))?;
        let connector = self.describe(&pre, None).await?.name;
        let failed = |message: String| Error::Init {
            connector: connector.clone(),
            message,
        };
        check_init_type(&self.inner.engine, &component).map_err(&failed)?;

        let limits = self.inner.options.limits;
        let mut store = self.new_store(None, Phase::Init, Grants::default(), limits);
        let run = async {
            let instance = instance_pre.instantiate_async(&mut store).await?;
            let init = instance.get_typed_func::<(), ()>(&mut store, INIT_EXPORT)?;
            init.call_async(&mut store, ()).await?;
            wasmtime::Result::<Instance>::Ok(instance)
        };
        let stop_at = limits.timeout.min(crate::MAX_TIMEOUT) + GRACE;
        let instance = match tokio::time::timeout(stop_at, run).await {
            Err(_) => return Err(failed(format!("init did not return within {stop_at:?}"))),
            Ok(Err(e)) => return Err(failed(init_trap(&e, store.data()))),
            Ok(Ok(instance)) => instance,
        };
        if !store.data().table.is_empty() {
            return Err(failed(
                "init left a resource handle open (a stream, a pollable: stdout or stderr \
                 written to, for example); it would not exist in a step's instance"
                    .into(),
            ));
        }
        let mut access = Access {
            store: &mut store,
            instance,
            error: None,
        };
        let snapshot = wizer.snapshot_component(&cx, &mut access).await;
        if let Some(e) = access.error {
            return Err(failed(format!("cannot read the instance's state: {e}")));
        }
        let snapshot = snapshot.map_err(|e| failed(format!("cannot snapshot: {e:#}")))?;
        self.inner.cache.count_snapshot();
        tracing::debug!(plugin.name = %connector, bytes = snapshot.len(), "connector pre-initialised");
        Ok(snapshot)
    }
}

/// `init` must be a root function with no parameters and no results.
fn check_init_type(engine: &wasmtime::Engine, component: &Component) -> Result<(), String> {
    let ty = component.component_type();
    match ty
        .exports(engine)
        .find(|(n, _)| *n == INIT_EXPORT)
        .map(|(_, e)| e.ty)
    {
        Some(ComponentItem::ComponentFunc(f))
            if f.params().len() == 0 && f.results().len() == 0 =>
        {
            Ok(())
        }
        Some(_) => Err(format!(
            "the export `{INIT_EXPORT}` must be `func()` (no parameters, no results)"
        )),
        None => Err(format!("the component does not export `{INIT_EXPORT}`")),
    }
}

/// Why `init` stopped: a named breach first, then what the guest said (a
/// panic message), then the trap.
fn init_trap(e: &wasmtime::Error, state: &HostState) -> String {
    if let Some((reason, message)) = &state.breach {
        return format!("init stopped: {reason}: {message}");
    }
    if let Some(b) = e.downcast_ref::<crate::host::Breach>() {
        return format!("init stopped: {}: {}", b.reason, b.message);
    }
    if let Some(wasmtime::Trap::Interrupt) = e.downcast_ref::<wasmtime::Trap>() {
        return "init stopped: deadline_exceeded: it ran past its deadline".into();
    }
    match state.logs.last_complaint() {
        Some(said) => format!("init trapped: {said}"),
        None => format!("init trapped: {}", first_line(&format!("{e:#}"))),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// The instrumented instance, read through its `wasmtime:wizer/access`
/// exports. The trait cannot return errors, so the first one is kept here and
/// defaults are returned; the snapshot is then refused.
struct Access<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
    error: Option<String>,
}

impl Access<'_> {
    async fn call<R: Lift + Send + Sync + 'static>(
        &mut self,
        interface: &str,
        func: &str,
    ) -> Option<R> {
        if self.error.is_some() {
            return None;
        }
        let result = async {
            let (_, iface) = self
                .instance
                .get_export(&mut *self.store, None, interface)
                .ok_or_else(|| wasmtime::format_err!("no export `{interface}`"))?;
            let (_, index) = self
                .instance
                .get_export(&mut *self.store, Some(&iface), func)
                .ok_or_else(|| wasmtime::format_err!("no export `{interface}#{func}`"))?;
            let f = self
                .instance
                .get_typed_func::<(), (R,)>(&mut *self.store, index)?;
            Ok::<R, wasmtime::Error>(f.call_async(&mut *self.store, ()).await?.0)
        }
        .await;
        match result {
            Ok(r) => Some(r),
            Err(e) => {
                self.error = Some(format!("{interface}#{func}: {e:#}"));
                None
            }
        }
    }
}

impl ComponentInstanceState for Access<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        match self.call::<WasmList<u8>>(instance, func).await {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func)
            .await
            .map(f32::to_bits)
            .unwrap_or_default()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func)
            .await
            .map(f64::to_bits)
            .unwrap_or_default()
    }
}
