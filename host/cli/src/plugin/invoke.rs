//! `weft plugin invoke`: one action, in the sandbox, from the command line.

use super::units;
use crate::args::InvokeArgs;
use anyhow::{Context, bail};
use std::{collections::HashMap, net::IpAddr, process::ExitCode};
use weft_sandbox::{
    Credential, EgressOptions, Grants, Injection, Invocation, MemoryState, Namespace, Options,
    Secret, StateGrant, StepLimits,
};
use weft_types::{HostPattern, Manifest, StepContext};

pub async fn run(args: InvokeArgs) -> anyhow::Result<ExitCode> {
    for (what, text) in [("--input", &args.input), ("--config", &args.config)] {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
            bail!("{what} is not valid JSON: {e}");
        }
    }
    let limits = StepLimits {
        timeout: units::duration(&args.timeout).context("--timeout")?,
        memory_bytes: units::bytes(&args.memory).context("--memory")?,
        ..StepLimits::default()
    };
    let mut resolve: HashMap<String, Vec<IpAddr>> = HashMap::new();
    for r in &args.resolve {
        let (name, ip) = r
            .split_once('=')
            .with_context(|| format!("--resolve `{r}`: expected NAME=IP"))?;
        let ip: IpAddr = ip
            .parse()
            .with_context(|| format!("--resolve `{r}`: `{ip}` is not an IP address"))?;
        resolve
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(ip);
    }
    let options = Options {
        limits,
        egress: EgressOptions {
            allow_private: args.allow_private,
            resolve,
        },
        ..Options::default()
    };
    let engine_max = options.engine.max_memory_bytes;
    if limits.memory_bytes > engine_max {
        bail!(
            "--memory {} is over the engine's maximum of {engine_max} bytes",
            args.memory
        );
    }
    let sandbox = super::sandbox(options)?;
    let plugin = match sandbox.load_file(&args.file).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {} cannot be loaded:\n{e}", args.file.display());
            return Ok(ExitCode::from(2));
        }
    };
    let hosts = args
        .allow_hosts
        .iter()
        .map(|h| h.parse::<HostPattern>().map_err(anyhow::Error::from))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("--allow-host")?;
    let credentials = args
        .credentials
        .iter()
        .map(|c| credential(c, plugin.manifest(), &hosts))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let grants = Grants {
        hosts,
        credentials,
        state: plugin.manifest().capabilities.state.then(|| StateGrant {
            store: std::sync::Arc::new(MemoryState::default()),
            namespace: Namespace {
                tenant: "local".into(),
                plugin: plugin.manifest().name.clone(),
            },
        }),
        refresh: None,
    };
    let invocation = Invocation {
        action: args.action.clone(),
        input: args.input.clone(),
        config: args.config.clone(),
        context: StepContext::adhoc(format!("cli-{}", std::process::id())),
        grants,
        limits,
        cancel: None,
    };
    let outcome = sandbox.invoke(&plugin, invocation).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        for r in &outcome.logs {
            eprintln!("[{:?} {:?}] {}", r.level, r.source, r.message);
        }
        let u = &outcome.usage;
        eprintln!(
            "usage: {:.3} ms wall, {} KiB peak memory, {} requests ({} B out, {} B in), {} B logs",
            u.wall_time_us as f64 / 1000.0,
            u.peak_memory_bytes / 1024,
            u.egress_requests,
            u.egress_bytes_out,
            u.egress_bytes_in,
            u.log_bytes
        );
    }
    match &outcome.result {
        Ok(v) => {
            if !args.json {
                println!("{}", serde_json::to_string_pretty(v)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            if !args.json {
                eprintln!("error: {f}");
                if let Some(ms) = f.retry_after_ms {
                    eprintln!("retry after: {ms} ms");
                }
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// Parses `SLOT=SECRET[@HOSTS]` where SECRET may be `env:VAR` or `file:PATH`.
fn credential(
    spec: &str,
    manifest: &Manifest,
    granted: &[HostPattern],
) -> anyhow::Result<Credential> {
    let (slot, rest) = spec
        .split_once('=')
        .with_context(|| "--credential expects SLOT=SECRET[@HOSTS]".to_string())?;
    let declared = manifest.credential(slot).with_context(|| {
        let slots: Vec<&str> = manifest
            .capabilities
            .credentials
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        format!(
            "--credential: the plugin declares no credential slot `{slot}` (it declares: {})",
            slots.join(", ")
        )
    })?;
    let (secret, hosts) = match rest.rsplit_once('@') {
        Some((s, h)) => match h
            .split(',')
            .map(str::parse::<HostPattern>)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(hosts) if !h.is_empty() => (s, Some(hosts)),
            _ => (rest, None),
        },
        None => (rest, None),
    };
    let secret = if let Some(var) = secret.strip_prefix("env:") {
        std::env::var(var).with_context(|| {
            format!("--credential {slot}: environment variable {var} is not set")
        })?
    } else if let Some(path) = secret.strip_prefix("file:") {
        std::fs::read_to_string(path)
            .with_context(|| format!("--credential {slot}: cannot read {path}"))?
            .trim()
            .to_owned()
    } else {
        secret.to_owned()
    };
    let hosts = match hosts {
        Some(h) => h,
        None if declared.hosts.iter().any(HostPattern::is_any) => granted.to_vec(),
        None => declared.hosts.clone(),
    };
    Ok(Credential {
        slot: slot.into(),
        secret: Secret::new(secret),
        hosts,
        inject: Injection::Bearer,
    })
}
