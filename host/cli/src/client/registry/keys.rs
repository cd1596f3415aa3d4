//! Publisher signing keys on this machine: `weft plugin keygen` writes one
//! (`~/.config/weft/keys/<publisher>.key`, mode 0600, never overwritten),
//! and `weft plugin publish` and `weft registry publisher key add` read it.

use super::super::output::out;
use anyhow::{Context, bail};
use clap::Args;
use std::path::{Path, PathBuf};
use weft_registry::sign::{self, KeyFile};

/// Where keys live: `$XDG_CONFIG_HOME/weft/keys`, else `~/.config/weft/keys`.
///
/// # Errors
/// Neither `XDG_CONFIG_HOME` nor `HOME` is set.
pub fn keys_dir() -> anyhow::Result<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(".config"))
            .context(
                "neither XDG_CONFIG_HOME nor HOME is set; give the key file with --out/--key",
            )?,
    };
    Ok(config.join("weft").join("keys"))
}

/// The default key file of `publisher`.
///
/// # Errors
/// As [`keys_dir`].
pub fn default_key_path(publisher: &str) -> anyhow::Result<PathBuf> {
    Ok(keys_dir()?.join(format!("{publisher}.key")))
}

/// Reads a key file, refusing one others may read.
///
/// # Errors
/// The file is missing, unreadable, readable by others, or not a key file.
pub fn read_key(path: &Path) -> anyhow::Result<KeyFile> {
    sign::read_key_file(path).map_err(|e| match e {
        sign::KeyFileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            anyhow::anyhow!(
                "no key file at {}: create one with `weft plugin keygen`, or give it with --key FILE",
                path.display()
            )
        }
        other => other.into(),
    })
}

/// `weft plugin keygen`: a new key pair, its file, and how to register it.
///
/// # Errors
/// An invalid publisher name, a key file that exists, or one that cannot be written.
pub fn keygen(publisher: &str, out_path: Option<PathBuf>) -> anyhow::Result<()> {
    weft_registry::names::publisher_name(publisher)
        .map_err(|e| anyhow::anyhow!("--publisher: {e}"))?;
    let path = match out_path {
        Some(p) => p,
        None => default_key_path(publisher)?,
    };
    let (key, public) = sign::generate()?;
    let key_id = key.key_id();
    sign::write_key_file(
        &path,
        &KeyFile {
            publisher: publisher.to_owned(),
            key,
        },
    )?;
    out!("wrote {} (mode 0600; keep it secret)", path.display());
    out!("publisher:  {publisher}");
    out!("public key: {public}");
    out!("key id:     {key_id}");
    out!("register it with:");
    out!("  weft registry publisher key add {publisher} --public-key {public}");
    Ok(())
}

/// Where a public key to register comes from: exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct PublicKeySource {
    /// The ed25519 public key, 64 hex digits.
    #[arg(long, value_name = "HEX")]
    public_key: Option<String>,
    /// A key file written by `weft plugin keygen` (only its public half is sent).
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
}

impl PublicKeySource {
    /// The public key, hex.
    ///
    /// # Errors
    /// A key that is not 64 hex digits; a key file that cannot be read.
    pub fn public_hex(&self) -> anyhow::Result<String> {
        if let Some(path) = &self.key {
            return Ok(read_key(path)?.key.public_hex());
        }
        let Some(hex) = &self.public_key else {
            bail!("give --public-key HEX or --key FILE");
        };
        let hex = hex.trim().to_ascii_lowercase();
        sign::public_key_bytes(&hex).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?;
        Ok(hex)
    }
}
