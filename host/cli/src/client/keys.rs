//! `weft keys ...`: create (with scopes and an expiry), list and revoke a
//! tenant's API keys (owner only; `docs/TENANCY.md`, section 4).

use super::ServerArgs;
use super::http::Cli;
use super::output::{Table, cut, out, time};
use anyhow::bail;
use clap::Subcommand;
use weft_model::{Key, NewKey};
use weft_types::Role;

/// `weft keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create an API key; its secret is printed once.
    ///
    /// Without `--scope` the key has its whole role. Each `--scope` narrows it:
    /// `resource:verb[:id]`, e.g. `runs:start:wf_123` (start runs of one
    /// workflow) or `workflows:read`.
    Create {
        /// For humans (1-100 characters).
        name: String,
        /// viewer, member, admin or owner.
        #[arg(long, default_value = "viewer")]
        role: Role,
        /// A scope (repeatable, or comma-separated).
        #[arg(long = "scope", value_name = "SCOPE", value_delimiter = ',')]
        scopes: Vec<String>,
        /// Expire after this long: `90m`, `12h`, `30d`.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration_ms)]
        expires_in: Option<i64>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List the tenant's keys: prefixes, roles, scopes, expiry and last use.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Revoke a key at once.
    Revoke {
        /// The key's id (see `weft keys list`).
        id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// `90m`, `12h`, `30d` (or plain seconds) in milliseconds.
fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let (num, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: i64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 90m, 12h or 30d"))?;
    let ms = match unit {
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{text}`: the unit is one of s, m, h, d")),
    };
    if n <= 0 {
        return Err(format!("`{text}` must be more than zero"));
    }
    n.checked_mul(ms)
        .ok_or_else(|| format!("`{text}` is too long"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn scopes_text(k: &Key) -> String {
    k.scopes
        .as_ref()
        .map_or_else(|| "(whole role)".into(), |s| s.join(","))
}

/// Runs one `weft keys` subcommand.
///
/// # Errors
/// Refusals from the server ([`weft_client::Error::Api`]); unreachable servers.
pub async fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create {
            name,
            role,
            scopes,
            expires_in,
            server,
        } => {
            let c = Cli::new(&server)?;
            let new = NewKey {
                name,
                role,
                scopes: (!scopes.is_empty()).then_some(scopes),
                expires_at: expires_in.map(|ms| now_ms().saturating_add(ms)),
            };
            let key = c.api.create_key(&new).await?;
            if !c.raw(&key)? {
                let Some(secret) = &key.secret else {
                    bail!("the server answered without the key's secret");
                };
                out!(
                    "created key {} `{}` ({}, {})",
                    key.id,
                    key.name,
                    key.role.as_str(),
                    scopes_text(&key)
                );
                if let Some(at) = key.expires_at {
                    out!("expires {}", time(at));
                }
                out!("secret (shown once): {secret}");
            }
        }
        KeysCommand::List { server } => {
            let c = Cli::new(&server)?;
            let items = c.api.list_keys().await?;
            if !c.raw(&weft_model::List::from(items.clone()))? {
                let mut t = Table::new(&[
                    "ID",
                    "NAME",
                    "PREFIX",
                    "ROLE",
                    "SCOPES",
                    "EXPIRES",
                    "LAST USED",
                    "STATE",
                ]);
                let now = now_ms();
                for k in &items {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else if k.expires_at.is_some_and(|at| at <= now) {
                        "expired"
                    } else {
                        "active"
                    };
                    t.row(vec![
                        k.id.clone(),
                        cut(&k.name, 30),
                        k.prefix.clone(),
                        k.role.as_str().into(),
                        cut(&scopes_text(k), 50),
                        k.expires_at.map_or_else(|| "-".into(), time),
                        k.last_used_at.map_or_else(|| "never".into(), time),
                        state.into(),
                    ]);
                }
                if t.is_empty() {
                    out!("no keys");
                } else {
                    t.print();
                }
            }
        }
        KeysCommand::Revoke { id, server } => {
            let c = Cli::new(&server)?;
            c.api.revoke_key(&id).await?;
            if !c.raw(&serde_json::json!({"revoked": id}))? {
                out!("revoked key {id}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90m"), Ok(5_400_000));
        assert_eq!(parse_duration_ms("30d"), Ok(2_592_000_000));
        assert_eq!(parse_duration_ms("45"), Ok(45_000));
        assert!(parse_duration_ms("3w").unwrap_err().contains("unit"));
        assert!(
            parse_duration_ms("0h")
                .unwrap_err()
                .contains("more than zero")
        );
        assert!(
            parse_duration_ms("h")
                .unwrap_err()
                .contains("not a duration")
        );
    }
}
