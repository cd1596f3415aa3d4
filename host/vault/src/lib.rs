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
//!   (XChaCha20-Poly1305, random 24-byte nonce), the tenant id *and* the
//!   credential id bound as associated data: a ciphertext copied to another
//!   tenant or another credential does not open.
//!
//! ```
//! use weft_vault::Keyring;
//!
//! # fn main() -> weft_vault::Result<()> {
//! # let dir = tempfile::tempdir().map_err(|e| weft_vault::Error::Io { path: "tmp".into(), source: e })?;
//! # let path = dir.path().join("master.keys");
//! let mut keyring = Keyring::load_or_generate(&path)?; // generates the file the first time
//!
//! // Once per tenant, stored with the tenant (`Tenant::wrapped_key`).
//! let wrapped = keyring.new_tenant_key("ten_1")?;
//!
//! // Per credential, stored as `CredentialRecord::{nonce, ciphertext}`.
//! let sealed = keyring.seal("ten_1", &wrapped, "cred_1", b"xoxb-secret")?;
//! let secret = keyring.open("ten_1", &wrapped, "cred_1", &sealed.nonce, &sealed.ciphertext)?;
//! assert_eq!(&secret[..], b"xoxb-secret");
//! assert!(keyring.open("ten_2", &wrapped, "cred_1", &sealed.nonce, &sealed.ciphertext).is_err());
//!
//! // Master key rotation without downtime: add a key, save, reload everywhere;
//! // old wrapped keys keep working and are rewrapped in the background.
//! keyring.rotate()?;
//! keyring.save(&path)?;
//! let wrapped = if keyring.is_current(&wrapped)? { wrapped } else { keyring.rewrap("ten_1", &wrapped)? };
//! let secret = keyring.open("ten_1", &wrapped, "cred_1", &sealed.nonce, &sealed.ciphertext)?;
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

pub use envelope::Sealed;
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
    /// A sealed secret did not open: tampered, or sealed for another tenant,
    /// credential or tenant key.
    #[error(
        "credential `{credential_id}` of tenant `{tenant_id}` does not open (tampered, or sealed for another tenant, credential or key)"
    )]
    Open {
        /// The tenant.
        tenant_id: String,
        /// The credential.
        credential_id: String,
    },
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
