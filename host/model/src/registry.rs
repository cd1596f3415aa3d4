//! `/v1/registry/…` and `/v1/installs`: publishers, signed versions, the
//! capability disclosure, search, installs with consent.

use crate::query::{BadQuery, Query};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a connector can reach, derived from its component (never typed by
/// its publisher). A tenant consents to its digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Disclosure {
    /// The `weft:plugin` interfaces it imports (`http`, `log`, `state`, `types`).
    pub imports: Vec<String>,
    /// The host patterns it may call; empty: no network.
    pub network: Vec<String>,
    /// Each credential slot, with the host patterns its secret may go to.
    pub credentials: BTreeMap<String, Vec<String>>,
    /// It keeps state between runs.
    pub state: bool,
}

/// `POST /v1/registry/publishers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublisher {
    /// `[a-z0-9-]{2,39}`.
    pub name: String,
}

/// A publisher's signing key (public half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PublisherKey {
    /// The first 16 hex digits of the key's SHA-256.
    pub key_id: String,
    /// The ed25519 public key, 64 hex digits.
    pub public_key: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Signatures by it are refused from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// A publisher and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Publisher {
    /// Its name.
    pub name: String,
    /// Set by an operator.
    pub verified: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Its keys, oldest first.
    pub keys: Vec<PublisherKey>,
}

/// `POST /v1/registry/publishers/{name}/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPublisherKey {
    /// The ed25519 public key, 64 hex digits (`weft plugin keygen` prints it).
    pub public_key: String,
}

/// `POST /v1/registry/publishers/{name}/verify` (the operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// Verified or not.
    pub verified: bool,
}

/// An artifact stored by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Blob {
    /// `sha256:…`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Whether this call stored it (false: it was there already).
    pub created: bool,
}

/// Connector or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    /// A WebAssembly component.
    Connector,
    /// A workflow template.
    Template,
}

/// `POST /v1/registry/packages/{publisher}/{name}/versions`: the artifact
/// was uploaded first; this is the signed statement about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// Connector (the default) or template.
    #[serde(default = "connector")]
    pub kind: PackageKind,
    /// Semver, no build metadata.
    pub version: String,
    /// The uploaded artifact, `sha256:…`.
    pub digest: String,
    /// Markdown for the package's page.
    #[serde(default)]
    pub readme: String,
    /// Search keywords (a-z, 0-9, -).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// SPDX expression.
    pub license: String,
    /// Where the source is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The signing key's id.
    pub key_id: String,
    /// ed25519, hex, over `"weft-publish-v1\0" publisher "\0" name "\0" version "\0" digest-hex`.
    pub signature: String,
}

fn connector() -> PackageKind {
    PackageKind::Connector
}

/// Why and when a version was taken down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Takedown {
    /// Why.
    pub reason: String,
    /// When (milliseconds since the epoch).
    pub at: i64,
}

/// One immutable version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Version {
    /// The publisher.
    pub publisher: String,
    /// The package.
    pub name: String,
    /// Semver.
    pub version: String,
    /// Connector or template.
    pub kind: PackageKind,
    /// The artifact, `sha256:…`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// One line.
    pub description: String,
    /// The connector's manifest (`describe`), or the template's metadata.
    pub manifest: Value,
    /// What it can reach.
    pub disclosure: Disclosure,
    /// What an install consents to (`consent`).
    pub disclosure_digest: String,
    /// Markdown.
    pub readme: String,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// SPDX.
    pub license: String,
    /// Where the source is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The key that signed it.
    pub key_id: String,
    /// The signature, hex.
    pub signature: String,
    /// Milliseconds since the epoch.
    pub published_at: i64,
    /// No new installs or upgrades to it.
    pub yanked: bool,
    /// It runs nowhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_down: Option<Takedown>,
}

/// A package in search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Package {
    /// The publisher.
    pub publisher: String,
    /// The package.
    pub name: String,
    /// Connector or template.
    pub kind: PackageKind,
    /// The publisher is verified.
    pub verified: bool,
    /// The highest installable version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// One line.
    pub description: String,
    /// Installs over all tenants.
    pub installs: u64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// A package with all its versions, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PackageDetail {
    /// The package.
    pub package: Package,
    /// Its versions (yanked and taken down ones marked).
    pub versions: Vec<Version>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PackagePage {
    /// The packages.
    pub items: Vec<Package>,
    /// Pass as `cursor` for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PackageSort {
    /// Best match first.
    #[default]
    Relevance,
    /// Most installed first.
    Installs,
}

/// `GET /v1/registry/packages`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageQuery {
    /// Words to find in name, description, keywords and README.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PackageKind>,
    /// Only this publisher's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Only verified (or unverified) publishers'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Only packages that reach no network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_network: Option<bool>,
    /// Only packages with a credential for hosts this pattern covers
    /// (`*.slack.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_host: Option<String>,
    /// Order (default relevance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<PackageSort>,
    /// 1-100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl Query for PackageQuery {
    const PARAMS: &'static [&'static str] = &[
        "q",
        "kind",
        "publisher",
        "verified",
        "no_network",
        "credential_host",
        "sort",
        "limit",
        "cursor",
    ];

    fn check(&self) -> Result<(), BadQuery> {
        match self.limit {
            Some(l) if !(1..=100).contains(&l) => Err(BadQuery {
                param: "limit".into(),
                value: l.to_string(),
                reason: "is not between 1 and 100".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// `POST …/versions/{version}/yank`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Yank {
    /// Yanked (true) or back (false).
    pub yanked: bool,
}

/// `POST …/versions/{version}/takedown` (the operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTakedown {
    /// Why: shown to every tenant using it and in its failed steps.
    pub reason: String,
}

/// `POST /v1/installs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstall {
    /// `publisher/name`.
    pub package: String,
    /// An exact version (default: the highest the pin allows, else the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `=1.2.3` or `^1` (default: `^` of the version installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// The `disclosure_digest` of the version, as shown to the tenant.
    pub consent: String,
}

/// An upgrade waiting for consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeldUpgrade {
    /// The version asked for.
    pub version: String,
    /// Its disclosure's digest: the consent that applies it.
    pub disclosure_digest: String,
    /// When it was asked for.
    pub requested_at: i64,
}

/// A package installed in the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Install {
    /// `ins_…`.
    pub id: String,
    /// `publisher/name`.
    pub package: String,
    /// The connector's name in workflows.
    pub name: String,
    /// The pin.
    pub pin: String,
    /// The version in use.
    pub version: String,
    /// What the tenant's steps run, `sha256:…`.
    pub digest: String,
    /// The disclosure digest consented to.
    pub consent_digest: String,
    /// Who consented.
    pub consented_by: String,
    /// When.
    pub consented_at: i64,
    /// An upgrade held for consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<HeldUpgrade>,
    /// The version in use was taken down: its steps fail `taken_down`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_down: Option<Takedown>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

/// `POST /v1/installs/{id}/upgrade`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Upgrade {
    /// A version (default: the highest the pin allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The new version's `disclosure_digest`, to apply an upgrade that
    /// widens what the connector reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
}

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Upgraded {
    /// The install as it stands.
    pub install: Install,
    /// Applied (true), or held for consent (false).
    pub applied: bool,
    /// What the held version reaches beyond the consented one.
    pub widening: Vec<String>,
}

/// `POST /v1/registry/packages/{publisher}/{name}/use`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseTemplate {
    /// A version (default: the latest installable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The template's parameters (checked against its schema).
    #[serde(default)]
    pub parameters: Value,
}
