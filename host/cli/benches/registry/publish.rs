//! Publish-to-runnable: from the upload to the first completed run of a
//! one-step workflow using the connector, on a fresh `weft serve` each time
//! (so the digest is new to it: the sandbox compiles).

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::registry::{NewInstall, NewVersion, PackageKind};
use weft_model::{StartQuery, StartRun};
use weft_registry::sign::{SecretKey, generate, read_key_file, statement};
use weft_types::Status;

/// A release `weft serve` on a data directory; killed by `stop` or on drop.
pub struct Serve {
    child: Child,
    pub base: String,
    pub key: String,
}

impl Serve {
    pub fn start(data: &Path, plugins: &[PathBuf]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
        // Only the bench's settings: the scripts' WEFT_* are not settings.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WEFT_")) {
            cmd.env_remove(k);
        }
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data);
        for p in plugins {
            cmd.arg("--plugins").arg(p);
        }
        let mut child = cmd
            .env("WEFT_LOG", "error")
            .env("WEFT_LIMITS_API_RATE", "0")
            // The http connector's run calls this server's /healthz.
            .env("WEFT_SANDBOX_ALLOW_PRIVATE_NETWORK", "true")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (mut base, mut key) = (None, None);
        while base.is_none() || key.is_none() {
            let line = lines.next().expect("weft serve exited").unwrap();
            if let Some(rest) = line.strip_prefix("weft serve: listening on ") {
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            if line.trim_start().starts_with("weft_") {
                key = Some(line.trim().to_owned());
            }
        }
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                if !l.trim().is_empty() {
                    eprintln!("weft serve: {l}");
                }
            }
        });
        Self {
            child,
            base: base.unwrap(),
            key: key.unwrap(),
        }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wasm(name: &str) -> PathBuf {
    let p = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/weft/target"))
        .join("wasm32-wasip2/release")
        .join(name);
    assert!(p.exists(), "{} missing: build it first", p.display());
    p
}

const PHASES: [&str; 6] = [
    "upload (PUT blob)",
    "publish (signature, load, disclosure, store)",
    "install with consent",
    "create + activate workflow",
    "first run, until completed",
    "**total**",
];

/// One component to publish.
struct Subject {
    label: String,
    bytes: Vec<u8>,
    name: String,
    version: String,
    /// The publisher: `acme` (made by the bench) or `weft` (the server's key).
    publisher: &'static str,
    step: fn(&str) -> Value,
}

/// One publish-to-runnable on a fresh server; each phase's time.
async fn once(s: &Subject) -> [Duration; 6] {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let c = Client::new(&serve.base, Some(&serve.key)).unwrap();
    let signing: SecretKey = if s.publisher == "weft" {
        read_key_file(&dir.path().join("registry/weft.key"))
            .unwrap()
            .key
    } else {
        c.create_publisher(s.publisher).await.unwrap();
        let (signing, public) = generate().unwrap();
        c.add_publisher_key(s.publisher, &public).await.unwrap();
        signing
    };
    let hex = hex::encode(Sha256::digest(&s.bytes));
    let digest = format!("sha256:{hex}");
    let mut t = Instant::now();
    let mut lap = || {
        let e = t.elapsed();
        t = Instant::now();
        e
    };
    c.put_blob(&digest, s.bytes.clone(), "application/wasm", |_, _| {})
        .await
        .unwrap();
    let upload = lap();
    let new = NewVersion {
        kind: PackageKind::Connector,
        version: s.version.clone(),
        digest: digest.clone(),
        readme: format!("# {}\n\nPublished by the registry benchmark.", s.name),
        keywords: vec!["bench".into()],
        license: "Apache-2.0".into(),
        source: None,
        key_id: signing.key_id(),
        signature: signing.sign(&statement(s.publisher, &s.name, &s.version, &hex)),
    };
    let v = c.publish_version(s.publisher, &s.name, &new).await.unwrap();
    let publish = lap();
    c.create_install(&NewInstall {
        package: format!("{}/{}", s.publisher, s.name),
        version: None,
        pin: None,
        consent: v.disclosure_digest.clone(),
    })
    .await
    .unwrap();
    let install = lap();
    // The tenant grants the http step this server (the greeter calls nothing).
    let def = json!({"name": "bench", "grants": {"hosts": ["127.0.0.1"]},
                     "steps": [(s.step)(&serve.base)]});
    let wf = c.create_workflow(Definition::Json(&def)).await.unwrap();
    c.activate_workflow(&wf.id).await.unwrap();
    let workflow = lap();
    let run = c
        .start_run(
            &wf.id,
            &StartRun {
                input: json!({}),
                until: None,
            },
            &StartQuery {
                wait_ms: Some(30_000),
            },
        )
        .await
        .unwrap();
    let first_run = lap();
    assert_eq!(run.status, Status::Completed, "{}: {run:?}", s.label);
    // The run recorded the published digest (untimed).
    let run = c.get_run(&run.id).await.unwrap();
    let key = (s.step)("")["id"].as_str().unwrap().to_owned();
    let ran = run
        .step(&key)
        .and_then(|st| st.attempts.first())
        .and_then(|a| a.digest.clone());
    assert_eq!(ran.as_deref(), Some(digest.as_str()), "{run:#?}");
    let parts = [upload, publish, install, workflow, first_run];
    let total = parts.iter().sum();
    [upload, publish, install, workflow, first_run, total]
}

/// The median and the worst of each phase over `reps` fresh servers, for
/// each component; and the sandbox's own cold load of each, alone.
pub async fn run(reps: usize) {
    let greeter = std::fs::read(wasm("fixture_greeter.wasm")).unwrap();
    let http = std::fs::read(wasm("weft_plugin_http.wasm")).unwrap();
    let mut subjects = Vec::new();
    for (bytes, publisher, step) in [
        (greeter, "acme", greeter_step as fn(&str) -> Value),
        (http, "weft", http_step as fn(&str) -> Value),
    ] {
        // The sandbox alone: compile, world fit, describe (no cache dir).
        let mut cold = Vec::new();
        let mut manifest = None;
        for _ in 0..reps {
            let sandbox = weft_sandbox::Sandbox::new(weft_sandbox::Options::default()).unwrap();
            let t = Instant::now();
            let p = sandbox.load(&bytes).await.unwrap();
            cold.push(t.elapsed());
            manifest = Some(p.manifest().clone());
        }
        let m = manifest.unwrap();
        cold.sort();
        println!(
            "`{}` {} ({} bytes): Sandbox::load cold in this process, median {:.1} ms, worst {:.1} ms",
            m.name,
            m.version,
            bytes.len(),
            ms(cold[cold.len() / 2]),
            ms(cold[cold.len() - 1])
        );
        subjects.push(Subject {
            label: format!(
                "{publisher}/{} {} ({} KiB)",
                m.name,
                m.version,
                bytes.len() / 1024
            ),
            bytes,
            name: m.name.clone(),
            version: m.version.clone(),
            publisher,
            step,
        });
    }
    let mut results = Vec::new();
    for s in &subjects {
        let mut all: Vec<[Duration; 6]> = Vec::new();
        for _ in 0..reps {
            all.push(once(s).await);
        }
        results.push(all);
    }
    print!("\n| phase ({reps} fresh servers each) |");
    for s in &subjects {
        print!(" {} median / worst |", s.label);
    }
    println!("\n|---|{}", "---|".repeat(subjects.len()));
    for (i, phase) in PHASES.iter().enumerate() {
        print!("| {phase} |");
        for all in &results {
            let mut d: Vec<Duration> = all.iter().map(|r| r[i]).collect();
            d.sort();
            print!(
                " {:.1} / {:.1} ms |",
                ms(d[d.len() / 2]),
                ms(d[d.len() - 1])
            );
        }
        println!();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn greeter_step(_: &str) -> Value {
    json!({"id": "hi", "kind": "action", "connector": "greeter", "action": "greet",
           "input": {"name": "bench"}})
}

fn http_step(base: &str) -> Value {
    json!({"id": "get", "kind": "action", "connector": "http", "action": "request",
           "input": {"url": format!("{base}/healthz")}})
}
