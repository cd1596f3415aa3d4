//! `impl RegistryStore for Postgres`: publishers, keys, versions and installs
//! (migration 0005). Installs are in `registry_installs.rs`; search and the
//! derived columns it reads in `registry_search.rs`; blobs in `blobs.rs`.

use crate::row::{Cols, unavailable, write_error};
use crate::{Postgres, registry_installs, registry_search, registry_uploads};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Postgres as Pg, Transaction};
use weft_registry::{
    Install, Package, Publisher, PublisherKey, RegistryStore, SearchPage, SearchQuery, Takedown,
    Version, index,
};
use weft_store::{Error, Result};

/// The columns of `registry_versions`, in [`insert_version`]'s order.
const VERSION: &str = "publisher, name, version, kind, digest, size, manifest, description, \
    disclosure, disclosure_digest, readme, keywords, license, source, key_id, signature, \
    published_at, yanked, takedown_reason, takedown_by, takedown_at";

/// A package with its publisher's verification, as [`package`] reads it.
pub(crate) const PACKAGE_SELECT: &str = "SELECT p.id, p.publisher, p.name, p.kind, pub.verified, \
    p.latest, p.description, p.installs, p.created_at FROM registry_packages p \
    JOIN registry_publishers pub ON pub.name = p.publisher";

fn publisher(r: &PgRow) -> Result<Publisher> {
    let c = Cols::new(r, "registry_publishers");
    Ok(Publisher {
        name: c.get("name")?,
        tenant_id: c.get("tenant_id")?,
        verified: c.get("verified")?,
        created_at: c.get("created_at")?,
    })
}

fn key(r: &PgRow) -> Result<PublisherKey> {
    let c = Cols::new(r, "registry_keys");
    Ok(PublisherKey {
        publisher: c.get("publisher")?,
        key_id: c.get("key_id")?,
        public_key: c.get("public_key")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
    })
}

pub(crate) fn package(r: &PgRow) -> Result<Package> {
    let c = Cols::new(r, "registry_packages");
    let installs: i64 = c.get("installs")?;
    Ok(Package {
        publisher: c.get("publisher")?,
        name: c.get("name")?,
        kind: c.parse("kind")?,
        verified: c.get("verified")?,
        latest: c.get("latest")?,
        description: c.get("description")?,
        installs: u64::try_from(installs).unwrap_or(0),
        created_at: c.get("created_at")?,
    })
}

fn version(r: &PgRow) -> Result<Version> {
    let c = Cols::new(r, "registry_versions");
    let size: i64 = c.get("size")?;
    let taken_down = match c.get::<Option<i64>>("takedown_at")? {
        None => None,
        Some(at) => Some(Takedown {
            reason: c
                .get::<Option<String>>("takedown_reason")?
                .unwrap_or_default(),
            by: c.get::<Option<String>>("takedown_by")?.unwrap_or_default(),
            at,
        }),
    };
    Ok(Version {
        publisher: c.get("publisher")?,
        name: c.get("name")?,
        version: c.get("version")?,
        kind: c.parse("kind")?,
        digest: c.get("digest")?,
        size: u64::try_from(size).unwrap_or(0),
        manifest: c.json_as("manifest")?,
        description: c.get("description")?,
        disclosure: c.json_as("disclosure")?,
        disclosure_digest: c.get("disclosure_digest")?,
        readme: c.get("readme")?,
        keywords: c.json_as("keywords")?,
        license: c.get("license")?,
        source: c.get("source")?,
        key_id: c.get("key_id")?,
        signature: c.get("signature")?,
        published_at: c.get("published_at")?,
        yanked: c.get("yanked")?,
        taken_down,
    })
}

fn json(v: &impl serde::Serialize) -> String {
    // Registry records are plain data (strings, sets, maps with string keys):
    // serializing them cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

/// Every version of a package, highest first.
pub(crate) async fn versions_of(
    tx: &mut Transaction<'_, Pg>,
    publisher: &str,
    name: &str,
) -> Result<Vec<Version>> {
    let sql = format!("SELECT {VERSION} FROM registry_versions WHERE publisher = $1 AND name = $2");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(publisher)
        .bind(name)
        .fetch_all(&mut **tx)
        .await
        .map_err(unavailable)?;
    let mut versions = rows.iter().map(version).collect::<Result<Vec<_>>>()?;
    index::sort_highest_first(&mut versions);
    Ok(versions)
}

async fn insert_version(tx: &mut Transaction<'_, Pg>, v: &Version) -> Result<()> {
    let sql = format!(
        "INSERT INTO registry_versions ({VERSION}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
    );
    let size = i64::try_from(v.size)
        .map_err(|e| Error::Unavailable(format!("cannot encode registry_versions.size: {e}")))?;
    let t = v.taken_down.as_ref();
    sqlx::query(AssertSqlSafe(sql))
        .bind(&v.publisher)
        .bind(&v.name)
        .bind(&v.version)
        .bind(v.kind.as_str())
        .bind(&v.digest)
        .bind(size)
        .bind(json(&v.manifest))
        .bind(&v.description)
        .bind(json(&v.disclosure))
        .bind(&v.disclosure_digest)
        .bind(&v.readme)
        .bind(json(&v.keywords))
        .bind(&v.license)
        .bind(&v.source)
        .bind(&v.key_id)
        .bind(&v.signature)
        .bind(v.published_at)
        .bind(v.yanked)
        .bind(t.map(|t| t.reason.clone()))
        .bind(t.map(|t| t.by.clone()))
        .bind(t.map(|t| t.at))
        .execute(&mut **tx)
        .await
        .map_err(write_error("package", || {
            format!(
                "version {}/{}@{} exists (versions are immutable)",
                v.publisher, v.name, v.version
            )
        }))?;
    Ok(())
}

/// The package's id, creating the package with its first version;
/// `Duplicate` naming the package if another publisher has the name.
async fn package_id(tx: &mut Transaction<'_, Pg>, v: &Version) -> Result<i64> {
    // Any conflict, on (publisher, name) or on the name alone: a racing
    // publish of the name waits here for the other to commit or roll back.
    sqlx::query(
        "INSERT INTO registry_packages (publisher, name, kind, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&v.publisher)
    .bind(&v.name)
    .bind(v.kind.as_str())
    .bind(v.published_at)
    .execute(&mut **tx)
    .await
    .map_err(write_error("publisher", || "package exists".into()))?;
    let row =
        sqlx::query("SELECT publisher, id, kind FROM registry_packages WHERE name = $1 FOR UPDATE")
            .bind(&v.name)
            .fetch_optional(&mut **tx)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| {
                Error::Unavailable(format!(
                    "package {}/{} vanished while publishing",
                    v.publisher, v.name
                ))
            })?;
    let c = Cols::new(&row, "registry_packages");
    let owner: String = c.get("publisher")?;
    if owner != v.publisher {
        return Err(Error::Duplicate(format!(
            "package name `{}` is taken by {owner}/{} (a package name is unique across publishers)",
            v.name, v.name
        )));
    }
    let kind: String = c.get("kind")?;
    if kind != v.kind.as_str() {
        return Err(Error::Duplicate(format!(
            "package {}/{} is a {kind}, not a {}",
            v.publisher, v.name, v.kind
        )));
    }
    c.get("id")
}

/// The id of a version's package, locked; `NotFound("version")` if the
/// version is missing.
async fn version_package(
    tx: &mut Transaction<'_, Pg>,
    publisher: &str,
    name: &str,
    version: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT p.id FROM registry_versions v JOIN registry_packages p \
         ON p.publisher = v.publisher AND p.name = v.name \
         WHERE v.publisher = $1 AND v.name = $2 AND v.version = $3 FOR UPDATE OF p",
    )
    .bind(publisher)
    .bind(name)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await
    .map_err(unavailable)?
    .ok_or(Error::NotFound("version"))?;
    Cols::new(&row, "registry_packages").get("id")
}

impl Postgres {
    pub(crate) async fn registry_tx(&self) -> Result<Transaction<'static, Pg>> {
        self.pool().begin().await.map_err(unavailable)
    }

    async fn one_row(&self, sql: &'static str, args: &[&str]) -> Result<Option<PgRow>> {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(a.to_string());
        }
        q.fetch_optional(self.pool()).await.map_err(unavailable)
    }

    pub(crate) async fn rows(&self, sql: String, args: &[&str]) -> Result<Vec<PgRow>> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            q = q.bind(a.to_string());
        }
        q.fetch_all(self.pool()).await.map_err(unavailable)
    }
}

pub(crate) fn changed(done: sqlx::postgres::PgQueryResult, what: &'static str) -> Result<()> {
    if done.rows_affected() == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(())
    }
}

#[async_trait]
impl RegistryStore for Postgres {
    async fn create_publisher(&self, p: &Publisher) -> Result<()> {
        sqlx::query(
            "INSERT INTO registry_publishers (name, tenant_id, verified, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&p.name)
        .bind(&p.tenant_id)
        .bind(p.verified)
        .bind(p.created_at)
        .execute(self.pool())
        .await
        .map_err(write_error("publisher", || {
            format!("publisher `{}` exists", p.name)
        }))?;
        Ok(())
    }
    async fn get_publisher(&self, name: &str) -> Result<Option<Publisher>> {
        const SQL: &str = "SELECT * FROM registry_publishers WHERE name = $1";
        self.one_row(SQL, &[name])
            .await?
            .as_ref()
            .map(publisher)
            .transpose()
    }
    async fn publishers_of(&self, tenant: &str) -> Result<Vec<Publisher>> {
        let sql = "SELECT * FROM registry_publishers WHERE tenant_id = $1 ORDER BY name";
        let rows = self.rows(sql.into(), &[tenant]).await?;
        rows.iter().map(publisher).collect()
    }
    async fn set_verified(&self, name: &str, verified: bool) -> Result<()> {
        let done = sqlx::query("UPDATE registry_publishers SET verified = $1 WHERE name = $2")
            .bind(verified)
            .bind(name)
            .execute(self.pool())
            .await
            .map_err(unavailable)?;
        changed(done, "publisher")
    }
    async fn add_key(&self, k: &PublisherKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO registry_keys (publisher, key_id, public_key, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&k.publisher)
        .bind(&k.key_id)
        .bind(&k.public_key)
        .bind(k.created_at)
        .bind(k.revoked_at)
        .execute(self.pool())
        .await
        .map_err(write_error("publisher", || {
            format!("key {} of publisher `{}` exists", k.key_id, k.publisher)
        }))?;
        Ok(())
    }
    async fn get_key(&self, publisher: &str, key_id: &str) -> Result<Option<PublisherKey>> {
        const SQL: &str = "SELECT * FROM registry_keys WHERE publisher = $1 AND key_id = $2";
        self.one_row(SQL, &[publisher, key_id])
            .await?
            .as_ref()
            .map(key)
            .transpose()
    }
    async fn list_keys(&self, publisher: &str) -> Result<Vec<PublisherKey>> {
        let sql = "SELECT * FROM registry_keys WHERE publisher = $1 ORDER BY created_at, key_id";
        let rows = self.rows(sql.into(), &[publisher]).await?;
        rows.iter().map(key).collect()
    }
    async fn revoke_key(&self, publisher: &str, key_id: &str, at: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE registry_keys SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE publisher = $2 AND key_id = $3",
        )
        .bind(at)
        .bind(publisher)
        .bind(key_id)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        changed(done, "key")
    }

    async fn publisher_names(&self) -> Result<Vec<String>> {
        let sql = "SELECT name FROM registry_publishers ORDER BY name";
        let rows = self.rows(sql.into(), &[]).await?;
        rows.iter()
            .map(|r| Cols::new(r, "registry_publishers").get("name"))
            .collect()
    }

    async fn package_names(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT publisher, name FROM registry_packages ORDER BY publisher, name";
        let rows = self.rows(sql.into(), &[]).await?;
        rows.iter()
            .map(|r| {
                let c = Cols::new(r, "registry_packages");
                Ok((c.get("publisher")?, c.get("name")?))
            })
            .collect()
    }
    async fn publish(&self, v: &Version) -> Result<()> {
        let mut tx = self.registry_tx().await?;
        let id = package_id(&mut tx, v).await?;
        insert_version(&mut tx, v).await?;
        registry_search::refresh(&mut tx, id, &v.publisher, &v.name).await?;
        tx.commit().await.map_err(unavailable)
    }
    async fn get_package(&self, publisher: &str, name: &str) -> Result<Option<Package>> {
        let sql = format!("{PACKAGE_SELECT} WHERE p.publisher = $1 AND p.name = $2");
        let rows = self.rows(sql, &[publisher, name]).await?;
        rows.first().map(package).transpose()
    }
    async fn get_version(&self, publisher: &str, name: &str, v: &str) -> Result<Option<Version>> {
        let sql = format!(
            "SELECT {VERSION} FROM registry_versions \
             WHERE publisher = $1 AND name = $2 AND version = $3"
        );
        let rows = self.rows(sql, &[publisher, name, v]).await?;
        rows.first().map(version).transpose()
    }
    async fn list_versions(&self, publisher: &str, name: &str) -> Result<Vec<Version>> {
        let mut tx = self.registry_tx().await?;
        let versions = versions_of(&mut tx, publisher, name).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(versions)
    }
    async fn version_by_digest(&self, digest: &str) -> Result<Option<Version>> {
        let sql = format!(
            "SELECT {VERSION} FROM registry_versions WHERE digest = $1 \
             ORDER BY published_at, publisher, name, version LIMIT 1"
        );
        let rows = self.rows(sql, &[digest]).await?;
        rows.first().map(version).transpose()
    }
    async fn set_yanked(&self, publisher: &str, name: &str, v: &str, yanked: bool) -> Result<()> {
        let mut tx = self.registry_tx().await?;
        let id = version_package(&mut tx, publisher, name, v).await?;
        sqlx::query(
            "UPDATE registry_versions SET yanked = $1 \
             WHERE publisher = $2 AND name = $3 AND version = $4",
        )
        .bind(yanked)
        .bind(publisher)
        .bind(name)
        .bind(v)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        registry_search::refresh(&mut tx, id, publisher, name).await?;
        tx.commit().await.map_err(unavailable)
    }
    async fn take_down(&self, publisher: &str, name: &str, v: &str, t: &Takedown) -> Result<()> {
        let mut tx = self.registry_tx().await?;
        let id = version_package(&mut tx, publisher, name, v).await?;
        let done = sqlx::query(
            "UPDATE registry_versions \
             SET takedown_reason = $1, takedown_by = $2, takedown_at = $3 \
             WHERE publisher = $4 AND name = $5 AND version = $6 AND takedown_at IS NULL",
        )
        .bind(&t.reason)
        .bind(&t.by)
        .bind(t.at)
        .bind(publisher)
        .bind(name)
        .bind(v)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() > 0 {
            registry_search::refresh(&mut tx, id, publisher, name).await?;
        }
        tx.commit().await.map_err(unavailable)
    }
    async fn taken_down(&self) -> Result<Vec<(String, Takedown)>> {
        let sql = "SELECT digest, takedown_reason, takedown_by, takedown_at \
            FROM registry_versions WHERE takedown_at IS NOT NULL ORDER BY takedown_at, digest";
        let rows = self.rows(sql.into(), &[]).await?;
        rows.iter()
            .map(|r| {
                let c = Cols::new(r, "registry_versions");
                let takedown = Takedown {
                    reason: c
                        .get::<Option<String>>("takedown_reason")?
                        .unwrap_or_default(),
                    by: c.get::<Option<String>>("takedown_by")?.unwrap_or_default(),
                    at: c.get("takedown_at")?,
                };
                Ok((c.get("digest")?, takedown))
            })
            .collect()
    }
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage> {
        registry_search::search(self, query).await
    }

    async fn create_install(&self, install: &Install) -> Result<()> {
        registry_installs::create(self, install).await
    }
    async fn update_install(&self, install: &Install) -> Result<()> {
        registry_installs::update(self, install).await
    }
    async fn get_install(&self, tenant: &str, id: &str) -> Result<Option<Install>> {
        registry_installs::get(self, tenant, id).await
    }
    async fn install_by_name(&self, tenant: &str, name: &str) -> Result<Option<Install>> {
        registry_installs::by_name(self, tenant, name).await
    }
    async fn list_installs(&self, tenant: &str) -> Result<Vec<Install>> {
        registry_installs::list(self, tenant).await
    }
    async fn installs_of_digest(&self, digest: &str) -> Result<Vec<Install>> {
        registry_installs::of_digest(self, digest).await
    }
    async fn installed_digests(&self) -> Result<Vec<Install>> {
        registry_installs::one_per_digest(self).await
    }
    async fn delete_install(&self, tenant: &str, id: &str) -> Result<()> {
        registry_installs::delete(self, tenant, id).await
    }

    async fn record_upload(&self, digest: &str, tenant: &str, size: u64, at: i64) -> Result<()> {
        registry_uploads::record(self, digest, tenant, size, at).await
    }
    async fn unpublished_bytes(&self, tenant: &str) -> Result<u64> {
        registry_uploads::unpublished_bytes(self, tenant).await
    }
    async fn stale_uploads(&self, before: i64, limit: u32) -> Result<Vec<String>> {
        registry_uploads::stale(self, before, limit).await
    }
    async fn forget_upload(&self, digest: &str, before: i64) -> Result<bool> {
        registry_uploads::forget(self, digest, before).await
    }
}
