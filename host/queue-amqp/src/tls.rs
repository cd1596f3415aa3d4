//! TLS to the broker: `amqps://` turns it on, `[queue.tls]` says whom to
//! trust and who we are. The broker's certificate chain and host name are
//! always verified (lapin on rustls); `queue.tls.ca_file` is trusted in
//! addition to the system's roots.

use crate::Options;
use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
use weft_queue::{Error, Result};

/// The key path of the TLS files in errors.
pub(crate) const SECTION: &str = "queue.tls";

/// Whether the URL asks for TLS.
pub(crate) fn is_amqps(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("amqps://"))
}

/// The TLS configuration of `options`, read and checked once at connect.
///
/// # Errors
/// `Unavailable` naming the option: files with an `amqp://` URL, or a file
/// that cannot be used.
pub(crate) fn config(options: &Options) -> Result<OwnedTLSConfig> {
    if !is_amqps(&options.url) {
        if options.tls.is_empty() {
            return Ok(OwnedTLSConfig::default());
        }
        return Err(Error::Unavailable(format!(
            "{SECTION} is set but queue.url is not amqps://: use amqps:// to connect over TLS"
        )));
    }
    let pem = options
        .tls
        .load(SECTION)
        .map_err(|e| Error::Unavailable(e.to_string()))?;
    Ok(OwnedTLSConfig {
        cert_chain: pem.ca.map(|ca| String::from_utf8_lossy(&ca).into_owned()),
        identity: pem.client.map(|id| OwnedIdentity::PKCS8 {
            pem: id.cert,
            key: id.key,
        }),
    })
}

/// What a failed TLS connect checked the broker's certificate against.
pub(crate) fn trust(options: &Options) -> String {
    options.tls.ca_file.as_ref().map_or_else(
        || "the system's trusted roots (no queue.tls.ca_file)".to_owned(),
        |p| format!("the system's roots and {SECTION}.ca_file = {}", p.display()),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn files_need_amqps_and_readable_pem() {
        assert!(is_amqps("AMQPS://h/%2f") && !is_amqps("amqp://h/%2f"));
        let mut o = Options::new("amqp://h/%2f");
        assert_eq!(config(&o).unwrap(), OwnedTLSConfig::default());
        o.tls.ca_file = Some("/nonexistent/ca.pem".into());
        let e = config(&o).unwrap_err().to_string();
        assert!(e.contains("queue.tls") && e.contains("amqps://"), "{e}");
        o.url = "amqps://h/%2f".into();
        let e = config(&o).unwrap_err().to_string();
        assert!(
            e.contains("queue.tls.ca_file") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
    }
}
