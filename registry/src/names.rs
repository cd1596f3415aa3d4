//! Names and versions: what a publisher, a package and a version may be
//! called, and which new package names are refused as confusable with
//! another publisher's (docs/REGISTRY.md sections 1 and 4).
//!
//! ```
//! use weft_registry::names;
//!
//! names::package_name("slack-bot").unwrap();
//! assert_eq!(names::skeleton("S1ack_B0t"), "slack-bot");
//! let existing = [("weft".to_owned(), "slack".to_owned())];
//! let refusal = names::check_new_name("acme", "s1ack", &existing).unwrap_err();
//! assert_eq!(refusal.collides_with, "weft/slack");
//! // The same publisher may have near names.
//! names::check_new_name("weft", "slacks", &existing).unwrap();
//! ```

use std::fmt;

/// The first-party publisher: its names are reserved for everybody else.
pub const FIRST_PARTY: &str = "weft";

/// The distance rule applies when either skeleton has at least this many
/// characters; shorter names have too many honest neighbours.
pub const NEAR_MIN_LEN: usize = 5;

/// A publisher name, package name or version that breaks the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Too short or too long.
    #[error("{what} `{value}` is {len} characters long; it must be {min} to {max}")]
    Length {
        /// `publisher name` or `package name`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// Its length in bytes.
        len: usize,
        /// The least length.
        min: usize,
        /// The greatest length.
        max: usize,
    },
    /// A character outside `[a-z0-9-]`.
    #[error(
        "{what} `{value}` has {found:?} at position {at}; only lower-case ASCII letters, digits and `-` are allowed"
    )]
    Character {
        /// `publisher name` or `package name`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// The first character refused.
        found: char,
        /// Its position, from 1, in characters.
        at: usize,
    },
    /// A `-` at an end, or two in a row.
    #[error("{what} `{value}` {problem}")]
    Hyphen {
        /// `publisher name` or `package name`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// Which rule: `starts with `-``, `ends with `-``, `has `--``.
        problem: &'static str,
    },
    /// Not a semantic version, or one with build metadata.
    #[error("version `{value}` {problem}")]
    Version {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

fn ident(what: &'static str, value: &str, min: usize, max: usize) -> Result<(), NameError> {
    if let Some((i, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(NameError::Character {
            what,
            value: value.to_owned(),
            found: c,
            at: i + 1,
        });
    }
    let len = value.len();
    if !(min..=max).contains(&len) {
        return Err(NameError::Length {
            what,
            value: value.to_owned(),
            len,
            min,
            max,
        });
    }
    let problem = if value.starts_with('-') {
        Some("starts with `-`")
    } else if value.ends_with('-') {
        Some("ends with `-`")
    } else if value.contains("--") {
        Some("has `--` (one `-` between words)")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(NameError::Hyphen {
            what,
            value: value.to_owned(),
            problem,
        }),
        None => Ok(()),
    }
}

/// Checks a publisher name: `[a-z0-9-]{2,39}`, no `-` at an end, no `--`.
///
/// # Errors
/// [`NameError`] naming the value and the first rule it breaks.
pub fn publisher_name(name: &str) -> Result<(), NameError> {
    ident("publisher name", name, 2, 39)
}

/// Checks a package name: `[a-z0-9-]{2,64}`, no `-` at an end, no `--`.
///
/// # Errors
/// [`NameError`] naming the value and the first rule it breaks.
pub fn package_name(name: &str) -> Result<(), NameError> {
    ident("package name", name, 2, 64)
}

/// Parses a version: semver (`1.2.3`, `1.0.0-beta.1`), without build
/// metadata (`+…` would make two different artifacts the same version).
///
/// # Errors
/// [`NameError::Version`] saying what is wrong.
pub fn version(value: &str) -> Result<semver::Version, NameError> {
    let bad = |problem: String| NameError::Version {
        value: value.to_owned(),
        problem,
    };
    let v = semver::Version::parse(value).map_err(|e| {
        bad(format!(
            "is not a semantic version (MAJOR.MINOR.PATCH): {e}"
        ))
    })?;
    if !v.build.is_empty() {
        return Err(bad(format!(
            "has build metadata `+{}`; versions may not carry any",
            v.build
        )));
    }
    Ok(v)
}

/// The skeleton of a name: two names with the same skeleton read alike.
///
/// Lower-case; `_` and `.` become `-` and runs of `-` become one; then the
/// look-alikes `0`→`o`, `1` and `i`→`l`, `rn`→`m`, `vv`→`w`, `5`→`s`.
pub fn skeleton(name: &str) -> String {
    let mut dashed = String::with_capacity(name.len());
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        let c = if c == '_' || c == '.' { '-' } else { c };
        if !(c == '-' && dashed.ends_with('-')) {
            dashed.push(c);
        }
    }
    let mut out = String::with_capacity(dashed.len());
    let mut chars = dashed.chars().peekable();
    while let Some(c) = chars.next() {
        let mapped = match (c, chars.peek()) {
            ('r', Some('n')) => {
                chars.next();
                'm'
            }
            ('v', Some('v')) => {
                chars.next();
                'w'
            }
            ('0', _) => 'o',
            ('1' | 'i', _) => 'l',
            ('5', _) => 's',
            (c, _) => c,
        };
        out.push(mapped);
    }
    out
}

/// The Damerau–Levenshtein distance (optimal string alignment): the least
/// number of insertions, deletions, substitutions and swaps of two
/// neighbouring characters that turn `a` into `b`.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: the one before the previous (for swaps), the previous, this.
    let mut before = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            row[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

/// Why two names are confusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confusion {
    /// Same skeleton: they read the same (`s1ack` and `slack`).
    Skeleton,
    /// One edit apart after the skeleton (`slakc` and `slack`).
    OneEdit,
}

/// A new package name refused: it is confusable with another publisher's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NameRefusal {
    /// The name asked for, `publisher/name`.
    pub name: String,
    /// The package it collides with, `publisher/name`.
    pub collides_with: String,
    /// How.
    pub confusion: Confusion,
    /// The package is first-party (`weft/…`): its names are reserved.
    pub reserved: bool,
}

impl fmt::Display for NameRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.confusion {
            Confusion::Skeleton => "reads the same as",
            Confusion::OneEdit => "is one edit away from",
        };
        write!(
            f,
            "the name `{}` is refused: it {how} `{}`",
            self.name, self.collides_with
        )?;
        if self.reserved {
            write!(
                f,
                ", a first-party name reserved for the `{FIRST_PARTY}` publisher"
            )?;
        } else {
            write!(f, ", another publisher's package")?;
        }
        f.write_str("; choose a more distinct name")
    }
}

fn confusion(a: &str, b: &str) -> Option<Confusion> {
    let (sa, sb) = (skeleton(a), skeleton(b));
    if sa == sb {
        Some(Confusion::Skeleton)
    } else if sa.len().max(sb.len()) >= NEAR_MIN_LEN && distance(&sa, &sb) <= 1 {
        Some(Confusion::OneEdit)
    } else {
        None
    }
}

/// Checks that `publisher/name`, a package that does not exist yet, is not
/// confusable with another publisher's package in `existing` (each a
/// `(publisher, name)`): refused when the skeletons are equal, or one edit
/// apart when either has [`NEAR_MIN_LEN`] characters or more. The same
/// publisher may have near names; every other publisher is kept away from
/// the first-party (`weft`) names the same way.
///
/// # Errors
/// [`NameRefusal`] naming the first package collided with, a first-party
/// one before any other.
pub fn check_new_name(
    publisher: &str,
    name: &str,
    existing: &[(String, String)],
) -> Result<(), NameRefusal> {
    let others = existing.iter().filter(|(p, _)| p != publisher);
    // First-party collisions first: they are the ones a user must hear about.
    let (first, rest): (Vec<_>, Vec<_>) = others.partition(|(p, _)| p == FIRST_PARTY);
    for (p, n) in first.into_iter().chain(rest) {
        if let Some(confusion) = confusion(name, n) {
            return Err(NameRefusal {
                name: format!("{publisher}/{name}"),
                collides_with: format!("{p}/{n}"),
                confusion,
                reserved: p == FIRST_PARTY,
            });
        }
    }
    Ok(())
}

/// A new publisher name refused: it reads the same as an existing one
/// (the first-party `weft` included, whether or not it exists yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the publisher name `{name}` is refused: it reads the same as the publisher `{collides_with}`"
)]
pub struct PublisherRefusal {
    /// The name asked for.
    pub name: String,
    /// The publisher it reads the same as.
    pub collides_with: String,
}

/// Checks that a new publisher name does not read the same (by skeleton) as
/// `weft` or any of `existing`.
///
/// # Errors
/// [`PublisherRefusal`] naming the publisher collided with.
pub fn check_new_publisher(name: &str, existing: &[String]) -> Result<(), PublisherRefusal> {
    let sk = skeleton(name);
    std::iter::once(FIRST_PARTY)
        .chain(existing.iter().map(String::as_str))
        .find(|other| skeleton(other) == sk)
        .map_or(Ok(()), |other| {
            Err(PublisherRefusal {
                name: name.to_owned(),
                collides_with: other.to_owned(),
            })
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn existing(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
            .collect()
    }

    #[test]
    fn names_follow_the_syntax_and_errors_say_what_and_where() {
        for ok in ["ab", "acme", "a-b-c", "x9", &"a".repeat(39)] {
            publisher_name(ok).unwrap();
        }
        package_name(&"a".repeat(64)).unwrap();
        let e = publisher_name(&"a".repeat(40)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "publisher name `{}` is 40 characters long; it must be 2 to 39",
                "a".repeat(40)
            )
        );
        assert!(package_name(&"a".repeat(65)).is_err());
        assert_eq!(
            package_name("a").unwrap_err().to_string(),
            "package name `a` is 1 characters long; it must be 2 to 64"
        );
        assert_eq!(
            package_name("Slack").unwrap_err().to_string(),
            "package name `Slack` has 'S' at position 1; only lower-case ASCII letters, digits and `-` are allowed"
        );
        let e = package_name("slаck").unwrap_err(); // Cyrillic а
        assert!(
            matches!(
                e,
                NameError::Character {
                    found: 'а',
                    at: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            package_name("my_pkg").unwrap_err(),
            NameError::Character {
                found: '_',
                at: 3,
                ..
            }
        ));
        assert_eq!(
            package_name("-ab").unwrap_err().to_string(),
            "package name `-ab` starts with `-`"
        );
        assert_eq!(
            package_name("ab-").unwrap_err().to_string(),
            "package name `ab-` ends with `-`"
        );
        assert_eq!(
            publisher_name("a--b").unwrap_err().to_string(),
            "publisher name `a--b` has `--` (one `-` between words)"
        );
    }

    #[test]
    fn versions_are_semver_without_build_metadata() {
        assert_eq!(version("1.2.3").unwrap(), semver::Version::new(1, 2, 3));
        version("0.1.0-beta.2").unwrap();
        let e = version("1.2").unwrap_err().to_string();
        assert!(
            e.starts_with("version `1.2` is not a semantic version (MAJOR.MINOR.PATCH): "),
            "{e}"
        );
        assert_eq!(
            version("1.2.3+sha.abc").unwrap_err().to_string(),
            "version `1.2.3+sha.abc` has build metadata `+sha.abc`; versions may not carry any"
        );
        assert!(version("v1.2.3").is_err());
    }

    #[test]
    fn skeleton_folds_case_separators_and_look_alikes() {
        assert_eq!(skeleton("Slack"), "slack");
        assert_eq!(skeleton("my_pkg.name"), "my-pkg-name");
        assert_eq!(skeleton("a__-..b"), "a-b");
        assert_eq!(skeleton("g00gle"), "google");
        assert_eq!(skeleton("s1ack"), "slack");
        assert_eq!(skeleton("siack"), "slack");
        assert_eq!(skeleton("5lack"), "slack");
        assert_eq!(skeleton("rnodern"), "modem");
        assert_eq!(skeleton("vvebhook"), "webhook");
        assert_eq!(skeleton("http"), "http");
    }

    #[test]
    fn distance_counts_edits_and_swaps_as_one() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("slack", "slack"), 0);
        assert_eq!(distance("slack", "slak"), 1);
        assert_eq!(distance("slack", "slacks"), 1);
        assert_eq!(distance("slack", "slick"), 1);
        assert_eq!(distance("slack", "slakc"), 1);
        assert_eq!(distance("slack", "lsack"), 1);
        assert_eq!(distance("slack", "github"), 6);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("ca", "abc"), 3); // optimal string alignment
    }

    #[test]
    fn confusable_names_are_refused_naming_the_package() {
        let list = existing(&[("weft", "http"), ("weft", "slack"), ("acme", "jira-sync")]);
        let r = check_new_name("mallory", "s1ack", &list).unwrap_err();
        assert_eq!(r.collides_with, "weft/slack");
        assert_eq!(r.confusion, Confusion::Skeleton);
        assert!(r.reserved);
        assert_eq!(
            r.to_string(),
            "the name `mallory/s1ack` is refused: it reads the same as `weft/slack`, a first-party name reserved for the `weft` publisher; choose a more distinct name"
        );
        // One edit away, a 5+ character name.
        let r = check_new_name("mallory", "slakc", &list).unwrap_err();
        assert_eq!(
            (r.collides_with.as_str(), r.confusion),
            ("weft/slack", Confusion::OneEdit)
        );
        let r = check_new_name("mallory", "jira_synk", &list).unwrap_err();
        assert_eq!(r.collides_with, "acme/jira-sync");
        assert!(!r.reserved);
        assert!(r.to_string().ends_with(
            "is one edit away from `acme/jira-sync`, another publisher's package; choose a more distinct name"
        ));
        // Reserved by skeleton, whatever the length.
        assert_eq!(
            check_new_name("mallory", "http", &list)
                .unwrap_err()
                .collides_with,
            "weft/http"
        );
        // Short names are only refused by skeleton: `htp` is one edit from
        // `http` but both are under five characters.
        check_new_name("mallory", "htp", &list).unwrap();
        check_new_name("mallory", "jira", &list).unwrap();
        check_new_name("mallory", "discord", &list).unwrap();
        // The same publisher may have near names.
        check_new_name("acme", "jira-synk", &list).unwrap();
        check_new_name("weft", "slacks", &list).unwrap();
    }

    #[test]
    fn a_first_party_collision_is_named_before_another() {
        let list = existing(&[("acme", "slick"), ("weft", "slack")]);
        let r = check_new_name("mallory", "slack", &list).unwrap_err();
        assert_eq!(r.collides_with, "weft/slack");
    }

    #[test]
    fn publisher_names_may_not_read_as_weft_or_another() {
        let list = vec!["acme".to_owned()];
        assert_eq!(
            check_new_publisher("vveft", &list).unwrap_err().to_string(),
            "the publisher name `vveft` is refused: it reads the same as the publisher `weft`"
        );
        assert_eq!(
            check_new_publisher("acrne", &list)
                .unwrap_err()
                .collides_with,
            "acme"
        );
        check_new_publisher("wefts", &list).unwrap();
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_zero_only_on_equal(a in "[a-z0-9-]{0,10}", b in "[a-z0-9-]{0,10}") {
            prop_assert_eq!(distance(&a, &b), distance(&b, &a));
            prop_assert_eq!(distance(&a, &b) == 0, a == b);
            prop_assert!(distance(&a, &b) <= a.len().max(b.len()));
        }

        #[test]
        fn skeleton_is_idempotent_and_the_check_symmetric(
            a in "[a-z0-9-]{2,12}", b in "[a-z0-9-]{2,12}",
        ) {
            prop_assert_eq!(skeleton(&skeleton(&a)), skeleton(&a));
            let ab = check_new_name("p", &a, &existing(&[("q", &b)])).is_err();
            let ba = check_new_name("q", &b, &existing(&[("p", &a)])).is_err();
            prop_assert_eq!(ab, ba);
        }

        #[test]
        fn a_single_look_alike_or_edit_is_refused(
            // No `i`, `r`, `v` in the name nor `r`, `v` as the typo: those
            // form two-letter look-alikes (`rn`, `vv`) that shorten the skeleton.
            name in "[a-hj-qs-uw-z]{5,12}", at in 0usize..12, c in "[a-qs-uw-z0-9]",
        ) {
            let at = at % name.len();
            let mut typo: Vec<char> = name.chars().collect();
            typo[at] = c.chars().next().unwrap_or('a');
            let typo: String = typo.into_iter().collect();
            let list = existing(&[("acme", &name)]);
            prop_assert!(check_new_name("mallory", &typo, &list).is_err());
            prop_assert!(check_new_name("acme", &typo, &list).is_ok());
        }
    }
}
