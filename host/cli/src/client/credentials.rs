//! `weft credentials ...`: create (the secret from an environment variable, a
//! file or stdin, never from an argument, which `ps` would show), list, delete,
//! and authorize an OAuth2 credential (prints the URL to open).

use super::ServerArgs;
use super::http::Cli;
use super::output::{Table, cut, out, time};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use weft_model::{Credential, Injection, NewCredential};
use weft_types::HostPattern;

/// Largest secret read from a file or stdin, in bytes.
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// `weft credentials ...`.
#[derive(Debug, Subcommand)]
// Parsed once per process: the size of `Create` (an inline OAuth2 injection)
// costs nothing.
#[allow(clippy::large_enum_variant)]
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
        hosts: Vec<HostPattern>,
        #[command(flatten)]
        secret: SecretSource,
        /// How it is put into requests: `bearer` (Authorization: Bearer), `basic:USER`,
        /// `header:NAME`, `query:PARAM`, `path:PLACEHOLDER` or
        /// `aws-sigv4:ACCESS_KEY_ID:REGION[:SERVICE]` (AWS Signature Version 4,
        /// signed by the server; the secret is the secret access key; service `s3`
        /// by default).
        #[arg(long, value_name = "HOW", default_value = "bearer", value_parser = parse_injection)]
        injection: Injection,
        /// An OAuth2 credential: a JSON file of its settings (`grant`,
        /// `authorize_url`, `token_url`, `client_id`, `scopes`,
        /// `client_auth`); the secret is then the client secret. Replaces
        /// `--injection`.
        #[arg(long, value_name = "PATH", conflicts_with = "injection")]
        oauth2: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Authorize an OAuth2 credential: prints the provider URL to open in a
    /// browser; after consent the provider sends the browser back to this
    /// deployment, which seals the tokens. Also after `needs_reauthorization`.
    Authorize {
        /// The credential's name (or id).
        name: String,
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

/// `bearer`, `basic:USER`, `header:NAME`, `query:PARAM`, `path:PLACEHOLDER`,
/// `amqp:URL` (a broker login for `triggers.queue`) as an [`Injection`].
fn parse_injection(text: &str) -> Result<Injection, String> {
    let (kind, arg) = match text.split_once(':') {
        Some((k, a)) => (k, Some(a)),
        None => (text, None),
    };
    let arg = arg.filter(|a| !a.is_empty()).map(str::to_owned);
    match (kind, arg) {
        ("bearer", None) => Ok(Injection::Bearer),
        ("basic", Some(username)) => Ok(Injection::Basic { username }),
        ("header", Some(name)) => Ok(Injection::Header { name }),
        ("query", Some(param)) => Ok(Injection::Query { param }),
        ("path", Some(placeholder)) => Ok(Injection::Path { placeholder }),
        ("aws-sigv4", Some(rest)) => aws_sigv4(&rest),
        ("amqp", Some(url)) => Ok(Injection::Amqp { url }),
        _ => Err(format!(
            "`{text}` is not one of bearer, basic:USER, header:NAME, query:PARAM, path:PLACEHOLDER, aws-sigv4:ACCESS_KEY_ID:REGION, amqp:URL"
        )),
    }
}

/// `aws-sigv4:ACCESS_KEY_ID:REGION[:SERVICE]` (the service defaults to `s3`).
fn aws_sigv4(rest: &str) -> Result<Injection, String> {
    let parts: Vec<&str> = rest.split(':').collect();
    match parts[..] {
        [id, region] | [id, region, "s3"] if !id.is_empty() && !region.is_empty() => {
            Ok(Injection::AwsSigv4 {
                access_key_id: id.into(),
                region: region.into(),
                service: "s3".into(),
            })
        }
        [id, region, service] if !id.is_empty() && !region.is_empty() && !service.is_empty() => {
            Ok(Injection::AwsSigv4 {
                access_key_id: id.into(),
                region: region.into(),
                service: service.into(),
            })
        }
        _ => Err(format!(
            "`aws-sigv4:{rest}` is not aws-sigv4:ACCESS_KEY_ID:REGION or aws-sigv4:ACCESS_KEY_ID:REGION:SERVICE"
        )),
    }
}

/// The injection for humans, as `--injection` takes it.
fn injection_text(i: &Injection) -> String {
    match i {
        Injection::Bearer => "bearer".into(),
        Injection::Basic { username } => format!("basic:{username}"),
        Injection::Header { name } => format!("header:{name}"),
        Injection::Query { param } => format!("query:{param}"),
        Injection::Path { placeholder } => format!("path:{placeholder}"),
        Injection::AwsSigv4 {
            access_key_id,
            region,
            service,
        } => format!("aws-sigv4:{access_key_id}:{region}:{service}"),
        Injection::Amqp { url } => format!("amqp:{url}"),
        Injection::OAuth2(o) => match o.grant {
            weft_model::OAuth2Grant::AuthorizationCode => "oauth2:authorization_code".into(),
            weft_model::OAuth2Grant::ClientCredentials => "oauth2:client_credentials".into(),
        },
    }
}

/// Runs one `weft credentials` subcommand.
///
/// # Errors
/// Refusals from the server ([`weft_client::Error::Api`]); an unreadable
/// secret, unreachable servers.
pub async fn run(cmd: CredentialsCommand) -> anyhow::Result<()> {
    match cmd {
        CredentialsCommand::Create {
            name,
            hosts,
            secret,
            injection,
            oauth2,
            server,
        } => {
            let injection = match oauth2 {
                None => injection,
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("--oauth2: cannot read {}", path.display()))?;
                    let o: weft_model::OAuth2 = serde_json::from_str(&text).with_context(|| {
                        format!("--oauth2 {}: not OAuth2 settings", path.display())
                    })?;
                    Injection::OAuth2(o)
                }
            };
            let c = Cli::new(&server)?;
            let new = NewCredential {
                name,
                secret: secret.read()?,
                hosts,
                injection,
            };
            let cr = c.api.create_credential(&new).await?;
            if !c.raw(&cr)? {
                out!(
                    "stored credential {} `{}` for {} ({})",
                    cr.id,
                    cr.name,
                    hosts_text(&cr),
                    injection_text(&cr.injection)
                );
                out!(
                    "use it in a workflow: grants: {{credentials: {{SLOT: {}}}}}",
                    cr.name
                );
            }
        }
        CredentialsCommand::List { server } => {
            let c = Cli::new(&server)?;
            let items = c.api.list_credentials().await?;
            if !c.raw(&weft_model::List::from(items.clone()))? {
                let mut t = Table::new(&["ID", "NAME", "INJECTION", "CREATED (UTC)", "HOSTS"]);
                for cr in &items {
                    let mut how = injection_text(&cr.injection);
                    if cr.needs_reauthorization.is_some() {
                        how.push_str(" (needs authorize)");
                    } else if cr.awaiting_authorization {
                        how.push_str(" (not authorized yet)");
                    }
                    t.row(vec![
                        cr.id.clone(),
                        cut(&cr.name, 40),
                        how,
                        time(cr.created_at),
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
        CredentialsCommand::Authorize { name, server } => {
            let c = Cli::new(&server)?;
            let items = c.api.list_credentials().await?;
            let Some(cr) = items.iter().find(|cr| cr.name == name || cr.id == name) else {
                bail!("no credential named `{name}` (see `weft credentials list`)");
            };
            let a = c.api.authorize_credential(&cr.id).await?;
            if !c.raw(&a)? {
                out!("open this URL in a browser and consent (valid once, for 10 minutes):");
                out!("{}", a.url);
            }
        }
        CredentialsCommand::Delete { id, server } => {
            let c = Cli::new(&server)?;
            c.api.delete_credential(&id).await?;
            if !c.raw(&serde_json::json!({"deleted": id}))? {
                out!("deleted credential {id}");
            }
        }
    }
    Ok(())
}

fn hosts_text(c: &Credential) -> String {
    c.hosts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_parse_and_print_back() {
        for text in [
            "bearer",
            "basic:ada",
            "header:X-Api-Key",
            "query:key",
            "path:TOKEN",
            "aws-sigv4:AKIAIOSFODNN7EXAMPLE:eu-west-1:s3",
            "aws-sigv4:AKIAIOSFODNN7EXAMPLE:us-east-1:sqs",
        ] {
            assert_eq!(injection_text(&parse_injection(text).unwrap()), text);
        }
        assert_eq!(
            parse_injection("basic:ada"),
            Ok(Injection::Basic {
                username: "ada".into()
            })
        );
        assert!(parse_injection("basic").is_err());
        assert!(parse_injection("header:").is_err());
        assert!(parse_injection("bearer:x").is_err());
        assert_eq!(
            parse_injection("aws-sigv4:AKIAIOSFODNN7EXAMPLE:auto"),
            Ok(Injection::AwsSigv4 {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                region: "auto".into(),
                service: "s3".into(),
            })
        );
        assert!(parse_injection("aws-sigv4:AKIAIOSFODNN7EXAMPLE").is_err());
        assert!(parse_injection("aws-sigv4:AKIA::s3").is_err());
        assert!(parse_injection("aws-sigv4:a:b:c:d").is_err());
    }
}
