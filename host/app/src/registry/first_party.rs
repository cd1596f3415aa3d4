//! The first party's packages: at start-up the bundled connectors and the
//! starter templates become versions of publisher `weft`, signed with the
//! deployment's own first-party key, through the same checks as any
//! publish. Bundled connectors stay usable by every tenant without an
//! install; being in the registry makes them searchable and shows their
//! disclosure.

use super::{FIRST_PARTY, FIRST_PARTY_OWNER, NewVersion};
use crate::{Actor, App, Error, Result};
use weft_registry::sign::SecretKey;
use weft_registry::{Kind, Publisher, PublisherKey};
use weft_types::Role;
use weft_worker::now_ms;

/// One first-party artifact to publish.
#[derive(Debug, Clone)]
pub struct FirstParty {
    /// Connector or template.
    pub kind: Kind,
    /// The package name (a connector's manifest name, a template's name).
    pub name: String,
    /// Its version.
    pub version: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// README.
    pub readme: String,
}

impl App {
    /// Publishes what is missing of `items` as `weft/<name>@<version>`,
    /// signed with `key` (registered for `weft` if new); returns how many
    /// versions were published. Idempotent, and safe when several processes
    /// start at once (a version another one published is skipped).
    ///
    /// # Errors
    /// A first-party artifact refused by the checks (a build defect), or
    /// store failures.
    pub async fn publish_first_party(
        &self,
        key: &SecretKey,
        items: Vec<FirstParty>,
    ) -> Result<usize> {
        let r = self.registry()?.clone();
        // The deployment itself, which is no tenant (`FIRST_PARTY_OWNER`).
        let operator = Actor::new(FIRST_PARTY_OWNER, "weft", Role::Owner);
        if r.store.get_publisher(FIRST_PARTY).await?.is_none() {
            let p = Publisher {
                name: FIRST_PARTY.into(),
                tenant_id: FIRST_PARTY_OWNER.into(),
                verified: true,
                created_at: now_ms(),
            };
            match r.store.create_publisher(&p).await {
                Ok(()) | Err(weft_store::Error::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let key_id = key.key_id();
        match r.store.get_key(FIRST_PARTY, &key_id).await? {
            Some(k) if k.revoked_at.is_some() => {
                tracing::error!(
                    key.id = %key_id,
                    "the first-party signing key was revoked; first-party packages are not published \
                     until the deployment has a new key (remove data_dir/registry/weft.key)"
                );
                return Ok(0);
            }
            Some(_) => {}
            None => {
                let k = PublisherKey {
                    publisher: FIRST_PARTY.into(),
                    key_id: key_id.clone(),
                    public_key: key.public_hex(),
                    created_at: now_ms(),
                    revoked_at: None,
                };
                match r.store.add_key(&k).await {
                    Ok(()) | Err(weft_store::Error::Duplicate(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut published = 0;
        for item in items {
            let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&item.bytes));
            let what = format!("{} {FIRST_PARTY}/{}@{}", item.kind, item.name, item.version);
            if let Some(v) = r
                .store
                .get_version(FIRST_PARTY, &item.name, &item.version)
                .await?
            {
                // The registry shows (and a takedown names) the bytes it
                // has: a bundled component changed without a new version is
                // not what the registry describes.
                if v.digest != digest {
                    tracing::error!(
                        package = %what, registry.digest = %v.digest, bundled.digest = %digest,
                        "a bundled artifact differs from the published version of the same number; \
                         give it a new version"
                    );
                }
                continue;
            }
            // Put again even if present: damaged stored bytes are replaced.
            r.blobs.put(&digest, &item.bytes).await?;
            let statement =
                weft_registry::sign::statement(FIRST_PARTY, &item.name, &item.version, &digest);
            let new = NewVersion {
                kind: item.kind,
                version: item.version.clone(),
                digest,
                readme: item.readme,
                keywords: vec!["official".into()],
                license: "Apache-2.0".into(),
                source: None,
                key_id: key_id.clone(),
                signature: key.sign(&statement),
            };
            match self
                .publish_version(&operator, FIRST_PARTY, &item.name, new)
                .await
            {
                Ok(_) => published += 1,
                Err(Error::Duplicate(_)) => {}
                // Never fatal: a tenant's package may already hold a name a
                // later bundled connector reads like, or a bundled name may
                // break the registry's name rules. The connector still runs
                // (bundled); it is only not in the catalogue.
                Err(e) => {
                    tracing::warn!(package = %what, error = %e, "first-party package not published");
                    // A registry package may already hold this name: tenants
                    // that installed it resolve the name to the bundled
                    // connector from now on (bundled names win).
                    if item.kind == Kind::Connector
                        && let Some(p) = r
                            .store
                            .package_names()
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .find(|(p, n)| n == &item.name && p != FIRST_PARTY)
                    {
                        tracing::error!(
                            connector = %item.name, package = %format!("{}/{}", p.0, p.1),
                            "a bundled connector has the name of a registry package: tenants that \
                             installed the package now run the bundled connector under that name; \
                             rename one of them"
                        );
                    }
                }
            }
        }
        Ok(published)
    }
}
