//! API key scopes: what a key may do, narrower than its role
//! (`docs/TENANCY.md`, section 4).
//!
//! A scope is `resource:verb` or `resource:verb:id`. A key without scopes has
//! its whole role; a key with scopes has the intersection of its role and its
//! scopes: a route is allowed when the role allows it **and** one scope grants
//! the route's `(resource, verb)` on the route's id (a scope without an id
//! grants every id).
//!
//! ```
//! use weft_types::scope::{Scope, Resource, Verb};
//! let s: Scope = "runs:start:wf_1".parse().unwrap();
//! assert!(s.grants(Resource::Runs, Verb::Start, Some("wf_1")));
//! assert!(!s.grants(Resource::Runs, Verb::Start, Some("wf_2")));
//! assert!(!s.grants(Resource::Runs, Verb::Read, None));
//! assert_eq!(s.to_string(), "runs:start:wf_1");
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Most scopes one key may carry.
pub const MAX_SCOPES: usize = 32;
/// Longest id inside a scope.
pub const MAX_SCOPE_ID: usize = 64;

/// What a scope is about. Each route of the API belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// Workflow definitions (read, write).
    Workflows,
    /// Runs (read, start, resume, cancel).
    Runs,
    /// Credentials (read, write).
    Credentials,
    /// The connector catalogue (read).
    Connectors,
    /// The registry: publishers, packages, versions, blobs (read, write).
    Registry,
    /// Installed connectors (read, write).
    Installs,
    /// Usage counters (read).
    Usage,
    /// The audit log and dead letters (read, write).
    Audit,
    /// API keys (read, write).
    Keys,
    /// People: members and invitations (read, write).
    Members,
    /// Notification rules and deliveries (read, write).
    Notifications,
}

/// What is done to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    /// Read.
    Read,
    /// Create, change, delete.
    Write,
    /// Start runs.
    Start,
    /// Resume waiting steps.
    Resume,
    /// Cancel runs.
    Cancel,
}

impl Resource {
    /// Every resource, in the order of the grammar's documentation.
    pub const ALL: [Self; 11] = [
        Self::Workflows,
        Self::Runs,
        Self::Credentials,
        Self::Connectors,
        Self::Registry,
        Self::Installs,
        Self::Usage,
        Self::Audit,
        Self::Keys,
        Self::Members,
        Self::Notifications,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Workflows => "workflows",
            Self::Runs => "runs",
            Self::Credentials => "credentials",
            Self::Connectors => "connectors",
            Self::Registry => "registry",
            Self::Installs => "installs",
            Self::Usage => "usage",
            Self::Audit => "audit",
            Self::Keys => "keys",
            Self::Members => "members",
            Self::Notifications => "notifications",
        }
    }

    /// The verbs that mean something for this resource.
    pub fn verbs(self) -> &'static [Verb] {
        match self {
            Self::Runs => &[Verb::Read, Verb::Start, Verb::Resume, Verb::Cancel],
            Self::Connectors | Self::Usage => &[Verb::Read],
            _ => &[Verb::Read, Verb::Write],
        }
    }
}

impl Verb {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Start => "start",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }
}

/// One grant: a verb on a resource, optionally on one id only (a workflow
/// id for `workflows` and `runs`; the record's id otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// What it is about.
    pub resource: Resource,
    /// What it allows.
    pub verb: Verb,
    /// Only this id; `None`: every id.
    pub id: Option<String>,
}

impl Scope {
    /// Whether this scope allows `verb` on `resource` for a route about `id`
    /// (`None`: a route about no single id, such as a list; an id-bound
    /// scope does not grant it).
    pub fn grants(&self, resource: Resource, verb: Verb, id: Option<&str>) -> bool {
        self.resource == resource
            && self.verb == verb
            && match (&self.id, id) {
                (None, _) => true,
                (Some(mine), Some(theirs)) => mine == theirs,
                (Some(_), None) => false,
            }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource.as_str(), self.verb.as_str())?;
        if let Some(id) = &self.id {
            write!(f, ":{id}")?;
        }
        Ok(())
    }
}

impl FromStr for Scope {
    type Err = String;

    /// Parses `resource:verb[:id]`; the error names the part that is wrong
    /// and what would be right.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let (r, v) = (parts.next().unwrap_or(""), parts.next());
        let resource = Resource::ALL
            .into_iter()
            .find(|x| x.as_str() == r)
            .ok_or_else(|| {
                format!(
                    "scope `{s}`: unknown resource `{r}` (one of {})",
                    names(Resource::ALL.iter().map(|x| x.as_str()))
                )
            })?;
        let v = v.ok_or_else(|| format!("scope `{s}`: expected `resource:verb[:id]`"))?;
        let verb = resource
            .verbs()
            .iter()
            .copied()
            .find(|x| x.as_str() == v)
            .ok_or_else(|| {
                format!(
                    "scope `{s}`: `{v}` is not a verb of `{r}` (one of {})",
                    names(resource.verbs().iter().map(|x| x.as_str()))
                )
            })?;
        let id = match parts.next() {
            None => None,
            Some(id) => {
                let ok = !id.is_empty()
                    && id.len() <= MAX_SCOPE_ID
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_-./@".contains(&b));
                if !ok {
                    return Err(format!(
                        "scope `{s}`: the id must be 1 to {MAX_SCOPE_ID} characters of \
                         letters, digits and `_-./@`"
                    ));
                }
                Some(id.to_owned())
            }
        };
        Ok(Self { resource, verb, id })
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses a list of scopes (an API key's), refusing duplicates and more
/// than [`MAX_SCOPES`]; the error names the position.
///
/// # Errors
/// The first problem: where (`scopes`, `scopes[i]`) and what.
pub fn parse_all<S: AsRef<str>>(items: &[S]) -> Result<Vec<Scope>, (String, String)> {
    if items.len() > MAX_SCOPES {
        return Err((
            "scopes".into(),
            format!("{} scopes, at most {MAX_SCOPES}", items.len()),
        ));
    }
    let mut out: Vec<Scope> = Vec::with_capacity(items.len());
    for (i, s) in items.iter().enumerate() {
        let at = || format!("scopes[{i}]");
        let scope: Scope = s.as_ref().parse().map_err(|e| (at(), e))?;
        if out.contains(&scope) {
            return Err((at(), format!("`{scope}` is listed twice")));
        }
        out.push(scope);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_and_verb_round_trips() {
        for r in Resource::ALL {
            for v in r.verbs() {
                let s = Scope {
                    resource: r,
                    verb: *v,
                    id: None,
                };
                assert_eq!(s.to_string().parse::<Scope>().unwrap(), s);
            }
        }
    }

    #[test]
    fn bad_scopes_are_named() {
        for (text, says) in [
            ("run:start", "unknown resource `run`"),
            ("runs", "expected `resource:verb[:id]`"),
            ("usage:write", "`write` is not a verb of `usage`"),
            ("runs:start:", "the id must be"),
            ("runs:start:a b", "the id must be"),
        ] {
            let e = text.parse::<Scope>().unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
        let (at, e) = parse_all(&["runs:read", "runs:read"]).unwrap_err();
        assert!(at == "scopes[1]" && e.contains("twice"), "{at}: {e}");
        let many = vec!["runs:read"; MAX_SCOPES + 1];
        assert!(parse_all(&many).unwrap_err().1.contains("at most"));
    }

    #[test]
    fn an_id_bound_scope_grants_that_id_only() {
        let any: Scope = "workflows:read".parse().unwrap();
        let one: Scope = "workflows:read:wf_1".parse().unwrap();
        assert!(any.grants(Resource::Workflows, Verb::Read, None));
        assert!(any.grants(Resource::Workflows, Verb::Read, Some("wf_2")));
        assert!(one.grants(Resource::Workflows, Verb::Read, Some("wf_1")));
        assert!(!one.grants(Resource::Workflows, Verb::Read, None));
        assert!(!one.grants(Resource::Workflows, Verb::Write, Some("wf_1")));
        assert!(!one.grants(Resource::Runs, Verb::Read, Some("wf_1")));
    }
}
