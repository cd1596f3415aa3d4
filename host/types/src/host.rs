//! Outbound host patterns: what a plugin declares and a tenant grants.
//!
//! Forms: `*` (any host), `api.example.com`, `*.example.com` (any subdomain, not the
//! apex), each optionally with `:port`, plus IP literals (`10.0.0.5`, `[::1]:8080`).
//! Without a port a pattern matches every port. Matching is case-insensitive and
//! ignores a trailing dot. Names must be ASCII (use punycode for IDNs).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A parsed host pattern. See the module docs for the forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(with = "String")]
#[serde(try_from = "String", into = "String")]
pub struct HostPattern {
    host: HostPart,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum HostPart {
    Any,
    Exact(String),
    Suffix(String),
}

impl HostPattern {
    /// The pattern that matches every host.
    pub fn any() -> Self {
        Self {
            host: HostPart::Any,
            port: None,
        }
    }

    /// Whether this is the `*` pattern.
    pub fn is_any(&self) -> bool {
        self.host == HostPart::Any && self.port.is_none()
    }

    /// Whether `host` (a DNS name or IP literal, without brackets) and `port` match.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        let host = normalize(host);
        match &self.host {
            HostPart::Any => true,
            HostPart::Exact(h) => *h == host,
            HostPart::Suffix(s) => {
                host.len() > s.len() + 1 && host.ends_with(s.as_str()) && {
                    let cut = host.len() - s.len() - 1;
                    host.as_bytes().get(cut) == Some(&b'.')
                }
            }
        }
    }

    /// Whether every host this pattern matches is also matched by `other`
    /// (used to check that a grant stays within what a plugin declared).
    pub fn is_within(&self, other: &HostPattern) -> bool {
        if other.port.is_some() && other.port != self.port {
            return false;
        }
        match (&self.host, &other.host) {
            (_, HostPart::Any) => true,
            (HostPart::Any, _) => false,
            (HostPart::Exact(h), _) => {
                other.matches(h, self.port.unwrap_or(0)) || {
                    // A port-less exact pattern is within `other` if the host matches at all.
                    let probe = HostPattern {
                        host: other.host.clone(),
                        port: None,
                    };
                    probe.matches(h, 0)
                }
            }
            (HostPart::Suffix(a), HostPart::Suffix(b)) => {
                a == b
                    || (a.ends_with(b.as_str())
                        && a.as_bytes().get(a.len() - b.len() - 1) == Some(&b'.'))
            }
            (HostPart::Suffix(_), HostPart::Exact(_)) => false,
        }
    }
}

fn normalize(host: &str) -> String {
    let h = host.trim_end_matches('.');
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    h.to_ascii_lowercase()
}

fn invalid(pattern: &str, reason: &'static str) -> Error {
    Error::HostPattern {
        pattern: pattern.to_owned(),
        reason,
    }
}

impl FromStr for HostPattern {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let raw = s.trim();
        if raw == "*" {
            return Ok(Self::any());
        }
        if raw.is_empty() {
            return Err(invalid(s, "empty"));
        }
        if raw.contains("://") || raw.contains('/') {
            return Err(invalid(s, "a pattern is a host, not a URL"));
        }
        // Split off a port: `[v6]:port`, `host:port`; a bare v6 literal has several colons.
        let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (h, after) = rest
                .split_once(']')
                .ok_or_else(|| invalid(s, "unclosed `[`"))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(invalid(s, "unexpected text after `]`")),
            }
        } else if raw.matches(':').count() == 1 {
            let (h, p) = raw.split_once(':').ok_or_else(|| invalid(s, "bad port"))?;
            (h, Some(p))
        } else {
            (raw, None)
        };
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| invalid(s, "port is not a number from 0 to 65535"))?,
            ),
            None => None,
        };
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Ok(Self {
                host: HostPart::Exact(normalize(host)),
                port,
            });
        }
        if host == "*" {
            return Ok(Self {
                host: HostPart::Any,
                port,
            });
        }
        let (suffix, name) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        let name = normalize(name);
        if name.is_empty() || name.len() > 253 {
            return Err(invalid(s, "host name must be 1 to 253 characters"));
        }
        for label in name.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(invalid(
                    s,
                    "each dot-separated label must be 1 to 63 characters",
                ));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(
                    s,
                    "only ASCII letters, digits, `-` and `_` are allowed (a `*` only as `*.` at the start)",
                ));
            }
        }
        let host = if suffix {
            HostPart::Suffix(name)
        } else {
            HostPart::Exact(name)
        };
        Ok(Self { host, port })
    }
}

impl TryFrom<String> for HostPattern {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<HostPattern> for String {
    fn from(p: HostPattern) -> String {
        p.to_string()
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match &self.host {
            HostPart::Any => "*".to_owned(),
            HostPart::Exact(h) if h.contains(':') => format!("[{h}]"),
            HostPart::Exact(h) => h.clone(),
            HostPart::Suffix(s) => format!("*.{s}"),
        };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => f.write_str(&host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        s.parse().unwrap()
    }

    #[test]
    fn exact_suffix_and_any() {
        assert!(p("API.Example.com").matches("api.example.com.", 443));
        assert!(!p("api.example.com").matches("example.com", 443));
        assert!(p("*.example.com").matches("a.b.example.com", 80));
        assert!(!p("*.example.com").matches("example.com", 80));
        assert!(!p("*.example.com").matches("badexample.com", 80));
        assert!(p("*").matches("anything.at.all", 1));
    }

    #[test]
    fn ports_and_ip_literals() {
        assert!(p("localhost:8080").matches("localhost", 8080));
        assert!(!p("localhost:8080").matches("localhost", 8081));
        assert!(p("[::1]:80").matches("::1", 80));
        assert!(p("[::1]").matches("[::1]", 80));
        assert!(p("127.0.0.1").matches("127.0.0.1", 9));
        assert_eq!(p("[::1]:80").to_string(), "[::1]:80");
    }

    #[test]
    fn refuses_what_is_not_a_host() {
        for bad in [
            "",
            "http://x.com",
            "x.com/path",
            "a*.x.com",
            "x.com:99999",
            "ex ample.com",
            "é.com",
            "a..b",
        ] {
            let err = bad.parse::<HostPattern>().unwrap_err();
            assert!(
                err.to_string().contains("invalid host pattern"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn grants_within_declarations() {
        assert!(p("api.slack.com").is_within(&p("*.slack.com")));
        assert!(p("x.com:443").is_within(&p("x.com")));
        assert!(!p("x.com").is_within(&p("x.com:443")));
        assert!(!p("*").is_within(&p("x.com")));
        assert!(p("*.a.x.com").is_within(&p("*.x.com")));
        assert!(!p("*.x.com").is_within(&p("x.com")));
        assert!(p("anything").is_within(&HostPattern::any()));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let v: Vec<HostPattern> = serde_json::from_str(r#"["*.a.com","b.com:1"]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["*.a.com","b.com:1"]"#
        );
        assert!(serde_json::from_str::<HostPattern>(r#""a b""#).is_err());
    }
}
