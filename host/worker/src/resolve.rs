//! Which component a step runs, per tenant (docs/REGISTRY.md sections 6-8).
//!
//! A connector name resolves to a bundled connector, the same for every
//! tenant; otherwise to the tenant's install of a registry package of that
//! name, whose digest names the artifact. An artifact not loaded yet is
//! fetched from the blobs, its SHA-256 recomputed and its version's
//! signature verified with the publisher's key before the sandbox sees it;
//! one that does not verify fails the step `artifact_mismatch`. A digest that
//! an operator took down fails the step `taken_down`, whatever resolved it.
//! Another tenant's installs are never consulted.

use crate::{Handle, Result};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use weft_registry::{Install, Kind, Takedown};
use weft_sandbox::Plugin;
use weft_types::{ErrorKind, Failure, Manifest, Reason};

/// The component a step of one tenant runs.
#[derive(Clone)]
pub struct Resolved {
    /// The loaded component.
    pub plugin: Arc<Plugin>,
    /// `sha256:<64 hex>`, journaled on the attempt.
    pub digest: String,
    /// `bundled`, or the install's `publisher/name@version`.
    pub source: String,
}

impl Handle {
    /// The component `name` resolves to for `tenant`: a bundled connector,
    /// else the tenant's installed connector of that name (fetched and
    /// verified on first use).
    ///
    /// # Errors
    /// A failure to record on the step: `unknown_connector` (neither bundled
    /// nor installed in this tenant), `taken_down` (with the takedown's
    /// reason), `artifact_mismatch` (the bytes, the signature or the
    /// manifest do not verify), or a transient one when the registry or the
    /// blobs cannot be read.
    pub async fn resolve(&self, tenant: &str, name: &str) -> Result<Resolved, Failure> {
        if let Some(entry) = self.connectors().get(name) {
            let digest = entry.plugin.digest().to_string();
            self.refuse_denied(&digest, || format!("bundled connector `{name}`"))?;
            return Ok(Resolved {
                plugin: entry.plugin,
                digest,
                source: "bundled".into(),
            });
        }
        let not_installed = || {
            Failure::of(
                Reason::UnknownConnector,
                format!("connector `{name}` is not installed"),
            )
        };
        let Some(registry) = &self.0.parts.registry else {
            return Err(not_installed());
        };
        let install = registry
            .install_by_name(tenant, name)
            .await
            .map_err(|e| transient("the registry", &e))?
            .filter(|i| i.kind == Kind::Connector)
            .ok_or_else(not_installed)?;
        let source = format!("{}/{}@{}", install.publisher, install.name, install.version);
        let digest = format!("sha256:{}", install.digest);
        self.refuse_denied(&digest, || format!("connector `{name}` ({source})"))?;
        let plugin = match self.connectors().verified(&install.digest) {
            // Verified once per process, for whichever tenant loaded it
            // first: this install's consent is checked every time.
            Some((p, disclosure)) if disclosure == install.consent_digest => p,
            Some((_, disclosure)) => {
                let why = format!(
                    "{source} discloses sha256:{disclosure}, but the tenant consented to sha256:{}",
                    install.consent_digest
                );
                return Err(self.mismatch(&install, why));
            }
            None => self.fetch_verified(&install).await?,
        };
        Ok(Resolved {
            plugin,
            digest,
            source,
        })
    }

    /// The validator's catalogue for `tenant`: the bundled connectors and
    /// the manifests of the tenant's installed connectors (a bundled name
    /// wins). Another tenant's installs are not in it.
    ///
    /// # Errors
    /// The registry cannot be read.
    pub async fn catalog(&self, tenant: &str) -> Result<BTreeMap<String, Manifest>> {
        let mut catalog = self.connectors().catalog();
        let Some(registry) = &self.0.parts.registry else {
            return Ok(catalog);
        };
        for install in registry.list_installs(tenant).await? {
            if install.kind != Kind::Connector || catalog.contains_key(&install.name) {
                continue;
            }
            let version = registry
                .get_version(&install.publisher, &install.name, &install.version)
                .await?;
            let manifest = version.and_then(|v| serde_json::from_value(v.manifest).ok());
            match manifest {
                Some(m) => {
                    catalog.insert(install.name.clone(), m);
                }
                None => tracing::warn!(
                    tenant.id = %tenant, plugin.name = %install.name,
                    "installed connector has no readable manifest; left out of the catalogue"
                ),
            }
        }
        Ok(catalog)
    }

    /// Takes a digest (64 hex, or `sha256:` and 64 hex) down in this process
    /// at once: a step resolving to it fails `taken_down` with the
    /// takedown's reason. Other processes see it within
    /// `takedown_refresh_ms` (they re-read the registry).
    pub fn deny(&self, digest: &str, takedown: Takedown) {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        tracing::warn!(plugin.digest = %hex, reason = %takedown.reason, "digest taken down");
        self.connectors().deny(hex, takedown);
    }

    /// Re-reads the registry's takedowns into the denied set; returns how
    /// many digests it holds (0 without a registry).
    ///
    /// # Errors
    /// The registry cannot be read (the set is left as it was).
    pub async fn refresh_takedowns(&self) -> Result<usize> {
        let Some(registry) = &self.0.parts.registry else {
            return Ok(0);
        };
        let all = registry.taken_down().await?;
        Ok(self.connectors().set_denied(all))
    }

    /// Loads every installed connector this process has not loaded yet, so
    /// that no step waits for a compilation (a component built by
    /// componentize-py or componentize-js takes seconds to compile; the
    /// sandbox's on-disk cache then serves every later start). Each digest
    /// is tried once per process: one that does not verify is left to the
    /// step that resolves to it, which fails with the reason. Returns how
    /// many were loaded.
    ///
    /// # Errors
    /// The registry cannot be read.
    pub async fn load_installed_ahead(&self) -> Result<usize> {
        let Some(registry) = &self.0.parts.registry else {
            return Ok(0);
        };
        let mut loaded = 0;
        for install in registry.installed_digests().await? {
            if install.kind != Kind::Connector
                || self.connectors().verified(&install.digest).is_some()
                || self.connectors().denied(&install.digest).is_some()
                || !self.connectors().try_ahead(&install.digest)
            {
                continue;
            }
            match self.fetch_verified(&install).await {
                Ok(_) => loaded += 1,
                Err(f) => tracing::warn!(
                    plugin.digest = %install.digest, error = %f,
                    "installed connector not loaded ahead; the first step that needs it will say why"
                ),
            }
        }
        Ok(loaded)
    }

    /// Deletes blobs uploaded to the registry that no version uses, whose
    /// last upload is older than `unpublished_retention_ms` (100 a round);
    /// returns how many.
    ///
    /// # Errors
    /// The registry or the blob store cannot be read.
    pub async fn collect_unpublished(&self) -> Result<usize> {
        let (Some(registry), Some(blobs)) = (&self.0.parts.registry, &self.0.parts.blobs) else {
            return Ok(0);
        };
        let retention = i64::try_from(self.options().unpublished_retention_ms).unwrap_or(i64::MAX);
        let before = crate::now_ms().saturating_sub(retention);
        let mut deleted = 0;
        for digest in registry.stale_uploads(before, 100).await? {
            // Forgotten only if still stale: an upload or a publish since
            // keeps the blob.
            if registry.forget_upload(&digest, before).await? {
                blobs.delete(&digest).await?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// `taken_down` if `digest` (`sha256:<hex>`) is denied.
    fn refuse_denied(&self, digest: &str, what: impl FnOnce() -> String) -> Result<(), Failure> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        match self.connectors().denied(hex) {
            None => Ok(()),
            Some(t) => Err(Failure::of(
                Reason::TakenDown,
                format!("{} was taken down ({digest}): {}", what(), t.reason),
            )),
        }
    }

    /// Fetches an install's artifact, checks it against the install (the
    /// digest recomputed, the version's signature by its publisher's key,
    /// the manifest's name), loads it and keeps it by digest.
    async fn fetch_verified(&self, install: &Install) -> Result<Arc<Plugin>, Failure> {
        let (Some(registry), Some(blobs)) = (&self.0.parts.registry, &self.0.parts.blobs) else {
            return Err(Failure::new(
                ErrorKind::Transient,
                "this worker has no blob store to fetch installed connectors from",
            ));
        };
        let (publisher, name) = (&install.publisher, &install.name);
        let what = format!("{publisher}/{name}@{}", install.version);
        let version = registry
            .get_version(publisher, name, &install.version)
            .await
            .map_err(|e| transient("the registry", &e))?;
        let Some(version) = version else {
            return Err(self.mismatch(install, format!("{what} is not in the registry")));
        };
        if version.digest != install.digest {
            let why = format!(
                "{what} has artifact sha256:{} but the install runs sha256:{}",
                version.digest, install.digest
            );
            return Err(self.mismatch(install, why));
        }
        if let Some(t) = &version.taken_down {
            self.deny(&install.digest, t.clone());
            self.refuse_denied(&install.digest, || format!("connector `{name}` ({what})"))?;
        }
        let key = registry
            .get_key(publisher, &version.key_id)
            .await
            .map_err(|e| transient("the registry", &e))?;
        let Some(key) = key else {
            let why = format!(
                "{what} is signed by key {}, which {publisher} does not have",
                version.key_id
            );
            return Err(self.mismatch(install, why));
        };
        let statement =
            weft_registry::sign::statement(publisher, name, &version.version, &version.digest);
        if let Err(e) = weft_registry::sign::verify(&key.public_key, &statement, &version.signature)
        {
            let why = format!(
                "the signature of {what} does not verify with key {}: {e}",
                key.key_id
            );
            return Err(self.mismatch(install, why));
        }
        let bytes = match blobs.get(&install.digest).await {
            Ok(b) => b,
            Err(weft_store::Error::Corrupt(m)) => {
                return Err(self.mismatch(install, format!("{what}: {m}")));
            }
            Err(e) => return Err(transient("the blob store", &e)),
        };
        let Some(bytes) = bytes else {
            let why = format!(
                "the artifact sha256:{} of {what} is not in the blob store",
                install.digest
            );
            return Err(self.mismatch(install, why));
        };
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != install.digest {
            let why = format!(
                "the blob store's bytes for {what} hash to sha256:{actual}, not sha256:{}",
                install.digest
            );
            return Err(self.mismatch(install, why));
        }
        let plugin = self.sandbox().load(&bytes).await.map_err(|e| {
            Failure::new(
                ErrorKind::Permanent,
                format!("installed connector {what} does not load: {e}"),
            )
        })?;
        if plugin.manifest().name != *name {
            let why = format!(
                "the artifact of {what} describes itself as `{}`, not `{name}`",
                plugin.manifest().name
            );
            return Err(self.mismatch(install, why));
        }
        // What runs is what the tenant consented to: `describe` runs again at
        // every load, so a component whose manifest changed since it was
        // published (a clock or a random number in `describe`) is refused.
        let imports: Vec<String> = plugin
            .shape()
            .imports
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let disclosure = weft_registry::Disclosure::derive(&imports, plugin.manifest());
        let manifest = serde_json::to_value(plugin.manifest()).unwrap_or_default();
        if manifest != version.manifest {
            let why = format!(
                "the artifact of {what} now describes a manifest other than the one published"
            );
            return Err(self.mismatch(install, why));
        }
        if disclosure.digest() != version.disclosure_digest
            || install.consent_digest != version.disclosure_digest
        {
            let why = format!(
                "the artifact of {what} discloses sha256:{}, but the tenant consented to sha256:{}",
                disclosure.digest(),
                install.consent_digest
            );
            return Err(self.mismatch(install, why));
        }
        tracing::info!(plugin.name = %name, plugin.digest = %plugin.digest(), source = %what, "installed connector verified and loaded");
        self.connectors()
            .keep_verified(&install.digest, plugin.clone(), disclosure.digest());
        Ok(plugin)
    }

    /// An `artifact_mismatch` failure, logged and counted.
    fn mismatch(&self, install: &Install, why: String) -> Failure {
        self.0
            .metrics
            .artifact_mismatches
            .fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            tenant.id = %install.tenant_id, plugin.name = %install.name,
            plugin.digest = %install.digest, error = %why,
            "installed connector refused: its artifact does not verify"
        );
        Failure::of(Reason::ArtifactMismatch, why)
    }
}

/// A transient failure: `what` could not be read (retried).
fn transient(what: &str, e: &weft_store::Error) -> Failure {
    Failure::new(ErrorKind::Transient, format!("{what} cannot be read: {e}"))
}
