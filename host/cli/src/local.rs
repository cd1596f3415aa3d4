//! `weft serve` and `weft run`.

use crate::args::{ProcessArgs, RunArgs, ServeArgs};
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use weft_app::Actor;
use weft_cli::config::Settings;
use weft_cli::server::{Config, Role, Server, StoreKind};
use weft_engine::Format;
use weft_types::Status;

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
        settings.worker.concurrency = c;
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
    crate::precompile::in_child(&config).await;
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
    if role != Role::Worker {
        match &server.state.console {
            Some(_) => eprintln!("console: open {}/ in a browser", server.state.base_url),
            None => eprintln!("console: not built into this binary (scripts/console builds it)"),
        }
    }
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
    if let Some(key) = &server.operator_key {
        eprintln!("\nOperator key (for /v1/ops; shown once, store it now):\n\n    {key}\n");
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
    for b in &done.resealed.accepted {
        eprintln!(
            "weft migrate: re-sealed credential `{}` ({}) of tenant {} under the current binding: \
             hosts {:?}, injection {} (these were not authenticated before: check them, and \
             rotate the secret if they are not yours)",
            b.name, b.credential_id, b.tenant_id, b.hosts, b.injection
        );
    }
    if done.resealed.skipped > 0 {
        eprintln!(
            "weft migrate: {} credential(s) did not open and were left as they are (refused at \
             run time; see the log for which)",
            done.resealed.skipped
        );
    }
    eprintln!(
        "weft migrate: the database is up to date (tenant {})",
        done.tenant
    );
    if let Some(key) = &done.bootstrap_key {
        eprintln!(
            "\nBootstrap API key for the default tenant (shown once, store it now):\n\n    {key}\n"
        );
    }
    if let Some(key) = &done.operator_key {
        eprintln!("\nOperator key (for /v1/ops; shown once, store it now):\n\n    {key}\n");
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
    let actor = Actor::local(server.default_tenant.clone(), "cli");
    let (wf, _) = match server.app.create_workflow(&actor, &bytes, format).await {
        Ok(created) => created,
        Err(weft_app::Error::InvalidWorkflow { problems, .. }) => {
            for p in &problems {
                eprintln!("{}: {p}", args.file.display());
            }
            server.stop().await;
            bail!("the workflow has {} problem(s)", problems.len());
        }
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", args.file.display())),
    };
    let started = Instant::now();
    let run = server
        .app
        .start_run(&actor, &wf.id, input, None, None)
        .await?;
    eprintln!("run {} of `{}` started", run.id, wf.name);
    let mut seen: HashMap<String, Status> = HashMap::new();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let detail = loop {
        let detail = server.app.get_run(&actor, &run.id).await?;
        for s in detail.steps.iter().map(|d| &d.step) {
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
        if detail.run.status.is_terminal() || Instant::now() > deadline {
            break detail;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let state = &detail.run;
    let mut steps: Vec<_> = detail.steps.iter().map(|d| &d.step).collect();
    steps.sort_by_key(|s| (s.created_at, s.updated_at));
    let attempts: Vec<_> = detail.steps.iter().flat_map(|d| &d.attempts).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"run": state, "steps": steps, "attempts": attempts})
            )?
        );
    } else {
        println!(
            "\n{:<24} {:<10} {:>8} {:>10}  output",
            "step", "status", "attempts", "time (ms)"
        );
        for s in &steps {
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
            state.id,
            state.status,
            started.elapsed().as_secs_f64() * 1e3
        );
        if let Some(r) = &state.response {
            println!("{}", serde_json::to_string_pretty(r)?);
        } else if let Some(o) = &state.output {
            println!("{}", serde_json::to_string_pretty(o)?);
        }
        if let Some(e) = &state.error {
            println!("error: {}", serde_json::to_string(e)?);
        }
    }
    let ok = state.status == Status::Completed;
    server.stop().await;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
