//! D10 and H2 with a real `weft serve` process: SIGTERM while a plugin spins
//! (a step that would run for minutes) and a client holds a half-sent
//! request. The process exits 0 within its shutdown grace period: the
//! spinning attempt is stopped (`cancelled`) and handed back, and after a
//! restart the step runs again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const GRACE_MS: u64 = 3_000;

struct Serve {
    child: Child,
    base: String,
    key: Option<String>,
}

/// A failed assertion must not leave a server running.
impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(data: &std::path::Path, first_start: bool) -> Self {
        let hostile = weft_tests::wasm_dir().join("fixture_hostile.wasm");
        assert!(
            hostile.exists(),
            "{} missing: run scripts/test",
            hostile.display()
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        for (k, _) in std::env::vars() {
            if k.starts_with("WEFT_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .arg("--plugins")
            .arg(&hostile)
            .env("WEFT_LOG", "warn")
            .env("WEFT_WORKER_SHUTDOWN_GRACE_MS", GRACE_MS.to_string())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("  serve: {line}");
                let _ = tx.send(line);
            }
        });
        let (mut base, mut key) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while base.is_none() || (first_start && key.is_none()) {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("weft serve did not start");
            if let Some(rest) = line.strip_prefix("weft serve: listening on ") {
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.trim_start().starts_with("weft_") {
                key = Some(line.trim().to_owned());
            }
        }
        Self {
            child,
            base: base.unwrap(),
            key,
        }
    }

    fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM failed");
    }

    async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }
}

async fn call(key: &str, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method.parse().unwrap(), url)
        .bearer_auth(key)
        .timeout(Duration::from_secs(30));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&b).unwrap());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Polls the run until `done` holds (at most 30 s).
async fn until(key: &str, url: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, run) = call(key, "GET", url, None).await;
        assert_eq!(s, 200, "{run}");
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "never got there: {run:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spin_attempts(run: &Value) -> Vec<Value> {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["key"] == "spin"))
        .and_then(|s| s["attempts"].as_array().cloned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_spinning_step_exits_0_within_the_grace_and_hands_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Serve::start(dir.path(), true);
    let key = first.key.clone().expect("bootstrap key on first start");
    let def = json!({"name": "spinner", "steps": [
        {"id": "spin", "kind": "action", "connector": "hostile", "action": "spin",
         "input": {}, "timeout_ms": 600_000}
    ]});
    let (s, wf) = call(
        &key,
        "POST",
        &format!("{}/v1/workflows", first.base),
        Some(def),
    )
    .await;
    assert_eq!(s, 201, "{wf}");
    let url = format!(
        "{}/v1/workflows/{}/runs",
        first.base,
        wf["id"].as_str().unwrap()
    );
    let (s, run) = call(&key, "POST", &url, Some(json!({"input": {}}))).await;
    assert_eq!(s, 201, "{run}");
    let run_url = |base: &str| format!("{base}/v1/runs/{}", run["id"].as_str().unwrap());
    until(&key, &run_url(&first.base), |r| {
        spin_attempts(r)
            .first()
            .is_some_and(|a| a["status"] == "running")
    })
    .await;
    // A client that sends half a request and stalls, as a slow one would.
    let addr = first.base.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();

    let t = Instant::now();
    first.sigterm();
    let status = first
        .wait_exit(Duration::from_millis(GRACE_MS + 20_000))
        .await;
    let took = t.elapsed();
    let status = status.unwrap_or_else(|| panic!("weft serve still runs {took:?} after SIGTERM"));
    assert!(status.success(), "SIGTERM: weft serve exited with {status}");
    assert!(
        took <= Duration::from_millis(GRACE_MS + 500),
        "weft serve took {took:?} to exit; its grace is {GRACE_MS} ms"
    );
    drop(stalled);

    // The spinning attempt was stopped and handed back: after a restart the
    // step runs again (not only when a 10-minute lease has expired).
    let second = Serve::start(dir.path(), false);
    let run = until(&key, &run_url(&second.base), |r| {
        spin_attempts(r).len() >= 2
    })
    .await;
    let attempts = spin_attempts(&run);
    let a = &attempts[0];
    assert_eq!(a["status"], "failed", "{run:#}");
    assert_eq!(a["error"]["reason"], "cancelled", "{a:#}");
    assert_eq!(
        a["error"]["kind"], "transient",
        "handed back, not failed: {a:#}"
    );
    let ran = a["finished_at"].as_i64().unwrap() - a["started_at"].as_i64().unwrap();
    assert!(ran < i64::try_from(GRACE_MS).unwrap() + 2_000, "{a:#}");
    assert_ne!(run["status"], "failed", "{run:#}");
    let (s, _) = call(
        &key,
        "POST",
        &format!("{}/cancel", run_url(&second.base)),
        None,
    )
    .await;
    assert_eq!(s, 200);
}
