//! Building and running a whole server in one process.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use weft_api::AppState;
use weft_sandbox::Sandbox;
use weft_store::Store;
use weft_types::{Role, Tenant};
use weft_worker::{Connectors, Handle, Parts, new_id, now_ms};

/// Which store backs the server.
#[derive(Debug, Clone)]
pub enum StoreKind {
    /// SQLite at this path (the embedded default).
    Sqlite(PathBuf),
    /// In memory; nothing survives the process (`weft run`, some tests).
    Memory,
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
        }
    }
}

/// A running server.
pub struct Server {
    /// The worker handle (store, queue, connectors).
    pub handle: Handle,
    /// The API state.
    pub state: AppState,
    /// Where HTTP listens (when it does).
    pub addr: SocketAddr,
    /// The tenant created on first start.
    pub default_tenant: String,
    /// The owner key created on first start: shown once, never stored in clear.
    pub bootstrap_key: Option<String>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Opens the store, loads the connectors, bootstraps the first tenant, and
    /// starts the worker, the sweeper and (if configured) HTTP.
    ///
    /// # Errors
    /// Any part that cannot start, with what and where.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        let keyring = weft_vault::Keyring::load_or_generate(&config.data_dir.join("master.keys"))
            .context("master key")?;
        let store: Arc<dyn Store> = match &config.store {
            StoreKind::Sqlite(path) => Arc::new(
                weft_store_sqlite::Sqlite::open(&weft_store_sqlite::Options::new(path))
                    .await
                    .with_context(|| format!("cannot open database {}", path.display()))?,
            ),
            StoreKind::Memory => Arc::new(weft_store::memory::Memory::new()),
        };
        let step_timeout = Duration::from_millis(
            config.worker.default_step_timeout_ms + config.worker.lease_grace_ms,
        );
        let queue = weft_queue::memory::Handle::start(weft_queue::memory::Options {
            ack_timeout: step_timeout + Duration::from_secs(60),
            ..weft_queue::memory::Options::default()
        })?;
        let mut sandbox_options = config.sandbox.clone();
        if sandbox_options.cache_dir.is_none() {
            sandbox_options.cache_dir = Some(config.data_dir.join("cache"));
        }
        let sandbox = Sandbox::new(sandbox_options)?;
        let connectors = Arc::new(Connectors::new());
        for p in &config.plugins {
            load_plugins(&sandbox, &connectors, p).await?;
        }
        let handle = Handle::new(Parts {
            store: store.clone(),
            queue: Arc::new(queue),
            sandbox,
            connectors,
            keyring: Arc::new(keyring),
            options: config.worker.clone(),
        });
        let (default_tenant, bootstrap_key) = bootstrap(&handle).await?;
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let worker = handle.clone();
        let stop = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = worker.serve(stop).await {
                tracing::error!(error = %e, "worker stopped");
            }
        }));
        let mut addr = config.listen;
        let base = config.base_url.clone();
        let mut state = AppState::new(handle.clone(), base.as_deref().unwrap_or(""));
        if config.http {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            addr = listener.local_addr()?;
            if base.is_none() {
                state = AppState::new(handle.clone(), &format!("http://{addr}"));
            }
            let app = weft_api::router(state.clone());
            let stop = shutdown.clone();
            tasks.push(tokio::spawn(async move {
                let serve = axum::serve(listener, app)
                    .with_graceful_shutdown(async move { stop.cancelled().await });
                if let Err(e) = serve.await {
                    tracing::error!(error = %e, "http server stopped");
                }
            }));
        }
        Ok(Self {
            handle,
            state,
            addr,
            default_tenant,
            bootstrap_key,
            shutdown,
            tasks,
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

/// On an empty store: a `default` tenant and an owner key, whose secret is
/// returned once.
async fn bootstrap(handle: &Handle) -> anyhow::Result<(String, Option<String>)> {
    let store = handle.store();
    if let Some(t) = store.list_tenants().await?.into_iter().next() {
        return Ok((t.id, None));
    }
    let id = new_id("ten");
    let tenant = Tenant {
        wrapped_key: handle.keyring().new_tenant_key(&id)?,
        id: id.clone(),
        name: "default".into(),
        created_at: now_ms(),
    };
    store.create_tenant(&tenant).await?;
    let secret = issue_key(handle, &id, "bootstrap", Role::Owner).await?;
    Ok((id, Some(secret)))
}

/// Creates an API key; returns its secret.
///
/// # Errors
/// Store failures.
pub async fn issue_key(
    handle: &Handle,
    tenant: &str,
    name: &str,
    role: Role,
) -> anyhow::Result<String> {
    Ok(handle.issue_api_key(tenant, name, role).await?.1)
}

/// Creates another tenant (tests, operators) with an owner key; returns (id, key).
///
/// # Errors
/// Store or vault failures.
pub async fn create_tenant(handle: &Handle, name: &str) -> anyhow::Result<(String, String)> {
    let id = new_id("ten");
    let tenant = Tenant {
        wrapped_key: handle.keyring().new_tenant_key(&id)?,
        id: id.clone(),
        name: name.to_owned(),
        created_at: now_ms(),
    };
    handle.store().create_tenant(&tenant).await?;
    let key = issue_key(handle, &id, "owner", Role::Owner).await?;
    Ok((id, key))
}
