//! Compiling the bundled connectors in a short-lived child process.
//!
//! Compiling a component (and pre-initialising one that exports `init`) takes
//! tens of MiB of cranelift and wizer allocations. In the server's own process
//! glibc keeps much of it (fragmented arenas, even after `malloc_trim`): a
//! `weft serve` on a fresh data directory idled at 80+ MB against ~50 MB for a
//! restart on a warm component cache. So the binary first runs itself as
//! `weft precompile-connectors` (hidden), which builds a sandbox with the same
//! options and cache directory, loads every bundled connector (writing the
//! HMAC-checked artifacts) and exits; the server then loads them from the
//! cache like a restart does. If the child fails, the server compiles them
//! itself, as before. Only the binary does this: the test harness runs the
//! server in-process, where the current executable is not `weft`.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use weft_cli::server::Config;

/// What the parent hands the child on its standard input.
#[derive(Serialize, Deserialize)]
struct Job {
    sandbox: weft_sandbox::Options,
    plugins: Vec<PathBuf>,
}

/// Runs the child for `config`'s connectors and waits for it; a failure is
/// logged, never fatal (the server then compiles in its own process).
pub async fn in_child(config: &Config) {
    if config.plugins.is_empty() {
        return;
    }
    let mut sandbox = config.sandbox.clone();
    // The directory `Server::start` uses, so the server finds the artifacts.
    if sandbox.cache_dir.is_none() {
        sandbox.cache_dir = Some(config.data_dir.join("cache"));
    }
    let job = Job {
        sandbox,
        plugins: config.plugins.clone(),
    };
    let ran = tokio::task::spawn_blocking(move || run_child(&job)).await;
    match ran {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %format!("{e:#}"), "connectors not precompiled in a child process; compiling them in this one")
        }
        Err(e) => {
            tracing::warn!(error = %e, "the precompile task failed; compiling the connectors in this process")
        }
    }
}

fn run_child(job: &Job) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut child = Command::new(&exe)
        .arg("precompile-connectors")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot start {} precompile-connectors", exe.display()))?;
    let input = serde_json::to_vec(job).context("cannot encode the sandbox options")?;
    child
        .stdin
        .take()
        .context("the child has no standard input")?
        .write_all(&input)
        .context("cannot hand the child its job")?;
    let status = child.wait().context("cannot wait for the child")?;
    anyhow::ensure!(status.success(), "the child exited with {status}");
    Ok(())
}

/// `weft precompile-connectors`: the child's side. Loads each connector (a
/// file, or every `*.wasm` of a directory); one that does not load is
/// reported and skipped (the server reports it again when it loads it).
///
/// # Errors
/// The job cannot be read or the sandbox cannot be built.
pub async fn child() -> anyhow::Result<ExitCode> {
    let job: Job = serde_json::from_reader(std::io::stdin().lock())
        .context("cannot read the job from standard input")?;
    let sandbox = weft_sandbox::Sandbox::new(job.sandbox)?;
    for path in &job.plugins {
        for file in wasm_files(path) {
            if let Err(e) = sandbox.load_file(&file).await {
                tracing::warn!(path = %file.display(), error = %e, "connector not precompiled");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `path` itself, or the `*.wasm` files of the directory `path`.
fn wasm_files(path: &std::path::Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_owned()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    files.sort();
    files
}
