//! `weft plugin publish`: the component (given, or built from the project in
//! the current directory, in any of the three languages) is loaded in the local sandbox first, so the name
//! and version come from its own `describe` and a component the registry
//! would refuse (not wasm, disabled features, a world misfit) is caught
//! before the upload; then the shared publish path uploads, signs and posts.

use crate::args::PublishArgs;
use crate::client::{Artifact, publish};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weft_model::registry::PackageKind;
use weft_sandbox::Options;

pub async fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let (file, license, source) = match (&args.file, args.build) {
        (Some(f), false) => (f.clone(), None, None),
        (None, true) => build(Path::new("."))?,
        _ => bail!(
            "give the component (PATH.wasm) or --build to build the project in the current directory"
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

/// Builds the project in `dir` as `weft plugin build` does (Rust, Python or
/// JavaScript); the component's path and the project's licence and repository.
fn build(dir: &Path) -> anyhow::Result<(PathBuf, Option<String>, Option<String>)> {
    let project = super::project::open(dir).context("--build")?;
    let file = project.build().context("--build")?;
    Ok((file, project.license, project.repository))
}
