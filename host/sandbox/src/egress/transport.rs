//! The real transport: reqwest with a resolver that enforces the address policy, no
//! proxies, no automatic redirects, and a streaming body cap after decompression.

use super::{Inbound, Outbound, Transport, TransportError, policy};
use crate::state::BoxFuture;
use std::{
    collections::HashMap, error::Error as _, net::IpAddr, net::SocketAddr, sync::Arc,
    time::Duration,
};

/// A name resolved only to addresses the policy refuses.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

/// Resolves names (static overrides first, then the system resolver) and keeps only
/// addresses the policy allows; reqwest connects to exactly those.
struct PolicyResolver {
    allow_private: bool,
    overrides: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let allow_private = self.allow_private;
        let overrides = self.overrides.clone();
        Box::pin(async move {
            if policy::is_metadata_name(&host) {
                return Err(Refused(format!("`{host}` is a cloud metadata endpoint")).into());
            }
            let addrs: Vec<IpAddr> = match overrides.get(&host) {
                Some(a) => a.clone(),
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .map(|s| s.ip())
                    .collect(),
            };
            let mut refused = Vec::new();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .filter_map(|ip| match policy::check_addr(*ip, allow_private) {
                    Ok(()) => Some(SocketAddr::new(*ip, 0)),
                    Err(why) => {
                        refused.push(why);
                        None
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = if refused.is_empty() {
                    "no addresses".to_owned()
                } else {
                    refused.join("; ")
                };
                return Err(Refused(format!(
                    "`{host}` resolves only to refused addresses: {why}"
                ))
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Outbound HTTP with the address policy enforced at connection time.
pub struct HttpTransport {
    /// Decodes gzip (and drops `Content-Encoding` when it does).
    client: reqwest::Client,
    /// Decodes nothing and leaves every header line as sent.
    raw: reqwest::Client,
}

impl HttpTransport {
    /// Builds the client: system proxies are ignored, redirects are not followed
    /// (the host follows them hop by hop); one client decompresses gzip, the
    /// other ([`Outbound::decode`] false) decodes nothing.
    ///
    /// # Errors
    /// If the TLS backend cannot be initialised.
    pub fn new(
        allow_private: bool,
        overrides: HashMap<String, Vec<IpAddr>>,
    ) -> Result<Self, String> {
        let resolver = Arc::new(PolicyResolver {
            allow_private,
            overrides: Arc::new(overrides),
        });
        let builder = || {
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(resolver.clone())
                .connect_timeout(Duration::from_secs(10))
                .pool_idle_timeout(Duration::from_secs(30))
                .pool_max_idle_per_host(16)
                .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
                .no_brotli()
                .no_deflate()
                .no_zstd()
        };
        let client = builder()
            .gzip(true)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let raw = builder()
            .no_gzip()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self { client, raw })
    }
}

fn classify(err: &reqwest::Error) -> TransportError {
    let mut source = err.source();
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<Refused>() {
            return TransportError::Denied(r.0.clone());
        }
        source = s.source();
    }
    if err.is_timeout() {
        TransportError::Timeout
    } else if err.is_connect() {
        TransportError::Connect(chain(err))
    } else {
        TransportError::Protocol(chain(err))
    }
}

fn chain(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl Transport for HttpTransport {
    fn send(&self, req: Outbound) -> BoxFuture<'_, Result<Inbound, TransportError>> {
        Box::pin(async move {
            let Outbound {
                method,
                url,
                headers,
                body,
                timeout,
                max_body,
                decode,
            } = req;
            let client = if decode { &self.client } else { &self.raw };
            let work = async {
                let mut builder = client.request(method, url).headers(headers);
                if let Some(body) = body {
                    builder = builder.body(body);
                }
                let mut resp = builder.send().await.map_err(|e| classify(&e))?;
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
                    if body.len() + chunk.len() > max_body {
                        return Err(TransportError::TooLarge(max_body));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(Inbound {
                    status,
                    headers,
                    body,
                })
            };
            tokio::time::timeout(timeout, work)
                .await
                .unwrap_or(Err(TransportError::Timeout))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    fn resolver(allow_private: bool, name: &str, addrs: &[&str]) -> PolicyResolver {
        let ips = addrs.iter().map(|a| a.parse().unwrap()).collect();
        PolicyResolver {
            allow_private,
            overrides: Arc::new(HashMap::from([(name.to_owned(), ips)])),
        }
    }

    async fn resolve(r: &PolicyResolver, name: &str) -> Result<Vec<SocketAddr>, String> {
        let name: reqwest::dns::Name = name.parse().unwrap();
        r.resolve(name)
            .await
            .map(Iterator::collect)
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn only_checked_addresses_are_handed_to_the_connector() {
        // The name resolves to a refused loopback address and a public one: only the
        // public one may be connected to.
        let r = resolver(
            false,
            "mixed.test",
            &["127.0.0.1", "93.184.216.34", "::ffff:10.0.0.1"],
        );
        let addrs = resolve(&r, "mixed.test").await.unwrap();
        assert_eq!(
            addrs,
            vec!["93.184.216.34:0".parse::<SocketAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn a_name_with_only_refused_addresses_fails_with_every_reason() {
        let r = resolver(false, "inside.test", &["127.0.0.1", "10.1.2.3"]);
        let err = resolve(&r, "inside.test").await.unwrap_err();
        assert!(err.contains("127.0.0.1 is a loopback address"), "{err}");
        assert!(
            err.contains("10.1.2.3 is a private (10.0.0.0/8) address"),
            "{err}"
        );
        // Metadata stays refused even when private ranges are allowed.
        let r = resolver(true, "meta.test", &["169.254.169.254"]);
        assert!(
            resolve(&r, "meta.test")
                .await
                .unwrap_err()
                .contains("metadata")
        );
        let r = resolver(true, "metadata.google.internal", &["10.0.0.1"]);
        assert!(
            resolve(&r, "metadata.google.internal")
                .await
                .unwrap_err()
                .contains("metadata endpoint")
        );
    }
}
