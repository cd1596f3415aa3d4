//! `weft credentials ...`: create (the secret from an environment variable, a
//! file or stdin, never from an argument, which `ps` would show), list, delete.

use super::ServerArgs;
use super::http::{Body, Client};
use super::output::{Table, cut, out, s, time};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;

/// Largest secret read from a file or stdin, in bytes.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// `weft credentials ...`.
#[derive(Debug, Subcommand)]
pub enum CredentialsCommand {
    /// Store a credential (sealed at once; nothing shows it again).
    ///
    /// Workflows use it by NAME in `grants.credentials: {SLOT: NAME}`. The secret is
    /// never an argument (`ps` would show it): give an environment variable, a file
    /// or stdin.
    Create {
        /// Unique per tenant.
        name: String,
        /// A host it may be sent to (repeatable, or comma-separated):
        /// `api.example.com`, `*.example.com`, `host:port`, `*`.
        #[arg(
            long = "host",
            value_name = "PATTERN",
            required = true,
            value_delimiter = ','
        )]
        hosts: Vec<String>,
        #[command(flatten)]
        secret: SecretSource,
        /// How it is put into requests: `bearer` (Authorization: Bearer), `basic:USER`,
        /// `header:NAME` or `query:PARAM`.
        #[arg(long, value_name = "HOW", default_value = "bearer", value_parser = parse_injection)]
        injection: Value,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List credentials: names, hosts and injection, never secrets.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a credential (steps that use it then fail with `missing_credential`).
    Delete {
        /// The credential's id (see `weft credentials list`).
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Where the secret comes from: exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct SecretSource {
    /// Read the secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// Read the secret from this file (one trailing newline is dropped).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Read the secret from standard input (one trailing newline is dropped).
    #[arg(long)]
    secret_stdin: bool,
}

impl SecretSource {
    fn read(&self) -> anyhow::Result<String> {
        let secret = if let Some(var) = &self.secret_env {
            std::env::var(var).with_context(|| {
                format!("--secret-env: environment variable `{var}` is not set (or not UTF-8)")
            })?
        } else if let Some(path) = &self.secret_file {
            let file = std::fs::File::open(path)
                .with_context(|| format!("--secret-file: cannot open {}", path.display()))?;
            bounded(file).with_context(|| format!("--secret-file {}", path.display()))?
        } else if self.secret_stdin {
            bounded(std::io::stdin().lock()).context("--secret-stdin")?
        } else {
            bail!("give the secret with --secret-env VAR, --secret-file PATH or --secret-stdin");
        };
        let secret = secret
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(&secret)
            .to_owned();
        if secret.is_empty() {
            bail!("the secret is empty");
        }
        Ok(secret)
    }
}

fn bounded(r: impl Read) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    r.take(MAX_SECRET_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_SECRET_BYTES {
        bail!("the secret is longer than {MAX_SECRET_BYTES} bytes");
    }
    String::from_utf8(buf).map_err(|_| anyhow::anyhow!("the secret is not UTF-8"))
}

/// `bearer`, `basic:USER`, `header:NAME`, `query:PARAM` as the API's injection object.
fn parse_injection(text: &str) -> Result<Value, String> {
    let (kind, arg) = match text.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (text, None),
    };
    let arg = arg.filter(|a| !a.is_empty());
    match (kind, arg) {
        ("bearer", None) => Ok(json!({"type": "bearer"})),
        ("basic", Some(u)) => Ok(json!({"type": "basic", "username": u})),
        ("header", Some(n)) => Ok(json!({"type": "header", "name": n})),
        ("query", Some(p)) => Ok(json!({"type": "query", "param": p})),
        _ => Err(format!(
            "`{text}` is not one of bearer, basic:USER, header:NAME, query:PARAM"
        )),
    }
}

/// The injection object for humans.
fn injection_text(v: &Value) -> String {
    match s(v, "type") {
        "bearer" => "bearer".into(),
        "basic" => format!("basic:{}", s(v, "username")),
        "header" => format!("header:{}", s(v, "name")),
        "query" => format!("query:{}", s(v, "param")),
        _ => v.to_string(),
    }
}

/// Runs one `weft credentials` subcommand.
///
/// # Errors
/// [`super::http::ApiError`] for refusals; an unreadable secret, unreachable servers.
pub async fn run(cmd: CredentialsCommand) -> anyhow::Result<()> {
    match cmd {
        CredentialsCommand::Create {
            name,
            hosts,
            secret,
            injection,
            server,
        } => {
            let c = Client::new(&server)?;
            let body = json!({
                "name": name,
                "secret": secret.read()?,
                "hosts": hosts,
                "injection": injection,
            });
            let v = c.post(&["v1", "credentials"], Body::Json(body)).await?;
            if !c.raw(&v)? {
                out!(
                    "stored credential {} `{}` for {} ({})",
                    s(&v, "id"),
                    s(&v, "name"),
                    hosts_text(&v),
                    v.get("injection").map(injection_text).unwrap_or_default()
                );
                out!(
                    "use it in a workflow: grants: {{credentials: {{SLOT: {}}}}}",
                    s(&v, "name")
                );
            }
        }
        CredentialsCommand::List { server } => {
            let c = Client::new(&server)?;
            let v = c.get(&["v1", "credentials"], &[]).await?;
            if !c.raw(&v)? {
                let mut t = Table::new(&["ID", "NAME", "INJECTION", "CREATED (UTC)", "HOSTS"]);
                for cr in v
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    t.row(vec![
                        s(cr, "id").to_owned(),
                        cut(s(cr, "name"), 40),
                        cr.get("injection").map(injection_text).unwrap_or_default(),
                        time(cr.get("created_at").and_then(Value::as_i64)),
                        hosts_text(cr),
                    ]);
                }
                if t.is_empty() {
                    out!("no credentials");
                } else {
                    t.print();
                }
            }
        }
        CredentialsCommand::Delete { id, server } => {
            let c = Client::new(&server)?;
            c.delete(&["v1", "credentials", &id]).await?;
            if !c.raw(&json!({"deleted": id}))? {
                out!("deleted credential {id}");
            }
        }
    }
    Ok(())
}

fn hosts_text(v: &Value) -> String {
    v.get("hosts")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_parse_into_the_api_shape() {
        assert_eq!(parse_injection("bearer"), Ok(json!({"type": "bearer"})));
        assert_eq!(
            parse_injection("basic:ada"),
            Ok(json!({"type": "basic", "username": "ada"}))
        );
        assert_eq!(
            parse_injection("header:X-Api-Key"),
            Ok(json!({"type": "header", "name": "X-Api-Key"}))
        );
        assert_eq!(
            parse_injection("query:key"),
            Ok(json!({"type": "query", "param": "key"}))
        );
        assert!(parse_injection("basic").is_err());
        assert!(parse_injection("header:").is_err());
        assert!(parse_injection("bearer:x").is_err());
    }
}
