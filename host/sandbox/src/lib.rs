//! The Weft sandbox: runs connector components under wasmtime with deny-by-default
//! capabilities and hard limits.
//!
//! A [`Sandbox`] owns the engine (pooling allocator, epoch deadlines), the linker,
//! the component cache and the egress transport. [`Sandbox::load`] turns component
//! bytes into a [`Plugin`] (compiled once per digest, checked against the world,
//! pre-linked, manifest read); [`Sandbox::invoke`] runs one step attempt in a fresh
//! instance and returns an [`Outcome`] with the result, resource use and logs.
//!
//! ```no_run
//! # async fn demo(bytes: Vec<u8>) -> Result<(), weft_sandbox::Error> {
//! use weft_sandbox::{Invocation, Options, Sandbox};
//! let sandbox = Sandbox::new(Options::default())?;
//! let plugin = sandbox.load(&bytes).await?;
//! let outcome = sandbox.invoke(&plugin, Invocation::new("echo", r#"{"hello":"world"}"#)).await;
//! match outcome.result {
//!     Ok(output) => println!("{output} in {} µs", outcome.usage.wall_time_us),
//!     Err(failure) => eprintln!("{failure}"),
//! }
//! # Ok(()) }
//! ```
//!
//! Failures a plugin *returns* are classified by the plugin; failures the sandbox
//! *imposes* carry a [`weft_types::Reason`] (`deadline_exceeded`, `memory_limit`, ...).
//! Neither ever takes the host down.

mod cache;
pub mod egress;
mod engine;
mod grants;
mod host;
mod invoke;
mod options;
mod plugin;
mod poll;
mod preinit;
mod scrub;
mod state;

pub use cache::{CacheStats, Digest};
pub use engine::PageReset;
pub use grants::{Credential, Grants, Injection, Refresh, Secret, StateGrant};
pub use host::Usage;
pub use invoke::{Failure, Invocation, Outcome};
pub use options::{EgressOptions, EngineLimits, MAX_TIMEOUT, Options, StepLimits};
pub use plugin::Plugin;
pub use poll::{MAX_POLL_CURSOR, MAX_POLL_ITEMS, MAX_POLL_KEY, PollCall, PollOutcome, Polled};
pub use state::{MemoryState, Namespace, StateStore, Unavailable};
pub use weft_types::log::{Level, LogRecord, Source};
pub use weft_world::fit::{Import, Origin, Shape};

use host::Phase;
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use tokio::sync::OnceCell;
use wasmtime::component::Component;
use weft_types::Reason;

/// Why the sandbox could not be built or a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine or linker could not be set up.
    #[error("sandbox engine: {0}")]
    Engine(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The bytes are not valid WebAssembly, or use a disabled feature.
    #[error("invalid_wasm: {0}")]
    InvalidWasm(String),
    /// Valid WebAssembly, but a core module rather than a component.
    #[error("not_a_component: {0}")]
    NotAComponent(String),
    /// The component is bigger than allowed.
    #[error("too_large: the component is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The component needs more than the limits allow.
    #[error("{reason}: {message}")]
    Limit {
        /// Which limit.
        reason: Reason,
        /// Details.
        message: String,
    },
    /// It does not fit the `connector` world.
    #[error(transparent)]
    Misfit(#[from] weft_world::fit::Misfit),
    /// Its exports have the right names but the wrong types, or an import version
    /// is newer than this host provides.
    #[error("link: {0}")]
    Link(String),
    /// `describe` failed or returned an invalid manifest.
    #[error("describe: {0}")]
    Describe(String),
    /// The connector's one-time set-up (`init`) failed, so no snapshot was taken.
    #[error("init_failed: connector `{connector}`: {message}")]
    Init {
        /// The connector's name, from its manifest.
        connector: String,
        /// What went wrong (a trap, a limit breach with its reason, ...).
        message: String,
    },
}

impl Error {
    /// A stable snake_case code for APIs and CLIs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Engine(_) => "engine",
            Self::Io { .. } => "io",
            Self::InvalidWasm(_) => "invalid_wasm",
            Self::NotAComponent(_) => "not_a_component",
            Self::TooLarge { .. } => "too_large",
            Self::Limit { reason, .. } => reason.as_str(),
            Self::Misfit(_) => "world_mismatch",
            Self::Link(_) => "world_mismatch",
            Self::Describe(_) => "invalid_manifest",
            Self::Init { .. } => "init_failed",
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

struct Inner {
    engine: wasmtime::Engine,
    linker: wasmtime::component::Linker<host::HostState>,
    options: Options,
    egress: egress::Egress,
    cache: cache::DiskCache,
    loaded: Mutex<HashMap<Digest, Arc<OnceCell<Arc<Plugin>>>>>,
    page_reset: PageReset,
    _ticker: engine::Ticker,
}

/// A cheap-to-clone handle to the sandbox.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

impl Sandbox {
    /// Builds a sandbox whose outbound requests go through the real HTTP transport.
    ///
    /// # Errors
    /// If the engine cannot be configured or the cache directory cannot be created.
    pub fn new(options: Options) -> Result<Self> {
        let transport = egress::HttpTransport::new(
            options.egress.allow_private,
            options.egress.resolve.clone(),
        )
        .map_err(Error::Engine)?;
        Self::with_transport(options, Arc::new(transport))
    }

    /// Builds a sandbox with another transport (the plugin-author harness scripts
    /// responses this way). The egress policy still applies before the transport.
    ///
    /// # Errors
    /// As [`Sandbox::new`].
    pub fn with_transport(options: Options, transport: Arc<dyn egress::Transport>) -> Result<Self> {
        let (engine, page_reset) = engine::engine(&options)?;
        let linker = engine::linker(&engine)?;
        let cache = cache::DiskCache::new(&engine, options.cache_dir.clone())?;
        let ticker = engine::Ticker::start(engine.clone(), options.epoch_tick)?;
        let egress = egress::Egress {
            allow_private: options.egress.allow_private,
            transport,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                options,
                page_reset,
                egress,
                cache,
                loaded: Mutex::default(),
                _ticker: ticker,
            }),
        })
    }

    /// The options the sandbox was built with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The egress policy setting and transport: what plugins' requests go
    /// through, and the worker's notification webhooks too.
    pub fn egress(&self) -> &egress::Egress {
        &self.inner.egress
    }

    /// How instance memories and tables are reset between steps on this machine.
    pub fn page_reset(&self) -> &PageReset {
        &self.inner.page_reset
    }

    /// What the component cache has done so far.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// The on-disk artifact path for a digest, if a cache directory is configured.
    pub fn artifact_path(&self, digest: &Digest) -> Option<PathBuf> {
        self.inner.cache.path(digest, cache::Kind::Plain)
    }

    /// The on-disk path of a digest's pre-initialised snapshot (components that
    /// export `init`), if a cache directory is configured.
    pub fn snapshot_artifact_path(&self, digest: &Digest) -> Option<PathBuf> {
        self.inner.cache.path(digest, cache::Kind::Snapshot)
    }

    /// Forgets loaded plugins kept in memory (the disk cache stays).
    pub fn evict_all(&self) {
        self.inner
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Loads component bytes: compiled once per digest (concurrent loads of the same
    /// bytes wait for one compilation), checked against the world, pre-linked, and
    /// described.
    ///
    /// # Errors
    /// `invalid_wasm`, `not_a_component`, `too_large`, a limit reason,
    /// `world_mismatch` (listing what does not fit) or `invalid_manifest`.
    pub async fn load(&self, bytes: &[u8]) -> Result<Arc<Plugin>> {
        plugin::precheck(bytes, self.inner.options.engine.component_bytes)?;
        let digest = Digest::of(bytes);
        let cell = self
            .inner
            .loaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(digest)
            .or_default()
            .clone();
        let loaded = cell
            .get_or_try_init(|| self.load_uncached(bytes, digest))
            .await
            .cloned();
        if loaded.is_err() {
            // Do not keep an empty cell per refused upload: the map would grow without bound.
            let mut map = self
                .inner
                .loaded
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if map.get(&digest).is_some_and(|c| c.get().is_none()) {
                map.remove(&digest);
            }
        }
        loaded
    }

    /// [`Sandbox::load`] from a file.
    ///
    /// # Errors
    /// As [`Sandbox::load`], or `io` if the file cannot be read.
    pub async fn load_file(&self, path: impl Into<PathBuf>) -> Result<Arc<Plugin>> {
        let path = path.into();
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|source| Error::Io { path, source })?;
        self.load(&bytes).await
    }

    async fn load_uncached(&self, bytes: &[u8], digest: Digest) -> Result<Arc<Plugin>> {
        let started = Instant::now();
        let owned = bytes.to_vec();
        let component = if preinit::exports_init(bytes) {
            self.compile_snapshot(bytes, digest).await?
        } else {
            self.blocking(move |this| this.inner.cache.load(&this.inner.engine, &digest, &owned))
                .await?
        };
        let shape = weft_world::fit::check(&self.inner.engine, &component)?;
        let instance_pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| Error::Link(format!("{e:#}")))?;
        let trigger = if shape.has_triggers() {
            Some(
                weft_world::wit_trigger::GuestIndices::new(&instance_pre)
                    .map_err(|e| Error::Link(format!("{e:#}")))?,
            )
        } else {
            None
        };
        let pre = weft_world::ConnectorPre::new(instance_pre)
            .map_err(|e| Error::Link(format!("{e:#}")))?;
        let mut manifest = self.describe(&pre, None).await?;
        if let Some(indices) = &trigger {
            manifest.triggers = self.describe(&pre, Some(indices)).await?.triggers;
        }
        tracing::debug!(
            plugin.name = %manifest.name,
            plugin.digest = %digest,
            duration_ms = started.elapsed().as_millis() as u64,
            "plugin loaded"
        );
        Ok(Arc::new(Plugin {
            digest,
            manifest: Arc::new(manifest),
            shape,
            pre,
            trigger,
            size: bytes.len(),
        }))
    }

    /// The compiled snapshot of a component that exports `init`: from the
    /// cache (a warm start runs no `init`), or `init` run once, the instance
    /// snapshotted, and the snapshot compiled and cached under `digest`.
    async fn compile_snapshot(&self, bytes: &[u8], digest: Digest) -> Result<Component> {
        let cached = self
            .blocking(move |this| {
                Ok(this
                    .inner
                    .cache
                    .cached(&this.inner.engine, &digest, cache::Kind::Snapshot))
            })
            .await?;
        if let Some(component) = cached {
            return Ok(component);
        }
        let snapshot = self.preinitialise(bytes).await?;
        self.blocking(move |this| {
            this.inner.cache.compile(
                &this.inner.engine,
                &digest,
                cache::Kind::Snapshot,
                &snapshot,
            )
        })
        .await
    }

    /// Runs `f` (compiling, reading artifacts) on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Self) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this))
            .await
            .map_err(|e| Error::Engine(format!("compilation task failed: {e}")))?
    }

    /// Runs `describe` (or, given the trigger export, `describe-triggers`,
    /// whose answer is in the returned manifest's `triggers`, every other
    /// field empty) in a fresh instance with every capability denied.
    async fn describe(
        &self,
        pre: &weft_world::ConnectorPre<host::HostState>,
        triggers: Option<&weft_world::wit_trigger::GuestIndices>,
    ) -> Result<weft_types::Manifest> {
        let limits = StepLimits {
            timeout: Duration::from_secs(5),
            ..self.inner.options.limits
        };
        let what = if triggers.is_some() {
            "describe-triggers"
        } else {
            "describe"
        };
        let mut store = self.new_store(None, Phase::Describe, Grants::default(), limits);
        let run = async {
            match triggers {
                None => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    let m = instance
                        .weft_plugin_plugin()
                        .call_describe(&mut store)
                        .await?;
                    Ok(Ok(m))
                }
                Some(indices) => {
                    let instance = pre.instance_pre().instantiate_async(&mut store).await?;
                    let guest = indices.load(&mut store, &instance)?;
                    let defs = guest.call_describe_triggers(&mut store).await?;
                    Ok(Err(defs))
                }
            }
        };
        let raw: std::result::Result<wasmtime::Result<_>, _> =
            tokio::time::timeout(limits.timeout + Duration::from_millis(200), run).await;
        let failure = |m: String| Error::Describe(m);
        match raw {
            Err(_) => Err(failure(format!("{what} did not return within 5 s"))),
            Ok(Err(e)) => {
                let state = store.data();
                let why = state
                    .breach
                    .as_ref()
                    .map(|(r, m)| format!("{r}: {m}"))
                    .or_else(|| state.logs.last_complaint())
                    .unwrap_or_else(|| format!("{e:#}"));
                Err(failure(format!("{what} trapped: {why}")))
            }
            Ok(Ok(Ok(m))) => weft_world::manifest_from_wit(m).map_err(|e| failure(e.0)),
            Ok(Ok(Err(defs))) => {
                let triggers = weft_world::triggers_from_wit(defs).map_err(|e| failure(e.0))?;
                Ok(weft_types::Manifest {
                    name: String::new(),
                    version: String::new(),
                    description: String::new(),
                    actions: Vec::new(),
                    capabilities: weft_types::Capabilities::default(),
                    config_schema: None,
                    triggers,
                })
            }
        }
    }
}
