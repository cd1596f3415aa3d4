//! What the registry's answers mean, in plain words: a package reference
//! (`publisher/name[@version]`), a capability disclosure as a list of
//! sentences, and the yes/no question a consent is.

use anyhow::bail;
use std::io::{BufRead, IsTerminal, Write};
use weft_model::registry::{Disclosure, Version};

/// `publisher/name[@version]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRef {
    /// The publisher.
    pub publisher: String,
    /// The package.
    pub name: String,
    /// A version, when given.
    pub version: Option<String>,
}

impl std::str::FromStr for PackageRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (package, version) = match s.split_once('@') {
            Some((p, v)) if !v.is_empty() => (p, Some(v.to_owned())),
            Some(_) => return Err(format!("`{s}`: the version after `@` is empty")),
            None => (s, None),
        };
        match package.split_once('/') {
            Some((p, n)) if !p.is_empty() && !n.is_empty() && !n.contains('/') => Ok(Self {
                publisher: p.to_owned(),
                name: n.to_owned(),
                version,
            }),
            _ => Err(format!(
                "`{s}` is not PUBLISHER/NAME[@VERSION] (e.g. acme/jira@1.2.0)"
            )),
        }
    }
}

impl PackageRef {
    /// The version, or an error naming the command that needs it.
    ///
    /// # Errors
    /// No `@VERSION` was given.
    pub fn exact(&self, what: &str) -> anyhow::Result<&str> {
        match &self.version {
            Some(v) => Ok(v),
            None => bail!(
                "{what} needs a version: {}/{}@VERSION",
                self.publisher,
                self.name
            ),
        }
    }
}

/// The disclosure as sentences: what the connector calls, which credential
/// goes where, whether it keeps state.
pub fn disclosure(d: &Disclosure) -> Vec<String> {
    let mut lines = Vec::new();
    if d.network.is_empty() {
        lines.push("no network".to_owned());
    }
    for host in &d.network {
        lines.push(format!("calls {host}"));
    }
    for (slot, hosts) in &d.credentials {
        let to = if hosts.is_empty() {
            "no host".to_owned()
        } else {
            hosts.join(", ")
        };
        lines.push(format!("uses a credential for {to} (slot `{slot}`)"));
    }
    lines.push(
        if d.state {
            "keeps state"
        } else {
            "keeps no state"
        }
        .to_owned(),
    );
    lines
}

/// Prints what a version can reach, derived from its component, and the
/// digest a consent names.
pub fn print_disclosure(v: &Version) {
    super::out!("what it can do (derived from the component, not typed by its publisher):");
    for line in disclosure(&v.disclosure) {
        super::out!("  - {line}");
    }
    if !v.disclosure.imports.is_empty() {
        super::out!("  imports: {}", v.disclosure.imports.join(", "));
    }
    super::out!("  consent digest: {}", v.disclosure_digest);
}

/// Asks `question` on the terminal; `yes` answers it without asking.
///
/// # Errors
/// No answer could be read (standard input closed or not a terminal), or
/// the answer was not yes: the message says to pass `--yes`.
pub fn consent(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "{question} needs an answer: standard input is not a terminal; pass --yes to consent"
        );
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        bail!("not consented: nothing was changed")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn references_parse_and_bad_ones_say_the_form() {
        let r: PackageRef = "acme/jira@1.2.0".parse().unwrap();
        assert_eq!(
            (r.publisher.as_str(), r.name.as_str(), r.version.as_deref()),
            ("acme", "jira", Some("1.2.0"))
        );
        let r: PackageRef = "acme/jira".parse().unwrap();
        assert_eq!(r.version, None);
        assert!(
            r.exact("yank")
                .unwrap_err()
                .to_string()
                .contains("acme/jira@VERSION")
        );
        for bad in ["jira", "acme/", "/jira", "a/b/c", "acme/jira@"] {
            let e = bad.parse::<PackageRef>().unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn a_disclosure_reads_as_sentences() {
        let none = Disclosure::default();
        assert_eq!(disclosure(&none), ["no network", "keeps no state"]);
        let d = Disclosure {
            imports: vec!["http".into(), "state".into()],
            network: vec!["api.example.com".into(), "*.slack.com".into()],
            credentials: BTreeMap::from([("token".into(), vec!["*.slack.com".into()])]),
            state: true,
        };
        assert_eq!(
            disclosure(&d),
            [
                "calls api.example.com",
                "calls *.slack.com",
                "uses a credential for *.slack.com (slot `token`)",
                "keeps state",
            ]
        );
    }
}
