//! `weft ops ...`: the operator's commands (`docs/TENANCY.md`, section 1),
//! with an operator key (`weft_op_…`) from `--operator-key` or
//! `WEFT_OPERATOR_KEY`: tenants (create, list, show, limits, suspend, resume,
//! delete, invite), operator keys, the operator audit log, every tenant's
//! usage, and a password reset link for any user.

use super::http::Cli;
use super::output::{Table, out, time};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use weft_model::AuditQuery;
use weft_model::ops::{NewTenant, Tenant, TenantInvitation, TenantLimits, TenantPatch};
use weft_model::usage::{UsageGroup, UsageQuery};
use weft_types::Role;

/// Where the server is and the operator key.
#[derive(Debug, Args)]
pub struct OperatorArgs {
    /// The server's base URL.
    #[arg(
        long,
        env = "WEFT_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// An operator key (`weft_op_...`).
    #[arg(long, env = "WEFT_OPERATOR_KEY", hide_env_values = true, global = true)]
    pub operator_key: Option<String>,
    /// Print the server's JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

impl OperatorArgs {
    /// A client with the operator key.
    ///
    /// # Errors
    /// No operator key; a bad URL.
    pub fn cli(&self) -> anyhow::Result<Cli> {
        let Some(key) = &self.operator_key else {
            bail!("an operator key is needed: --operator-key or WEFT_OPERATOR_KEY (weft_op_...)");
        };
        Ok(Cli {
            api: weft_client::Client::new(&self.server, Some(key))?,
            json: self.json,
        })
    }
}

/// `weft ops ...`.
#[derive(Debug, Subcommand)]
pub enum OpsCommand {
    /// Tenants: create, list, show, limits, suspend, resume, delete, invite.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Operator keys: create, list, revoke.
    #[command(subcommand)]
    Keys(OpKeysCommand),
    /// The operator audit log, newest first.
    Audit {
        /// At most this many entries (1-1000).
        #[arg(long)]
        limit: Option<u32>,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Every tenant's usage (default: this month, by day).
    Usage {
        /// First UTC day, `YYYY-MM-DD`.
        #[arg(long)]
        from: Option<String>,
        /// Last UTC day, `YYYY-MM-DD`.
        #[arg(long)]
        to: Option<String>,
        /// `day` or `workflow`.
        #[arg(long)]
        group: Option<String>,
        /// Print the CSV export.
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Issue a one-time password reset link for a user (any tenant's).
    Reset {
        /// The user's email.
        email: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
}

/// `weft ops tenants ...`.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant; its owner key is printed once.
    Create {
        /// For humans.
        name: String,
        /// Overrides from a JSON or TOML file (`docs/TENANCY.md`, section 2).
        #[arg(long, value_name = "FILE")]
        limits: Option<std::path::PathBuf>,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Every tenant with its state.
    List {
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// One tenant with its state and overrides.
    Show {
        /// `ten_...`.
        id: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Replace a tenant's overrides with a JSON or TOML file (`{}` clears
    /// them), and/or rename it.
    Limits {
        /// `ten_...`.
        id: String,
        /// The whole overrides object.
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Suspend a tenant: its keys and sessions answer 403 with the reason.
    Suspend {
        /// `ten_...`.
        id: String,
        /// Shown to the tenant's callers.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Make a suspended tenant active again, or cancel a delete in its grace.
    Resume {
        /// `ten_...`.
        id: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Delete a tenant: refused at once, erased after the grace period.
    Delete {
        /// `ten_...`.
        id: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Invite someone into a tenant (its owner by default); the one-time
    /// token is printed once.
    Invite {
        /// `ten_...`.
        id: String,
        /// Only this email may accept it.
        #[arg(long)]
        email: Option<String>,
        /// viewer, member, admin or owner.
        #[arg(long)]
        role: Option<Role>,
        #[command(flatten)]
        server: OperatorArgs,
    },
}

/// `weft ops keys ...`.
#[derive(Debug, Subcommand)]
pub enum OpKeysCommand {
    /// Create an operator key; its secret is printed once.
    Create {
        /// For humans.
        name: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Operator keys: prefixes and metadata.
    List {
        #[command(flatten)]
        server: OperatorArgs,
    },
    /// Revoke an operator key (not the last one).
    Revoke {
        /// `opk_...`.
        id: String,
        #[command(flatten)]
        server: OperatorArgs,
    },
}

/// Reads overrides from a JSON or TOML file (by its extension; JSON else).
fn read_limits(path: &std::path::Path) -> anyhow::Result<TenantLimits> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let toml = path.extension().is_some_and(|e| e == "toml");
    if toml {
        toml::from_str(&text).with_context(|| format!("{}: not valid limits", path.display()))
    } else {
        serde_json::from_str(&text).with_context(|| format!("{}: not valid limits", path.display()))
    }
}

fn state(t: &Tenant) -> String {
    serde_json::to_value(&t.state)
        .ok()
        .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn print_tenant(c: &Cli, t: &Tenant) -> anyhow::Result<()> {
    if !c.raw(t)? {
        out!("{} {} ({})", t.id, t.name, state(t));
        if let Some(reason) = t.state.refusal() {
            out!("  reason: {reason}");
        }
        out!("  limits: {}", serde_json::to_string(&t.limits)?);
    }
    Ok(())
}

/// Runs `weft ops ...`.
///
/// # Errors
/// Refusals and transport failures.
pub async fn run(cmd: OpsCommand) -> anyhow::Result<()> {
    match cmd {
        OpsCommand::Tenants(t) => tenants(t).await,
        OpsCommand::Keys(k) => keys(k).await,
        OpsCommand::Audit { limit, server } => {
            let c = server.cli()?;
            let items = c.api.op_audit(&AuditQuery { limit }).await?;
            if !c.raw(&items)? {
                let mut t = Table::new(&["AT", "ACTOR", "ACTION", "TENANT", "TARGET"]);
                for e in &items {
                    t.row(vec![
                        time(e.at),
                        e.actor.clone(),
                        e.action.clone(),
                        e.tenant_id.clone(),
                        e.target.clone(),
                    ]);
                }
                t.print();
            }
            Ok(())
        }
        OpsCommand::Usage {
            from,
            to,
            group,
            csv,
            server,
        } => {
            let c = server.cli()?;
            let group = group
                .map(|g| {
                    serde_json::from_value::<UsageGroup>(serde_json::Value::String(g.clone()))
                        .with_context(|| format!("--group: `{g}` is `day` or `workflow`"))
                })
                .transpose()?;
            let q = UsageQuery { from, to, group };
            if csv {
                print!("{}", c.api.op_usage_csv(&q).await?);
                return Ok(());
            }
            let r = c.api.op_usage(&q).await?;
            if !c.raw(&r)? {
                let mut t = Table::new(&["TENANT", "DAY/WORKFLOW", "RUNS", "STEPS", "WALL_MS"]);
                for l in &r.lines {
                    t.row(vec![
                        l.tenant_id.clone().unwrap_or_default(),
                        l.day
                            .clone()
                            .or_else(|| l.workflow_id.clone())
                            .unwrap_or_default(),
                        l.runs.to_string(),
                        l.steps.to_string(),
                        l.wall_ms.to_string(),
                    ]);
                }
                t.print();
                out!(
                    "total {}..{}: {} runs, {} steps",
                    r.from,
                    r.to,
                    r.total.runs,
                    r.total.steps
                );
            }
            Ok(())
        }
        OpsCommand::Reset { email, server } => {
            let c = server.cli()?;
            let link = c.api.op_reset_user(&email).await?;
            if !c.raw(&link)? {
                out!(
                    "reset link for {} (one use, until {}): token {}",
                    link.user_id.as_deref().unwrap_or(&email),
                    time(link.expires_at),
                    link.token.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

async fn tenants(cmd: TenantsCommand) -> anyhow::Result<()> {
    match cmd {
        TenantsCommand::Create {
            name,
            limits,
            server,
        } => {
            let c = server.cli()?;
            let limits = limits.as_deref().map(read_limits).transpose()?;
            let t = c.api.op_create_tenant(&NewTenant { name, limits }).await?;
            if !c.raw(&t)? {
                out!("created tenant {} ({})", t.id, t.name);
                out!(
                    "owner key (shown once, store it now): {}",
                    t.owner_key.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        TenantsCommand::List { server } => {
            let c = server.cli()?;
            let items = c.api.op_list_tenants().await?;
            if !c.raw(&items)? {
                let mut t = Table::new(&["ID", "NAME", "STATE", "CREATED"]);
                for x in &items {
                    t.row(vec![
                        x.id.clone(),
                        x.name.clone(),
                        state(x),
                        time(x.created_at),
                    ]);
                }
                t.print();
            }
            Ok(())
        }
        TenantsCommand::Show { id, server } => {
            let c = server.cli()?;
            print_tenant(&c, &c.api.op_get_tenant(&id).await?)
        }
        TenantsCommand::Limits {
            id,
            file,
            name,
            server,
        } => {
            let c = server.cli()?;
            if file.is_none() && name.is_none() {
                bail!("give --file (the whole overrides object) and/or --name");
            }
            let limits = file.as_deref().map(read_limits).transpose()?;
            let t = c
                .api
                .op_update_tenant(&id, &TenantPatch { name, limits })
                .await?;
            print_tenant(&c, &t)
        }
        TenantsCommand::Suspend { id, reason, server } => {
            let c = server.cli()?;
            print_tenant(&c, &c.api.op_suspend_tenant(&id, &reason).await?)
        }
        TenantsCommand::Resume { id, server } => {
            let c = server.cli()?;
            print_tenant(&c, &c.api.op_resume_tenant(&id).await?)
        }
        TenantsCommand::Delete { id, server } => {
            let c = server.cli()?;
            print_tenant(&c, &c.api.op_delete_tenant(&id).await?)
        }
        TenantsCommand::Invite {
            id,
            email,
            role,
            server,
        } => {
            let c = server.cli()?;
            let inv = c
                .api
                .op_invite(
                    &id,
                    &TenantInvitation {
                        role,
                        email,
                        expires_in_ms: None,
                    },
                )
                .await?;
            if !c.raw(&inv)? {
                out!(
                    "invitation {} ({}) until {}: token {}",
                    inv.id,
                    inv.role.as_str(),
                    time(inv.expires_at),
                    inv.token.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

async fn keys(cmd: OpKeysCommand) -> anyhow::Result<()> {
    match cmd {
        OpKeysCommand::Create { name, server } => {
            let c = server.cli()?;
            let k = c.api.op_create_key(&name).await?;
            if !c.raw(&k)? {
                out!("created operator key {} ({})", k.id, k.name);
                out!(
                    "secret (shown once, store it now): {}",
                    k.secret.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
        OpKeysCommand::List { server } => {
            let c = server.cli()?;
            let items = c.api.op_list_keys().await?;
            if !c.raw(&items)? {
                let mut t = Table::new(&["ID", "NAME", "PREFIX", "CREATED"]);
                for k in &items {
                    t.row(vec![
                        k.id.clone(),
                        k.name.clone(),
                        k.prefix.clone(),
                        time(k.created_at),
                    ]);
                }
                t.print();
            }
            Ok(())
        }
        OpKeysCommand::Revoke { id, server } => {
            let c = server.cli()?;
            c.api.op_revoke_key(&id).await?;
            if !c.raw(&serde_json::json!({"revoked": id}))? {
                out!("revoked {id}");
            }
            Ok(())
        }
    }
}
