//! The TLS files of the clients of the distributed mode's services:
//! PostgreSQL (`[database.tls]`), RabbitMQ (`[queue.tls]`) and Redis
//! (`[redis.tls]`). Whether TLS is on is said by each service's URL
//! (`sslmode=verify-full`, `amqps://`, `rediss://`); these files say whom to
//! trust and who we are:
//!
//! ```no_run
//! use weft_tls::Files;
//!
//! let files = Files {
//!     ca_file: Some("/etc/weft/db-ca.pem".into()),
//!     ..Files::default()
//! };
//! // Read and checked at start; an error names `database.tls.ca_file` and the path.
//! let pem = files.load("database.tls").unwrap();
//! assert!(pem.ca.is_some() && pem.client.is_none());
//! ```
//!
//! Every client verifies the server's certificate chain and host name; there
//! is no switch to turn that off. Without `ca_file` the system's trusted roots
//! are used. All three clients run on rustls with the ring provider:
//! [`install_provider`] makes it the process's default at start, so a
//! library's `ClientConfig::builder()` takes ring even if a dependency ever
//! compiles in a second provider (rustls would otherwise panic at connect).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Makes ring the process's rustls provider. Call once at start, before any
/// TLS client is built; later calls (and a provider already chosen) are left
/// alone.
pub fn install_provider() {
    // Err means a default is already installed: keep it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A file option that cannot be used; the message names the option and the
/// file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("{option} = {}: cannot read the file: {source}", path.display())]
    Read {
        /// The key path, e.g. `database.tls.ca_file`.
        option: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what the option needs (PEM certificates, a PEM key).
    #[error("{option} = {}: {reason}", path.display())]
    Invalid {
        /// The key path.
        option: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Two options that go together, one of them missing or contradicting
    /// the other.
    #[error("{0}")]
    Mismatch(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The `tls` table of a service's section: plain paths with no defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Files {
    /// PEM certificates of the authority (or authorities) that signed the
    /// server's certificate. Unset: the system's trusted roots. (sqlx and
    /// lapin add it to those roots; the redis client trusts it alone.)
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain to present when the server asks for a client
    /// certificate (with `client_key_file`).
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `client_cert_file`.
    pub client_key_file: Option<PathBuf>,
}

/// The checked contents of [`Files`], as the clients take them.
#[derive(Clone, Default)]
pub struct Pem {
    /// The CA certificates, PEM.
    pub ca: Option<Vec<u8>>,
    /// The client certificate and key.
    pub client: Option<Identity>,
}

/// A client certificate chain and its key, both PEM.
#[derive(Clone)]
pub struct Identity {
    /// The certificate chain, PEM.
    pub cert: Vec<u8>,
    /// The private key, PEM.
    pub key: Vec<u8>,
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pem")
            .field("ca", &self.ca.as_ref().map(Vec::len))
            .field("client", &self.client.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

impl Files {
    /// Whether no file is set.
    pub fn is_empty(&self) -> bool {
        self.ca_file.is_none() && self.client_cert_file.is_none() && self.client_key_file.is_none()
    }

    /// Reads and checks the files; `section` names the table in errors
    /// (`database.tls` gives `database.tls.ca_file`).
    ///
    /// # Errors
    /// A file that cannot be read, is not PEM of the right kind, a client
    /// certificate without its key (or the other way round), or a key that
    /// does not belong to the certificate.
    pub fn load(&self, section: &str) -> Result<Pem> {
        let option = |name: &str| format!("{section}.{name}");
        let ca = match &self.ca_file {
            Some(path) => {
                let o = option("ca_file");
                let pem = read(&o, path)?;
                let certs = certificates(&o, path, &pem)?;
                let mut roots = rustls::RootCertStore::empty();
                for (i, c) in certs.into_iter().enumerate() {
                    roots
                        .add(c)
                        .map_err(|e| invalid(&o, path, format!("certificate {}: {e}", i + 1)))?;
                }
                Some(pem)
            }
            None => None,
        };
        let client = match (&self.client_cert_file, &self.client_key_file) {
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::Mismatch(format!(
                    "{} and {} go together: set both or neither",
                    option("client_cert_file"),
                    option("client_key_file")
                )));
            }
            (Some(cert_path), Some(key_path)) => {
                let (co, ko) = (option("client_cert_file"), option("client_key_file"));
                let cert = read(&co, cert_path)?;
                let chain = certificates(&co, cert_path, &cert)?;
                let key = read(&ko, key_path)?;
                let der = PrivateKeyDer::from_pem_slice(&key).map_err(|e| {
                    invalid(&ko, key_path, format!("no PEM private key found ({e})"))
                })?;
                let provider = rustls::crypto::ring::default_provider();
                rustls::sign::CertifiedKey::from_der(chain, der, &provider).map_err(|e| {
                    Error::Mismatch(format!(
                        "{ko} = {} does not fit {co} = {}: {e}",
                        key_path.display(),
                        cert_path.display()
                    ))
                })?;
                Some(Identity { cert, key })
            }
        };
        Ok(Pem { ca, client })
    }
}

/// Whether a TLS error (a certificate that does not verify, an alert from the
/// server) is somewhere in `e`'s chain, including inside `std::io::Error`s
/// and shared `Arc<dyn Error>`s, which is how the clients report a failed
/// handshake.
pub fn is_tls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(shared) = e.downcast_ref::<Shared>() {
            let inner: &(dyn std::error::Error + Send + Sync) = shared.as_ref();
            if is_tls_error(inner) {
                return true;
            }
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && is_tls_error(inner)
        {
            return true;
        }
        next = e.source();
    }
    false
}

fn read(option: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Read {
        option: option.to_owned(),
        path: path.to_owned(),
        source,
    })
}

fn invalid(option: &str, path: &Path, reason: String) -> Error {
    Error::Invalid {
        option: option.to_owned(),
        path: path.to_owned(),
        reason,
    }
}

/// The certificates of a PEM file: at least one, all well-formed PEM.
fn certificates(option: &str, path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(option, path, format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid(
            option,
            path,
            "not PEM: no `-----BEGIN CERTIFICATE-----` block".into(),
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests;

/// Test support for the adapters' TLS tests: the throwaway PKI that
/// `scripts/services start` makes and prints as `WEFT_TEST_TLS_*` variables.
#[cfg(feature = "testing")]
#[allow(clippy::panic)]
pub mod testing {
    use super::Files;

    /// A variable `scripts/services start` prints; panics naming it and how to
    /// set it when it is not set.
    pub fn env(name: &str) -> String {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: start the services with \
                 eval \"$(scripts/services start)\" (scripts/test does this)"
            )
        })
    }

    /// The files of the test PKI: the CA named by the variable `ca`
    /// (`WEFT_TEST_TLS_CA_FILE`, or `WEFT_TEST_TLS_OTHER_CA_FILE` for a CA that
    /// signed nothing of ours), with the client certificate when `client`.
    pub fn files(ca: &str, client: bool) -> Files {
        Files {
            ca_file: Some(env(ca).into()),
            client_cert_file: client.then(|| env("WEFT_TEST_TLS_CLIENT_CERT_FILE").into()),
            client_key_file: client.then(|| env("WEFT_TEST_TLS_CLIENT_KEY_FILE").into()),
        }
    }
}
