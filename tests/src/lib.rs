//! Shared support for the end-to-end tests: where the built guest components are,
//! a [`TestSandbox`] builder around the real sandbox, and [`StandIn`] servers on
//! loopback that play third-party APIs, and a [`TestApp`]: a whole server.
//!
//! Guest components are built by `scripts/test` (the plugins and the fixtures
//! workspaces, `--release --target wasm32-wasip2`) before `cargo test` runs; a
//! missing artifact is a test failure that says how to build it, never a skip.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod app;
pub mod connector;
pub mod contract;
pub mod google;
pub mod hosted;
pub mod hostile;
pub mod usage;
mod wat_connector;

pub use app::{Resp, TestApp, TestAppBuilder, step};

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};
pub use wat_connector::wat_connector;
use weft_sandbox::{Credential, Grants, Injection, Invocation, Options, Outcome, Plugin, Sandbox};

/// Directory holding the built `.wasm` components.
pub fn wasm_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WEFT_WASM_DIR") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/weft/target")))
        .expect("set CARGO_TARGET_DIR or HOME");
    target.join("wasm32-wasip2").join("release")
}

/// The bytes of a built component, e.g. `fixture_hostile` or `weft_plugin_http`.
pub fn artifact(name: &str) -> Vec<u8> {
    let path = wasm_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the guest components first: `scripts/test` does it.",
            path.display()
        )
    })
}

/// Where `scripts/python-plugins build` and `scripts/js-plugins build` put the
/// Python and JavaScript components: `$CARGO_TARGET_DIR/polyglot`.
pub fn polyglot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/weft/target")))
        .expect("set CARGO_TARGET_DIR or HOME");
    target.join("polyglot")
}

/// The bytes of a Python or JavaScript component (`py_greet`, `js_hostile`,
/// ...), naming the script that builds it when it is missing.
pub fn polyglot(name: &str) -> Vec<u8> {
    let path = polyglot_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        let script = if name.starts_with("py_") {
            "scripts/python-plugins build"
        } else {
            "scripts/js-plugins build"
        };
        panic!(
            "{}: {e}. Build the Python and JavaScript components first: `{script}` (scripts/test does it)",
            path.display()
        )
    })
}

/// One load at a time across the test process, for [`Built::load_shared`].
static SHARED_LOADS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A WAT fixture from `tests/fixtures/wat/`, assembled to binary.
pub fn wat(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/wat")
        .join(name);
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Builds a sandbox for a test.
pub struct TestSandbox {
    options: Options,
    cache: Option<Arc<tempfile::TempDir>>,
}

impl Default for TestSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl TestSandbox {
    /// Default options, but loopback allowed so stand-in servers are reachable.
    pub fn new() -> Self {
        let mut options = Options::default();
        options.egress.allow_private = true;
        Self {
            options,
            cache: None,
        }
    }

    /// Production egress policy: private and loopback addresses denied.
    pub fn public_only(mut self) -> Self {
        self.options.egress.allow_private = false;
        self
    }

    /// Static DNS: `name` resolves to `ip`.
    pub fn resolve(mut self, name: &str, ip: &str) -> Self {
        self.options
            .egress
            .resolve
            .entry(name.into())
            .or_default()
            .push(ip.parse().unwrap());
        self
    }

    /// Changes the options.
    pub fn options(mut self, f: impl FnOnce(&mut Options)) -> Self {
        f(&mut self.options);
        self
    }

    /// Keeps precompiled artifacts in a temporary directory.
    pub fn disk_cache(mut self) -> Self {
        let dir = tempfile::tempdir().unwrap();
        self.options.cache_dir = Some(dir.path().join("components"));
        self.cache = Some(Arc::new(dir));
        self
    }

    /// Keeps compiled artifacts in `$CARGO_TARGET_DIR/polyglot/sandbox-cache`,
    /// shared by every test so built and by later runs: a Python or JavaScript
    /// component (12-19 MB) takes tens of seconds to compile in a debug build,
    /// once per digest and engine configuration instead of once per test. The
    /// cache's own checks apply (an artifact of another engine or one that fails
    /// its HMAC is compiled again). Load through [`Built::load_shared`].
    pub fn shared_disk_cache(mut self) -> Self {
        self.options.cache_dir = Some(polyglot_dir().join("sandbox-cache"));
        self
    }

    /// Keeps precompiled artifacts in the cache directory of `earlier` (built with
    /// [`TestSandbox::disk_cache`]), as a restarted worker on the same disk would.
    pub fn disk_cache_of(mut self, earlier: &Built) -> Self {
        let dir = earlier
            .cache
            .clone()
            .expect("the earlier sandbox was not built with `disk_cache()`");
        self.options
            .cache_dir
            .clone_from(&earlier.sandbox.options().cache_dir);
        self.cache = Some(dir);
        self
    }

    /// Builds it.
    pub fn build(self) -> Built {
        Built {
            sandbox: Sandbox::new(self.options).unwrap(),
            cache: self.cache,
        }
    }
}

/// A built sandbox (keeps its temporary cache directory alive).
#[derive(Clone)]
pub struct Built {
    /// The sandbox.
    pub sandbox: Sandbox,
    /// The temporary cache directory, shared with sandboxes built by
    /// [`TestSandbox::disk_cache_of`].
    cache: Option<Arc<tempfile::TempDir>>,
}

impl std::ops::Deref for Built {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Built {
    /// Loads `bytes`, one load at a time across the test process, so that with
    /// [`TestSandbox::shared_disk_cache`] only the first test compiles a digest
    /// and the others read its artifact.
    ///
    /// # Errors
    /// The sandbox's refusal.
    pub async fn load_shared(&self, bytes: &[u8]) -> Result<Arc<Plugin>, weft_sandbox::Error> {
        let _one_at_a_time = SHARED_LOADS.lock().await;
        self.sandbox.load(bytes).await
    }

    /// Loads a built component by artifact name.
    pub async fn plugin(&self, name: &str) -> Arc<Plugin> {
        self.sandbox
            .load(&artifact(name))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Invokes `action` with `input` and grants.
    pub async fn run(
        &self,
        plugin: &Plugin,
        action: &str,
        input: serde_json::Value,
        grants: Grants,
    ) -> Outcome {
        let inv = Invocation {
            grants,
            ..Invocation::new(action, input.to_string())
        };
        self.sandbox.invoke(plugin, inv).await
    }
}

/// Grants for hosts given as patterns.
pub fn hosts(patterns: &[&str]) -> Grants {
    Grants {
        hosts: patterns.iter().map(|p| p.parse().unwrap()).collect(),
        ..Grants::default()
    }
}

/// A bearer credential for `slot` bound to `bound` hosts.
pub fn bearer(slot: &str, secret: &str, bound: &[&str]) -> Credential {
    connector::credential(slot, secret, bound, Injection::Bearer)
}

/// A local HTTP server standing in for a third-party API.
pub struct StandIn {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    /// Serves `router` on an ephemeral loopback port.
    pub async fn start(router: axum::Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The failure reason of an outcome, as its snake_case name, or `"ok"`.
pub fn reason(outcome: &Outcome) -> String {
    match &outcome.result {
        Ok(_) => "ok".into(),
        Err(f) => f
            .reason
            .map_or_else(|| f.kind.as_str().to_owned(), |r| r.as_str().to_owned()),
    }
}

/// Asserts the sandbox is still healthy: the trivial fixture still answers.
pub async fn assert_healthy(sandbox: &Built) {
    let trivial = sandbox.plugin("fixture_trivial").await;
    let out = sandbox
        .run(
            &trivial,
            "echo",
            serde_json::json!({"still": "alive"}),
            Grants::default(),
        )
        .await;
    assert_eq!(
        out.result.unwrap(),
        serde_json::json!({"still": "alive"}),
        "sandbox unhealthy after the attack"
    );
}

/// A request as a [`StandIn`] received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path and query exactly as sent, e.g. `/search?q=a%20b`.
    pub uri: String,
    /// The headers.
    pub headers: axum::http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (the first, if repeated), if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON; panics (failing the test) if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the stand-in received a non-JSON body ({e}): {:?}",
                self.text()
            )
        })
    }

    /// The body as (lossy) UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Every request a scripted [`StandIn`] received, in order.
#[derive(Clone, Default)]
pub struct Inbox(Arc<std::sync::Mutex<Vec<Received>>>);

impl Inbox {
    /// A copy of every request received so far.
    pub fn all(&self) -> Vec<Received> {
        self.0.lock().unwrap().clone()
    }

    /// The one request received; fails the test if there were none or several.
    pub fn only(&self) -> Received {
        let all = self.all();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one request, the stand-in received {all:#?}"
        );
        all.into_iter().next().unwrap()
    }

    /// How many requests arrived.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether none arrived.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl StandIn {
    /// Serves every request (any method, any path) with `respond`, recording each
    /// one in the returned [`Inbox`] before answering.
    pub async fn scripted<F>(respond: F) -> (Self, Inbox)
    where
        F: Fn(&Received) -> axum::response::Response + Send + Sync + 'static,
    {
        let inbox = Inbox::default();
        let respond = Arc::new(respond);
        let seen = inbox.clone();
        let handler = move |method: axum::http::Method,
                            uri: axum::http::Uri,
                            headers: axum::http::HeaderMap,
                            body: axum::body::Bytes| {
            let respond = respond.clone();
            let seen = seen.clone();
            async move {
                let uri = uri
                    .path_and_query()
                    .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
                let req = Received {
                    method: method.as_str().to_owned(),
                    uri,
                    headers,
                    body: body.to_vec(),
                };
                let response = respond(&req);
                seen.0.lock().unwrap().push(req);
                response
            }
        };
        let stand_in = Self::start(axum::Router::new().fallback(handler)).await;
        (stand_in, inbox)
    }
}

/// The output of a successful outcome; panics with the failure and logs otherwise.
pub fn output(out: &Outcome) -> &serde_json::Value {
    match &out.result {
        Ok(v) => v,
        Err(f) => panic!("expected output, got {f}; logs: {:?}", out.logs),
    }
}

/// The failure of a failed outcome; panics with the output otherwise.
pub fn failure(out: &Outcome) -> &weft_sandbox::Failure {
    match &out.result {
        Ok(v) => panic!("expected a failure, got output {v}"),
        Err(f) => f,
    }
}

/// The `(kind, detail)` of the http error the `hostile` fixture's `http` action
/// got back (it reports http errors as output).
pub fn http_error(out: &Outcome) -> (String, String) {
    let got = output(out);
    let e = got
        .get("error")
        .unwrap_or_else(|| panic!("expected an http error, got {got}"));
    (
        e["kind"].as_str().unwrap().to_owned(),
        e["detail"].as_str().unwrap().to_owned(),
    )
}
