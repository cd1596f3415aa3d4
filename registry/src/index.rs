//! What the storage adapters share to keep a package's derived fields and
//! its search index: semver order and the latest installable version, the
//! search terms of a query, the form credential hosts are indexed in, and
//! the search cursor. Pure functions; the adapters call them inside the
//! transaction that writes the version row.

use crate::{Error, Package, Result, SearchPage, Sort, Version};
use std::cmp::Ordering;

/// Semver precedence of two version strings (`1.10.0` after `1.9.0`, a
/// pre-release below its release). A string that is not semver sorts below
/// every one that is, then by its text (none should be stored).
pub fn compare(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp_precedence(&y).then_with(|| x.cmp(&y)),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Sorts versions highest first.
pub fn sort_highest_first(versions: &mut [Version]) {
    versions.sort_by(|a, b| compare(&b.version, &a.version));
}

/// Whether a version can be installed: neither yanked nor taken down.
pub fn installable(v: &Version) -> bool {
    !v.yanked && v.taken_down.is_none()
}

/// The package's `latest`: its highest installable release, or its highest
/// installable pre-release when it has no installable release (a `2.0.0-rc.1`
/// does not hide `1.4.0` from those who browse).
pub fn latest(versions: &[Version]) -> Option<&Version> {
    let best = |release_only: bool| {
        versions
            .iter()
            .filter(|v| installable(v) && (!release_only || is_release(&v.version)))
            .max_by(|a, b| compare(&a.version, &b.version))
    };
    best(true).or_else(|| best(false))
}

/// Whether a version string is semver without a pre-release.
pub fn is_release(version: &str) -> bool {
    semver::Version::parse(version).is_ok_and(|v| v.pre.is_empty())
}

/// The words of a search text: runs of letters and digits, lower-cased.
/// Adapters match each as a prefix, all of them required. No word (only
/// punctuation) means no text filter.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The text an exact name match compares with the package name.
pub fn exact_name(text: &str) -> String {
    text.trim().to_lowercase()
}

/// How a credential host pattern is indexed: without its port, lower-cased,
/// labels reversed (`api.slack.com` -> `com.slack.api`, `*.slack.com` ->
/// `com.slack.*`), so that every pattern under a domain shares a prefix.
pub fn host_key(pattern: &str) -> String {
    let host = pattern.trim().to_lowercase();
    // An IPv6 literal in brackets keeps its colons; otherwise `:port` goes.
    let host = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default().to_owned(),
        None => host.split(':').next().unwrap_or_default().to_owned(),
    };
    let host = host.trim_end_matches('.');
    host.split('.').rev().collect::<Vec<_>>().join(".")
}

/// The credential-host filter of a search, over [`host_key`]s: a slot host
/// matches when its key equals `exact`, or (for a `*.domain` query) starts
/// with `under`, or always for the `*` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFilter {
    /// `*`: any credential slot with any host.
    pub any: bool,
    /// The query's own key: a slot declaring exactly this pattern.
    pub exact: String,
    /// For `*.domain`: the key prefix of every host under the domain
    /// (`com.slack.`), with its exclusive upper bound (`com.slack/`).
    pub under: Option<(String, String)>,
}

impl HostFilter {
    /// The filter for a query pattern (`*.slack.com` matches slots for
    /// `api.slack.com`, `a.b.slack.com` and `*.slack.com`, not `slack.com`).
    pub fn new(pattern: &str) -> Self {
        let exact = host_key(pattern);
        let any = exact == "*";
        let under = exact.strip_suffix(".*").filter(|d| !d.is_empty()).map(|d| {
            // '/' is the character after '.': [d., d/) holds exactly the keys
            // starting with `d.`.
            (format!("{d}."), format!("{d}/"))
        });
        Self { any, exact, under }
    }
}

/// Where a search page ended: the sort key of its last package.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cursor {
    /// Relevance order: exact name first, then the rank (lower is better:
    /// the adapter's own score, negated if higher is better), then the id.
    Relevance {
        /// The last package's name equalled the text.
        exact: bool,
        /// Its rank.
        rank: f64,
        /// Its row id.
        id: i64,
    },
    /// Installs order: most first, then the id.
    Installs {
        /// The last package's installs.
        installs: i64,
        /// Its row id.
        id: i64,
    },
}

impl Cursor {
    /// The cursor of a package read in `sort` order: its exact-name flag and
    /// rank count in relevance order only.
    pub fn of(sort: Sort, exact: bool, rank: f64, installs: u64, id: i64) -> Self {
        match sort {
            Sort::Relevance => Self::Relevance { exact, rank, id },
            Sort::Installs => Self::Installs {
                installs: i64::try_from(installs).unwrap_or(i64::MAX),
                id,
            },
        }
    }

    /// The opaque text handed to the client.
    pub fn encode(&self) -> String {
        match *self {
            Self::Relevance { exact, rank, id } => {
                format!("r.{}.{:016x}.{id}", u8::from(exact), rank.to_bits())
            }
            Self::Installs { installs, id } => format!("i.{installs}.{id}"),
        }
    }

    /// Reads a cursor back.
    ///
    /// # Errors
    /// `NotFound("search cursor")` for text no page produced.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || Error::NotFound("search cursor");
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            ["r", exact, rank, id] => Ok(Self::Relevance {
                exact: match *exact {
                    "1" => true,
                    "0" => false,
                    _ => return Err(bad()),
                },
                rank: f64::from_bits(u64::from_str_radix(rank, 16).map_err(|_| bad())?),
                id: id.parse().map_err(|_| bad())?,
            }),
            ["i", installs, id] => Ok(Self::Installs {
                installs: installs.parse().map_err(|_| bad())?,
                id: id.parse().map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

/// The page of an adapter's query that read up to `limit + 1` packages in
/// order, each with its cursor: the first `limit`, and the next page's
/// cursor when there was one more.
pub fn page(mut found: Vec<(Package, Cursor)>, limit: u32) -> SearchPage {
    let limit = limit as usize;
    let more = found.len() > limit;
    found.truncate(limit);
    let next = if more {
        found.last().map(|(_, c)| c.encode())
    } else {
        None
    };
    SearchPage {
        items: found.into_iter().map(|(p, _)| p).collect(),
        next,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn semver_order() {
        let mut v = vec![
            "1.9.0",
            "1.10.0",
            "1.10.0-rc.1",
            "1.10.0-alpha.10",
            "1.10.0-alpha.9",
        ];
        v.sort_by(|a, b| compare(a, b));
        assert_eq!(
            v,
            [
                "1.9.0",
                "1.10.0-alpha.9",
                "1.10.0-alpha.10",
                "1.10.0-rc.1",
                "1.10.0"
            ]
        );
    }

    #[test]
    fn host_keys_and_filters() {
        assert_eq!(host_key("API.Slack.com:443"), "com.slack.api");
        assert_eq!(host_key("*.slack.com"), "com.slack.*");
        assert_eq!(host_key("[::1]:8080"), "::1");
        let f = HostFilter::new("*.slack.com");
        let (lo, hi) = f.under.clone().unwrap();
        for covered in ["api.slack.com", "*.slack.com", "a.b.slack.com"] {
            let k = host_key(covered);
            assert!(k == f.exact || (k >= lo && k < hi), "{covered}");
        }
        for other in ["slack.com", "api.slack.company", "slack.com.evil"] {
            let k = host_key(other);
            assert!(k != f.exact && !(k >= lo && k < hi), "{other}");
        }
        assert!(HostFilter::new("*").any);
        assert_eq!(HostFilter::new("api.slack.com").under, None);
    }

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor::Relevance {
                exact: true,
                rank: -1.25e-7,
                id: 42,
            },
            Cursor::Installs { installs: 7, id: 3 },
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        assert!(Cursor::decode("x").is_err());
    }

    #[test]
    fn terms_are_words() {
        assert_eq!(terms(" Slack-notify, v2!"), ["slack", "notify", "v2"]);
        assert!(terms("--").is_empty());
    }
}
