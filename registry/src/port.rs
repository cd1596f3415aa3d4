//! The storage ports: registry records (with their search index) and blobs.

use crate::{Install, Kind, Package, Publisher, PublisherKey, Result, Takedown, Version};
use async_trait::async_trait;

/// How search results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (an exact name before a README mention); without
    /// text, as [`Sort::Installs`].
    #[default]
    Relevance,
    /// Most installed first.
    Installs,
}

/// A search over packages. Every filter narrows; none is "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words matched against name, description, keywords and README.
    pub text: Option<String>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this publisher's.
    pub publisher: Option<String>,
    /// Only verified (or only unverified) publishers'.
    pub verified: Option<bool>,
    /// Only packages whose latest version reaches no network.
    pub no_network: bool,
    /// Only packages whose latest version has a credential slot with a host
    /// pattern equal to or covered by this one (`*.slack.com` matches a slot
    /// for `api.slack.com` and one for `*.slack.com`).
    pub credential_host: Option<String>,
    /// Order.
    pub sort: Sort,
    /// Page size (1 to 100).
    pub limit: u32,
    /// Where the previous page ended ([`SearchPage::next`]).
    pub cursor: Option<String>,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    /// Packages with at least one version neither yanked nor taken down.
    pub items: Vec<Package>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

/// Registry records. Publishing, yanking and taking down keep the search
/// index in the same transaction as the version row.
///
/// Errors: `Duplicate` for a record that exists (the message names it),
/// `NotFound` for one that does not, `Unavailable` for the backend.
#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// Creates a publisher (`Duplicate` if the name is taken).
    async fn create_publisher(&self, publisher: &Publisher) -> Result<()>;
    /// The publisher called `name`.
    async fn get_publisher(&self, name: &str) -> Result<Option<Publisher>>;
    /// The publishers a tenant owns.
    async fn publishers_of(&self, tenant: &str) -> Result<Vec<Publisher>>;
    /// Marks a publisher verified or not (`NotFound`).
    async fn set_verified(&self, name: &str, verified: bool) -> Result<()>;
    /// Adds a signing key (`Duplicate` if the key id exists for the publisher).
    async fn add_key(&self, key: &PublisherKey) -> Result<()>;
    /// One of a publisher's keys, revoked or not.
    async fn get_key(&self, publisher: &str, key_id: &str) -> Result<Option<PublisherKey>>;
    /// A publisher's keys, oldest first.
    async fn list_keys(&self, publisher: &str) -> Result<Vec<PublisherKey>>;
    /// Revokes a key at `at` (`NotFound`; revoking twice keeps the first time).
    async fn revoke_key(&self, publisher: &str, key_id: &str, at: i64) -> Result<()>;

    /// Every publisher's name, with packages or not, by name (the
    /// confusable-name check of a new publisher).
    async fn publisher_names(&self) -> Result<Vec<String>>;

    /// Every package's (publisher, name), for the confusable-name check.
    async fn package_names(&self) -> Result<Vec<(String, String)>>;
    /// Stores a new version, creating its package with the first one.
    /// `Duplicate` if the version exists, if the package exists with
    /// another kind, or if another publisher has a package of that name
    /// (the message names it: a package name is unique across publishers,
    /// which the schema enforces, so two racing publishes cannot both win).
    async fn publish(&self, version: &Version) -> Result<()>;
    /// A package with its derived fields.
    async fn get_package(&self, publisher: &str, name: &str) -> Result<Option<Package>>;
    /// One version.
    async fn get_version(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
    ) -> Result<Option<Version>>;
    /// Every version of a package, highest first (semver order).
    async fn list_versions(&self, publisher: &str, name: &str) -> Result<Vec<Version>>;
    /// The version whose artifact has this digest (the first published, if
    /// several share it).
    async fn version_by_digest(&self, digest: &str) -> Result<Option<Version>>;
    /// Yanks or un-yanks a version (`NotFound`).
    async fn set_yanked(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<()>;
    /// Takes a version down (`NotFound`; a second takedown keeps the first).
    async fn take_down(
        &self,
        publisher: &str,
        name: &str,
        version: &str,
        takedown: &Takedown,
    ) -> Result<()>;
    /// Every taken-down digest with its takedown.
    async fn taken_down(&self) -> Result<Vec<(String, Takedown)>>;
    /// Searches packages (those with no version left to install are hidden).
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage>;

    /// Records an install and counts it on the package (`Duplicate` if the
    /// tenant has the package installed). [`Package::installs`] counts
    /// current installs: [`RegistryStore::delete_install`] lowers it.
    async fn create_install(&self, install: &Install) -> Result<()>;
    /// Replaces an install's version, digest, consent, pin and held upgrade
    /// (`NotFound`).
    async fn update_install(&self, install: &Install) -> Result<()>;
    /// One of a tenant's installs, by id.
    async fn get_install(&self, tenant: &str, id: &str) -> Result<Option<Install>>;
    /// A tenant's install of the package called `name` (any publisher: names
    /// are unique across publishers).
    async fn install_by_name(&self, tenant: &str, name: &str) -> Result<Option<Install>>;
    /// A tenant's installs, by name.
    async fn list_installs(&self, tenant: &str) -> Result<Vec<Install>>;
    /// Every install of a digest, over all tenants (a takedown's reach).
    async fn installs_of_digest(&self, digest: &str) -> Result<Vec<Install>>;
    /// One install of each digest installed anywhere (the first by tenant and
    /// id), ordered by digest: what a worker loads ahead of the first step
    /// that needs it.
    async fn installed_digests(&self) -> Result<Vec<Install>>;
    /// Removes one of a tenant's installs and lowers its package's count
    /// in the same transaction (`NotFound`).
    async fn delete_install(&self, tenant: &str, id: &str) -> Result<()>;

    /// Records that `tenant` uploaded the blob `digest` of `size` bytes at
    /// `at` (milliseconds). Once per tenant and digest: uploading it again
    /// moves `at` forward, it is not counted twice.
    async fn record_upload(&self, digest: &str, tenant: &str, size: u64, at: i64) -> Result<()>;
    /// The bytes of `tenant`'s recorded uploads whose digest no version
    /// references: what counts against its upload quota.
    async fn unpublished_bytes(&self, tenant: &str) -> Result<u64>;
    /// Up to `limit` digests whose every upload was recorded before
    /// `before` and which no version references: what the sweeper may
    /// delete. Oldest first.
    async fn stale_uploads(&self, before: i64, limit: u32) -> Result<Vec<String>>;
    /// Forgets the uploads of `digest` if it is still stale (every upload
    /// before `before`, no version referencing it), in one statement; true
    /// if it forgot them, and only then may the caller delete the blob (an
    /// upload or a publish since [`RegistryStore::stale_uploads`] keeps it).
    async fn forget_upload(&self, digest: &str, before: i64) -> Result<bool>;
}

/// Artifacts by SHA-256 digest (64 lower-case hex digits).
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Stores `bytes` under `digest`: `Invalid` (naming both digests) when
    /// they do not hash to it. Storing a digest again is a no-op while the
    /// stored bytes are right, and replaces them when they are not (a
    /// corrupt blob is repaired by uploading it again).
    async fn put(&self, digest: &str, bytes: &[u8]) -> Result<()>;
    /// The bytes stored under `digest`. An adapter checks them against the
    /// digest and answers `Corrupt` for bytes that do not match (the worker
    /// fails the step `artifact_mismatch`; it recomputes the digest too).
    async fn get(&self, digest: &str) -> Result<Option<Vec<u8>>>;
    /// Whether `digest` is stored.
    async fn has(&self, digest: &str) -> Result<bool>;
    /// Deletes the blob `digest` (the sweeper's, after
    /// [`RegistryStore::forget_upload`]); deleting a missing blob is a no-op.
    async fn delete(&self, digest: &str) -> Result<()>;
}
