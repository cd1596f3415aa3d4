//! TLS to the database: the URL's `sslmode` turns it on, `[database.tls]`
//! says whom to trust and who we are. Only modes that verify the server are
//! accepted: `verify-full` (chain and host name) and `verify-ca` (chain
//! only); `disable` is plain TCP. `allow`, `prefer` and `require` encrypt
//! without checking whom we talk to, so they are refused with a message that
//! says what to write instead. sqlx adds `database.tls.ca_file` to the
//! system's roots.

use sqlx::postgres::{PgConnectOptions, PgSslMode};
use weft_store::{Error, Result};

/// The key path of the TLS files in errors.
const SECTION: &str = "database.tls";

/// Whether `url` (or `PGSSLMODE`) names an `sslmode`.
fn names_ssl_mode(url: &str) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let in_url = query.split('&').any(|pair| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode")
    });
    in_url || std::env::var_os("PGSSLMODE").is_some()
}

/// Sets the connection's TLS from the URL's `sslmode` and the files. No
/// `sslmode`: `verify-full` when a file is set, else `disable`.
///
/// # Errors
/// `Unavailable` naming the option: an `sslmode` that does not verify, a
/// file with `sslmode=disable`, a file that cannot be used.
pub(crate) fn apply(
    mut connect: PgConnectOptions,
    url: &str,
    files: &weft_tls::Files,
) -> Result<PgConnectOptions> {
    if !names_ssl_mode(url) {
        let mode = if files.is_empty() {
            PgSslMode::Disable
        } else {
            PgSslMode::VerifyFull
        };
        connect = connect.ssl_mode(mode);
    }
    match connect.get_ssl_mode() {
        PgSslMode::Disable if files.is_empty() => Ok(connect),
        PgSslMode::Disable => Err(Error::Unavailable(format!(
            "{SECTION} is set but database.url says sslmode=disable: use sslmode=verify-full \
             (or drop sslmode) to connect over TLS"
        ))),
        mode @ (PgSslMode::Allow | PgSslMode::Prefer | PgSslMode::Require) => {
            Err(Error::Unavailable(format!(
                "database.url: sslmode={} does not verify the server's certificate; use \
                 sslmode=verify-full (or verify-ca, which skips the host name check), or \
                 sslmode=disable for plain TCP",
                format!("{mode:?}").to_lowercase()
            )))
        }
        PgSslMode::VerifyCa | PgSslMode::VerifyFull => {
            let pem = files
                .load(SECTION)
                .map_err(|e| Error::Unavailable(e.to_string()))?;
            if let Some(ca) = pem.ca {
                connect = connect.ssl_root_cert_from_pem(ca);
            }
            if let Some(id) = pem.client {
                connect = connect
                    .ssl_client_cert_from_pem(id.cert)
                    .ssl_client_key_from_pem(id.key);
            }
            Ok(connect)
        }
    }
}

/// A failed connect; a TLS failure says what the server's certificate was
/// checked against.
pub(crate) fn connect_error(e: sqlx::Error, files: &weft_tls::Files) -> Error {
    if !(matches!(e, sqlx::Error::Tls(_)) || weft_tls::is_tls_error(&e)) {
        return crate::row::unavailable(e);
    }
    let trust = files.ca_file.as_ref().map_or_else(
        || "the system's trusted roots (no database.tls.ca_file)".to_owned(),
        |p| format!("the system's roots and {SECTION}.ca_file = {}", p.display()),
    );
    Error::Unavailable(format!(
        "postgres: {e} (the server's certificate was checked against {trust})"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::str::FromStr;

    fn mode(url: &str, files: &weft_tls::Files) -> Result<PgSslMode> {
        let c = PgConnectOptions::from_str(url).unwrap();
        apply(c, url, files).map(|c| c.get_ssl_mode())
    }

    #[test]
    fn the_url_decides_and_only_verifying_modes_pass() {
        let none = weft_tls::Files::default();
        let base = "postgres://u:p@db/weft";
        assert!(matches!(mode(base, &none), Ok(PgSslMode::Disable)));
        assert!(matches!(
            mode(&format!("{base}?sslmode=verify-full"), &none),
            Ok(PgSslMode::VerifyFull)
        ));
        assert!(matches!(
            mode(
                &format!("{base}?application_name=x&sslmode=verify-ca"),
                &none
            ),
            Ok(PgSslMode::VerifyCa)
        ));
        for weak in ["require", "prefer", "allow"] {
            let e = mode(&format!("{base}?sslmode={weak}"), &none)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("sslmode={weak}")) && e.contains("verify-full"),
                "{e}"
            );
        }
        // A file and no sslmode: verified TLS; a file and sslmode=disable: refused.
        let ca = weft_tls::Files {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..weft_tls::Files::default()
        };
        let e = mode(base, &ca).unwrap_err().to_string();
        assert!(
            e.contains("database.tls.ca_file") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
        let e = mode(&format!("{base}?sslmode=disable"), &ca)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("database.tls") && e.contains("sslmode=disable"),
            "{e}"
        );
    }
}
