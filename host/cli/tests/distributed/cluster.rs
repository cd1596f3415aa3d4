//! A Weft cluster of real processes for the fault tests: `weft migrate` once,
//! then `weft api` and two `weft worker`s on a fresh PostgreSQL database, a
//! queue prefix of its own on the shared RabbitMQ, a Redis database of its own,
//! and one data directory (the keyring) shared by every process. Processes are
//! killed when dropped; the database and the queues are removed at the end.
//!
//! Also: [`Outage`], a backing service stopped for a test and always started
//! again (on drop, even when the test panics), and [`SERIAL`], which lets one
//! fault scenario run at a time (the services are shared).

use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use weft_client::{Client, Definition};
use weft_model::{StartQuery, StartRun};

/// One fault scenario at a time: they stop and start shared services, and
/// their timings assume the machine is not busy with another cluster.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A variable `scripts/services env` sets; its absence is a failure that says
/// how to fix it, never a skip.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: start the services (`eval \"$(scripts/services start)\"`, \
             or `eval \"$(scripts/services env)\"` when they run) before these tests"
        )
    })
}

/// A built connector component.
pub fn wasm(name: &str) -> PathBuf {
    let p = weft_tests::wasm_dir().join(name);
    assert!(
        p.exists(),
        "{} missing: build the plugins (`cargo build --release --target wasm32-wasip2 \
         --manifest-path plugins/Cargo.toml`, or run scripts/test)",
        p.display()
    );
    p
}

/// A name no other cluster uses (database, queue prefix): lower case, digits.
fn unique_name(hint: &str) -> String {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "weft_d_{hint}_{}_{nanos:x}{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// The last lines a process wrote to stderr.
type Log = Arc<Mutex<VecDeque<String>>>;

const LOG_LINES: usize = 400;

/// Which program a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `weft api`.
    Api,
    /// `weft worker`.
    Worker,
}

impl Role {
    fn arg(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Worker => "worker",
        }
    }
}

/// One process of the cluster; SIGKILLed when dropped.
pub struct Proc {
    /// `api#1`, `worker#3`, ...
    pub name: String,
    /// `http://127.0.0.1:PORT` (for a worker: health and metrics only).
    pub base: String,
    child: Child,
}

impl Proc {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: the graceful shutdown.
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM {} ({}) failed", self.pid(), self.name);
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The process environment of a cluster, beyond the common settings.
pub type Settings = &'static [(&'static str, &'static str)];

/// How to start the processes of one cluster, and their logs.
pub struct Launcher {
    /// Database name, queue prefix.
    pub name: String,
    data: tempfile::TempDir,
    admin_url: String,
    /// `postgres://.../NAME`.
    pub db_url: String,
    /// `redis://HOST:PORT/DB`.
    pub redis_url: String,
    /// The Redis database index this cluster uses.
    pub redis_db: u8,
    extra: Vec<(String, String)>,
    logs: Vec<(String, Log)>,
    seq: usize,
}

impl Launcher {
    /// The command for `role` with the cluster's environment.
    fn command(&self, role: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
        c.arg(role);
        // Only this cluster's settings: an inherited WEFT_* would change them.
        for (k, _) in std::env::vars() {
            if k.starts_with("WEFT_") {
                c.env_remove(k);
            }
        }
        let plugins = format!(
            "{},{},{}",
            wasm("weft_plugin_http.wasm").display(),
            wasm("weft_plugin_transform.wasm").display(),
            wasm("weft_plugin_code.wasm").display()
        );
        let log = std::env::var("WEFT_TEST_LOG").unwrap_or_else(|_| "warn".into());
        c.env("WEFT_LOG", log)
            .env("WEFT_LISTEN", "127.0.0.1:0")
            .env("WEFT_DATA_DIR", self.data.path())
            .env("WEFT_DATABASE_URL", &self.db_url)
            .env("WEFT_DATABASE_MAX_CONNECTIONS", "8")
            .env("WEFT_QUEUE_URL", env("WEFT_TEST_AMQP_URL"))
            .env("WEFT_QUEUE_PREFIX", &self.name)
            .env("WEFT_REDIS_URL", &self.redis_url)
            .env("WEFT_PLUGINS", plugins)
            // Compiled connectors shared by every cluster of every run (the
            // code connector alone takes seconds to compile): a process
            // starts on artifacts, not on cranelift, as a restarted
            // production process does.
            .env(
                "WEFT_SANDBOX_CACHE_DIR",
                weft_tests::polyglot_dir().join("cluster-cache"),
            )
            .env("WEFT_SANDBOX_ALLOW_PRIVATE_NETWORK", "true")
            .env("WEFT_CONCURRENCY", "16")
            .env("WEFT_WORKER_DEFAULT_STEP_TIMEOUT_MS", "3000")
            .env("WEFT_WORKER_LEASE_GRACE_MS", "1000")
            .env("WEFT_WORKER_SWEEP_INTERVAL_MS", "200")
            .env("WEFT_WORKER_STALE_AFTER_MS", "1000")
            .env("WEFT_SHUTDOWN_GRACE_MS", "5000")
            .env("WEFT_LIMITS_API_RATE", "100000")
            .env("WEFT_LIMITS_API_BURST", "100000");
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).stdout(Stdio::null());
        c
    }

    /// `weft migrate`; returns the bootstrap key and the operator key it
    /// prints.
    async fn migrate(&self) -> (String, String) {
        let mut cmd = self.command("migrate");
        cmd.stderr(Stdio::piped());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "weft migrate failed: {text}");
        let find = |operator: bool| {
            text.lines()
                .map(str::trim)
                .find(|l| l.starts_with("weft_") && l.starts_with("weft_op_") == operator)
                .unwrap_or_else(|| {
                    panic!("weft migrate printed no key (operator: {operator}): {text}")
                })
                .to_owned()
        };
        (find(false), find(true))
    }

    /// Starts a process and waits for its "listening on" line.
    pub async fn spawn(&mut self, role: Role) -> Proc {
        self.seq += 1;
        let name = format!("{}#{}", role.arg(), self.seq);
        let mut cmd = self.command(role.arg());
        cmd.stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log: Log = Arc::default();
        self.logs.push((name.clone(), log.clone()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                let mut l = log.lock().unwrap_or_else(PoisonError::into_inner);
                if l.len() == LOG_LINES {
                    l.pop_front();
                }
                l.push_back(line);
            }
        });
        let prefix = format!("weft {}: listening on ", role.arg());
        // Generous: a loaded machine (the other test streams) can be slow.
        let deadline = Instant::now() + Duration::from_secs(120);
        let base = loop {
            let line = tokio::time::timeout_at(deadline.into(), rx.recv()).await;
            match line {
                Ok(Some(line)) => {
                    if let Some(rest) = line.strip_prefix(&prefix) {
                        break rest.split_whitespace().next().unwrap().to_owned();
                    }
                }
                Ok(None) => {
                    let status = child.wait().ok();
                    self.dump_logs();
                    panic!("{name} exited before listening ({status:?})");
                }
                Err(_) => {
                    let _ = child.kill();
                    self.dump_logs();
                    panic!("{name} did not start within 120 s");
                }
            }
        };
        Proc { name, base, child }
    }

    /// Prints the last lines each process wrote (on failure).
    pub fn dump_logs(&self) {
        for (name, log) in &self.logs {
            let l = log.lock().unwrap_or_else(PoisonError::into_inner);
            eprintln!(
                "----- {} {name}: last {} lines of stderr",
                self.name,
                l.len()
            );
            for line in l.iter() {
                eprintln!("  {line}");
            }
        }
    }
}

/// A cluster: one API, workers, what they share.
pub struct Cluster {
    /// How to start more processes.
    pub launcher: Launcher,
    /// The bootstrap (owner) key.
    pub key: String,
    /// The operator key (`weft_op_…`).
    pub operator: String,
    /// The API process.
    pub api: Proc,
    /// The worker processes.
    pub workers: Vec<Proc>,
    /// The HTTP connections of [`Cluster::client`] and [`Cluster::anonymous`]
    /// (30 s per request).
    http: reqwest::Client,
}

impl Cluster {
    /// Creates the database, runs `weft migrate`, starts an API and two
    /// workers. `settings` are extra `WEFT_*` variables (they win).
    pub async fn start(hint: &str, settings: Settings) -> Self {
        let t = Instant::now();
        let name = unique_name(hint);
        let admin_url = env("WEFT_TEST_DATABASE_URL");
        let (server, _) = admin_url
            .rsplit_once('/')
            .expect("WEFT_TEST_DATABASE_URL has a database path");
        let db_url = format!("{server}/{name}");
        psql(&admin_url, &format!("create database {name}")).await;
        // A Redis database of its own, so that flushing it (D9) touches no
        // other cluster's limits.
        let redis_db = 1 + (name.bytes().map(u32::from).sum::<u32>() % 15) as u8;
        let redis_url = format!(
            "{}/{redis_db}",
            env("WEFT_TEST_REDIS_URL").trim_end_matches('/')
        );
        let mut launcher = Launcher {
            data: tempfile::tempdir().unwrap(),
            admin_url,
            db_url,
            redis_url,
            redis_db,
            extra: settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            logs: Vec::new(),
            seq: 0,
            name,
        };
        let (key, operator) = launcher.migrate().await;
        let api = launcher.spawn(Role::Api).await;
        let mut workers = Vec::new();
        for _ in 0..2 {
            workers.push(launcher.spawn(Role::Worker).await);
        }
        let cluster = Self {
            launcher,
            key,
            operator,
            api,
            workers,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        eprintln!(
            "[{}] cluster up in {:.1} s: api {} (pid {}), workers {}",
            cluster.launcher.name,
            t.elapsed().as_secs_f64(),
            cluster.api.base,
            cluster.api.pid(),
            cluster
                .workers
                .iter()
                .map(|w| format!("{} (pid {})", w.base, w.pid()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        cluster
    }

    /// Starts one more process of the cluster.
    pub async fn spawn(&mut self, role: Role) -> Proc {
        self.launcher.spawn(role).await
    }

    /// Prints the last lines each process wrote (on failure).
    pub fn dump_logs(&self) {
        self.launcher.dump_logs();
    }

    /// `kill -9` of every worker, then as many new ones.
    pub async fn restart_workers_hard(&mut self) {
        let n = self.workers.len();
        for w in &mut self.workers {
            w.kill9();
        }
        self.workers.clear();
        for _ in 0..n {
            let w = self.spawn(Role::Worker).await;
            self.workers.push(w);
        }
    }

    /// The typed client of the current API process, with the bootstrap key.
    pub fn client(&self) -> Client {
        Client::with_http(&self.api.base, Some(&self.key), self.http.clone())
            .unwrap_or_else(|e| panic!("a client of {}: {e}", self.api.base))
    }

    /// The typed client of the current API process, with the operator key.
    pub fn operator_client(&self) -> Client {
        Client::with_http(&self.api.base, Some(&self.operator), self.http.clone())
            .unwrap_or_else(|e| panic!("a client of {}: {e}", self.api.base))
    }

    /// A client of the process at `base` without a key (a webhook caller, a
    /// metrics scraper).
    pub fn anonymous(&self, base: &str) -> Client {
        Client::with_http(base, None, self.http.clone())
            .unwrap_or_else(|e| panic!("a client of {base}: {e}"))
    }

    /// Creates a workflow; returns its id. Refusals fail the test.
    pub async fn workflow(&self, def: &Value) -> String {
        self.client()
            .create_workflow(Definition::Json(def))
            .await
            .unwrap_or_else(|e| panic!("POST /v1/workflows: {e}"))
            .id
    }

    /// Starts one run; its id. Refusals fail the test.
    pub async fn start_run(&self, wf: &str, input: Value) -> String {
        self.client()
            .start_run(wf, &StartRun { input, until: None }, &StartQuery::default())
            .await
            .unwrap_or_else(|e| panic!("POST /v1/workflows/{wf}/runs: {e}"))
            .id
    }

    /// Starts `n` runs of `wf`, `parallel` requests at a time; their ids in order.
    pub async fn start_runs(&self, wf: &str, n: usize, parallel: usize) -> Vec<String> {
        let sem = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let client = self.client();
        for i in 0..n {
            let permit = sem.clone().acquire_owned().await.unwrap();
            let (client, wf) = (client.clone(), wf.to_owned());
            set.spawn(async move {
                let body = StartRun {
                    input: serde_json::json!(i),
                    until: None,
                };
                let run = client.start_run(&wf, &body, &StartQuery::default()).await;
                drop(permit);
                let run = run.unwrap_or_else(|e| panic!("POST /v1/workflows/{wf}/runs: {e}"));
                (i, run.id)
            });
        }
        let mut ids = vec![String::new(); n];
        while let Some(r) = set.join_next().await {
            let (i, id) = r.unwrap();
            ids[i] = id;
        }
        ids
    }

    /// A counter or gauge from a process's `/metrics` (0 when absent).
    pub async fn metric(&self, base: &str, name: &str) -> f64 {
        let Ok(text) = self.anonymous(base).metrics().await else {
            return 0.0;
        };
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .filter(|(k, _)| *k == name)
            .filter_map(|(_, v)| v.trim().parse::<f64>().ok())
            .sum()
    }

    /// The sum of `name` over the API and every worker.
    pub async fn metric_sum(&self, name: &str) -> f64 {
        let mut sum = self.metric(&self.api.base, name).await;
        for w in &self.workers {
            sum += self.metric(&w.base, name).await;
        }
        sum
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs();
        }
        for w in &mut self.workers {
            w.kill9();
        }
        self.api.kill9();
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        if std::env::var_os("WEFT_TEST_KEEP").is_some() {
            let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
            eprintln!(
                "[{}] kept (WEFT_TEST_KEEP): database {}, data {}",
                self.name,
                self.db_url,
                data.keep().display()
            );
            return;
        }
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .args([
                "-qc",
                &format!("drop database if exists {} with (force)", self.name),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        rabbit_cleanup(&self.name);
    }
}

/// Runs one SQL statement on the admin database.
async fn psql(url: &str, sql: &str) {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("psql")
            .arg(&url)
            .args(["-v", "ON_ERROR_STOP=1", "-qc", &sql])
            .output()
    })
    .await
    .unwrap()
    .expect("psql (the PostgreSQL client) is needed by these tests");
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Best effort: deletes the queues and exchanges named with `prefix` from the
/// test broker (they would pile up across runs). Needs `rabbitmqctl` and the
/// services' state directory (for the Erlang cookie); silently does nothing
/// without them.
fn rabbit_cleanup(prefix: &str) {
    let (Ok(dir), Ok(url)) = (
        std::env::var("WEFT_TEST_SERVICES_DIR"),
        std::env::var("WEFT_TEST_AMQP_URL"),
    ) else {
        return;
    };
    let Some(port) = url
        .rsplit_once('@')
        .map_or(url.as_str(), |(_, h)| h)
        .split('/')
        .next()
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| p.to_owned())
    else {
        return;
    };
    let Ok(cookie) = std::fs::read_to_string(format!("{dir}/rabbit/.erlang.cookie")) else {
        return;
    };
    let node = format!("weft-{port}@localhost");
    let ctl = |args: &[&str]| -> Option<String> {
        let out = Command::new("rabbitmqctl")
            .args(["-q", "-n", &node, "--erlang-cookie", cookie.trim()])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    for (list, delete) in [
        ("list_queues", "delete_queue"),
        ("list_exchanges", "delete_exchange"),
    ] {
        let Some(names) = ctl(&[list, "name", "--no-table-headers"]) else {
            continue;
        };
        for n in names
            .lines()
            .map(str::trim)
            .filter(|n| n.starts_with(prefix))
        {
            let _ = ctl(&[delete, n]);
        }
    }
}

/// A backing service (`pg`, `amqp`, `redis`) stopped for a test. It is started
/// again by [`Outage::end`], or on drop whatever happened (a panicking test
/// must not leave a shared service down).
pub struct Outage {
    service: &'static str,
    down: bool,
}

impl Outage {
    /// `scripts/services ctl stop SERVICE`.
    pub async fn begin(service: &'static str) -> Self {
        let t = Instant::now();
        // The guard exists before the stop, so even a failed stop is undone.
        let mut o = Self {
            service,
            down: true,
        };
        let ok = tokio::task::spawn_blocking(move || services_ctl("stop", service))
            .await
            .unwrap();
        if !ok {
            o.down = false;
            drop(o);
            panic!("scripts/services ctl stop {service} failed");
        }
        eprintln!("  {service} stopped ({:.1} s)", t.elapsed().as_secs_f64());
        o
    }

    /// `scripts/services ctl start SERVICE`.
    pub async fn end(mut self) {
        let t = Instant::now();
        let service = self.service;
        let ok = tokio::task::spawn_blocking(move || services_ctl("start", service))
            .await
            .unwrap();
        self.down = !ok;
        assert!(ok, "scripts/services ctl start {service} failed");
        eprintln!("  {service} started ({:.1} s)", t.elapsed().as_secs_f64());
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if self.down {
            eprintln!("  {}: started again by its guard", self.service);
            if !services_ctl("start", self.service) {
                eprintln!(
                    "  could not start {} again: run `scripts/services ctl start {}`",
                    self.service, self.service
                );
            }
        }
    }
}

/// `$WEFT_TEST_SERVICES_CTL ctl ACTION SERVICE`; whether it succeeded. Output
/// goes to a file, not a pipe: a daemon the script starts must not hold our
/// pipe open.
fn services_ctl(action: &str, service: &str) -> bool {
    let ctl = env("WEFT_TEST_SERVICES_CTL");
    let log = tempfile::NamedTempFile::new().unwrap();
    let status = Command::new(&ctl)
        .args(["ctl", action, service])
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.reopen().unwrap()))
        .stderr(Stdio::from(log.reopen().unwrap()))
        .status();
    let ok = status.as_ref().is_ok_and(ExitStatus::success);
    if !ok {
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        eprintln!("{ctl} ctl {action} {service}: {status:?}\n{text}");
    }
    ok
}

/// One Redis command on database `db` (RESP over a plain socket, no client
/// library); the reply's first line.
pub async fn redis(url: &str, db: u8, args: &[&str]) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let host = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let stream = tokio::net::TcpStream::connect(&host)
        .await
        .unwrap_or_else(|e| panic!("redis {host}: {e}"));
    let mut stream = tokio::io::BufReader::new(stream);
    let mut out = Vec::new();
    let db = db.to_string();
    for cmd in [&["SELECT", db.as_str()][..], args] {
        out.extend_from_slice(format!("*{}\r\n", cmd.len()).as_bytes());
        for a in cmd {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
    }
    stream.get_mut().write_all(&out).await.unwrap();
    let mut line = String::new();
    for _ in 0..2 {
        line.clear();
        stream.read_line(&mut line).await.unwrap();
    }
    line.trim().to_owned()
}
