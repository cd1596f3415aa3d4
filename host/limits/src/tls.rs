//! TLS to Redis: `rediss://` turns it on (rustls; the server's chain and host
//! name are verified, and there is no `#insecure`), `[redis.tls]` says whom to
//! trust (the CA file replaces the system's roots) and who we are.

use crate::Options;
use redis::{ErrorKind, RedisError};

/// The key path of the TLS files in errors.
const SECTION: &str = "redis.tls";

/// What a `rediss://` URL without a CA file is checked against.
pub(crate) const SYSTEM_ROOTS: &str = "the system's trusted roots (no redis.tls.ca_file)";

/// Whether the URL asks for TLS.
pub(crate) fn is_rediss(url: &str) -> bool {
    url.get(..9)
        .is_some_and(|s| s.eq_ignore_ascii_case("rediss://"))
}

fn invalid(message: String) -> RedisError {
    RedisError::from((ErrorKind::InvalidClientConfig, "TLS options", message))
}

/// The client of `options`, and what its server's certificate is checked
/// against when it is over TLS.
///
/// # Errors
/// The URL does not parse, files with a `redis://` URL, a file that cannot
/// be used.
pub(crate) fn client(options: &Options) -> Result<(redis::Client, Option<String>), RedisError> {
    let url = options.url.as_str();
    if !is_rediss(url) {
        if !options.tls.is_empty() {
            return Err(invalid(format!(
                "{SECTION} is set but redis.url is not rediss://: use rediss:// to connect over TLS"
            )));
        }
        return Ok((redis::Client::open(url)?, None));
    }
    if options.tls.is_empty() {
        return Ok((redis::Client::open(url)?, Some(SYSTEM_ROOTS.to_owned())));
    }
    let pem = options
        .tls
        .load(SECTION)
        .map_err(|e| invalid(e.to_string()))?;
    let trust = options.tls.ca_file.as_ref().map_or_else(
        || SYSTEM_ROOTS.to_owned(),
        |p| format!("{SECTION}.ca_file = {}", p.display()),
    );
    let client = redis::Client::build_with_tls(
        url,
        redis::TlsCertificates {
            client_tls: pem.client.map(|id| redis::ClientTlsConfig {
                client_cert: id.cert,
                client_key: id.key,
            }),
            root_cert: pem.ca,
        },
    )?;
    Ok((client, Some(trust)))
}

/// A failed connect, saying what the certificate was checked against when
/// TLS refused it.
pub(crate) fn describe(e: &RedisError, trust: Option<&str>) -> String {
    match trust {
        Some(trust) if weft_tls::is_tls_error(e) => {
            format!("{e} (the server's certificate was checked against {trust})")
        }
        _ => e.to_string(),
    }
}

/// Why a connection cannot be made, from one direct attempt: the connection
/// manager retries until the call's time is up, which hides the reason
/// (readiness and start-up only, never on a limit's path).
pub(crate) async fn diagnose(client: &redis::Client, trust: Option<&str>) -> String {
    let attempt = tokio::time::timeout(
        crate::CALL_TIMEOUT,
        client.get_multiplexed_async_connection(),
    )
    .await;
    match attempt {
        Ok(Err(e)) => describe(&e, trust),
        Ok(Ok(_)) => "the connection manager did not connect in time; a direct attempt did".into(),
        Err(_) => format!(
            "no connection within {} ms",
            crate::CALL_TIMEOUT.as_millis()
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn files_need_rediss_and_readable_pem() {
        assert!(is_rediss("REDISS://h:6379") && !is_rediss("redis://h:6379"));
        let mut o = Options {
            url: "redis://h:6379".into(),
            ..Options::default()
        };
        assert!(client(&o).unwrap().1.is_none());
        o.url = "rediss://h:6379".into();
        assert_eq!(client(&o).unwrap().1.as_deref(), Some(SYSTEM_ROOTS));
        o.tls.ca_file = Some("/nonexistent/ca.pem".into());
        let e = client(&o).unwrap_err().to_string();
        assert!(
            e.contains("redis.tls.ca_file") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
        o.url = "redis://h:6379".into();
        let e = client(&o).unwrap_err().to_string();
        assert!(e.contains("redis.tls") && e.contains("rediss://"), "{e}");
    }
}
