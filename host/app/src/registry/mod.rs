//! The registry's use cases (docs/REGISTRY.md): publishers and their keys,
//! blobs, publishing a signed version, browsing, installs with consent,
//! yank and takedown, and using a template.
//!
//! Who may do what:
//! - reading the catalogue (search, a package, a version and its
//!   disclosure): any key (viewer);
//! - a publisher's keys, blobs, versions and yanks: an admin of the tenant
//!   that owns the publisher;
//! - installs and using a template: an admin of the tenant;
//! - verifying a publisher and taking a version down: the operator (an
//!   operator key, `docs/TENANCY.md` section 1), audited in the operator
//!   audit log;
//! - the first party's packages (publisher `weft`): the deployment itself at
//!   start-up, as [`FIRST_PARTY_OWNER`], which is no tenant: no tenant's key,
//!   whatever its role, acts on them.

mod first_party;
mod installs;
mod publish;
mod templates;

pub use first_party::FirstParty;
pub use installs::{InstallRequest, Upgraded};
pub use publish::NewVersion;

use crate::{Actor, App, Error, Operator, Result};
use std::sync::Arc;
use weft_registry::{
    Blobs, Package, Publisher, PublisherKey, RegistryStore, SearchPage, SearchQuery, Version,
};
use weft_types::Role;
use weft_worker::now_ms;

/// A search's text: at most this many characters and words (each word is a
/// prefix term every result must match).
const MAX_QUERY_CHARS: usize = 256;
const MAX_QUERY_WORDS: usize = 8;

/// The first-party publisher: the bundled connectors and the starter templates.
pub const FIRST_PARTY: &str = "weft";

/// The owner of the first-party publisher: a reserved id no tenant can have
/// (tenant ids are `ten_…`), so no tenant's key acts as the first party.
pub const FIRST_PARTY_OWNER: &str = "@weft";

/// The registry's ports and who operates it.
#[derive(Clone)]
pub struct Registry {
    /// Records and the search index.
    pub store: Arc<dyn RegistryStore>,
    /// Artifacts by digest.
    pub blobs: Arc<dyn Blobs>,
}

/// A package and every version of it, highest first.
#[derive(Debug, Clone, PartialEq)]
pub struct PackageDetail {
    /// The package.
    pub package: Package,
    /// Its versions (yanked and taken-down ones included, marked).
    pub versions: Vec<Version>,
}

/// A digest as the API shows it (`sha256:…`) or plain: 64 lower-case hex
/// digits, or `Invalid` naming the field.
pub fn parse_digest(field: &str, digest: &str) -> Result<String> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(hex.to_owned())
    } else {
        Err(Error::Invalid(format!(
            "{field}: `{digest}` is not a SHA-256 digest (`sha256:` and 64 lower-case hex digits)"
        )))
    }
}

impl App {
    /// The registry, or `Unavailable` on a server without one.
    pub(crate) fn registry(&self) -> Result<&Registry> {
        self.registry
            .as_ref()
            .ok_or_else(|| Error::Unavailable("this server has no registry".into()))
    }

    /// The publisher called `name`, if the caller's tenant owns it (and is
    /// at least `role` there); `NotFound` for an unknown one and for
    /// another tenant's.
    async fn own_publisher(&self, actor: &Actor, name: &str, role: Role) -> Result<Publisher> {
        actor.require(role)?;
        // The first party's packages are the deployment's alone: no tenant
        // acts on them (a deployment from before operators stored the first
        // tenant as the owner; that grants nothing).
        let first_party = name == FIRST_PARTY;
        if first_party != (actor.tenant_id == FIRST_PARTY_OWNER) {
            return Err(Error::NotFound("publisher"));
        }
        let p = self
            .registry()?
            .store
            .get_publisher(name)
            .await?
            .ok_or(Error::NotFound("publisher"))?;
        // Another tenant's publisher is as unknown as a missing one here:
        // a tenant acts on its own publishers only (A1).
        if first_party || p.tenant_id == actor.tenant_id {
            Ok(p)
        } else {
            Err(Error::NotFound("publisher"))
        }
    }

    /// Creates a publisher owned by the caller's tenant (admin). `weft` is
    /// the first party's and refused.
    ///
    /// # Errors
    /// `Invalid` (the name's rule), `Duplicate` (taken).
    pub async fn create_publisher(&self, actor: &Actor, name: &str) -> Result<Publisher> {
        actor.require(Role::Admin)?;
        weft_registry::names::publisher_name(name)
            .map_err(|e| Error::Invalid(format!("name: {e}")))?;
        let r = self.registry()?;
        if name == FIRST_PARTY {
            return Err(Error::Duplicate(format!(
                "publisher `{FIRST_PARTY}` is reserved for Weft's own packages"
            )));
        }
        // Names that read like the first party's (`weft-official`, `wefthq`,
        // `vveft`, `weft1`) are refused as well as those that read the same.
        let skeleton = weft_registry::names::skeleton(name);
        if skeleton.starts_with(FIRST_PARTY)
            || weft_registry::names::distance(&skeleton, FIRST_PARTY) <= 1
        {
            return Err(Error::Refused {
                code: "name_confusable",
                message: format!(
                    "the publisher name `{name}` is refused: it reads like the first party `{FIRST_PARTY}`"
                ),
                problems: Vec::new(),
            });
        }
        let mut existing = r.store.publisher_names().await?;
        existing.retain(|p| p != name);
        weft_registry::names::check_new_publisher(name, &existing).map_err(|e| Error::Refused {
            code: "name_confusable",
            message: e.to_string(),
            problems: Vec::new(),
        })?;
        let p = Publisher {
            name: name.to_owned(),
            tenant_id: actor.tenant_id.clone(),
            verified: false,
            created_at: now_ms(),
        };
        r.store.create_publisher(&p).await?;
        self.audit(actor, "publisher.create", name).await?;
        Ok(p)
    }

    /// A publisher with its keys (any key: publishers are public).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_publisher(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<(Publisher, Vec<PublisherKey>)> {
        actor.require(Role::Viewer)?;
        let r = self.registry()?;
        let p = r
            .store
            .get_publisher(name)
            .await?
            .ok_or(Error::NotFound("publisher"))?;
        let keys = r.store.list_keys(name).await?;
        Ok((p, keys))
    }

    /// Adds an ed25519 public key (hex) to one of the caller's publishers.
    ///
    /// # Errors
    /// `Invalid` for a key that is not 32 bytes of hex; `Duplicate`.
    pub async fn add_publisher_key(
        &self,
        actor: &Actor,
        publisher: &str,
        public_key: &str,
    ) -> Result<PublisherKey> {
        self.own_publisher(actor, publisher, Role::Admin).await?;
        let bytes = weft_registry::sign::public_key_bytes(public_key)
            .map_err(|e| Error::Invalid(format!("public_key: {e}")))?;
        let key_id = weft_registry::sign::key_id(&bytes);
        let key = PublisherKey {
            publisher: publisher.to_owned(),
            key_id: key_id.clone(),
            public_key: public_key.to_ascii_lowercase(),
            created_at: now_ms(),
            revoked_at: None,
        };
        self.registry()?.store.add_key(&key).await?;
        self.audit(actor, "publisher.key.add", &format!("{publisher}/{key_id}"))
            .await?;
        Ok(key)
    }

    /// Revokes one of a publisher's keys: versions it signed stay, new
    /// signatures by it are refused.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn revoke_publisher_key(
        &self,
        actor: &Actor,
        publisher: &str,
        key_id: &str,
    ) -> Result<()> {
        self.own_publisher(actor, publisher, Role::Admin).await?;
        self.registry()?
            .store
            .revoke_key(publisher, key_id, now_ms())
            .await?;
        self.audit(
            actor,
            "publisher.key.revoke",
            &format!("{publisher}/{key_id}"),
        )
        .await
    }

    /// Marks a publisher verified or not (the operator), in the operator
    /// audit log (the tenant: the publisher's owner).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn verify_publisher(
        &self,
        op: &Operator,
        name: &str,
        verified: bool,
    ) -> Result<(Publisher, Vec<PublisherKey>)> {
        let store = &self.registry()?.store;
        let p = store
            .get_publisher(name)
            .await?
            .ok_or(Error::NotFound("publisher"))?;
        store.set_verified(name, verified).await?;
        let action = if verified {
            "publisher.verify"
        } else {
            "publisher.unverify"
        };
        self.tenants
            .op_audit(op, action, &p.tenant_id, &format!("publisher {name}"))
            .await?;
        let p = store
            .get_publisher(name)
            .await?
            .ok_or(Error::NotFound("publisher"))?;
        let keys = store.list_keys(name).await?;
        Ok((p, keys))
    }

    /// Stores an artifact under its digest (an admin of a tenant owning a
    /// publisher). The digest is recomputed; storing it again is a no-op.
    ///
    /// # Errors
    /// `Invalid` for a digest that does not match the bytes (both named) or
    /// a tenant with no publisher; `Refused` (`too_large`) for bytes over the
    /// component size limit; `Quota` when the tenant's unpublished uploads
    /// would pass `worker.unpublished_quota_bytes`.
    pub async fn put_blob(
        &self,
        actor: &Actor,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(String, bool)> {
        actor.require(Role::Admin)?;
        let r = self.registry()?;
        // (`weft` stored under a tenant before operators existed is not its.)
        let owned = r.store.publishers_of(&actor.tenant_id).await?;
        if owned.iter().all(|p| p.name == FIRST_PARTY) {
            return Err(Error::Invalid(
                "this tenant has no publisher: create one (POST /v1/registry/publishers) before uploading".into(),
            ));
        }
        let want = parse_digest("digest", digest)?;
        self.check_component_size(&actor.tenant_id, bytes.len() as u64)
            .await?;
        let got = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
        if got != want {
            return Err(Error::Invalid(format!(
                "digest: the path says sha256:{want} but the bytes hash to sha256:{got}"
            )));
        }
        // What a tenant has uploaded and not published is bounded: uploads
        // nothing uses are deleted after a retention, and count until then.
        let quota = self.handle.options().unpublished_quota_bytes;
        let held = r.store.unpublished_bytes(&actor.tenant_id).await?;
        let size = bytes.len() as u64;
        if held.saturating_add(size) > quota {
            return Err(Error::Quota(format!(
                "this tenant's uploads that no published version uses hold {held} bytes; \
                 {size} more would pass its {quota} (publish them, or wait for them to expire)"
            )));
        }
        let existed = r.blobs.has(&want).await?;
        // Recorded before the bytes are written: the collector forgets (and
        // deletes) only what no upload touched since it listed it.
        r.store
            .record_upload(&want, &actor.tenant_id, size, now_ms())
            .await?;
        // Stored again even if present: `put` replaces bytes that no longer
        // hash to the digest (a damaged blob is repaired by its upload).
        r.blobs.put(&want, bytes).await?;
        Ok((want, !existed))
    }

    /// Searches the catalogue.
    ///
    /// # Errors
    /// `Invalid` for a limit out of range.
    pub async fn search_packages(&self, actor: &Actor, query: &SearchQuery) -> Result<SearchPage> {
        actor.require(Role::Viewer)?;
        if !(1..=100).contains(&query.limit) {
            return Err(Error::Invalid(format!(
                "limit: {} is not between 1 and 100",
                query.limit
            )));
        }
        if let Some(text) = &query.text {
            let words = weft_registry::index::terms(text);
            let chars = text.chars().count();
            if chars > MAX_QUERY_CHARS || words.len() > MAX_QUERY_WORDS {
                return Err(Error::Invalid(format!(
                    "q: at most {MAX_QUERY_WORDS} words and {MAX_QUERY_CHARS} characters \
                     (this has {} words, {} characters)",
                    words.len(),
                    chars
                )));
            }
        }
        match self.registry()?.store.search(query).await {
            Ok(page) => Ok(page),
            // A cursor no page produced is bad input, not a missing record.
            Err(weft_store::Error::NotFound(what)) => Err(Error::Invalid(format!(
                "cursor: not a {what} from a page's `next`"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// A package and its versions.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_package(
        &self,
        actor: &Actor,
        publisher: &str,
        name: &str,
    ) -> Result<PackageDetail> {
        actor.require(Role::Viewer)?;
        let store = &self.registry()?.store;
        let package = store
            .get_package(publisher, name)
            .await?
            .ok_or(Error::NotFound("package"))?;
        let versions = store.list_versions(publisher, name).await?;
        Ok(PackageDetail { package, versions })
    }

    /// One version, with its disclosure and the digest a tenant consents to.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_package_version(
        &self,
        actor: &Actor,
        publisher: &str,
        name: &str,
        version: &str,
    ) -> Result<Version> {
        actor.require(Role::Viewer)?;
        self.registry()?
            .store
            .get_version(publisher, name, version)
            .await?
            .ok_or(Error::NotFound("version"))
    }

    /// Yanks (or un-yanks) one of the caller's versions: no new installs or
    /// upgrades to it; existing installs keep running.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn yank_version(
        &self,
        actor: &Actor,
        publisher: &str,
        name: &str,
        version: &str,
        yanked: bool,
    ) -> Result<Version> {
        self.own_publisher(actor, publisher, Role::Admin).await?;
        let store = &self.registry()?.store;
        store.set_yanked(publisher, name, version, yanked).await?;
        let action = if yanked {
            "version.yank"
        } else {
            "version.unyank"
        };
        self.audit(actor, action, &format!("{publisher}/{name}@{version}"))
            .await?;
        store
            .get_version(publisher, name, version)
            .await?
            .ok_or(Error::NotFound("version"))
    }

    /// Takes a version down everywhere (the operator, with a reason): its
    /// digest runs nowhere from now on (in this process at once, in other
    /// workers within their refresh); the operator audit log records it and
    /// every tenant that has it installed gets an entry in its own audit log
    /// saying why (actor `op:<key id>`).
    ///
    /// # Errors
    /// `NotFound`, `Invalid` for an empty reason.
    pub async fn take_down_version(
        &self,
        op: &Operator,
        publisher: &str,
        name: &str,
        version: &str,
        reason: &str,
    ) -> Result<Version> {
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1_000 {
            return Err(Error::Invalid(
                "reason: say why, in at most 1,000 characters".into(),
            ));
        }
        let store = &self.registry()?.store;
        let v = store
            .get_version(publisher, name, version)
            .await?
            .ok_or(Error::NotFound("version"))?;
        let takedown = weft_registry::Takedown {
            reason: reason.to_owned(),
            by: op.actor(),
            at: now_ms(),
        };
        store.take_down(publisher, name, version, &takedown).await?;
        self.handle.deny(&v.digest, takedown.clone());
        let target = format!("{publisher}/{name}@{version}");
        let owner = store
            .get_publisher(publisher)
            .await?
            .map(|p| p.tenant_id)
            .unwrap_or_default();
        self.tenants
            .op_audit(
                op,
                "version.takedown",
                &owner,
                &format!("{target}: {reason}"),
            )
            .await?;
        for install in store.installs_of_digest(&v.digest).await? {
            let affected = Actor::new(install.tenant_id.clone(), op.actor(), Role::Owner);
            self.audit(
                &affected,
                "version.takedown",
                &format!("{target}: {reason}"),
            )
            .await?;
        }
        store
            .get_version(publisher, name, version)
            .await?
            .ok_or(Error::NotFound("version"))
    }
}
