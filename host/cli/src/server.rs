//! Building and running a whole server in one process.

use crate::config::Settings;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weft_api::AppState;
use weft_app::{App, Tenants};
use weft_sandbox::Sandbox;
use weft_store::Store;
use weft_worker::{Connectors, Handle, Parts};

/// Which store backs the server.
#[derive(Debug, Clone)]
pub enum StoreKind {
    /// SQLite at this path (the embedded default).
    Sqlite(PathBuf),
    /// In memory; nothing survives the process (`weft run`, some tests).
    Memory,
    /// PostgreSQL (distributed mode).
    Postgres(weft_store_postgres::Options),
}

/// Which queue carries tasks.
#[derive(Debug, Clone)]
pub enum QueueKind {
    /// In this process (embedded mode).
    Memory,
    /// RabbitMQ (distributed mode): tasks go through the store's outbox.
    Amqp(weft_queue_amqp::Options),
}

/// What a process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything (`weft serve`).
    All,
    /// HTTP and the outbox relay, no step execution (`weft api`).
    Api,
    /// Step execution, the sweeper and the relay; HTTP only for health,
    /// readiness and metrics (`weft worker`).
    Worker,
}

/// How to build a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// Where the master key file and the component cache live.
    pub data_dir: PathBuf,
    /// The store.
    pub store: StoreKind,
    /// Connector components: `.wasm` files or directories of them.
    pub plugins: Vec<PathBuf>,
    /// Public base URL for webhook and resume URLs.
    pub base_url: Option<String>,
    /// Worker settings.
    pub worker: weft_worker::Options,
    /// Sandbox settings.
    pub sandbox: weft_sandbox::Options,
    /// Serve HTTP (false for `weft run`).
    pub http: bool,
    /// How HTTP is served: header-read and request timeouts, the connection cap.
    pub http_limits: weft_api::Options,
    /// The queue.
    pub queue: QueueKind,
    /// Redis for rate limits and running-step slots (an empty `url`: kept
    /// in memory with the in-process queue, else none).
    pub redis: weft_limits::Options,
    /// Per-tenant API and webhook rates (in Redis or in memory).
    pub limits: weft_limits::Rates,
    /// Browser sessions and the login throttle.
    pub sessions: weft_app::SessionOptions,
    /// What this process does.
    pub role: Role,
    /// Create the master keyring and the first tenant when missing (`weft
    /// serve`, `weft migrate`); `weft api` and `weft worker` only load them,
    /// so that every process of a deployment shares one keyring.
    pub bootstrap: bool,
    /// Apply the database migrations at start (PostgreSQL; SQLite always does).
    pub migrate: bool,
    /// Serve the console from this built folder instead of the one embedded
    /// in the binary (people working on `console/`).
    pub console_dir: Option<PathBuf>,
    /// The MCP server at `/mcp`.
    pub mcp: weft_mcp::Options,
}

impl Config {
    /// The embedded defaults with data in `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: StoreKind::Sqlite(data_dir.join("weft.db")),
            data_dir,
            plugins: Vec::new(),
            base_url: None,
            worker: weft_worker::Options::default(),
            sandbox: weft_sandbox::Options::default(),
            http: true,
            http_limits: weft_api::Options::default(),
            queue: QueueKind::Memory,
            redis: weft_limits::Options::default(),
            limits: weft_limits::Rates::default(),
            sessions: weft_app::SessionOptions::default(),
            role: Role::All,
            bootstrap: true,
            migrate: true,
            console_dir: None,
            mcp: weft_mcp::Options::default(),
        }
    }

    /// A process's configuration from [`Settings`]: each section is handed
    /// to its component as it is.
    pub fn from_settings(settings: &Settings, role: Role) -> Self {
        let mut c = Self::embedded(&settings.data_dir);
        c.listen = settings.listen;
        c.base_url.clone_from(&settings.base_url);
        c.plugins.clone_from(&settings.plugins);
        c.role = role;
        c.bootstrap = role == Role::All;
        c.migrate = role == Role::All;
        let url = &settings.database.url;
        if crate::config::is_postgres(url) {
            c.store = StoreKind::Postgres(settings.database.clone());
        } else if let Some(p) = crate::config::sqlite_path(url, &settings.data_dir) {
            c.store = StoreKind::Sqlite(p);
        }
        if !settings.queue.url.is_empty() {
            c.queue = QueueKind::Amqp(settings.queue.clone());
        }
        c.redis.clone_from(&settings.redis);
        c.limits = settings.limits;
        c.worker.clone_from(&settings.worker);
        c.http_limits = settings.http;
        c.sandbox.clone_from(&settings.sandbox);
        c.sessions.clone_from(&settings.sessions);
        c.console_dir.clone_from(&settings.console_dir);
        c.mcp.clone_from(&settings.mcp);
        c
    }
}

/// Takes the embedded database for this process (a lock file beside it):
/// two processes on one SQLite file, each with its in-process queue, would
/// each recover, and run, the other's steps. The lock is the operating
/// system's (released when the process ends, however it ends).
///
/// # Errors
/// Another process holds it, naming what to do instead.
fn lock_database(db: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another weft process (`weft serve`?) is using the database {}: stop it, or \
             reach it through its API (`weft mcp --server URL` for MCP)",
            db.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// A running server.
pub struct Server {
    /// The worker handle (store, queue, connectors).
    pub handle: Handle,
    /// The use cases.
    pub app: App,
    /// The API state.
    pub state: AppState,
    /// Where HTTP listens (when it does).
    pub addr: SocketAddr,
    /// The tenant created on first start.
    pub default_tenant: String,
    /// The owner key created on first start: shown once, never stored in clear.
    pub bootstrap_key: Option<String>,
    /// The operator key created on first start (`weft_op_…`): shown once.
    pub operator_key: Option<String>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    /// The embedded data directory's lock, held while the server runs.
    _lock: Option<std::fs::File>,
}

impl Server {
    /// Opens the store, loads the connectors, bootstraps the first tenant, and
    /// starts the worker, the sweeper and (if configured) HTTP.
    ///
    /// # Errors
    /// Any part that cannot start, with what and where.
    pub async fn start(mut config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        // A process that runs steps owns an embedded data directory (an API
        // process beside it runs none, and recovers none).
        let lock = match (&config.store, config.role) {
            (StoreKind::Sqlite(db), Role::All | Role::Worker) => Some(lock_database(db)?),
            _ => None,
        };
        let keys = config.data_dir.join("master.keys");
        let keyring = if config.bootstrap {
            weft_vault::Keyring::load_or_generate(&keys)
        } else {
            weft_vault::Keyring::load(&keys)
        }
        .with_context(|| {
            format!(
                "master keyring {} (created by `weft migrate` or `weft serve`; every process of a deployment needs the same file)",
                keys.display()
            )
        })?;
        let (store, registry) =
            open_stores(&config.store, config.migrate, &config.data_dir).await?;
        // Never re-sealed here (M3): a version-1 row's name, hosts and
        // injection were not authenticated, so accepting them is the
        // operator's step (`weft migrate`, which prints each one). Until
        // then such a row is refused at unseal, naming `weft migrate`.
        let old = weft_worker::unresealed_credentials(store.as_ref())
            .await
            .context("cannot list credentials")?;
        if old > 0 {
            tracing::warn!(
                credentials = old,
                "credentials sealed under an older binding version are refused until \
                 `weft migrate` re-seals them (it prints each binding it accepts: check them)"
            );
        }
        let distributed = matches!(config.queue, QueueKind::Amqp(_));
        config.worker.outbox = distributed;
        config.worker.recover_on_start = !distributed;
        let queue = open_queue(&config).await?;
        let mut sandbox_options = config.sandbox.clone();
        if sandbox_options.cache_dir.is_none() {
            sandbox_options.cache_dir = Some(config.data_dir.join("cache"));
        }
        let sandbox = Sandbox::new(sandbox_options)?;
        tracing::info!(page_reset = %sandbox.page_reset(), "sandbox ready");
        let connectors = Arc::new(Connectors::new());
        for p in &config.plugins {
            load_plugins(&sandbox, &connectors, p).await?;
        }
        // One read of a tenant's state and overrides serves the worker and
        // the rate limiter of this process.
        let tenants = weft_worker::TenantView::new(
            store.clone(),
            Duration::from_millis(config.worker.tenant_cache_ms),
        );
        let (limiter, slots) = open_limits(&config, &tenants).await?;
        let handle = Handle::with_tenants(
            Parts {
                store: store.clone(),
                queue,
                sandbox,
                connectors,
                keyring: Arc::new(keyring),
                options: config.worker.clone(),
                slots,
                registry: registry.as_ref().map(|(r, _)| r.clone()),
                blobs: registry.as_ref().map(|(_, b)| b.clone()),
            },
            tenants,
        );
        let mut app = App::new(handle.clone(), Arc::new(config.worker.definition_limits()))
            .with_sessions(config.sessions.clone());
        let (default_tenant, bootstrap_key) = if config.bootstrap {
            let b = app.tenants().bootstrap().await?;
            (b.tenant_id, b.owner_key)
        } else {
            (String::new(), None)
        };
        let operator_key = if config.bootstrap {
            app.tenants().bootstrap_operator().await?
        } else {
            None
        };
        if let Some((registry, blobs)) = registry {
            app = app.with_registry(weft_app::registry::Registry {
                store: registry,
                blobs,
            });
            // `weft serve` and `weft api` publish what is missing, as the
            // first party (no tenant: `registry::FIRST_PARTY_OWNER`); several
            // processes starting at once skip each other's versions.
            if config.role != Role::Worker {
                publish_first_party(&app, &config).await?;
            }
        }
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        if config.role != Role::Api {
            let worker = handle.clone();
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = worker.serve(stop).await {
                    tracing::error!(error = %e, "worker stopped");
                }
            }));
        } else if distributed {
            tasks.push(tokio::spawn(handle.clone().relay(shutdown.clone())));
        }
        if config.role != Role::Api && config.worker.ops_sweep_ms > 0 {
            tasks.push(tokio::spawn(ops_sweeper(
                app.clone(),
                config.worker.clone(),
                shutdown.clone(),
            )));
        }
        let mut addr = config.listen;
        let base = config.base_url.clone();
        let console = match (&config.console_dir, config.role) {
            (_, Role::Worker) => None,
            (Some(dir), _) => Some(Arc::new(
                weft_console::Console::from_dir(dir)
                    .with_context(|| format!("cannot serve the console from {}", dir.display()))?,
            )),
            (None, _) => weft_console::Console::embedded().map(Arc::new),
        };
        let rate = |state: AppState| {
            let state = match &limiter {
                Some(l) => state.with_rate_limiter(l.clone()),
                None => state,
            };
            match &console {
                Some(c) => state.with_console(c.clone()),
                None => state,
            }
        };
        let mut state = rate(AppState::new(app.clone(), base.as_deref().unwrap_or("")));
        if config.http {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            addr = listener.local_addr()?;
            if base.is_none() {
                state = rate(AppState::new(app.clone(), &format!("http://{addr}")));
            }
            let app = if config.role == Role::Worker {
                weft_api::ops_router(state.clone())
            } else if config.mcp.enabled {
                weft_api::router(state.clone()).merge(weft_mcp::router(state.clone(), &config.mcp))
            } else {
                weft_api::router(state.clone())
            };
            let stop = shutdown.clone();
            let limits = config.http_limits;
            // Requests in progress at shutdown get the same grace as steps.
            let grace = Duration::from_millis(config.worker.shutdown_grace_ms);
            tasks.push(tokio::spawn(async move {
                let stopped = stop.cancelled_owned();
                if let Err(e) = weft_api::serve(listener, app, &limits, stopped, grace).await {
                    tracing::error!(error = %e, "http server stopped");
                }
            }));
        }
        Ok(Self {
            handle,
            app,
            state,
            addr,
            default_tenant,
            bootstrap_key,
            operator_key,
            shutdown,
            tasks,
            _lock: lock,
        })
    }

    /// Stops taking work, lets attempts in flight finish, and returns.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The registry's ports over the configured store.
pub type RegistryPorts = (
    Arc<dyn weft_registry::RegistryStore>,
    Arc<dyn weft_registry::Blobs>,
);

/// Opens the configured store, and the registry over it: on SQLite the
/// same database and blobs in `data_dir/blobs`; on PostgreSQL the same
/// database for both; none on the in-memory store (tests).
///
/// # Errors
/// As [`open_store`]; the blob directory cannot be created.
pub async fn open_stores(
    kind: &StoreKind,
    migrate: bool,
    data_dir: &Path,
) -> anyhow::Result<(Arc<dyn Store>, Option<RegistryPorts>)> {
    Ok(match kind {
        StoreKind::Sqlite(path) => {
            let db = Arc::new(
                weft_store_sqlite::Sqlite::open(&weft_store_sqlite::Options::new(path))
                    .await
                    .with_context(|| format!("cannot open database {}", path.display()))?,
            );
            let blobs = weft_registry::blobs::FsBlobs::new(data_dir.join("blobs"));
            (db.clone(), Some((db, Arc::new(blobs))))
        }
        StoreKind::Memory => (Arc::new(weft_store::memory::Memory::new()), None),
        StoreKind::Postgres(_) => {
            let pg = open_postgres(kind, migrate).await?;
            (pg.clone(), Some((pg.clone(), pg)))
        }
    })
}

/// Opens (and with `migrate`, migrates) the configured store.
///
/// # Errors
/// The database cannot be reached or migrated, with where.
pub async fn open_store(kind: &StoreKind, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match kind {
        StoreKind::Sqlite(path) => Arc::new(
            weft_store_sqlite::Sqlite::open(&weft_store_sqlite::Options::new(path))
                .await
                .with_context(|| format!("cannot open database {}", path.display()))?,
        ),
        StoreKind::Memory => Arc::new(weft_store::memory::Memory::new()),
        StoreKind::Postgres(_) => open_postgres(kind, migrate).await?,
    })
}

async fn open_postgres(
    kind: &StoreKind,
    migrate: bool,
) -> anyhow::Result<Arc<weft_store_postgres::Postgres>> {
    let StoreKind::Postgres(options) = kind else {
        anyhow::bail!("not a PostgreSQL store");
    };
    let pg = weft_store_postgres::Postgres::connect(options)
        .await
        .with_context(|| {
            format!(
                "cannot connect to {}",
                crate::config::mask_url(&options.url)
            )
        })?;
    if migrate {
        pg.migrate().await.context("cannot migrate the database")?;
    }
    Ok(Arc::new(pg))
}

/// The operator's sweeper (`docs/TENANCY.md`, sections 2 and 7): every
/// `ops_sweep_ms`, erases deleted tenants past their grace and prunes old
/// runs and audit rows, in bounded batches; every worker process runs it, and
/// the store's sweeper lock lets one round run at a time.
async fn ops_sweeper(app: App, options: weft_worker::Options, stop: CancellationToken) {
    let every = Duration::from_millis(options.ops_sweep_ms);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match app.tenants().sweep(weft_worker::now_ms(), &options).await {
            Ok(done) => {
                app.handle()
                    .metrics()
                    .runs_pruned
                    .fetch_add(done.runs_pruned, std::sync::atomic::Ordering::Relaxed);
                // Only rounds that did something (a round skipped because
                // another process held the sweeper lock did nothing).
                let worked = weft_app::Swept {
                    skipped: false,
                    ..done
                } != weft_app::Swept::default();
                if worked {
                    tracing::info!(
                        erased_rows = done.erased_rows,
                        erased_tenants = done.erased_tenants,
                        runs_pruned = done.runs_pruned,
                        audit_pruned = done.audit_pruned,
                        people_pruned = done.people_pruned,
                        "ops sweep"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "ops sweep failed"),
        }
    }
}

/// The starter templates (publisher `weft`) with their versions: bump a
/// version when its document changes (a published version is immutable, so
/// a changed document under the same version is not published again).
const STARTER_TEMPLATES: &[(&str, &str)] = &[
    (
        "1.0.0",
        include_str!("../../../registry/templates/llm-webhook-summary.json"),
    ),
    (
        "1.0.0",
        include_str!("../../../registry/templates/slack-alert-on-condition.json"),
    ),
    (
        "1.0.0",
        include_str!("../../../registry/templates/http-fan-out.json"),
    ),
    (
        "1.0.0",
        include_str!("../../../registry/templates/approval-flow.json"),
    ),
    (
        "1.0.0",
        include_str!("../../../registry/templates/nightly-report.json"),
    ),
];

/// Publishes the bundled connectors (every `*.wasm` of the plugin paths)
/// and the starter templates as versions of publisher `weft`, signed with
/// the deployment's first-party key (`data_dir/registry/weft.key`, made on
/// first start, mode 0600).
async fn publish_first_party(app: &App, config: &Config) -> anyhow::Result<()> {
    use weft_app::registry::FirstParty;
    let key_path = config.data_dir.join("registry").join("weft.key");
    let read = |path: &Path| -> anyhow::Result<weft_registry::sign::SecretKey> {
        Ok(weft_registry::sign::read_key_file(path)
            .with_context(|| format!("first-party key {}", path.display()))?
            .key)
    };
    let key = if key_path.exists() {
        read(&key_path)?
    } else {
        let (key, _) =
            weft_registry::sign::generate().map_err(|e| anyhow::anyhow!("first-party key: {e}"))?;
        let file = weft_registry::sign::KeyFile {
            publisher: "weft".into(),
            key: key.clone(),
        };
        match weft_registry::sign::write_key_file(&key_path, &file) {
            Ok(()) => key,
            // Another process sharing the data directory wrote it first.
            Err(weft_registry::sign::KeyFileError::Exists(_)) => read(&key_path)?,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("first-party key {}", key_path.display())));
            }
        }
    };
    let mut items = Vec::new();
    for dir in &config.plugins {
        let files: Vec<PathBuf> = if dir.is_dir() {
            let mut v: Vec<_> = std::fs::read_dir(dir)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
                .collect();
            v.sort();
            v
        } else {
            vec![dir.clone()]
        };
        for path in files {
            let bytes = std::fs::read(&path)?;
            let Ok(plugin) = app.handle().sandbox().load(&bytes).await else {
                continue;
            };
            let m = plugin.manifest();
            items.push(FirstParty {
                kind: weft_registry::Kind::Connector,
                name: m.name.clone(),
                version: m.version.clone(),
                readme: format!("# {}\n\n{}\n\nBundled with Weft: every tenant can use it without installing it.", m.name, m.description),
                bytes,
            });
        }
    }
    let bundled = app.handle().connectors().catalog();
    for (version, doc) in STARTER_TEMPLATES {
        let t = weft_registry::Template::parse(doc.as_bytes())
            .map_err(|e| anyhow::anyhow!("a starter template does not parse: {e}"))?;
        // A template whose connectors this server does not bundle is left out.
        if let Some(missing) = t.requires.keys().find(|c| !bundled.contains_key(*c)) {
            tracing::debug!(template = %t.name, connector = %missing, "starter template not published: connector not bundled");
            continue;
        }
        items.push(FirstParty {
            kind: weft_registry::Kind::Template,
            name: t.name.clone(),
            version: (*version).to_owned(),
            readme: t.description.clone(),
            bytes: doc.as_bytes().to_vec(),
        });
    }
    let n = app
        .publish_first_party(&key, items)
        .await
        .context("first-party packages")?;
    if n > 0 {
        tracing::info!(
            versions = n,
            "first-party packages published to the registry"
        );
    }
    Ok(())
}

/// The per-tenant limits, behind the API's and the worker's ports: in Redis
/// when `redis.url` is set (shared by every process); else, when this process
/// runs the in-process queue (`weft serve`, `weft run`), in its memory;
/// else none (`weft api` / `weft worker` without Redis: a per-process count
/// would not be a per-tenant limit). Each tenant's own rates (`limits` on
/// the tenant) are read through `tenants`.
///
/// # Errors
/// The Redis URL does not parse.
async fn open_limits(
    config: &Config,
    tenants: &weft_worker::TenantView,
) -> anyhow::Result<(
    Option<Arc<dyn weft_api::RateLimiter>>,
    Option<Arc<dyn weft_worker::Slots>>,
)> {
    if !config.redis.url.is_empty() {
        let l = weft_limits::TenantLimits::open(&config.redis)
            .await
            .with_context(|| format!("redis {}", crate::config::mask_url(&config.redis.url)))?;
        let l = Arc::new(
            l.with_rates(config.limits)
                .with_overrides(Arc::new(tenants.clone())),
        );
        return Ok((Some(l.clone()), Some(l)));
    }
    if !matches!(config.queue, QueueKind::Memory) {
        return Ok((None, None));
    }
    let (steps, workers) = (config.worker.max_running_steps, config.worker.concurrency);
    if steps == 0 {
        tracing::warn!(
            "worker.max_running_steps = 0 turns the per-tenant limit off: one tenant can occupy every worker"
        );
    } else if steps >= u32::from(workers) {
        tracing::warn!(
            max_running_steps = steps,
            concurrency = workers,
            "worker.max_running_steps is not below worker.concurrency: one tenant can occupy every worker"
        );
    }
    let l = Arc::new(
        weft_limits::memory::Limits::new(config.limits).with_overrides(Arc::new(tenants.clone())),
    );
    Ok((Some(l.clone()), Some(l)))
}

async fn open_queue(config: &Config) -> anyhow::Result<Arc<dyn weft_queue::Queue>> {
    Ok(match &config.queue {
        QueueKind::Memory => {
            let step_timeout = Duration::from_millis(
                config
                    .worker
                    .step_timeout_ms(None)
                    .saturating_add(config.worker.lease_grace_ms),
            );
            Arc::new(weft_queue::memory::Handle::start(
                weft_queue::memory::Options {
                    ack_timeout: step_timeout + Duration::from_secs(60),
                    ..weft_queue::memory::Options::default()
                },
            )?)
        }
        QueueKind::Amqp(options) => Arc::new(
            weft_queue_amqp::Amqp::connect(options.clone())
                .await
                .with_context(|| {
                    format!(
                        "cannot connect to {}",
                        crate::config::mask_url(&options.url)
                    )
                })?,
        ),
    })
}

/// What `weft migrate` did.
#[derive(Debug)]
pub struct Migrated {
    /// The first tenant.
    pub tenant: String,
    /// Its owner key, when this run created it (shown once).
    pub bootstrap_key: Option<String>,
    /// The operator key, when this run created it (shown once).
    pub operator_key: Option<String>,
    /// The version-1 credentials re-sealed (each binding it accepted, for
    /// the operator to check) and how many rows were skipped.
    pub resealed: weft_worker::Resealed,
}

/// `weft migrate`: applies the database migrations, creates the master
/// keyring if missing, and on an empty database the `default` tenant with an
/// owner key.
///
/// # Errors
/// The database, the data directory or the keyring cannot be used.
pub async fn migrate(config: &Config) -> anyhow::Result<Migrated> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let keyring = weft_vault::Keyring::load_or_generate(&config.data_dir.join("master.keys"))
        .context("master key")?;
    let store = open_store(&config.store, true).await?;
    // Re-seals the credentials sealed under an older binding version, so
    // their name, hosts and injection are authenticated too (idempotent).
    // Only here: `weft serve` never does (M3). A row that does not open is
    // skipped and counted (L1).
    let resealed = weft_worker::reseal_credentials(store.as_ref(), &keyring)
        .await
        .context("cannot re-seal credentials under the current binding")?;
    let tenants = Tenants::new(store, Arc::new(keyring));
    let done = tenants.bootstrap().await?;
    let operator_key = tenants.bootstrap_operator().await?;
    Ok(Migrated {
        tenant: done.tenant_id,
        bootstrap_key: done.owner_key,
        operator_key,
        resealed,
    })
}

async fn load_plugins(
    sandbox: &Sandbox,
    connectors: &Connectors,
    path: &Path,
) -> anyhow::Result<()> {
    if path.is_dir() {
        let names = connectors
            .load_dir(sandbox, path)
            .await
            .with_context(|| format!("cannot read plugin directory {}", path.display()))?;
        tracing::info!(dir = %path.display(), connectors = ?names, "connectors loaded");
    } else {
        let plugin = sandbox
            .load_file(path)
            .await
            .with_context(|| format!("cannot load connector {}", path.display()))?;
        connectors.insert(plugin, "bundled");
    }
    Ok(())
}

/// Creates another tenant (tests, operators) with an owner key; returns (id, key).
///
/// # Errors
/// Store or vault failures.
pub async fn create_tenant(app: &App, name: &str) -> anyhow::Result<(String, String)> {
    let (tenant, key) = app.tenants().create(name).await?;
    Ok((tenant.id, key))
}
