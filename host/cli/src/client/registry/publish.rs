//! The publish path shared by `weft plugin publish` and `weft templates
//! publish`: upload the bytes by digest (with a progress line), sign the
//! statement (publisher, name, version, digest), post it, and print what the
//! server checked and what the version can do.

use super::super::ServerArgs;
use super::super::http::Cli;
use super::super::output::out;
use super::keys::{default_key_path, read_key};
use super::words::print_disclosure;
use anyhow::bail;
use clap::Args;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;
use weft_model::registry::{NewVersion, PackageKind};

/// What every publish takes besides the artifact.
#[derive(Debug, Args)]
pub struct PublishOptions {
    /// The publisher to publish as (default: the key file's).
    #[arg(long)]
    pub publisher: Option<String>,
    /// The key file (default: ~/.config/weft/keys/PUBLISHER.key).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// A README (Markdown) for the package's page.
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// A search keyword (repeatable): a-z, 0-9 and -.
    #[arg(long = "keyword", value_name = "K")]
    pub keywords: Vec<String>,
    /// The licence, an SPDX expression (default with --build: the project's `license`, from
    /// Cargo.toml, pyproject.toml or package.json).
    #[arg(long, value_name = "SPDX")]
    pub license: Option<String>,
    /// Where the source is (an http(s) URL; default with --build: the project's `repository`,
    /// from Cargo.toml, pyproject.toml's [project.urls] or package.json).
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// One artifact, checked locally, ready to go.
pub struct Artifact {
    /// Connector or template.
    pub kind: PackageKind,
    /// The package name (from the component's manifest or the template).
    pub name: String,
    /// The version.
    pub version: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Their content type.
    pub content_type: &'static str,
    /// Defaults for --license and --source (from the project's Cargo.toml, pyproject.toml or
    /// package.json).
    pub license: Option<String>,
    /// See `license`.
    pub source: Option<String>,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Uploads, signs and publishes `a`, printing progress and the result.
///
/// # Errors
/// No key; refusals from the server (printed with every problem's path by
/// the caller); an unreachable server.
pub async fn publish(o: PublishOptions, a: Artifact) -> anyhow::Result<()> {
    let (publisher, key_path) = match (&o.publisher, &o.key) {
        (Some(p), Some(k)) => (Some(p.clone()), k.clone()),
        (Some(p), None) => (Some(p.clone()), default_key_path(p)?),
        (None, Some(k)) => (None, k.clone()),
        (None, None) => bail!(
            "give --publisher NAME (its key is read from ~/.config/weft/keys/NAME.key) or --key FILE"
        ),
    };
    let key = read_key(&key_path)?;
    let publisher = match publisher {
        Some(p) if p != key.publisher => bail!(
            "--publisher {p}, but {} is a key of publisher `{}`",
            key_path.display(),
            key.publisher
        ),
        Some(p) => p,
        None => key.publisher.clone(),
    };
    let readme = match &o.readme {
        Some(path) => String::from_utf8(super::read(path, "--readme")?)
            .map_err(|_| anyhow::anyhow!("--readme {}: not UTF-8", path.display()))?,
        None => String::new(),
    };
    let Some(license) = o.license.clone().or(a.license.clone()) else {
        bail!(
            "--license SPDX is required (e.g. --license Apache-2.0), or set `license` in the project's Cargo.toml, pyproject.toml or package.json"
        );
    };
    let c = Cli::new(&o.server)?;
    let hex = sha256_hex(&a.bytes);
    let digest = format!("sha256:{hex}");
    let total = a.bytes.len();
    let short = hex[..12].to_owned();
    let blob = c
        .api
        .put_blob(&digest, a.bytes, a.content_type, move |sent, total| {
            eprint!("\ruploading sha256:{short}…: {sent} / {total} bytes");
            if sent == total {
                eprintln!();
            }
            let _ = std::io::stderr().flush();
        })
        .await?;
    let stored = if blob.created {
        "stored"
    } else {
        "stored already"
    };
    eprintln!("uploaded {} ({total} bytes, {stored})", blob.digest);
    if blob.digest != digest {
        bail!(
            "the server stored {} for the bytes whose digest is {digest}",
            blob.digest
        );
    }
    let statement = weft_registry::sign::statement(&publisher, &a.name, &a.version, &hex);
    let new = NewVersion {
        kind: a.kind,
        version: a.version.clone(),
        digest: blob.digest.clone(),
        readme,
        keywords: o.keywords,
        license,
        source: o.source.or(a.source),
        key_id: key.key.key_id(),
        signature: key.key.sign(&statement),
    };
    eprintln!(
        "publishing {publisher}/{}@{} signed by key {}; the server checks it…",
        a.name, a.version, new.key_id
    );
    let v = c.api.publish_version(&publisher, &a.name, &new).await?;
    if c.raw(&v)? {
        return Ok(());
    }
    out!(
        "published {}/{}@{} ({})",
        v.publisher,
        v.name,
        v.version,
        v.digest
    );
    out!("the server checked:");
    out!(
        "  - the signature, with key {} of {}",
        v.key_id,
        v.publisher
    );
    if v.kind == PackageKind::Connector {
        out!("  - the bytes: valid wasm, no disabled features, within the size limit");
        out!("  - the component fits the weft:plugin world");
        out!(
            "  - `describe` in the sandbox says {} {}",
            v.name,
            v.version
        );
    } else {
        out!("  - the template document, and its workflow against the connectors it requires");
    }
    out!("  - the name is not confusable with another publisher's package");
    if v.kind == PackageKind::Connector {
        print_disclosure(&v);
    }
    Ok(())
}
