//! Publish signatures (docs/REGISTRY.md section 2): ed25519 over a small
//! statement naming the publisher, the package, the version and the
//! artifact's digest, and the key file `weft plugin keygen` writes.
//!
//! ```
//! use weft_registry::sign;
//!
//! let key = sign::SecretKey::generate().unwrap();
//! let statement = sign::statement("acme", "jira", "1.0.0", &"ab".repeat(32));
//! let signature = key.sign(&statement);
//! sign::verify(&key.public_hex(), &statement, &signature).unwrap();
//! let other = sign::statement("acme", "jira", "1.0.1", &"ab".repeat(32));
//! assert!(sign::verify(&key.public_hex(), &other, &signature).is_err());
//! ```

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// What every statement starts with: the format and its version.
pub const STATEMENT_PREFIX: &[u8] = b"weft-publish-v1\0";

/// The bytes a publisher signs:
/// `"weft-publish-v1\0" publisher "\0" name "\0" version "\0" digest_hex`.
/// Names and versions cannot hold a NUL, so the fields cannot run into
/// each other.
pub fn statement(publisher: &str, name: &str, version: &str, digest_hex: &str) -> Vec<u8> {
    let mut s = Vec::with_capacity(
        STATEMENT_PREFIX.len()
            + publisher.len()
            + name.len()
            + version.len()
            + digest_hex.len()
            + 3,
    );
    s.extend_from_slice(STATEMENT_PREFIX);
    for (i, part) in [publisher, name, version, digest_hex].iter().enumerate() {
        if i > 0 {
            s.push(0);
        }
        s.extend_from_slice(part.as_bytes());
    }
    s
}

/// A key's id: the first 16 hex digits of the SHA-256 of its 32 bytes.
pub fn key_id(public_key: &[u8; 32]) -> String {
    let mut id = hex::encode(Sha256::digest(public_key));
    id.truncate(16);
    id
}

/// Why a signature or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The public key is not hex.
    #[error("the public key is not hex: {0}")]
    PublicKeyHex(String),
    /// The public key is not 32 bytes.
    #[error("the public key is {0} bytes; an ed25519 public key is 32 bytes (64 hex digits)")]
    PublicKeyLength(usize),
    /// 32 bytes that are no usable ed25519 public key.
    #[error("the public key is not a valid ed25519 key")]
    PublicKeyInvalid,
    /// The signature is not hex.
    #[error("the signature is not hex: {0}")]
    SignatureHex(String),
    /// The signature is not 64 bytes.
    #[error("the signature is {0} bytes; an ed25519 signature is 64 bytes (128 hex digits)")]
    SignatureLength(usize),
    /// Well-formed, but not made by this key over this statement.
    #[error(
        "the signature does not verify with key {key_id} over (publisher, name, version, digest)"
    )]
    Mismatch {
        /// The key it was checked with.
        key_id: String,
    },
    /// The operating system gave no randomness for a new key.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// Parses a hex public key, 32 bytes.
///
/// # Errors
/// [`SignatureError::PublicKeyHex`] or [`SignatureError::PublicKeyLength`].
pub fn public_key_bytes(public_key_hex: &str) -> Result<[u8; 32], SignatureError> {
    let bytes =
        hex::decode(public_key_hex).map_err(|e| SignatureError::PublicKeyHex(e.to_string()))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| SignatureError::PublicKeyLength(bytes.len()))
}

/// Checks `signature_hex` over `statement` with `public_key_hex` (strict
/// ed25519: weak keys and malleable signatures are refused).
///
/// # Errors
/// A [`SignatureError`] for a key or signature that is not hex or not of
/// its length, an invalid key, or a signature that does not verify.
pub fn verify(
    public_key_hex: &str,
    statement: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let key = public_key_bytes(public_key_hex)?;
    let sig =
        hex::decode(signature_hex).map_err(|e| SignatureError::SignatureHex(e.to_string()))?;
    let sig = <[u8; 64]>::try_from(sig.as_slice())
        .map_err(|_| SignatureError::SignatureLength(sig.len()))?;
    let vk = VerifyingKey::from_bytes(&key).map_err(|_| SignatureError::PublicKeyInvalid)?;
    if vk.is_weak() {
        return Err(SignatureError::PublicKeyInvalid);
    }
    vk.verify_strict(statement, &ed25519_dalek::Signature::from_bytes(&sig))
        .map_err(|_| SignatureError::Mismatch {
            key_id: key_id(&key),
        })
}

/// A secret signing key. Its `Debug` shows the key id only, and it is wiped
/// from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A new key from the operating system's randomness.
    ///
    /// # Errors
    /// [`SignatureError::Random`] when the OS has no randomness to give.
    pub fn generate() -> Result<Self, SignatureError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| SignatureError::Random(e.to_string()))?;
        let key = Self(SigningKey::from_bytes(&seed));
        seed.fill(0);
        Ok(key)
    }

    /// The key from its 32-byte secret, hex.
    ///
    /// # Errors
    /// A message saying what is wrong (not hex, not 32 bytes); it never
    /// holds the key.
    pub fn from_hex(secret_hex: &str) -> Result<Self, String> {
        let bytes = hex::decode(secret_hex).map_err(|_| "the secret key is not hex".to_owned())?;
        let seed = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            format!(
                "the secret key is {} bytes; an ed25519 secret key is 32 bytes (64 hex digits)",
                bytes.len()
            )
        })?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The secret, hex (for the key file only).
    fn secret_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// The public key, 32 bytes.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The public key, hex: what the registry stores.
    pub fn public_hex(&self) -> String {
        hex::encode(self.public())
    }

    /// The key's id ([`key_id`] of the public key).
    pub fn key_id(&self) -> String {
        key_id(&self.public())
    }

    /// Signs `statement`; the signature is hex.
    pub fn sign(&self, statement: &[u8]) -> String {
        hex::encode(self.0.sign(statement).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.key_id())
    }
}

/// A new key pair: the secret and the public key, hex.
///
/// # Errors
/// [`SignatureError::Random`] when the OS has no randomness to give.
pub fn generate() -> Result<(SecretKey, String), SignatureError> {
    let key = SecretKey::generate()?;
    let public = key.public_hex();
    Ok((key, public))
}

/// Signs `statement` with `secret`; the signature is hex.
pub fn sign(secret: &SecretKey, statement: &[u8]) -> String {
    secret.sign(statement)
}

/// A publisher's signing key as `weft plugin keygen` keeps it: a small JSON
/// file, mode 0600.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The publisher the key signs for.
    pub publisher: String,
    /// The key.
    pub key: SecretKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson {
    publisher: String,
    key_id: String,
    public_key: String,
    secret_key: String,
}

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Writing would replace a key.
    #[error("{0} exists; a key file is never overwritten (remove it first if you mean to)")]
    Exists(PathBuf),
    /// Reading, writing or creating the directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// Others than the owner may read it.
    #[error(
        "{path} is readable by group or others (mode {mode:04o}); run `chmod 600 {path}` and check no one copied it"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It is not a key file, or its parts do not agree.
    #[error("{path} is not a weft key file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `file` to `path` as a new file, mode 0600 (its directory, when
/// missing, is created mode 0700). An existing file is never replaced.
///
/// # Errors
/// [`KeyFileError::Exists`], or [`KeyFileError::Io`] naming the path.
pub fn write_key_file(path: &Path, file: &KeyFile) -> Result<(), KeyFileError> {
    use std::io::Write;
    let json = KeyFileJson {
        publisher: file.publisher.clone(),
        key_id: file.key.key_id(),
        public_key: file.key.public_hex(),
        secret_key: file.key.secret_hex(),
    };
    let mut text = serde_json::to_string_pretty(&json).map_err(|e| KeyFileError::Format {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        opts.mode(0o600);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io(dir))?;
        }
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => KeyFileError::Exists(path.to_owned()),
        _ => io(path)(e),
    })?;
    f.write_all(text.as_bytes()).map_err(io(path))?;
    f.sync_all().map_err(io(path))
}

/// Reads the key file at `path`, refusing one that group or others may read
/// and one whose public key or key id does not match its secret.
///
/// # Errors
/// [`KeyFileError::Permissions`], [`KeyFileError::Format`] or
/// [`KeyFileError::Io`], each naming the path.
pub fn read_key_file(path: &Path) -> Result<KeyFile, KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    let format = |reason: String| KeyFileError::Format {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let json: KeyFileJson = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    let key = SecretKey::from_hex(&json.secret_key).map_err(format)?;
    if key.public_hex() != json.public_key {
        return Err(format(
            "public_key is not the public half of secret_key".into(),
        ));
    }
    if key.key_id() != json.key_id {
        return Err(format(format!(
            "key_id is {}, but the key's id is {}",
            json.key_id,
            key.key_id()
        )));
    }
    crate::names::publisher_name(&json.publisher).map_err(|e| format(e.to_string()))?;
    Ok(KeyFile {
        publisher: json.publisher,
        key,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_statement_is_the_documented_bytes() {
        assert_eq!(
            statement("acme", "jira", "1.2.3", DIGEST),
            format!("weft-publish-v1\0acme\0jira\01.2.3\0{DIGEST}").into_bytes()
        );
    }

    #[test]
    fn key_id_is_sha256_prefix() {
        // RFC 8032 test 1 public key.
        let pk =
            public_key_bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        let full = hex::encode(Sha256::digest(pk));
        assert_eq!(key_id(&pk), full[..16]);
        assert_eq!(key_id(&pk).len(), 16);
    }

    #[test]
    fn rfc8032_vector_verifies() {
        // RFC 8032 section 7.1, test 1 (empty message).
        let key =
            SecretKey::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        assert_eq!(
            key.public_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign(b"");
        assert_eq!(
            sig,
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        verify(&key.public_hex(), b"", &sig).unwrap();
    }

    #[test]
    fn each_refusal_has_its_own_message() {
        let (key, public) = generate().unwrap();
        let st = statement("acme", "jira", "1.0.0", DIGEST);
        let sig = sign(&key, &st);
        verify(&public, &st, &sig).unwrap();

        let e = verify("zz", &st, &sig).unwrap_err();
        assert!(matches!(e, SignatureError::PublicKeyHex(_)), "{e}");
        assert!(e.to_string().starts_with("the public key is not hex: "));
        assert_eq!(
            verify(&public[..62], &st, &sig).unwrap_err().to_string(),
            "the public key is 31 bytes; an ed25519 public key is 32 bytes (64 hex digits)"
        );
        assert!(matches!(
            verify(&public, &st, "xyz").unwrap_err(),
            SignatureError::SignatureHex(_)
        ));
        assert_eq!(
            verify(&public, &st, &sig[..126]).unwrap_err().to_string(),
            "the signature is 63 bytes; an ed25519 signature is 64 bytes (128 hex digits)"
        );
        // The identity point is a weak key: anything "verifies" with it.
        let weak = format!("01{}", "00".repeat(31));
        assert_eq!(
            verify(&weak, &st, &sig).unwrap_err(),
            SignatureError::PublicKeyInvalid
        );
        // Another version, another key, a flipped bit: a mismatch naming the key.
        let other = statement("acme", "jira", "1.0.1", DIGEST);
        assert_eq!(
            verify(&public, &other, &sig).unwrap_err().to_string(),
            format!(
                "the signature does not verify with key {} over (publisher, name, version, digest)",
                key.key_id()
            )
        );
        let (_, other_public) = generate().unwrap();
        assert!(matches!(
            verify(&other_public, &st, &sig).unwrap_err(),
            SignatureError::Mismatch { .. }
        ));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = SecretKey::generate().unwrap();
        let shown = format!(
            "{key:?} {:?}",
            KeyFile {
                publisher: "acme".into(),
                key: key.clone()
            }
        );
        assert!(!shown.contains(&key.secret_hex()), "{shown}");
        assert!(shown.contains(&key.key_id()));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/acme.json");
        let key = SecretKey::generate().unwrap();
        let file = KeyFile {
            publisher: "acme".into(),
            key: key.clone(),
        };
        write_key_file(&path, &file).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);

        let back = read_key_file(&path).unwrap();
        assert_eq!(back.publisher, "acme");
        assert_eq!(back.key.public(), key.public());

        let other = KeyFile {
            publisher: "acme".into(),
            key: SecretKey::generate().unwrap(),
        };
        let e = write_key_file(&path, &other).unwrap_err();
        assert!(matches!(e, KeyFileError::Exists(_)), "{e}");
        assert_eq!(read_key_file(&path).unwrap().key.public(), key.public());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key_file(&path).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{p} is readable by group or others (mode 0644); run `chmod 600 {p}` and check no one copied it",
                p = path.display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_whose_parts_disagree_is_refused() {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate().unwrap();
        let other = SecretKey::generate().unwrap();
        let cases = [
            (
                serde_json::json!({"publisher": "acme", "key_id": key.key_id(),
                    "public_key": other.public_hex(), "secret_key": key.secret_hex()}),
                "public_key is not the public half of secret_key",
            ),
            (
                serde_json::json!({"publisher": "acme", "key_id": "0000000000000000",
                    "public_key": key.public_hex(), "secret_key": key.secret_hex()}),
                "key_id is 0000000000000000",
            ),
            (
                serde_json::json!({"publisher": "acme", "key_id": key.key_id(),
                    "public_key": key.public_hex(), "secret_key": "abcd"}),
                "the secret key is 2 bytes",
            ),
            (
                serde_json::json!({"publisher": "Acme", "key_id": key.key_id(),
                    "public_key": key.public_hex(), "secret_key": key.secret_hex()}),
                "publisher name `Acme`",
            ),
        ];
        for (i, (json, want)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("k{i}.json"));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .unwrap();
            std::io::Write::write_all(&mut f, json.to_string().as_bytes()).unwrap();
            let e = read_key_file(&path).unwrap_err().to_string();
            assert!(e.contains(want), "case {i}: {e}");
            assert!(e.starts_with(&path.display().to_string()), "{e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn a_signature_binds_every_field(
            p in "[a-z]{2,8}", n in "[a-z]{2,8}", v in "[0-9]\\.[0-9]\\.[0-9]",
            which in 0usize..4,
        ) {
            let key = SecretKey::generate().unwrap();
            let st = statement(&p, &n, &v, DIGEST);
            let sig = key.sign(&st);
            prop_assert!(verify(&key.public_hex(), &st, &sig).is_ok());
            let mut parts = [p.clone(), n.clone(), v.clone(), DIGEST.to_owned()];
            parts[which].push('x');
            let changed = statement(&parts[0], &parts[1], &parts[2], &parts[3]);
            prop_assert!(
                matches!(
                    verify(&key.public_hex(), &changed, &sig),
                    Err(SignatureError::Mismatch { .. })
                ),
                "changing field {} kept the signature valid", which
            );
        }
    }
}
