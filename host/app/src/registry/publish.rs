//! Publishing a signed version (docs/REGISTRY.md, section 2): every check
//! before anything is written, each failure naming what and where.

use super::parse_digest;
use crate::{Actor, App, Error, Result};
use weft_registry::{Disclosure, Kind, Version};
use weft_types::{Problem, Role};
use weft_worker::now_ms;

/// What a publisher sends for a new version; the artifact was uploaded
/// first, by digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    /// Connector or template.
    pub kind: Kind,
    /// Semver.
    pub version: String,
    /// The uploaded artifact's digest.
    pub digest: String,
    /// Markdown for the package's page.
    pub readme: String,
    /// Search keywords.
    pub keywords: Vec<String>,
    /// SPDX expression.
    pub license: String,
    /// Where the source is.
    pub source: Option<String>,
    /// The signing key's id.
    pub key_id: String,
    /// ed25519 over the publish statement, hex.
    pub signature: String,
}

/// Keywords kept per version, and their length.
const MAX_KEYWORDS: usize = 20;
const MAX_KEYWORD: usize = 40;
/// A README's size limit.
const MAX_README: usize = 256 * 1024;

fn refused(code: &'static str, message: impl Into<String>) -> Error {
    Error::Refused {
        code,
        message: message.into(),
        problems: Vec::new(),
    }
}

impl App {
    /// Refuses (`too_large`) a component of `size` bytes over what `tenant`
    /// may upload, publish or install: its own `limits.component_bytes`, and
    /// never more than the deployment's maximum (what the sandbox loads).
    ///
    /// # Errors
    /// `Refused` (`too_large`) naming the limit and where it comes from.
    pub(super) async fn check_component_size(&self, tenant: &str, size: u64) -> Result<()> {
        let deployment = self.handle.sandbox().options().engine.component_bytes as u64;
        let own = self.tenants.limits_of(tenant).await?.component_bytes;
        let (limit, whose) = match own {
            Some(b) if b < deployment => (b, "this tenant's limits.component_bytes"),
            _ => (deployment, "the deployment's maximum component size"),
        };
        if size > limit {
            return Err(refused(
                "too_large",
                format!("the artifact is {size} bytes; the limit is {limit} ({whose})"),
            ));
        }
        Ok(())
    }

    /// Publishes `new` as `publisher/name`: checks the signature (R1), the
    /// artifact through the sandbox's loader (B1–B3) and the world fit with
    /// every misfit listed (R4), runs `describe` and matches its name and
    /// version, refuses a version that exists and a name confusable with
    /// another publisher's package, then stores the version with the
    /// disclosure derived from the component.
    ///
    /// # Errors
    /// `Invalid` for malformed fields; `Refused` with `bad_signature`,
    /// `name_confusable`, `manifest_mismatch`, the sandbox's code
    /// (`invalid_wasm`, `too_large`, `world_mismatch`, ...) or
    /// `invalid_template`; `Duplicate` for an existing version.
    pub async fn publish_version(
        &self,
        actor: &Actor,
        publisher: &str,
        name: &str,
        new: NewVersion,
    ) -> Result<Version> {
        let owner = self.own_publisher(actor, publisher, Role::Admin).await?;
        let r = self.registry()?;
        weft_registry::names::package_name(name)
            .map_err(|e| Error::Invalid(format!("name: {e}")))?;
        weft_registry::names::version(&new.version)
            .map_err(|e| Error::Invalid(format!("version: {e}")))?;
        let digest = parse_digest("digest", &new.digest)?;
        check_metadata(&new)?;
        // R1: a key of this publisher, not revoked, signed exactly this.
        let key = r
            .store
            .get_key(publisher, &new.key_id)
            .await?
            .ok_or_else(|| {
                refused(
                    "bad_signature",
                    format!(
                        "key `{}` is not a key of publisher `{publisher}`",
                        new.key_id
                    ),
                )
            })?;
        if key.revoked_at.is_some() {
            return Err(refused(
                "bad_signature",
                format!("key `{}` of `{publisher}` is revoked", new.key_id),
            ));
        }
        let statement = weft_registry::sign::statement(publisher, name, &new.version, &digest);
        weft_registry::sign::verify(&key.public_key, &statement, &new.signature).map_err(|e| {
            refused(
                "bad_signature",
                format!("the signature does not verify with key `{}` over {publisher}/{name}@{} sha256:{digest}: {e}", new.key_id, new.version),
            )
        })?;
        if r.store
            .get_version(publisher, name, &new.version)
            .await?
            .is_some()
        {
            return Err(Error::Duplicate(format!(
                "{publisher}/{name}@{} exists; versions are immutable: publish a new version",
                new.version
            )));
        }
        // Bytes an operator took down stay down under any name or version.
        if let Some((_, t)) = r
            .store
            .taken_down()
            .await?
            .into_iter()
            .find(|(d, _)| *d == digest)
        {
            return Err(refused(
                "taken_down",
                format!("the artifact sha256:{digest} was taken down: {}", t.reason),
            ));
        }
        // Confusable names: checked against every other publisher's package.
        let existing = r.store.package_names().await?;
        weft_registry::names::check_new_name(&owner.name, name, &existing)
            .map_err(|e| refused("name_confusable", e.to_string()))?;
        let bytes = r.blobs.get(&digest).await?.ok_or_else(|| {
            Error::Invalid(format!(
                "digest: no artifact sha256:{digest} was uploaded; \
                 PUT /v1/registry/blobs/sha256:{digest} first"
            ))
        })?;
        self.check_component_size(&actor.tenant_id, bytes.len() as u64)
            .await?;
        // Touched as an upload of this tenant: the collector keeps what a
        // publish is reading.
        r.store
            .record_upload(&digest, &actor.tenant_id, bytes.len() as u64, now_ms())
            .await?;
        let (manifest, description, disclosure) = match new.kind {
            Kind::Connector => self.check_connector(name, &new.version, &bytes).await?,
            Kind::Template => self.check_template(name, &new.version, &bytes).await?,
        };
        let version = Version {
            publisher: publisher.to_owned(),
            name: name.to_owned(),
            version: new.version.clone(),
            kind: new.kind,
            digest,
            size: bytes.len() as u64,
            manifest,
            description,
            disclosure_digest: disclosure.digest(),
            disclosure,
            readme: new.readme,
            keywords: new.keywords,
            license: new.license,
            source: new.source,
            key_id: new.key_id,
            signature: new.signature.to_ascii_lowercase(),
            published_at: now_ms(),
            yanked: false,
            taken_down: None,
        };
        r.store.publish(&version).await?;
        self.audit(
            actor,
            "version.publish",
            &format!("{publisher}/{name}@{}", version.version),
        )
        .await?;
        Ok(version)
    }

    /// Loads a connector the way a worker will (B1–B3, R4, `describe`) and
    /// derives its disclosure.
    async fn check_connector(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
    ) -> Result<(serde_json::Value, String, Disclosure)> {
        let plugin = self.handle.sandbox().load(bytes).await.map_err(|e| {
            let problems = match &e {
                weft_sandbox::Error::Misfit(m) => m
                    .problems
                    .iter()
                    .map(|p| Problem::new("/component", p.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            Error::Refused {
                code: e.code(),
                message: format!("the component was refused: {e}"),
                problems,
            }
        })?;
        let m = plugin.manifest();
        let mut problems = Vec::new();
        if m.name != name {
            problems.push(Problem::new(
                "/manifest/name",
                format!("`describe` says `{}`; the package is `{name}`", m.name),
            ));
        }
        if m.version != version {
            problems.push(Problem::new(
                "/manifest/version",
                format!(
                    "`describe` says `{}`; the version published is `{version}`",
                    m.version
                ),
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Refused {
                code: "manifest_mismatch",
                message: "the component's manifest does not match the package".into(),
                problems,
            });
        }
        let imports: Vec<String> = plugin
            .shape()
            .imports
            .iter()
            .map(|i| i.name.clone())
            .collect();
        let disclosure = Disclosure::derive(&imports, m);
        let manifest =
            serde_json::to_value(m).map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        Ok((manifest, m.description.clone(), disclosure))
    }

    /// Parses a template document and validates it against the connectors
    /// it names (bundled, or the latest of a registry package).
    async fn check_template(
        &self,
        name: &str,
        version: &str,
        bytes: &[u8],
    ) -> Result<(serde_json::Value, String, Disclosure)> {
        let template =
            weft_registry::template::Template::parse(bytes).map_err(|problems| Error::Refused {
                code: "invalid_template",
                message: "the template document has problems".into(),
                problems: problems.0,
            })?;
        if template.name != name {
            return Err(Error::Refused {
                code: "manifest_mismatch",
                message: "the template's name does not match the package".into(),
                problems: vec![Problem::new(
                    "/name",
                    format!(
                        "the document says `{}`; the package is `{name}`",
                        template.name
                    ),
                )],
            });
        }
        let catalog = self.registry_catalog(template.requires.keys()).await?;
        template
            .check(&catalog)
            .map_err(|problems| Error::Refused {
                code: "invalid_template",
                message:
                    "the template's workflow does not validate against the connectors it requires"
                        .into(),
                problems: problems.0,
            })?;
        let _ = version;
        let manifest = template.metadata();
        Ok((
            manifest,
            template.description.clone(),
            Disclosure::default(),
        ))
    }

    /// The bundled connectors' manifests plus, for each of `names` not
    /// bundled, the latest installable version's manifest in the registry.
    pub(crate) async fn registry_catalog<'a>(
        &self,
        names: impl Iterator<Item = &'a String>,
    ) -> Result<std::collections::BTreeMap<String, weft_types::Manifest>> {
        let mut catalog = self.handle.connectors().catalog();
        let store = &self.registry()?.store;
        // Read once: names are unique across publishers.
        let owners: std::collections::HashMap<String, String> = store
            .package_names()
            .await?
            .into_iter()
            .map(|(p, n)| (n, p))
            .collect();
        for n in names {
            if catalog.contains_key(n) {
                continue;
            }
            let Some(publisher) = owners.get(n) else {
                continue;
            };
            let versions = store.list_versions(publisher, n).await?;
            if let Some(v) = weft_registry::index::latest(&versions)
                && let Ok(m) = serde_json::from_value::<weft_types::Manifest>(v.manifest.clone())
            {
                catalog.insert(n.clone(), m);
            }
        }
        Ok(catalog)
    }
}

fn check_metadata(new: &NewVersion) -> Result<()> {
    if new.readme.len() > MAX_README {
        return Err(Error::Invalid(format!(
            "readme: {} bytes; at most {MAX_README}",
            new.readme.len()
        )));
    }
    if new.keywords.len() > MAX_KEYWORDS {
        return Err(Error::Invalid(format!(
            "keywords: {}; at most {MAX_KEYWORDS}",
            new.keywords.len()
        )));
    }
    for (i, k) in new.keywords.iter().enumerate() {
        if k.is_empty()
            || k.len() > MAX_KEYWORD
            || !k
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(Error::Invalid(format!(
                "keywords/{i}: `{k}` must be 1 to {MAX_KEYWORD} of a-z, 0-9 and -"
            )));
        }
    }
    if new.license.trim().is_empty() || new.license.len() > 100 {
        return Err(Error::Invalid(
            "license: an SPDX expression such as `Apache-2.0` is required".into(),
        ));
    }
    if let Some(s) = &new.source
        && !(s.starts_with("https://") || s.starts_with("http://"))
    {
        return Err(Error::Invalid(format!(
            "source: `{s}` is not an http(s) URL"
        )));
    }
    Ok(())
}
