//! `weft templates ...`: search and show templates, `use` one in this
//! tenant (its parameters checked against its schema), publish one.

use super::ServerArgs;
use super::http::Cli;
use super::output::{block, out};
use super::registry::publish::{Artifact, PublishOptions, publish};
use super::registry::words::PackageRef;
use super::registry::{SearchArgs, read, resolve};
use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Map, Value};
use std::path::PathBuf;
use weft_model::registry::{PackageKind, UseTemplate};

/// `weft templates ...`.
#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Search templates.
    Search {
        #[command(flatten)]
        search: SearchArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// A template: what it does, what it needs, its parameters and examples.
    Show {
        /// `PUBLISHER/NAME[@VERSION]` (default: the latest).
        package: PackageRef,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Create a workflow (inactive unless --activate) from a template.
    Use {
        /// `PUBLISHER/NAME[@VERSION]` (default: the latest).
        package: PackageRef,
        /// A parameter (repeatable): `k=v`; `v` is read as JSON when it parses, else as text.
        #[arg(long = "param", value_name = "K=V")]
        params: Vec<String>,
        /// Parameters from a JSON object file (--param wins over it).
        #[arg(long = "params", value_name = "FILE.json")]
        params_file: Option<PathBuf>,
        /// Activate the workflow at once.
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Publish a template document (JSON) as a signed version.
    Publish {
        /// The template document.
        file: PathBuf,
        /// The version to publish (semver).
        #[arg(long)]
        version: String,
        #[command(flatten)]
        options: PublishOptions,
    },
}

/// Runs `weft templates ...`.
///
/// # Errors
/// Refusals from the server; bad arguments and files.
pub async fn run(cmd: TemplatesCommand) -> anyhow::Result<()> {
    match cmd {
        TemplatesCommand::Search { search, server } => {
            super::registry::search(&Cli::new(&server)?, search, Some(PackageKind::Template)).await
        }
        TemplatesCommand::Show { package, server } => show(&Cli::new(&server)?, &package).await,
        TemplatesCommand::Use {
            package,
            params,
            params_file,
            activate,
            server,
        } => {
            let c = Cli::new(&server)?;
            let parameters = parameters(&params, params_file.as_ref())?;
            let body = UseTemplate {
                version: package.version.clone(),
                parameters: Value::Object(parameters),
            };
            let mut wf = c
                .api
                .use_template(&package.publisher, &package.name, &body)
                .await?;
            if activate {
                wf = c.api.activate_workflow(&wf.id).await?;
            }
            if !c.raw(&wf)? {
                let state = if wf.active { "active" } else { "inactive" };
                out!("created workflow {} `{}` ({state})", wf.id, wf.name);
                if let Some(hook) = &wf.webhook_url {
                    out!("webhook: {hook}");
                }
                if !wf.active {
                    out!("next: weft workflows activate {}", wf.id);
                }
            }
            Ok(())
        }
        TemplatesCommand::Publish {
            file,
            version,
            options,
        } => {
            let bytes = read(&file, "template")?;
            let template = weft_registry::Template::parse(&bytes).map_err(|problems| {
                let mut msg = format!("{} is not a valid template:", file.display());
                for p in &problems.0 {
                    msg.push_str(&format!("\n  {p}"));
                }
                anyhow::anyhow!(msg)
            })?;
            weft_registry::names::version(&version)
                .map_err(|e| anyhow::anyhow!("--version: {e}"))?;
            let artifact = Artifact {
                kind: PackageKind::Template,
                name: template.name,
                version,
                bytes,
                content_type: "application/json",
                license: None,
                source: None,
            };
            publish(options, artifact).await
        }
    }
}

/// The parameters: the file's object, then each `--param` over it.
fn parameters(params: &[String], file: Option<&PathBuf>) -> anyhow::Result<Map<String, Value>> {
    let mut out = match file {
        Some(path) => {
            let bytes = read(path, "--params")?;
            match serde_json::from_slice::<Value>(&bytes)
                .with_context(|| format!("--params {}: not JSON", path.display()))?
            {
                Value::Object(m) => m,
                _ => bail!("--params {}: expected a JSON object", path.display()),
            }
        }
        None => Map::new(),
    };
    for p in params {
        let Some((k, v)) = p.split_once('=') else {
            bail!("--param `{p}`: expected K=V");
        };
        if k.is_empty() {
            bail!("--param `{p}`: the name before `=` is empty");
        }
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        out.insert(k.to_owned(), value);
    }
    Ok(out)
}

async fn show(c: &Cli, r: &PackageRef) -> anyhow::Result<()> {
    let v = resolve(c, r).await?;
    if c.raw(&v)? {
        return Ok(());
    }
    out!("{}/{} {}  template", v.publisher, v.name, v.version);
    out!("  {}", v.description);
    let m = &v.manifest;
    for key in ["category", "difficulty"] {
        if let Some(s) = m.get(key).and_then(Value::as_str) {
            out!("  {key}: {s}");
        }
    }
    if let Some(Value::Object(req)) = m.get("requires")
        && !req.is_empty()
    {
        let needs: Vec<String> = req
            .iter()
            .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("*")))
            .collect();
        out!("  requires: {}", needs.join(", "));
    }
    let props = m
        .pointer("/parameters/properties")
        .and_then(Value::as_object);
    let required: Vec<&str> = m
        .pointer("/parameters/required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = props {
        out!("parameters:");
        for (name, schema) in props {
            let ty = schema.get("type").map(Value::to_string).unwrap_or_default();
            let star = if required.contains(&name.as_str()) {
                "*"
            } else {
                ""
            };
            let default = schema
                .get("default")
                .map(|d| format!(" (default {d})"))
                .unwrap_or_default();
            let about = schema
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            out!("  {name}{star} {ty}{default}  {about}");
        }
    }
    if let Some(ex) = m.get("examples") {
        block("examples", ex)?;
    }
    out!(
        "use it: weft templates use {}/{} --param K=V ...",
        v.publisher,
        v.name
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn params_are_json_when_they_parse_and_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.json");
        std::fs::write(&f, r##"{"channel": "#ops", "limit": 1}"##).unwrap();
        let p = parameters(
            &[
                "limit=5".into(),
                "name=hello world".into(),
                "on=true".into(),
            ],
            Some(&f),
        )
        .unwrap();
        assert_eq!(
            Value::Object(p),
            serde_json::json!({
                "channel": "#ops", "limit": 5, "name": "hello world", "on": true
            })
        );
        assert!(
            parameters(&["nokey".into()], None)
                .unwrap_err()
                .to_string()
                .contains("K=V")
        );
        std::fs::write(&f, "[1]").unwrap();
        assert!(
            parameters(&[], Some(&f))
                .unwrap_err()
                .to_string()
                .contains("expected a JSON object")
        );
    }
}
