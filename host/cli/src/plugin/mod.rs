//! `weft plugin ...`

mod invoke;
mod project;
mod publish;
mod runner;
mod scaffold;
mod scenario;
mod templates;
mod units;

use crate::args::PluginCommand;
use anyhow::{Context, bail};
use std::{path::Path, process::ExitCode};
use weft_sandbox::{Options, Sandbox};

pub async fn run(cmd: PluginCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::New { name, dir, lang } => {
            scaffold::new(&name, &dir, lang).map(|()| ExitCode::SUCCESS)
        }
        PluginCommand::Build { dir } => {
            let file = project::open(&dir)?.build()?;
            println!("{}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Test { dir, file } => runner::run(&dir, file).await,
        PluginCommand::Inspect { file, json } => inspect(&file, json).await,
        PluginCommand::Invoke(args) => invoke::run(args).await,
        PluginCommand::Keygen { publisher, out } => {
            let publisher = match publisher {
                Some(p) => p,
                None => std::env::var("USER")
                    .ok()
                    .filter(|u| weft_registry::names::publisher_name(u).is_ok())
                    .context("give --publisher NAME ($USER is not a valid publisher name)")?,
            };
            crate::client::keygen(&publisher, out).map(|()| ExitCode::SUCCESS)
        }
        PluginCommand::Publish(args) => publish::run(args).await,
    }
}

fn cargo(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(args)
            .current_dir(dir)
            .status()
            .with_context(|| format!("cannot run cargo in {}", dir.display()))?;
    if !status.success() {
        bail!("`cargo {}` failed in {}", args.join(" "), dir.display());
    }
    Ok(())
}

fn cargo_build(dir: &Path) -> anyhow::Result<()> {
    cargo(dir, &["build", "--release", "--target", "wasm32-wasip2"])
}

/// A sandbox for one-off CLI use: the on-disk artifact cache under the user's cache.
fn sandbox(options: Options) -> anyhow::Result<Sandbox> {
    sandbox_with(options, None)
}

/// [`sandbox`] with its network replaced by `transport` (the scenario runner's script).
fn sandbox_with(
    options: Options,
    transport: Option<std::sync::Arc<dyn weft_sandbox::egress::Transport>>,
) -> anyhow::Result<Sandbox> {
    let cache_dir = std::env::var_os("WEFT_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/weft/components")));
    let options = Options {
        cache_dir,
        ..options
    };
    Ok(match transport {
        Some(t) => Sandbox::with_transport(options, t)?,
        None => Sandbox::new(options)?,
    })
}

async fn inspect(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let sandbox = sandbox(Options::default())?;
    let plugin = match sandbox.load_file(file).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {} cannot be loaded:\n{e}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let m = plugin.manifest();
    let imports: Vec<serde_json::Value> = plugin
        .shape()
        .imports
        .iter()
        .map(|i| serde_json::json!({"name": i.name, "origin": format!("{:?}", i.origin).to_lowercase()}))
        .collect();
    if json {
        let doc = serde_json::json!({
            "digest": plugin.digest().to_string(),
            "size": plugin.size(),
            "manifest": m,
            "imports": imports,
            "exports": plugin.shape().exports,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{} {} — {}", m.name, m.version, m.description);
    println!("digest: {}  ({} bytes)", plugin.digest(), plugin.size());
    println!("\nactions:");
    for a in &m.actions {
        println!("  {:<20} {}", a.name, a.description);
    }
    println!("\ncapabilities:");
    let hosts: Vec<String> = m
        .capabilities
        .hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    println!(
        "  outbound hosts: {}",
        if hosts.is_empty() {
            "none".into()
        } else {
            hosts.join(", ")
        }
    );
    if m.capabilities.credentials.is_empty() {
        println!("  credentials:    none");
    }
    for c in &m.capabilities.credentials {
        let hosts: Vec<String> = c.hosts.iter().map(ToString::to_string).collect();
        let optional = if c.optional { ", optional" } else { "" };
        println!(
            "  credential:     {} → {} ({}{optional})",
            c.name,
            hosts.join(", "),
            c.description
        );
    }
    println!(
        "  state:          {}",
        if m.capabilities.state { "yes" } else { "no" }
    );
    println!("\nimports:");
    for i in &plugin.shape().imports {
        if i.origin == weft_sandbox::Origin::Denied {
            println!("  {}  (linked, every call refused)", i.name);
        } else {
            println!("  {}", i.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}
