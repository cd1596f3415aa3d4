//! What a tenant grants one invocation: hosts, credentials (by reference) and state.
//!
//! The plugin can use only what it declared *and* what is granted here.

use crate::state::{Namespace, StateStore};
use std::{fmt, sync::Arc};
use weft_types::HostPattern;

/// Everything one invocation may reach.
#[derive(Clone, Default)]
pub struct Grants {
    /// Outbound hosts the tenant allows this step to reach.
    pub hosts: Vec<HostPattern>,
    /// Credentials bound to the plugin's slots.
    pub credentials: Vec<Credential>,
    /// The state namespace, if the tenant grants state.
    pub state: Option<StateGrant>,
    /// Renews an OAuth2 credential's token when a server answers 401 to a
    /// request it was injected into (once per request; `None`: never).
    pub refresh: Option<Arc<dyn Refresh>>,
}

/// Gets a new access token for an OAuth2 credential whose token a server
/// refused (the worker's implementation refreshes it under the store's
/// lease). The plugin never sees either token.
#[async_trait::async_trait]
pub trait Refresh: Send + Sync {
    /// A new token for `slot`, whose token `refused` got a 401. `Err`: why
    /// not (the 401 then goes to the plugin as it came).
    async fn refresh(&self, slot: &str, refused: &Secret) -> Result<Secret, String>;
}

impl fmt::Debug for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grants")
            .field("hosts", &self.hosts)
            .field("credentials", &self.credentials)
            .field("state", &self.state.as_ref().map(|s| &s.namespace))
            .field("refresh", &self.refresh.is_some())
            .finish()
    }
}

/// A key-value namespace: (tenant, plugin).
#[derive(Clone)]
pub struct StateGrant {
    /// Where values live.
    pub store: Arc<dyn StateStore>,
    /// Whose values they are.
    pub namespace: Namespace,
}

/// A secret bound to a plugin's credential slot. The plugin refers to it by slot
/// name; the host injects it into requests to `hosts` only.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The plugin's slot name.
    pub slot: String,
    /// The secret itself.
    pub secret: Secret,
    /// Hosts the secret may be sent to.
    pub hosts: Vec<HostPattern>,
    /// How it is put into a request.
    pub inject: Injection,
}

/// How a credential is put into a request: the domain type, stored with the
/// credential.
pub use weft_types::Injection;

/// A secret string. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret's value: only the injection code calls this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl Credential {
    /// Whether the secret may be sent to `host:port`.
    pub fn bound_to(&self, host: &str, port: u16) -> bool {
        self.hosts.iter().any(|p| p.matches(host, port))
    }

    /// What of this secret travels in clear, for the
    /// [`Scrubber`](crate::scrub::Scrubber) to find in every encoded form:
    /// the secret, and for Basic `username:secret`.
    pub(crate) fn clear_forms(&self) -> Vec<Vec<u8>> {
        let secret = self.secret.expose();
        let mut forms = vec![secret.as_bytes().to_vec()];
        if let Injection::Basic { username } = &self.inject {
            forms.push(format!("{username}:{secret}").into_bytes());
        }
        forms
    }
}

pub(crate) fn basic_token(username: &str, secret: &str) -> String {
    base64(format!("{username}:{secret}").as_bytes())
}

/// Standard base64 with padding (small; avoids a dependency for one use).
pub(crate) fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = Credential {
            slot: "t".into(),
            secret: Secret::new("hunter22"),
            hosts: vec![],
            inject: Injection::Bearer,
        };
        assert!(!format!("{c:?}").contains("hunter22"));
    }
}
