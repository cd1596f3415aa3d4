#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use std::process::Command;

/// A throwaway CA and two leaf certificates with their keys, made by
/// `openssl` (installed by `scripts/services`).
fn pki(dir: &Path) {
    let sh = format!(
        "set -e; cd {d}
         openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
           -subj /CN=test-ca -keyout ca.key -out ca.crt 2>/dev/null
         printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > leaf.ext
         for n in a b; do
           openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=$n \
             -keyout $n.key -out $n.csr 2>/dev/null
           openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
             -extfile leaf.ext -out $n.crt 2>/dev/null
         done
         echo 'not a certificate' > junk.txt",
        d = dir.display()
    );
    let ok = Command::new("sh")
        .arg("-c")
        .arg(sh)
        .status()
        .expect("openssl");
    assert!(ok.success(), "openssl failed (is it installed?)");
}

fn files(dir: &Path, ca: &str, cert: Option<&str>, key: Option<&str>) -> Files {
    Files {
        ca_file: Some(dir.join(ca)),
        client_cert_file: cert.map(|c| dir.join(c)),
        client_key_file: key.map(|k| dir.join(k)),
    }
}

#[test]
fn a_ca_and_a_client_certificate_load() {
    let d = tempfile::tempdir().unwrap();
    pki(d.path());
    let pem = files(d.path(), "ca.crt", Some("a.crt"), Some("a.key"))
        .load("queue.tls")
        .unwrap();
    assert!(pem.ca.unwrap().starts_with(b"-----BEGIN CERTIFICATE-----"));
    let id = pem.client.unwrap();
    assert!(!id.key.is_empty() && !id.cert.is_empty());
    assert_eq!(format!("{id:?}"), "Identity(<redacted>)");
    assert!(Files::default().is_empty());
    assert!(Files::default().load("x").unwrap().ca.is_none());
}

#[test]
fn errors_name_the_option_and_the_file() {
    let d = tempfile::tempdir().unwrap();
    pki(d.path());
    let err = |f: Files| f.load("database.tls").unwrap_err().to_string();

    let e = err(files(d.path(), "missing.pem", None, None));
    assert!(
        e.starts_with("database.tls.ca_file = ")
            && e.contains("missing.pem")
            && e.contains("cannot read"),
        "{e}"
    );
    let e = err(files(d.path(), "junk.txt", None, None));
    assert!(
        e.contains("database.tls.ca_file") && e.contains("junk.txt") && e.contains("not PEM"),
        "{e}"
    );
    // A key where certificates belong.
    let e = err(files(d.path(), "a.key", None, None));
    assert!(e.contains("a.key") && e.contains("not PEM"), "{e}");
    let e = err(files(d.path(), "ca.crt", Some("a.crt"), None));
    assert!(
        e.contains("database.tls.client_cert_file") && e.contains("client_key_file"),
        "{e}"
    );
    let e = err(files(d.path(), "ca.crt", Some("a.crt"), Some("junk.txt")));
    assert!(
        e.contains("database.tls.client_key_file") && e.contains("no PEM private key"),
        "{e}"
    );
    let e = err(files(d.path(), "ca.crt", Some("a.crt"), Some("b.key")));
    assert!(
        e.contains("b.key") && e.contains("does not fit") && e.contains("a.crt"),
        "{e}"
    );
}

#[test]
fn tls_errors_are_found_through_io_and_shared_wrappers() {
    use std::sync::Arc;
    let tls = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        )
    };
    assert!(is_tls_error(&tls()));
    // As redis reports it: an error whose source is a shared `Arc<dyn Error>`.
    #[derive(Debug)]
    struct Wrapper(Arc<dyn std::error::Error + Send + Sync>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("wrapped")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    assert!(is_tls_error(&Wrapper(Arc::new(tls()))));
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    assert!(!is_tls_error(&refused));
    assert!(!is_tls_error(&Wrapper(Arc::new(refused))));
}
