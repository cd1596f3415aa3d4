//! `weft plugin publish`: the component (given, or built from the crate in
//! the current directory) is loaded in the local sandbox first, so the name
//! and version come from its own `describe` and a component the registry
//! would refuse (not wasm, disabled features, a world misfit) is caught
//! before the upload; then the shared publish path uploads, signs and posts.

use crate::args::PublishArgs;
use crate::client::{Artifact, publish};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weft_model::registry::PackageKind;
use weft_sandbox::Options;

/// What `cargo metadata` says about the crate in the current directory.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    license: Option<String>,
    repository: Option<String>,
}

pub async fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let (file, license, source) = match (&args.file, args.build) {
        (Some(f), false) => (f.clone(), None, None),
        (None, true) => build(Path::new("."))?,
        _ => bail!(
            "give the component (PATH.wasm) or --build to build the crate in the current directory"
        ),
    };
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let sandbox = super::sandbox(Options::default())?;
    let plugin = match sandbox.load(&bytes).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "error: {} would be refused by the registry ({}):\n{e}",
                file.display(),
                e.code()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let m = plugin.manifest();
    eprintln!(
        "checked locally: {} {} ({}, {} bytes): valid wasm, fits the world, `describe` answers",
        m.name,
        m.version,
        plugin.digest(),
        bytes.len()
    );
    let artifact = Artifact {
        kind: PackageKind::Connector,
        name: m.name.clone(),
        version: m.version.clone(),
        bytes,
        content_type: "application/wasm",
        license,
        source,
    };
    crate::client::finish(publish(args.options, artifact).await)
}

/// Builds the crate in `dir` as `weft plugin build` does; the component's
/// path and the crate's licence and repository.
fn build(dir: &Path) -> anyhow::Result<(PathBuf, Option<String>, Option<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot run cargo metadata in {}", dir.display()))?;
    if !out.status.success() {
        bail!(
            "--build: {} is not a connector crate (cargo metadata: {})",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let meta: Metadata = serde_json::from_slice(&out.stdout).context("cargo metadata's answer")?;
    let [pkg] = meta.packages.as_slice() else {
        bail!(
            "--build: {} holds {} crates; run it in the connector's own directory",
            dir.display(),
            meta.packages.len()
        );
    };
    super::cargo_build(dir)?;
    let file = meta
        .target_directory
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", pkg.name.replace('-', "_")));
    if !file.exists() {
        bail!(
            "--build: the build finished but {} is not there",
            file.display()
        );
    }
    Ok((file, pkg.license.clone(), pkg.repository.clone()))
}
