//! Secrets at rest for Weft: envelope encryption of tenant credentials and the
//! API key format.
//!
//! Three layers of keys:
//!
//! - **Master keys** live in a [`Keyring`] file (mode 0600) outside the
//!   database: the current key wraps new data, older keys are kept only to
//!   unwrap what they wrapped.
//! - **Tenant data keys** are random 32-byte keys, one per tenant, stored in
//!   the database only *wrapped* by a master key (XChaCha20-Poly1305, the
//!   tenant id as associated data). The wrapped blob starts with the id of the
//!   master key that wrapped it.
//! - **Credentials** are sealed with their tenant's data key
//!   (XChaCha20-Poly1305, random 24-byte nonce) under a [`Binding`]: the
//!   tenant id, credential id, name, hosts and injection are associated data,
//!   so a ciphertext copied to another tenant or credential, or a row whose
//!   hosts or injection were changed in the database, does not open.
//!
//! ```
//! use weft_vault::{BINDING_VERSION, Binding, Keyring};
//!
//! # fn main() -> weft_vault::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| weft_vault::Error::Io { path: "tmp".into(), source: e })?;
//! # let path = dir.path().join("master.keys");
//! let mut keyring = Keyring::load_or_generate(&path)?; // generates the file the first time
//!
//! // Once per tenant, stored with the tenant (`Tenant::wrapped_key`).
//! let wrapped = keyring.new_tenant_key("ten_1")?;
//!
//! // Per credential, stored as `CredentialRecord::{nonce, ciphertext, ad_version}`.
//! let hosts = ["slack.com".to_owned()];
//! let binding = Binding {
//!     tenant_id: "ten_1",
//!     credential_id: "cred_1",
//!     name: "slack",
//!     hosts: &hosts,
//!     injection: r#"{"type":"bearer"}"#,
//! };
//! let sealed = keyring.seal(&wrapped, &binding, b"xoxb-secret")?;
//! let secret = keyring.open(&wrapped, &binding, BINDING_VERSION, &sealed)?;
//! assert_eq!(&secret[..], b"xoxb-secret");
//! // Rebinding the hosts outside Weft: the secret does not open.
//! let evil = ["evil.example".to_owned()];
//! assert!(keyring.open(&wrapped, &Binding { hosts: &evil, ..binding }, BINDING_VERSION, &sealed).is_err());
//!
//! // Master key rotation without downtime: add a key, save, reload everywhere;
//! // old wrapped keys keep working and are rewrapped in the background.
//! keyring.rotate()?;
//! keyring.save(&path)?;
//! let wrapped = if keyring.is_current(&wrapped)? { wrapped } else { keyring.rewrap("ten_1", &wrapped)? };
//! let secret = keyring.open(&wrapped, &binding, BINDING_VERSION, &sealed)?;
//! assert_eq!(&secret[..], b"xoxb-secret");
//! # Ok(())
//! # }
//! ```
//!
//! Rotating the master key never touches credentials: only the (small) wrapped
//! tenant keys are rewrapped. Once no wrapped key names an old master key,
//! [`Keyring::retire`] drops it.
//!
//! API keys ([`apikey`]): the secret is shown once; only its public prefix and
//! its SHA-256 are stored, and [`apikey::verify`] compares hashes in constant
//! time.

pub mod apikey;
mod envelope;
mod keyring;

pub use envelope::{BINDING_VERSION, Binding, Sealed};
pub use keyring::Keyring;
pub use zeroize::Zeroizing;

use std::path::PathBuf;

/// What went wrong with keys or sealed data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The blob was wrapped by a master key this keyring does not hold.
    #[error(
        "master key `{id}` is not in the keyring (was it retired or the keyring file replaced?)"
    )]
    UnknownKey {
        /// The key id the blob names.
        id: String,
    },
    /// A wrapped tenant key that does not have the expected layout.
    #[error("malformed wrapped tenant key: {0}")]
    Malformed(&'static str),
    /// A wrapped tenant key did not unwrap: tampered, or wrapped for another tenant.
    #[error(
        "tenant key of `{tenant_id}` does not unwrap (tampered, or wrapped for another tenant)"
    )]
    Unwrap {
        /// The tenant it was unwrapped for.
        tenant_id: String,
    },
    /// A sealed secret did not open: its metadata (name, hosts, injection)
    /// was changed, or it was tampered with or sealed for another tenant,
    /// credential or tenant key.
    #[error(
        "credential metadata does not match its seal: credential `{credential_id}` of tenant `{tenant_id}` does not open (its name, hosts or injection were changed outside Weft, or it was tampered with or sealed for another tenant, credential or key)"
    )]
    Open {
        /// The tenant.
        tenant_id: String,
        /// The credential.
        credential_id: String,
    },
    /// A credential row names a binding version this build does not know.
    #[error("credential sealed under binding version {0}, which this build does not know")]
    BindingVersion(u32),
    /// The plaintext is too large to seal.
    #[error("secret too large to seal")]
    TooLarge,
    /// The keyring file is not valid.
    #[error("keyring file {}, line {line}: {message}", path.display())]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// 1-based line (0: the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The keyring cannot change that way.
    #[error("{0}")]
    Keyring(String),
    /// Reading or writing the keyring file failed.
    #[error("keyring file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fills `buf` from the operating system's CSPRNG.
fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(Error::Random)
}
