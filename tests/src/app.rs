//! [`TestApp`]: a whole Weft server (store, queue, worker, sandbox, API) started
//! in the test process from the same composition root as `weft serve`, reached
//! over real HTTP on loopback.

use serde_json::{Value, json};
use std::time::Duration;
use weft_cli::server::{Config, Server, StoreKind};
use weft_client::Body;
use weft_model::{Run, Step, Workflow};

/// A change to the server's configuration.
type Tweak = Box<dyn FnOnce(&mut Config)>;

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    sqlite: bool,
    plugins: Vec<&'static str>,
    worker: weft_worker::Options,
    config: Vec<Tweak>,
}

/// A running server for one test, with the default tenant's owner key.
pub struct TestApp {
    /// The server.
    pub server: Server,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The default tenant's owner key.
    pub key: String,
    /// The operator key made on first start (`weft_op_…`).
    pub operator: String,
    /// The typed client of the server with the owner key.
    pub api: weft_client::Client,
    _dir: tempfile::TempDir,
}

/// An HTTP answer, checked against the OpenAPI document.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Value::String` of the text when it is not JSON).
    pub body: Value,
}

impl Resp {
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts the status and reads the body as `T`.
    #[track_caller]
    pub fn typed<T: serde::de::DeserializeOwned>(self, status: u16) -> T {
        let body = self.expect(status);
        serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("the body is not the wire type: {e}: {body}"))
    }

    /// The error envelope's code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

impl Default for TestAppBuilder {
    fn default() -> Self {
        Self {
            sqlite: true,
            plugins: vec!["weft_plugin_transform", "weft_plugin_http"],
            worker: weft_worker::Options {
                sweep_interval_ms: 50,
                stale_after_ms: 2_000,
                ..weft_worker::Options::default()
            },
            config: Vec::new(),
        }
    }
}

impl TestAppBuilder {
    /// Keeps everything in memory instead of SQLite.
    pub fn memory(mut self) -> Self {
        self.sqlite = false;
        self
    }

    /// Also loads these built components (`weft_plugin_slack`, ...).
    pub fn plugin(mut self, name: &'static str) -> Self {
        self.plugins.push(name);
        self
    }

    /// Changes the worker options.
    pub fn worker(mut self, f: impl FnOnce(&mut weft_worker::Options)) -> Self {
        f(&mut self.worker);
        self
    }

    /// Changes anything else of the server's configuration (Redis, limits, ...).
    pub fn config(mut self, f: impl FnOnce(&mut Config) + 'static) -> Self {
        self.config.push(Box::new(f));
        self
    }

    /// Starts the server on a free loopback port.
    pub async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::embedded(dir.path());
        config.listen = "127.0.0.1:0".parse().unwrap();
        if !self.sqlite {
            config.store = StoreKind::Memory;
        }
        config.plugins = self
            .plugins
            .iter()
            .map(|p| crate::wasm_dir().join(format!("{p}.wasm")))
            .collect();
        config.worker = self.worker;
        // Stand-in servers listen on loopback.
        config.sandbox.egress.allow_private = true;
        // Compiled connectors in the tests' shared cache (see
        // `TestSandbox::shared_disk_cache`): each compiles once per digest for
        // every test process and run, not once per TestApp (the code
        // connector alone takes seconds in a debug build). A test may set its
        // own directory below.
        config.sandbox.cache_dir = Some(crate::polyglot_dir().join("sandbox-cache"));
        for f in self.config {
            f(&mut config);
        }
        let server = Server::start(config).await.unwrap();
        let key = server
            .bootstrap_key
            .clone()
            .expect("a fresh store prints a bootstrap key");
        let operator = server
            .operator_key
            .clone()
            .expect("a fresh store prints an operator key");
        let base = format!("http://{}", server.addr);
        TestApp {
            operator,
            server,
            api: weft_client::Client::new(&base, Some(&key)).unwrap(),
            key,
            base,
            _dir: dir,
        }
    }
}

impl TestApp {
    /// A builder with SQLite, the transform and http connectors, a fast sweeper.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// A tenant made by the operator through `POST /v1/ops/tenants`;
    /// returns its id and its owner key.
    pub async fn new_tenant(&self, name: &str) -> (String, String) {
        let t = self
            .call_as(
                &self.operator,
                "POST",
                "/v1/ops/tenants",
                Some(serde_json::json!({"name": name})),
            )
            .await
            .expect(201);
        (
            t["id"].as_str().unwrap_or_default().to_owned(),
            t["owner_key"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Another tenant; returns its owner key.
    pub async fn tenant(&self, name: &str) -> String {
        weft_cli::server::create_tenant(&self.server.app, name)
            .await
            .unwrap()
            .1
    }

    /// A request with the default key.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_as(&self.key, method, path, body).await
    }

    /// A request with `key` (empty: none).
    pub async fn call_as(&self, key: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.raw(key, method, path, "application/json", bytes).await
    }

    /// A request with an explicit content type and raw body, sent by the
    /// typed client's raw path; the answer is checked against the OpenAPI
    /// document ([`crate::contract`]) before the test sees it.
    pub async fn raw(
        &self,
        key: &str,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<Vec<u8>>,
    ) -> Resp {
        let client = self.api.with_key((!key.is_empty()).then_some(key)).unwrap();
        let body = match body {
            Some(b) => Body::Raw(b, content_type.to_owned()),
            None => Body::None,
        };
        let method: reqwest::Method = method.parse().unwrap();
        let resp = client.raw(method.clone(), path, body).await.unwrap();
        self.checked(method.as_str(), path, resp)
    }

    /// The answer to `method path`, checked against the OpenAPI document
    /// unless the path is outside this server.
    fn checked(&self, method: &str, path: &str, resp: weft_client::Response) -> Resp {
        let local = path.strip_prefix(self.base.as_str()).unwrap_or(path);
        if !local.starts_with("http") {
            crate::contract::check(
                method,
                local,
                resp.status.as_u16(),
                resp.content_type(),
                &resp.body,
            )
            .unwrap_or_else(|e| panic!("the answer is not as documented: {e}"));
        }
        let text = resp.text();
        Resp {
            status: resp.status.as_u16(),
            headers: resp.headers,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// POSTs `body` (as JSON) to a webhook URL with extra `headers` (a
    /// signature, a delivery id) and no API key; the answer is checked
    /// against the OpenAPI document like every other.
    pub async fn hook(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Resp {
        let client = self.api.with_key(None).unwrap();
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let body = Body::Raw(body.to_vec(), "application/json".into());
        let resp = client
            .send(reqwest::Method::POST, url.parse().unwrap(), body, &map)
            .await
            .unwrap();
        self.checked("POST", url, resp)
    }

    /// A request with no API key and these headers (a browser's: `Cookie`,
    /// `X-CSRF-Token`, `Origin`), checked against the OpenAPI document.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Value>,
    ) -> Resp {
        let client = self.api.with_key(None).unwrap();
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let body = match body {
            Some(b) => Body::Raw(serde_json::to_vec(&b).unwrap(), "application/json".into()),
            None => Body::None,
        };
        let method: reqwest::Method = method.parse().unwrap();
        let url = format!("{}{path}", self.base).parse().unwrap();
        let resp = client.send(method.clone(), url, body, &map).await.unwrap();
        self.checked(method.as_str(), path, resp)
    }

    /// GET with the default key.
    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None).await
    }

    /// POST with the default key.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path, Some(body)).await
    }

    /// Creates (and activates) a workflow.
    pub async fn workflow(&self, def: Value) -> Workflow {
        let wf: Workflow = self.post("/v1/workflows", def).await.typed(201);
        self.post(&format!("/v1/workflows/{}/activate", wf.id), json!(null))
            .await
            .expect(200);
        wf
    }

    /// Starts a run by hand; returns the run's id.
    pub async fn start_run(&self, workflow_id: &str, input: Value) -> String {
        let run: Run = self
            .post(
                &format!("/v1/workflows/{workflow_id}/runs"),
                json!({"input": input}),
            )
            .await
            .typed(201);
        run.id
    }

    /// The value of the unlabelled metric `name` in `/metrics`.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .raw("", "GET", "/metrics", "text/plain", None)
            .await
            .body;
        let text = text.as_str().unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }

    /// Polls the run until it is terminal (at most 30 s); returns it with steps.
    pub async fn finished(&self, run_id: &str) -> Run {
        self.until(run_id, |r| r.status.is_terminal()).await
    }

    /// Polls the run until `pred` holds (at most 30 s).
    pub async fn until(&self, run_id: &str, pred: impl Fn(&Run) -> bool) -> Run {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let run: Run = self.get(&format!("/v1/runs/{run_id}")).await.typed(200);
            if pred(&run) {
                return run;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "run never got there: {run:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The step `key` of a run returned by `GET /v1/runs/{id}`.
#[track_caller]
pub fn step<'a>(run: &'a Run, key: &str) -> &'a Step {
    run.step(key)
        .unwrap_or_else(|| panic!("no step `{key}` in {run:#?}"))
}
