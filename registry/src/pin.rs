//! Pins: which versions of a package an install or a workflow accepts
//! (docs/REGISTRY.md section 6).
//!
//! `=1.2.3` is exactly that version; `^1` is the highest `1.x.y`, and for
//! `0.x`, where every minor may break, `^0.3` is the highest `0.3.y`, as
//! cargo reads caret requirements. A bare `1` or `0.3` is read as `^1` or
//! `^0.3` (the form a workflow writes after `connector@`). Pre-releases
//! match only an exact pin.
//!
//! ```
//! use weft_registry::pin::Pin;
//!
//! let pin: Pin = "^1".parse().unwrap();
//! assert!(pin.matches(&semver::Version::new(1, 4, 0)));
//! assert!(!pin.matches(&semver::Version::new(2, 0, 0)));
//! assert_eq!("0.3".parse::<Pin>().unwrap().to_string(), "^0.3");
//! ```

use crate::Version;
use std::fmt;
use std::str::FromStr;

/// Which versions are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `=1.2.3`: this version only.
    Exact(semver::Version),
    /// `^1`: any release `1.x.y`.
    Major(u64),
    /// `^0.3`: any release `0.3.y`.
    Minor(u64),
}

/// A pin that does not parse; the message says which forms are accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "pin `{pin}` {problem}; write `=1.2.3` for exactly that version, `^1` for the highest 1.x, or `^0.3` for the highest 0.3.x"
)]
pub struct PinError {
    /// The pin as given.
    pub pin: String,
    /// What is wrong with it.
    pub problem: String,
}

impl Pin {
    /// Parses `=1.2.3`, `^1`, `^0.3` (and `1`, `0.3` as the carets).
    ///
    /// # Errors
    /// [`PinError`] saying what is wrong and which forms are accepted.
    pub fn parse(s: &str) -> Result<Self, PinError> {
        let bad = |problem: &str| PinError {
            pin: s.to_owned(),
            problem: problem.to_owned(),
        };
        if let Some(exact) = s.strip_prefix('=') {
            return crate::names::version(exact)
                .map(Self::Exact)
                .map_err(|e| bad(&format!("is not an exact version ({e})")));
        }
        let caret = s.strip_prefix('^').unwrap_or(s);
        let number = |part: &str| -> Result<u64, PinError> {
            if part.is_empty()
                || !part.bytes().all(|b| b.is_ascii_digit())
                || (part.len() > 1 && part.starts_with('0'))
            {
                return Err(bad("is not a number where one was expected"));
            }
            part.parse().map_err(|_| bad("has a number too large"))
        };
        let parts: Vec<&str> = caret.split('.').collect();
        match parts.as_slice() {
            [major] => match number(major)? {
                0 => Err(bad(
                    "would accept every 0.x version, and each 0.x minor may break the last; name the minor",
                )),
                m => Ok(Self::Major(m)),
            },
            [major, minor] => match (number(major)?, number(minor)?) {
                (0, minor) => Ok(Self::Minor(minor)),
                (m, _) => Err(bad(&format!(
                    "names a minor of {m}.x; from 1.0 on a pin names the major only (`^{m}`)"
                ))),
            },
            [_, _, _] => Err(bad(
                "is a full version without `=`; say whether you mean exactly it",
            )),
            _ => Err(bad("is not a pin")),
        }
    }

    /// Whether `version` is accepted.
    pub fn matches(&self, version: &semver::Version) -> bool {
        match self {
            Self::Exact(v) => v == version,
            Self::Major(m) => version.pre.is_empty() && version.major == *m,
            Self::Minor(n) => version.pre.is_empty() && version.major == 0 && version.minor == *n,
        }
    }
}

impl FromStr for Pin {
    type Err = PinError;
    fn from_str(s: &str) -> Result<Self, PinError> {
        Self::parse(s)
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(v) => write!(f, "={v}"),
            Self::Major(m) => write!(f, "^{m}"),
            Self::Minor(n) => write!(f, "^0.{n}"),
        }
    }
}

/// The version to install or upgrade to under `pin`: the highest matching
/// version neither yanked nor taken down. Versions whose `version` is not
/// semver are skipped. (An install keeps running the version it recorded
/// even once that is yanked; this only chooses a new one.)
pub fn resolve<'a>(pin: &Pin, versions: &'a [Version]) -> Option<&'a Version> {
    versions
        .iter()
        .filter(|v| !v.yanked && v.taken_down.is_none())
        .filter_map(|v| semver::Version::parse(&v.version).ok().map(|s| (s, v)))
        .filter(|(s, _)| pin.matches(s))
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, v)| v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::{Disclosure, Kind, Takedown};
    use proptest::prelude::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    fn version(s: &str) -> Version {
        Version {
            publisher: "acme".into(),
            name: "jira".into(),
            version: s.into(),
            kind: Kind::Connector,
            digest: "00".repeat(32),
            size: 1,
            manifest: serde_json::json!({}),
            description: String::new(),
            disclosure: Disclosure::default(),
            disclosure_digest: Disclosure::default().digest(),
            readme: String::new(),
            keywords: vec![],
            license: "MIT".into(),
            source: None,
            key_id: "0".repeat(16),
            signature: String::new(),
            published_at: 0,
            yanked: false,
            taken_down: None,
        }
    }

    #[test]
    fn the_forms_parse_and_print_back() {
        for (text, pin, shown) in [
            ("=1.2.3", Pin::Exact(v("1.2.3")), "=1.2.3"),
            (
                "=0.1.0-beta.1",
                Pin::Exact(v("0.1.0-beta.1")),
                "=0.1.0-beta.1",
            ),
            ("^1", Pin::Major(1), "^1"),
            ("12", Pin::Major(12), "^12"),
            ("^0.3", Pin::Minor(3), "^0.3"),
            ("0.0", Pin::Minor(0), "^0.0"),
        ] {
            assert_eq!(Pin::parse(text).unwrap(), pin, "{text}");
            assert_eq!(pin.to_string(), shown);
            assert_eq!(Pin::parse(shown).unwrap(), pin);
        }
    }

    #[test]
    fn refusals_say_what_and_which_forms_exist() {
        let e = Pin::parse("^1.2").unwrap_err();
        assert_eq!(
            e.to_string(),
            "pin `^1.2` names a minor of 1.x; from 1.0 on a pin names the major only (`^1`); write `=1.2.3` for exactly that version, `^1` for the highest 1.x, or `^0.3` for the highest 0.3.x"
        );
        assert!(Pin::parse("^0").unwrap_err().problem.contains("every 0.x"));
        assert!(
            Pin::parse("1.2.3")
                .unwrap_err()
                .problem
                .contains("without `=`")
        );
        assert!(
            Pin::parse("=1.2")
                .unwrap_err()
                .problem
                .starts_with("is not an exact version (version `1.2`")
        );
        assert!(
            Pin::parse("=1.2.3+build")
                .unwrap_err()
                .problem
                .contains("build metadata")
        );
        for bad in [
            "", "^", "~1", ">=1", "^x", "^01", "^1.2.3.4", "latest", "^-1",
        ] {
            assert!(Pin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_follows_cargo_carets_without_prereleases() {
        let major = Pin::Major(1);
        assert!(major.matches(&v("1.0.0")));
        assert!(major.matches(&v("1.99.3")));
        assert!(!major.matches(&v("2.0.0")));
        assert!(!major.matches(&v("0.9.0")));
        assert!(!major.matches(&v("1.3.0-rc.1")));
        let minor = Pin::Minor(3);
        assert!(minor.matches(&v("0.3.9")));
        assert!(!minor.matches(&v("0.4.0")));
        assert!(!minor.matches(&v("1.3.0")));
        let exact = Pin::Exact(v("1.3.0-rc.1"));
        assert!(exact.matches(&v("1.3.0-rc.1")));
        assert!(!exact.matches(&v("1.3.0")));
    }

    #[test]
    fn resolve_takes_the_highest_neither_yanked_nor_taken_down() {
        let mut list: Vec<Version> = ["1.0.0", "1.2.0", "1.10.0", "1.11.0", "2.0.0", "1.12.0-rc.1"]
            .into_iter()
            .map(version)
            .collect();
        list[3].yanked = true; // 1.11.0
        let pin = Pin::Major(1);
        // Semver order: 1.10.0 is above 1.2.0.
        assert_eq!(resolve(&pin, &list).unwrap().version, "1.10.0");
        list[2].taken_down = Some(Takedown {
            reason: "malware".into(),
            by: "op".into(),
            at: 1,
        });
        assert_eq!(resolve(&pin, &list).unwrap().version, "1.2.0");
        assert_eq!(resolve(&Pin::Major(2), &list).unwrap().version, "2.0.0");
        assert!(resolve(&Pin::Major(3), &list).is_none());
        assert!(resolve(&Pin::Exact(v("1.11.0")), &list).is_none());
        assert_eq!(
            resolve(&Pin::Exact(v("1.12.0-rc.1")), &list)
                .unwrap()
                .version,
            "1.12.0-rc.1"
        );
        assert!(resolve(&pin, &[]).is_none());
    }

    proptest! {
        #[test]
        fn resolved_is_the_greatest_installable_match(
            raw in proptest::collection::vec((0u64..3, 0u64..4, 0u64..3, any::<bool>()), 0..12),
            major in 0u64..3, minor in 0u64..4,
        ) {
            let list: Vec<Version> = raw
                .iter()
                .map(|(a, b, c, yanked)| Version { yanked: *yanked, ..version(&format!("{a}.{b}.{c}")) })
                .collect();
            let pin = if major == 0 { Pin::Minor(minor) } else { Pin::Major(major) };
            let got = resolve(&pin, &list).map(|x| v(&x.version));
            let best = list
                .iter()
                .filter(|x| !x.yanked)
                .map(|x| v(&x.version))
                .filter(|s| pin.matches(s))
                .max();
            prop_assert_eq!(got, best);
        }
    }
}
