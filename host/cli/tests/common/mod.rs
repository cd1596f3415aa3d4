//! A real `weft serve` process for the process-level tests (`crash.rs`,
//! `shutdown.rs`): started on a free loopback port with one connector, its
//! address and first-start key read from its log, killed when dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `weft serve`.
pub struct Serve {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bootstrap key, printed on a first start only.
    pub key: Option<String>,
    /// The operator key (`weft_op_…`), printed on a first start only.
    pub operator: Option<String>,
}

/// A failed assertion must not leave a server running.
impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `weft serve` on `data` with the built component `plugin`
    /// (e.g. `fixture_hostile`) and these extra `WEFT_*` settings; waits for
    /// its address (and, on a first start, its key).
    pub fn start(data: &Path, first_start: bool, plugin: &str, env: &[(&str, String)]) -> Self {
        Self::start_with(data, first_start, &[plugin], env)
    }

    /// As [`Serve::start`] with several built components.
    pub fn start_with(
        data: &Path,
        first_start: bool,
        plugins: &[&str],
        env: &[(&str, String)],
    ) -> Self {
        let mut components = Vec::new();
        for plugin in plugins {
            let component = weft_tests::wasm_dir().join(format!("{plugin}.wasm"));
            assert!(
                component.exists(),
                "{} missing: run scripts/test",
                component.display()
            );
            components.push(component.display().to_string());
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        // Only this test's settings: the test scripts' own WEFT_* variables
        // (service ports, WEFT_TEST_*) are not settings, and weft refuses them.
        for (k, _) in std::env::vars() {
            if k.starts_with("WEFT_") {
                cmd.env_remove(k);
            }
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .arg("--plugins")
            .arg(components.join(","))
            .env("WEFT_LOG", "warn")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("  serve: {line}");
                let _ = tx.send(line);
            }
        });
        let (mut base, mut key, mut operator) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while base.is_none() || (first_start && (key.is_none() || operator.is_none())) {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("weft serve did not start");
            if let Some(rest) = line.strip_prefix("weft serve: listening on ") {
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            let line = line.trim();
            if line.starts_with("weft_op_") {
                operator = Some(line.to_owned());
            } else if line.starts_with("weft_") {
                key = Some(line.to_owned());
            }
        }
        Self {
            child,
            base: base.unwrap(),
            key,
            operator,
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
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
