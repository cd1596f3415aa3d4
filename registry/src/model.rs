//! The registry's records: what the storage port keeps. Plain data; the
//! rules that produce them (signatures, names, disclosures, consent) live in
//! their own modules.

use crate::Disclosure;
use serde::{Deserialize, Serialize};

/// What a package holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A WebAssembly component of the `weft:plugin/connector` world.
    Connector,
    /// A workflow template (a JSON document).
    Template,
}

impl Kind {
    /// `connector` or `template`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connector => "connector",
            Self::Template => "template",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "connector" => Ok(Self::Connector),
            "template" => Ok(Self::Template),
            other => Err(format!(
                "unknown package kind `{other}` (connector or template)"
            )),
        }
    }
}

/// Who publishes: a name owned by a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// `[a-z0-9-]{2,39}`; `weft` is the first-party publisher.
    pub name: String,
    /// The tenant whose owners and admins manage it.
    pub tenant_id: String,
    /// Set by an operator only.
    pub verified: bool,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// One of a publisher's ed25519 signing keys (the public half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublisherKey {
    /// The publisher.
    pub publisher: String,
    /// The first 16 hex digits of the SHA-256 of the public key.
    pub key_id: String,
    /// The 32-byte public key, hex.
    pub public_key: String,
    /// When it was added.
    pub created_at: i64,
    /// When it was revoked: signatures by it are refused from then on
    /// (versions it signed before stay).
    pub revoked_at: Option<i64>,
}

/// Why and when a version was taken down (an operator's decision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Takedown {
    /// Shown to every tenant using it, and in the failed steps.
    pub reason: String,
    /// Who took it down (a key or user id).
    pub by: String,
    /// When.
    pub at: i64,
}

/// One immutable version of a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// The publisher's name.
    pub publisher: String,
    /// The package's name (for a connector, its manifest name too).
    pub name: String,
    /// Semver, no build metadata.
    pub version: String,
    /// What the package holds (every version of a package has the same kind).
    pub kind: Kind,
    /// SHA-256 of the artifact, 64 lower-case hex digits.
    pub digest: String,
    /// Artifact size in bytes.
    pub size: u64,
    /// For a connector, its manifest as `describe` returned it; for a
    /// template, its document's metadata.
    pub manifest: serde_json::Value,
    /// One line, from the manifest (connector) or the document (template).
    pub description: String,
    /// What it can reach, derived from the artifact.
    pub disclosure: Disclosure,
    /// [`Disclosure::digest`]: what a tenant consents to.
    pub disclosure_digest: String,
    /// Markdown shown on the package's page.
    pub readme: String,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// SPDX expression.
    pub license: String,
    /// Where the source is.
    pub source: Option<String>,
    /// The key that signed it.
    pub key_id: String,
    /// The ed25519 signature over [`crate::sign::statement`], hex.
    pub signature: String,
    /// When it was published.
    pub published_at: i64,
    /// Yanked by its publisher: no new installs or upgrades to it.
    pub yanked: bool,
    /// Taken down by an operator: it runs nowhere.
    pub taken_down: Option<Takedown>,
}

/// A package: its identity and what is derived from its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// The publisher's name.
    pub publisher: String,
    /// The package's name.
    pub name: String,
    /// Connector or template.
    pub kind: Kind,
    /// The publisher is verified.
    pub verified: bool,
    /// The highest release neither yanked nor taken down, or the highest
    /// such pre-release when there is no such release; `None` when every
    /// version is yanked or taken down (`weft_registry::index::latest`).
    pub latest: Option<String>,
    /// The latest version's description.
    pub description: String,
    /// Current installs, over all tenants: an uninstall lowers it, so an
    /// install/uninstall loop does not inflate it.
    pub installs: u64,
    /// When the first version was published.
    pub created_at: i64,
}

/// An upgrade waiting for the tenant's consent: its disclosure is wider
/// than the one consented to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldUpgrade {
    /// The version asked for.
    pub version: String,
    /// Its artifact.
    pub digest: String,
    /// Its disclosure's digest: the consent that applies it.
    pub disclosure_digest: String,
    /// When it was asked for.
    pub requested_at: i64,
}

/// A package installed in one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Install {
    /// `ins_…`.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The publisher's name.
    pub publisher: String,
    /// The package's name: the connector's name in the tenant's workflows.
    pub name: String,
    /// Connector or template.
    pub kind: Kind,
    /// `=1.2.3` (exactly) or `^1` (the highest 1.x the tenant applies).
    pub pin: String,
    /// The version in use.
    pub version: String,
    /// Its artifact: what the tenant's steps run.
    pub digest: String,
    /// The disclosure digest the tenant consented to (the version's).
    pub consent_digest: String,
    /// Who consented (a key or user id).
    pub consented_by: String,
    /// When.
    pub consented_at: i64,
    /// An upgrade held for consent.
    pub held: Option<HeldUpgrade>,
    /// When it was installed.
    pub created_at: i64,
}
