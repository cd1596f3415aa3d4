//! Test a Weft connector without the network: load the built component into the
//! real sandbox, script the HTTP responses it will get, bind credentials and state,
//! and invoke actions.
//!
//! The sandbox is the production one (same limits, same egress policy, same
//! credential injection); only the transport is replaced by a script, which
//! records every request so a test can assert what was sent — including the
//! credential the host injected, which the plugin itself never sees.
//!
//! ```no_run
//! use weft_harness::{Harness, Reply};
//! use serde_json::json;
//!
//! let h = Harness::load(weft_harness::component_path(env!("CARGO_MANIFEST_DIR"), "my_connector")?)?
//!     .credential("api-key", "sk-test", &["api.example.com"])
//!     .reply("POST", "https://api.example.com/v1/items", Reply::json(201, json!({"id": 7})));
//! let out = h.invoke("create", json!({"name": "x"}))?;
//! assert_eq!(out["id"], 7);
//! assert_eq!(h.requests()[0].header("authorization"), Some("Bearer sk-test"));
//! # Ok::<(), weft_harness::Error>(())
//! ```

mod mock;

pub use mock::{Recorded, Reply, Script};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};
use weft_sandbox::{
    Credential, Failure, Grants, Injection, Invocation, MemoryState, Namespace, Options, Outcome,
    Plugin, Sandbox, Secret, StateGrant,
};
use weft_types::{HostPattern, Manifest, StepContext};

/// What can go wrong setting up or running a test.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The component could not be found.
    #[error("{0}")]
    NotBuilt(String),
    /// The sandbox refused the component.
    #[error(transparent)]
    Load(#[from] weft_sandbox::Error),
    /// The invocation failed (the plugin's error or a sandbox reason).
    #[error("{0}")]
    Failed(Failure),
    /// The harness itself could not run.
    #[error("harness: {0}")]
    Harness(String),
}

/// Where `cargo build --release --target wasm32-wasip2` puts `crate_name`'s
/// component, honouring `CARGO_TARGET_DIR`.
///
/// # Errors
/// [`Error::NotBuilt`] with the command to run when the file is not there.
pub fn component_path(manifest_dir: &str, crate_name: &str) -> Result<PathBuf, Error> {
    let file = format!("{}.wasm", crate_name.replace('-', "_"));
    let mut dirs = Vec::new();
    if let Ok(t) = std::env::var("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t));
    }
    dirs.push(Path::new(manifest_dir).join("target"));
    for d in &dirs {
        let p = d.join("wasm32-wasip2").join("release").join(&file);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(Error::NotBuilt(format!(
        "{file} not found under {dirs:?}: build it first with `cargo build --release --target wasm32-wasip2` (or `weft plugin test`)"
    )))
}

/// A loaded connector with a mocked host around it.
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    plugin: Arc<Plugin>,
    script: Arc<mock::Script>,
    grants: Grants,
    state: Arc<MemoryState>,
    config: serde_json::Value,
    context: StepContext,
}

impl Harness {
    /// Loads the component at `path` with default limits. Every host the plugin
    /// declares is granted (as a tenant consenting at install would); hosts are
    /// only reached through the script.
    ///
    /// # Errors
    /// If the file cannot be read or the sandbox refuses the component.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::load_with(path, Options::default())
    }

    /// [`Harness::load`] with explicit sandbox options (limits, ...).
    ///
    /// # Errors
    /// As [`Harness::load`].
    pub fn load_with(path: impl AsRef<Path>, options: Options) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Harness(e.to_string()))?;
        let script = Arc::new(mock::Script::default());
        let sandbox = Sandbox::with_transport(options, script.clone())?;
        let path = path.as_ref().to_owned();
        let plugin = runtime.block_on(sandbox.load_file(path))?;
        let state = Arc::new(MemoryState::default());
        let grants = Grants {
            hosts: plugin.manifest().capabilities.hosts.clone(),
            credentials: Vec::new(),
            state: plugin.manifest().capabilities.state.then(|| StateGrant {
                store: state.clone(),
                namespace: Namespace {
                    tenant: "test".into(),
                    plugin: plugin.manifest().name.clone(),
                },
            }),
            refresh: None,
        };
        Ok(Self {
            runtime,
            sandbox,
            plugin,
            script,
            grants,
            state,
            config: serde_json::json!({}),
            context: StepContext::adhoc("test-run"),
        })
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        self.plugin.manifest()
    }

    /// Binds a bearer-token credential to `slot`, sendable to `hosts`.
    ///
    /// # Panics
    /// If a host pattern does not parse (a test-setup mistake).
    #[allow(clippy::panic)]
    pub fn credential(self, slot: &str, secret: &str, hosts: &[&str]) -> Self {
        self.credential_with(slot, secret, hosts, Injection::Bearer)
    }

    /// Binds a credential with an explicit injection style.
    ///
    /// # Panics
    /// If a host pattern does not parse (a test-setup mistake).
    #[allow(clippy::panic)]
    pub fn credential_with(
        mut self,
        slot: &str,
        secret: &str,
        hosts: &[&str],
        inject: Injection,
    ) -> Self {
        let hosts = hosts
            .iter()
            .map(|h| h.parse::<HostPattern>().unwrap_or_else(|e| panic!("{e}")))
            .collect();
        self.grants.credentials.push(Credential {
            slot: slot.into(),
            secret: Secret::new(secret),
            hosts,
            inject,
        });
        self
    }

    /// Replaces the granted hosts (by default: everything the plugin declares).
    ///
    /// # Panics
    /// If a host pattern does not parse.
    #[allow(clippy::panic)]
    pub fn grant_hosts(mut self, hosts: &[&str]) -> Self {
        self.grants.hosts = hosts
            .iter()
            .map(|h| h.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect();
        self
    }

    /// Scripts the reply to `method url` (exact URL, or a prefix ending in `*`).
    /// Replies are used in order; the last one repeats.
    pub fn reply(self, method: &str, url: &str, reply: Reply) -> Self {
        self.script.add(method, url, reply);
        self
    }

    /// Sets the connector config passed to every invocation.
    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }

    /// Sets the step context (ids, attempt, idempotency key).
    pub fn context(mut self, context: StepContext) -> Self {
        self.context = context;
        self
    }

    /// Every request the plugin sent, in order, as the host sent it.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script.requests()
    }

    /// The state store the plugin reads and writes.
    pub fn state(&self) -> &MemoryState {
        &self.state
    }

    /// Runs `action` and returns the whole outcome (result, usage, logs).
    pub fn run(&self, action: &str, input: serde_json::Value) -> Outcome {
        let inv = Invocation {
            config: self.config.to_string(),
            context: self.context.clone(),
            grants: self.grants.clone(),
            ..Invocation::new(action, input.to_string())
        };
        self.runtime
            .block_on(self.sandbox.invoke(&self.plugin, inv))
    }

    /// Runs `action` and returns its output.
    ///
    /// # Errors
    /// [`Error::Failed`] with the plugin's classified error or the sandbox reason.
    pub fn invoke(
        &self,
        action: &str,
        input: serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        self.run(action, input).result.map_err(Error::Failed)
    }
}
