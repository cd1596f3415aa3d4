//! `weft registry ...`: publishers and their keys, search, a package's page
//! with its disclosure in plain words, installs with consent, upgrades that
//! ask again when they widen, yank, takedown and verification.

pub mod keys;
pub mod publish;
pub mod words;

use super::ServerArgs;
use super::http::Cli;
use super::output::{Table, cut, out, time};
use anyhow::bail;
use clap::Subcommand;
use std::path::PathBuf;
use weft_model::registry::{
    Install, NewInstall, PackageKind, PackageQuery, PackageSort, Upgrade, Version,
};
use words::{PackageRef, consent, print_disclosure};

/// `weft registry ...`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Publishers: create one, show one, add or revoke its signing keys.
    #[command(subcommand)]
    Publisher(PublisherCommand),
    /// Search packages by text and filters.
    Search {
        #[command(flatten)]
        search: SearchArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// A package's page: its versions, and what the version can do.
    Show {
        /// `PUBLISHER/NAME[@VERSION]` (default: the latest).
        package: PackageRef,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Install a connector in this tenant: shows what it can do and asks.
    Install {
        /// `PUBLISHER/NAME[@VERSION]` (default: the latest).
        package: PackageRef,
        /// `^1` (the default: `^` of the version) or `=1.2.3`.
        #[arg(long)]
        pin: Option<String>,
        /// Consent without asking (to exactly what is shown).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// This tenant's installs.
    Installs {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Upgrade an install; one that widens what it can do is shown and asked.
    Upgrade {
        /// The install's id, its connector name or its `PUBLISHER/NAME`.
        install: String,
        /// A version (default: the highest the pin allows).
        #[arg(long)]
        version: Option<String>,
        /// Consent to a widening without asking (to exactly what is shown).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Uninstall (refused while active workflows use it).
    Uninstall {
        /// The install's id, its connector name or its `PUBLISHER/NAME`.
        install: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Yank a version (no new installs; installs keep running), or undo it.
    Yank {
        /// `PUBLISHER/NAME@VERSION`.
        package: PackageRef,
        /// Restore the version.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Take a version down everywhere (the operator: --operator-key or
    /// WEFT_OPERATOR_KEY): its steps fail `taken_down`.
    Takedown {
        /// `PUBLISHER/NAME@VERSION`.
        package: PackageRef,
        /// Why: shown to every tenant using it.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        server: super::OperatorArgs,
    },
    /// Mark a publisher verified (the operator: --operator-key or
    /// WEFT_OPERATOR_KEY), or not with --undo.
    Verify {
        /// The publisher.
        publisher: String,
        /// Remove the mark.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        server: super::OperatorArgs,
    },
}

/// `weft registry publisher ...`.
#[derive(Debug, Subcommand)]
pub enum PublisherCommand {
    /// Create a publisher owned by this tenant.
    Create {
        /// `[a-z0-9-]{2,39}`.
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// A publisher and its keys.
    Show {
        /// The publisher.
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `weft registry publisher key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Register a public key (`weft plugin keygen` prints it).
    Add {
        /// The publisher.
        name: String,
        #[command(flatten)]
        key: keys::PublicKeySource,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Revoke a key: new signatures by it are refused.
    Revoke {
        /// The publisher.
        name: String,
        /// The key id (16 hex digits).
        key_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// The search filters (shared with `weft templates search`).
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words to find in name, description, keywords and README.
    pub text: Option<String>,
    /// Only `connector` or `template`.
    #[arg(long, value_parser = kind)]
    pub kind: Option<PackageKind>,
    /// Only this publisher's.
    #[arg(long)]
    pub publisher: Option<String>,
    /// Only verified publishers'.
    #[arg(long)]
    pub verified: bool,
    /// Only packages that reach no network.
    #[arg(long)]
    pub no_network: bool,
    /// Only packages with a credential for hosts this pattern covers (`*.slack.com`).
    #[arg(long, value_name = "PATTERN")]
    pub credential_host: Option<String>,
    /// `relevance` (default) or `installs`.
    #[arg(long, value_parser = sort)]
    pub sort: Option<PackageSort>,
    /// 1-100 (default 20).
    #[arg(long)]
    pub limit: Option<u32>,
    /// The previous page's cursor.
    #[arg(long)]
    pub cursor: Option<String>,
}

fn kind(s: &str) -> Result<PackageKind, String> {
    match s {
        "connector" => Ok(PackageKind::Connector),
        "template" => Ok(PackageKind::Template),
        _ => Err(format!("`{s}`: expected `connector` or `template`")),
    }
}

fn sort(s: &str) -> Result<PackageSort, String> {
    match s {
        "relevance" => Ok(PackageSort::Relevance),
        "installs" => Ok(PackageSort::Installs),
        _ => Err(format!("`{s}`: expected `relevance` or `installs`")),
    }
}

/// Runs `weft registry ...`.
///
/// # Errors
/// Refusals from the server ([`weft_client::Error::Api`]); anything else.
pub async fn run(cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Publisher(p) => publisher(p).await,
        RegistryCommand::Search { search: s, server } => {
            self::search(&Cli::new(&server)?, s, None).await
        }
        RegistryCommand::Show { package, server } => {
            show(&Cli::new(&server)?, &package).await.map(|_| ())
        }
        RegistryCommand::Install {
            package,
            pin,
            yes,
            server,
        } => install(&Cli::new(&server)?, &package, pin, yes).await,
        RegistryCommand::Installs { server } => installs(&Cli::new(&server)?).await,
        RegistryCommand::Upgrade {
            install,
            version,
            yes,
            server,
        } => upgrade(&Cli::new(&server)?, &install, version, yes).await,
        RegistryCommand::Uninstall { install, server } => {
            let c = Cli::new(&server)?;
            let i = find_install(&c, &install).await?;
            c.api.delete_install(&i.id).await?;
            out!("uninstalled {} ({}@{})", i.id, i.package, i.version);
            Ok(())
        }
        RegistryCommand::Yank {
            package,
            undo,
            server,
        } => {
            let c = Cli::new(&server)?;
            let v = package.exact("yank")?;
            let v = c
                .api
                .yank_version(&package.publisher, &package.name, v, !undo)
                .await?;
            if !c.raw(&v)? {
                let done = if v.yanked { "yanked" } else { "restored" };
                out!("{done} {}/{}@{}", v.publisher, v.name, v.version);
            }
            Ok(())
        }
        RegistryCommand::Takedown {
            package,
            reason,
            server,
        } => {
            let c = server.cli()?;
            let v = package.exact("takedown")?;
            let v = c
                .api
                .take_down_version(&package.publisher, &package.name, v, &reason)
                .await?;
            if !c.raw(&v)? {
                out!(
                    "taken down {}/{}@{} ({}): its steps fail `taken_down`",
                    v.publisher,
                    v.name,
                    v.version,
                    v.digest
                );
            }
            Ok(())
        }
        RegistryCommand::Verify {
            publisher,
            undo,
            server,
        } => {
            let c = server.cli()?;
            let p = c.api.verify_publisher(&publisher, !undo).await?;
            if !c.raw(&p)? {
                let state = if p.verified {
                    "verified"
                } else {
                    "not verified"
                };
                out!("{} is {state}", p.name);
            }
            Ok(())
        }
    }
}

async fn publisher(cmd: PublisherCommand) -> anyhow::Result<()> {
    match cmd {
        PublisherCommand::Create { name, server } => {
            let c = Cli::new(&server)?;
            let p = c.api.create_publisher(&name).await?;
            if !c.raw(&p)? {
                out!("created publisher {}", p.name);
                out!(
                    "next: weft plugin keygen --publisher {0}, then weft registry publisher key add {0} --key FILE",
                    p.name
                );
            }
            Ok(())
        }
        PublisherCommand::Show { name, server } => {
            let c = Cli::new(&server)?;
            let p = c.api.get_publisher(&name).await?;
            if c.raw(&p)? {
                return Ok(());
            }
            let mark = if p.verified { " (verified)" } else { "" };
            out!("{}{mark}  created {}", p.name, time(p.created_at));
            let mut t = Table::new(&["KEY ID", "ADDED", "REVOKED", "PUBLIC KEY"]);
            for k in &p.keys {
                t.row(vec![
                    k.key_id.clone(),
                    time(k.created_at),
                    time(k.revoked_at),
                    k.public_key.clone(),
                ]);
            }
            if t.is_empty() {
                out!(
                    "no keys (weft registry publisher key add {} --key FILE)",
                    p.name
                );
            } else {
                t.print();
            }
            Ok(())
        }
        PublisherCommand::Key(KeyCommand::Add { name, key, server }) => {
            let c = Cli::new(&server)?;
            let public = key.public_hex()?;
            let k = c.api.add_publisher_key(&name, &public).await?;
            if !c.raw(&k)? {
                out!("added key {} to {name}", k.key_id);
            }
            Ok(())
        }
        PublisherCommand::Key(KeyCommand::Revoke {
            name,
            key_id,
            server,
        }) => {
            let c = Cli::new(&server)?;
            c.api.revoke_publisher_key(&name, &key_id).await?;
            out!("revoked key {key_id} of {name}: new signatures by it are refused");
            Ok(())
        }
    }
}

/// Prints one page of search results (`kind` forces a kind: templates).
///
/// # Errors
/// Refusals from the server.
pub async fn search(c: &Cli, s: SearchArgs, kind: Option<PackageKind>) -> anyhow::Result<()> {
    let q = PackageQuery {
        q: s.text,
        kind: kind.or(s.kind),
        publisher: s.publisher,
        verified: s.verified.then_some(true),
        no_network: s.no_network.then_some(true),
        credential_host: s.credential_host,
        sort: s.sort,
        limit: s.limit,
        cursor: s.cursor,
    };
    let page = c.api.search_packages(&q).await?;
    if c.raw(&page)? {
        return Ok(());
    }
    let mut t = Table::new(&["PACKAGE", "KIND", "LATEST", "INSTALLS", "DESCRIPTION"]);
    for p in &page.items {
        let mark = if p.verified { " ✓" } else { "" };
        t.row(vec![
            format!("{}/{}{mark}", p.publisher, p.name),
            kind_name(p.kind).into(),
            p.latest.clone().unwrap_or_else(|| "-".into()),
            p.installs.to_string(),
            cut(&p.description, 70),
        ]);
    }
    if t.is_empty() {
        out!("no packages match");
    } else {
        t.print();
    }
    if let Some(next) = &page.next {
        out!("more: --cursor {next}");
    }
    Ok(())
}

/// `connector` or `template`.
pub fn kind_name(k: PackageKind) -> &'static str {
    match k {
        PackageKind::Connector => "connector",
        PackageKind::Template => "template",
    }
}

/// The version `r` names, or the package's latest.
///
/// # Errors
/// Refusals from the server; a package with no installable version.
pub async fn resolve(c: &Cli, r: &PackageRef) -> anyhow::Result<Version> {
    if let Some(v) = &r.version {
        return Ok(c.api.get_package_version(&r.publisher, &r.name, v).await?);
    }
    let detail = c.api.get_package(&r.publisher, &r.name).await?;
    let Some(latest) = detail.package.latest.clone() else {
        bail!(
            "{}/{} has no installable version (all are yanked or taken down); name one with @VERSION",
            r.publisher,
            r.name
        );
    };
    match detail.versions.into_iter().find(|v| v.version == latest) {
        Some(v) => Ok(v),
        None => Ok(c
            .api
            .get_package_version(&r.publisher, &r.name, &latest)
            .await?),
    }
}

/// Prints a package's page; returns the version shown.
async fn show(c: &Cli, r: &PackageRef) -> anyhow::Result<Version> {
    let detail = c.api.get_package(&r.publisher, &r.name).await?;
    let v = match &r.version {
        Some(want) => match detail.versions.iter().find(|v| &v.version == want) {
            Some(v) => v.clone(),
            None => {
                c.api
                    .get_package_version(&r.publisher, &r.name, want)
                    .await?
            }
        },
        None => resolve(c, r).await?,
    };
    if c.raw(&v)? {
        return Ok(v);
    }
    let p = &detail.package;
    let mark = if p.verified {
        " (verified publisher)"
    } else {
        ""
    };
    out!(
        "{}/{} {}  {}{mark}",
        v.publisher,
        v.name,
        v.version,
        kind_name(v.kind)
    );
    out!("  {}", v.description);
    out!(
        "  installs: {}  license: {}  source: {}",
        p.installs,
        v.license,
        v.source.as_deref().unwrap_or("-")
    );
    out!(
        "  digest: {} ({} bytes), signed by key {}",
        v.digest,
        v.size,
        v.key_id
    );
    if v.yanked {
        out!("  YANKED: no new installs");
    }
    if let Some(t) = &v.taken_down {
        out!("  TAKEN DOWN {}: {}", time(t.at), t.reason);
    }
    if v.kind == PackageKind::Connector {
        print_disclosure(&v);
    }
    out!("versions:");
    for x in &detail.versions {
        let mut notes = Vec::new();
        if x.yanked {
            notes.push("yanked".to_owned());
        }
        if let Some(t) = &x.taken_down {
            notes.push(format!("taken down: {}", t.reason));
        }
        out!(
            "  {:<12} {}  {}",
            x.version,
            time(x.published_at),
            notes.join(", ")
        );
    }
    if !v.readme.trim().is_empty() {
        out!("README:");
        for line in v.readme.lines().take(40) {
            out!("  {line}");
        }
    }
    Ok(v)
}

async fn install(c: &Cli, r: &PackageRef, pin: Option<String>, yes: bool) -> anyhow::Result<()> {
    let v = resolve(c, r).await?;
    if !c.json {
        out!(
            "{}/{} {}: {}",
            v.publisher,
            v.name,
            v.version,
            v.description
        );
        print_disclosure(&v);
    }
    consent(
        &format!(
            "install {}/{}@{} with exactly this?",
            v.publisher, v.name, v.version
        ),
        yes,
    )?;
    let new = NewInstall {
        package: format!("{}/{}", v.publisher, v.name),
        version: Some(v.version.clone()),
        pin,
        consent: v.disclosure_digest.clone(),
    };
    let i = c.api.create_install(&new).await?;
    if !c.raw(&i)? {
        out!(
            "installed {} as `{}` ({}, pin {}): use it in workflows as connector `{}`",
            i.package,
            i.name,
            i.id,
            i.pin,
            i.name
        );
    }
    Ok(())
}

async fn installs(c: &Cli) -> anyhow::Result<()> {
    let items = c.api.list_installs().await?;
    if c.raw(&weft_model::List::from(items.clone()))? {
        return Ok(());
    }
    let mut t = Table::new(&["ID", "NAME", "PACKAGE", "VERSION", "PIN", "STATE"]);
    for i in &items {
        let state = match (&i.taken_down, &i.held) {
            (Some(td), _) => format!("taken down: {}", td.reason),
            (None, Some(h)) => format!("upgrade to {} waits for consent", h.version),
            (None, None) => "ok".into(),
        };
        t.row(vec![
            i.id.clone(),
            i.name.clone(),
            i.package.clone(),
            i.version.clone(),
            i.pin.clone(),
            state,
        ]);
    }
    if t.is_empty() {
        out!("no installs (weft registry search, then weft registry install PUBLISHER/NAME)");
    } else {
        t.print();
    }
    Ok(())
}

/// The install `key` names: its id, its connector name or its package.
async fn find_install(c: &Cli, key: &str) -> anyhow::Result<Install> {
    let all = c.api.list_installs().await?;
    let found: Vec<&Install> = all
        .iter()
        .filter(|i| i.id == key || i.name == key || i.package == key)
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => bail!("no install is `{key}` (see weft registry installs)"),
        many => bail!(
            "`{key}` names {} installs ({}); give the id",
            many.len(),
            many.iter()
                .map(|i| i.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn upgrade(c: &Cli, key: &str, version: Option<String>, yes: bool) -> anyhow::Result<()> {
    let i = find_install(c, key).await?;
    let body = Upgrade {
        version,
        consent: None,
    };
    let mut up = c.api.upgrade_install(&i.id, &body).await?;
    if !up.applied {
        let Some(held) = up.install.held.clone() else {
            bail!(
                "the server held the upgrade of {} but named no version",
                i.id
            );
        };
        if !c.json {
            out!(
                "{} {} -> {} reaches more than you consented to:",
                i.package,
                i.version,
                held.version
            );
            for w in &up.widening {
                out!("  + {w}");
            }
            let (p, n) = i.package.split_once('/').unwrap_or((&i.package, &i.name));
            let v = c.api.get_package_version(p, n, &held.version).await?;
            print_disclosure(&v);
            if v.disclosure_digest != held.disclosure_digest {
                bail!(
                    "the held upgrade's disclosure ({}) is not the version's ({}); not consenting",
                    held.disclosure_digest,
                    v.disclosure_digest
                );
            }
        }
        consent(&format!("upgrade {} to {}?", i.package, held.version), yes)?;
        let body = Upgrade {
            version: Some(held.version.clone()),
            consent: Some(held.disclosure_digest.clone()),
        };
        up = c.api.upgrade_install(&i.id, &body).await?;
    }
    if c.raw(&up)? {
        return Ok(());
    }
    if up.applied && up.install.version == i.version {
        out!(
            "{} stays at {}: nothing newer that its pin {} allows (--version V, or reinstall with another --pin)",
            up.install.package,
            up.install.version,
            up.install.pin
        );
    } else if up.applied {
        out!(
            "{} now runs {} ({})",
            up.install.package,
            up.install.version,
            up.install.digest
        );
    } else {
        out!(
            "the upgrade of {} is still held for consent",
            up.install.package
        );
    }
    Ok(())
}

/// A file given on the command line, read whole with its path in the error.
///
/// # Errors
/// It cannot be read.
pub fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))
}
