//! `weft serve` and `weft run`.

use crate::args::{ProcessArgs, RunArgs, ServeArgs};
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use weft_cli::config::Settings;
use weft_cli::server::{Config, Role, Server, StoreKind};
use weft_engine::{Format, Limits, definition, validate};
use weft_types::{Status, Trigger, Workflow, WorkflowVersion};
use weft_worker::{new_id, new_token, now_ms};

pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(args.config.as_deref())?;
    if let Some(l) = args.listen {
        settings.listen = l;
    }
    if let Some(d) = args.data_dir {
        settings.data_dir = d;
    }
    if !args.plugins.is_empty() {
        settings.plugins = args.plugins;
    }
    if args.base_url.is_some() {
        settings.base_url = args.base_url;
    }
    if let Some(c) = args.concurrency {
        settings.concurrency = c;
    }
    run_process(&settings, Role::All).await
}

/// `weft api` and `weft worker`.
pub async fn process(args: ProcessArgs, role: Role) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    run_process(&settings, role).await
}

async fn run_process(settings: &Settings, role: Role) -> anyhow::Result<ExitCode> {
    let name = match role {
        Role::All => "serve",
        Role::Api => "api",
        Role::Worker => "worker",
    };
    let config = Config::from_settings(settings, role);
    let server = Server::start(config).await?;
    let names: Vec<String> = server
        .handle
        .connectors()
        .list()
        .iter()
        .map(|e| e.plugin.manifest().name.clone())
        .collect();
    eprintln!(
        "weft {name}: listening on http://{} (data in {})",
        server.addr,
        settings.data_dir.display()
    );
    if role != Role::Api {
        eprintln!(
            "connectors: {}",
            if names.is_empty() {
                "none (pass --plugins DIR)".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    if let Some(key) = &server.bootstrap_key {
        eprintln!(
            "\nBootstrap API key for the default tenant (shown once, store it now):\n\n    {key}\n"
        );
    }
    shutdown_signal().await;
    eprintln!("weft {name}: shutting down (finishing steps in flight)");
    server.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// `weft migrate`.
pub async fn migrate(args: ProcessArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    let config = Config::from_settings(&settings, Role::All);
    let done = weft_cli::server::migrate(&config).await?;
    eprintln!(
        "weft migrate: the database is up to date (tenant {})",
        done.tenant
    );
    if let Some(key) = &done.bootstrap_key {
        eprintln!(
            "\nBootstrap API key for the default tenant (shown once, store it now):\n\n    {key}\n"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `weft config`.
pub fn config(args: ProcessArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    print!("{}", settings.to_toml_masked());
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let yaml = args
        .file
        .extension()
        .is_some_and(|e| e == "yaml" || e == "yml");
    let format = if yaml { Format::Yaml } else { Format::Json };
    let input: serde_json::Value =
        serde_json::from_str(&args.input).context("--input is not JSON")?;
    let cache = std::env::var_os("HOME").map_or_else(std::env::temp_dir, |h| {
        std::path::PathBuf::from(h).join(".cache/weft/run")
    });
    let mut config = Config::embedded(cache);
    config.store = StoreKind::Memory;
    config.http = false;
    config.plugins = args.plugins;
    let server = Server::start(config).await?;
    let limits = Limits::default();
    let def = definition::parse(&bytes, format, &limits)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let problems = validate::check(&def, &server.handle.connectors().catalog(), &limits);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{}: {p}", args.file.display());
        }
        bail!("the workflow has {} problem(s)", problems.len());
    }
    let tenant = server.default_tenant.clone();
    let now = now_ms();
    let wf = Workflow {
        tenant_id: tenant.clone(),
        id: new_id("wf"),
        name: def.name.clone(),
        version: 1,
        active: false,
        webhook_token: new_token(),
        created_at: now,
        updated_at: now,
    };
    let version = WorkflowVersion {
        tenant_id: tenant.clone(),
        workflow_id: wf.id.clone(),
        version: 1,
        definition: serde_json::to_value(&def)?,
        created_at: now,
    };
    server.handle.store().create_workflow(&wf, &version).await?;
    let started = Instant::now();
    let run = server
        .handle
        .start(
            &tenant,
            &wf,
            Trigger::Manual,
            serde_json::json!({"body": input}),
        )
        .await?;
    eprintln!("run {} of `{}` started", run.id, def.name);
    let mut seen: HashMap<String, Status> = HashMap::new();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut state = loop {
        let state = server
            .handle
            .store()
            .load_run(&tenant, &run.id)
            .await?
            .context("run vanished")?;
        for s in &state.steps {
            if seen.get(&s.key) != Some(&s.status) {
                seen.insert(s.key.clone(), s.status);
                let extra = s
                    .error
                    .as_ref()
                    .map(|e| format!(" ({})", e.message))
                    .unwrap_or_default();
                eprintln!(
                    "  {:>8.1} ms  {:<24} {}{extra}",
                    started.elapsed().as_secs_f64() * 1e3,
                    s.key,
                    s.status
                );
            }
        }
        if state.run.status.is_terminal() || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    state.steps.sort_by_key(|s| (s.created_at, s.updated_at));
    let attempts = server
        .handle
        .store()
        .list_attempts(&tenant, &run.id)
        .await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"run": state.run, "steps": state.steps, "attempts": attempts})
            )?
        );
    } else {
        println!(
            "\n{:<24} {:<10} {:>8} {:>10}  output",
            "step", "status", "attempts", "time (ms)"
        );
        for s in &state.steps {
            let mine: Vec<_> = attempts.iter().filter(|a| a.step_key == s.key).collect();
            let ms: i64 = mine
                .iter()
                .filter_map(|a| a.finished_at.map(|f| f - a.started_at))
                .sum();
            let out = match (&s.output, &s.error) {
                (Some(v), _) => v.to_string(),
                (None, Some(e)) => serde_json::to_string(e)?,
                (None, None) => String::new(),
            };
            let out: String = out.chars().take(60).collect();
            println!(
                "{:<24} {:<10} {:>8} {:>10}  {out}",
                s.key,
                s.status.as_str(),
                mine.len(),
                ms
            );
        }
        println!(
            "\nrun {} {} in {:.1} ms",
            state.run.id,
            state.run.status,
            started.elapsed().as_secs_f64() * 1e3
        );
        if let Some(r) = &state.run.response {
            println!("{}", serde_json::to_string_pretty(r)?);
        } else if let Some(o) = &state.run.output {
            println!("{}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &state.run.error {
            println!("error: {}", serde_json::to_string(e)?);
        }
    }
    let ok = state.run.status == Status::Completed;
    server.stop().await;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
