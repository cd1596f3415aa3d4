//! `impl RegistryStore for Sqlite`: publishers, keys, versions and installs
//! (migration 0006). Installs are in `registry_installs.rs`; search and the
//! derived columns it reads in `registry_search.rs`.

use crate::error::{db, db_or_missing, encode, immediate, one};
use crate::row::{Cols, all, execute, json, optional};
use crate::{Error, Result, Sqlite, registry_installs, registry_search, registry_uploads};
use async_trait::async_trait;
use rusqlite::{Connection, Row, Transaction, params};
use weft_registry::{
    Install, Package, Publisher, PublisherKey, RegistryStore, SearchPage, SearchQuery, Takedown,
    Version, index,
};

/// The columns of `registry_versions`, in [`insert_version`]'s order.
macro_rules! version_cols {
    () => {
        "publisher, name, version, kind, digest, size, manifest, description, disclosure, \
         disclosure_digest, readme, keywords, license, source, key_id, signature, published_at, \
         yanked, takedown_reason, takedown_by, takedown_at"
    };
}

/// A package with its publisher's verification, as [`package`] reads it.
macro_rules! package_select {
    () => {
        "SELECT p.id, p.publisher, p.name, p.kind, pub.verified, p.latest, p.description, \
         p.installs, p.created_at FROM registry_packages p \
         JOIN registry_publishers pub ON pub.name = p.publisher"
    };
}
pub(crate) use package_select;

fn publisher(row: &Row<'_>) -> Result<Publisher> {
    let c = Cols::new(row, "registry_publishers");
    Ok(Publisher {
        name: c.get("name")?,
        tenant_id: c.get("tenant_id")?,
        verified: c.get("verified")?,
        created_at: c.get("created_at")?,
    })
}

fn key(row: &Row<'_>) -> Result<PublisherKey> {
    let c = Cols::new(row, "registry_keys");
    Ok(PublisherKey {
        publisher: c.get("publisher")?,
        key_id: c.get("key_id")?,
        public_key: c.get("public_key")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
    })
}

pub(crate) fn package(row: &Row<'_>) -> Result<Package> {
    let c = Cols::new(row, "registry_packages");
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

pub(crate) fn version(row: &Row<'_>) -> Result<Version> {
    let c = Cols::new(row, "registry_versions");
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
        manifest: c.json("manifest")?,
        description: c.get("description")?,
        disclosure: c.json("disclosure")?,
        disclosure_digest: c.get("disclosure_digest")?,
        readme: c.get("readme")?,
        keywords: c.json("keywords")?,
        license: c.get("license")?,
        source: c.get("source")?,
        key_id: c.get("key_id")?,
        signature: c.get("signature")?,
        published_at: c.get("published_at")?,
        yanked: c.get("yanked")?,
        taken_down,
    })
}

/// Every version of a package, highest first.
pub(crate) fn versions_of(conn: &Connection, publisher: &str, name: &str) -> Result<Vec<Version>> {
    const SQL: &str = concat!(
        "SELECT ",
        version_cols!(),
        " FROM registry_versions WHERE publisher = ? AND name = ?"
    );
    let mut versions = all(conn, SQL, params![publisher, name], version)?;
    index::sort_highest_first(&mut versions);
    Ok(versions)
}

fn insert_version(tx: &Transaction<'_>, v: &Version) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO registry_versions (",
        version_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    const T: &str = "registry_versions";
    let size = i64::try_from(v.size).map_err(|e| encode(T, "size", e))?;
    let takedown = v.taken_down.as_ref();
    execute(
        tx,
        SQL,
        params![
            v.publisher,
            v.name,
            v.version,
            v.kind.as_str(),
            v.digest,
            size,
            json(T, "manifest", &v.manifest)?,
            v.description,
            json(T, "disclosure", &v.disclosure)?,
            v.disclosure_digest,
            v.readme,
            json(T, "keywords", &v.keywords)?,
            v.license,
            v.source,
            v.key_id,
            v.signature,
            v.published_at,
            v.yanked,
            takedown.map(|t| t.reason.as_str()),
            takedown.map(|t| t.by.as_str()),
            takedown.map(|t| t.at),
        ],
    )
    .map_err(|e| match db(e) {
        Error::Duplicate(_) => Error::Duplicate(format!(
            "version {}/{}@{} exists (versions are immutable)",
            v.publisher, v.name, v.version
        )),
        other => other,
    })?;
    Ok(())
}

/// `Duplicate` naming the package that has `name`, if another publisher's.
fn name_taken(tx: &Transaction<'_>, v: &Version) -> Result<()> {
    const SQL: &str = "SELECT publisher FROM registry_packages WHERE name = ? AND publisher <> ?";
    let other = optional(tx, SQL, params![v.name, v.publisher], |row| {
        Cols::new(row, "registry_packages").get::<String>("publisher")
    })?;
    match other {
        Some(other) => Err(Error::Duplicate(format!(
            "package name `{}` is taken by {other}/{} (a package name is unique across publishers)",
            v.name, v.name
        ))),
        None => Ok(()),
    }
}

/// The package's id, creating the package with its first version.
fn package_id(tx: &Transaction<'_>, v: &Version) -> Result<i64> {
    const FIND: &str = "SELECT id, kind FROM registry_packages WHERE publisher = ? AND name = ?";
    const CREATE: &str = "INSERT INTO registry_packages (publisher, name, kind, created_at) \
        VALUES (?, ?, ?, ?)";
    let found = optional(tx, FIND, params![v.publisher, v.name], |row| {
        let c = Cols::new(row, "registry_packages");
        Ok((c.get::<i64>("id")?, c.get::<String>("kind")?))
    })?;
    match found {
        Some((_, kind)) if kind != v.kind.as_str() => Err(Error::Duplicate(format!(
            "package {}/{} is a {kind}, not a {}",
            v.publisher, v.name, v.kind
        ))),
        Some((id, _)) => Ok(id),
        None => {
            // The write transaction is serialized: no one adds the name
            // between this check and the insert (the unique index holds too).
            name_taken(tx, v)?;
            execute(
                tx,
                CREATE,
                params![v.publisher, v.name, v.kind.as_str(), v.published_at],
            )
            .map_err(db_or_missing("publisher"))?;
            Ok(tx.last_insert_rowid())
        }
    }
}

async fn publish(s: &Sqlite, v: &Version) -> Result<()> {
    let v = v.clone();
    s.write(move |conn| {
        immediate(conn, |tx| {
            let id = package_id(tx, &v)?;
            insert_version(tx, &v)?;
            registry_search::refresh(tx, id, &v.publisher, &v.name)
        })
    })
    .await
}

/// The id of a version's package, `NotFound("version")` if the version is missing.
fn version_package(
    tx: &Transaction<'_>,
    publisher: &str,
    name: &str,
    version: &str,
) -> Result<i64> {
    const SQL: &str = "SELECT p.id FROM registry_versions v JOIN registry_packages p \
        ON p.publisher = v.publisher AND p.name = v.name \
        WHERE v.publisher = ? AND v.name = ? AND v.version = ?";
    optional(tx, SQL, params![publisher, name, version], |row| {
        Cols::new(row, "registry_packages").get::<i64>("id")
    })?
    .ok_or(Error::NotFound("version"))
}

async fn set_yanked(s: &Sqlite, key: [String; 3], yanked: bool) -> Result<()> {
    const SQL: &str =
        "UPDATE registry_versions SET yanked = ? WHERE publisher = ? AND name = ? AND version = ?";
    s.write(move |conn| {
        immediate(conn, |tx| {
            let [publisher, name, version] = &key;
            let id = version_package(tx, publisher, name, version)?;
            execute(tx, SQL, params![yanked, publisher, name, version]).map_err(db)?;
            registry_search::refresh(tx, id, publisher, name)
        })
    })
    .await
}

async fn take_down(s: &Sqlite, key: [String; 3], t: &Takedown) -> Result<()> {
    const SQL: &str = "UPDATE registry_versions \
        SET takedown_reason = ?, takedown_by = ?, takedown_at = ? \
        WHERE publisher = ? AND name = ? AND version = ? AND takedown_at IS NULL";
    let t = t.clone();
    s.write(move |conn| {
        immediate(conn, |tx| {
            let [publisher, name, version] = &key;
            let id = version_package(tx, publisher, name, version)?;
            let params = params![t.reason, t.by, t.at, publisher, name, version];
            if execute(tx, SQL, params).map_err(db)? > 0 {
                registry_search::refresh(tx, id, publisher, name)?;
            }
            Ok(())
        })
    })
    .await
}

/// Runs a read of one row.
pub(crate) async fn read_one<T: Send + 'static>(
    s: &Sqlite,
    sql: &'static str,
    args: Vec<String>,
    map: fn(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    s.read(move |conn| optional(conn, sql, rusqlite::params_from_iter(args), map))
        .await
}

/// Runs a read of many rows.
pub(crate) async fn read_all<T: Send + 'static>(
    s: &Sqlite,
    sql: &'static str,
    args: Vec<String>,
    map: fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    s.read(move |conn| all(conn, sql, rusqlite::params_from_iter(args), map))
        .await
}

/// Runs a write that must change one row.
pub(crate) async fn write_one(
    s: &Sqlite,
    sql: &'static str,
    args: Vec<rusqlite::types::Value>,
    what: &'static str,
) -> Result<()> {
    s.write(move |conn| {
        let changed = execute(conn, sql, rusqlite::params_from_iter(args)).map_err(db)?;
        one(changed, what)
    })
    .await
}

pub(crate) fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

#[async_trait]
impl RegistryStore for Sqlite {
    async fn create_publisher(&self, p: &Publisher) -> Result<()> {
        const SQL: &str = "INSERT INTO registry_publishers (name, tenant_id, verified, created_at) \
            VALUES (?, ?, ?, ?)";
        let p = p.clone();
        self.write(move |conn| {
            execute(
                conn,
                SQL,
                params![p.name, p.tenant_id, p.verified, p.created_at],
            )
            .map_err(|e| match db(e) {
                Error::Duplicate(_) => Error::Duplicate(format!("publisher `{}` exists", p.name)),
                other => other,
            })?;
            Ok(())
        })
        .await
    }
    async fn get_publisher(&self, name: &str) -> Result<Option<Publisher>> {
        const SQL: &str = "SELECT * FROM registry_publishers WHERE name = ?";
        read_one(self, SQL, owned(&[name]), publisher).await
    }
    async fn publishers_of(&self, tenant: &str) -> Result<Vec<Publisher>> {
        const SQL: &str = "SELECT * FROM registry_publishers WHERE tenant_id = ? ORDER BY name";
        read_all(self, SQL, owned(&[tenant]), publisher).await
    }
    async fn set_verified(&self, name: &str, verified: bool) -> Result<()> {
        const SQL: &str = "UPDATE registry_publishers SET verified = ? WHERE name = ?";
        let args = vec![i64::from(verified).into(), name.to_owned().into()];
        write_one(self, SQL, args, "publisher").await
    }
    async fn add_key(&self, k: &PublisherKey) -> Result<()> {
        const SQL: &str = "INSERT INTO registry_keys \
            (publisher, key_id, public_key, created_at, revoked_at) VALUES (?, ?, ?, ?, ?)";
        let k = k.clone();
        self.write(move |conn| {
            let args = params![
                k.publisher,
                k.key_id,
                k.public_key,
                k.created_at,
                k.revoked_at
            ];
            execute(conn, SQL, args).map_err(|e| match db_or_missing("publisher")(e) {
                Error::Duplicate(_) => Error::Duplicate(format!(
                    "key {} of publisher `{}` exists",
                    k.key_id, k.publisher
                )),
                other => other,
            })?;
            Ok(())
        })
        .await
    }
    async fn get_key(&self, publisher: &str, key_id: &str) -> Result<Option<PublisherKey>> {
        const SQL: &str = "SELECT * FROM registry_keys WHERE publisher = ? AND key_id = ?";
        read_one(self, SQL, owned(&[publisher, key_id]), key).await
    }
    async fn list_keys(&self, publisher: &str) -> Result<Vec<PublisherKey>> {
        const SQL: &str =
            "SELECT * FROM registry_keys WHERE publisher = ? ORDER BY created_at, key_id";
        read_all(self, SQL, owned(&[publisher]), key).await
    }
    async fn revoke_key(&self, publisher: &str, key_id: &str, at: i64) -> Result<()> {
        const SQL: &str = "UPDATE registry_keys SET revoked_at = COALESCE(revoked_at, ?) \
            WHERE publisher = ? AND key_id = ?";
        let args = vec![
            at.into(),
            publisher.to_owned().into(),
            key_id.to_owned().into(),
        ];
        write_one(self, SQL, args, "key").await
    }

    async fn publisher_names(&self) -> Result<Vec<String>> {
        const SQL: &str = "SELECT name FROM registry_publishers ORDER BY name";
        read_all(self, SQL, Vec::new(), |row| {
            Cols::new(row, "registry_publishers").get("name")
        })
        .await
    }

    async fn package_names(&self) -> Result<Vec<(String, String)>> {
        const SQL: &str = "SELECT publisher, name FROM registry_packages ORDER BY publisher, name";
        read_all(self, SQL, Vec::new(), |row| {
            let c = Cols::new(row, "registry_packages");
            Ok((c.get("publisher")?, c.get("name")?))
        })
        .await
    }
    async fn publish(&self, version: &Version) -> Result<()> {
        publish(self, version).await
    }
    async fn get_package(&self, publisher: &str, name: &str) -> Result<Option<Package>> {
        const SQL: &str = concat!(package_select!(), " WHERE p.publisher = ? AND p.name = ?");
        read_one(self, SQL, owned(&[publisher, name]), package).await
    }
    async fn get_version(&self, publisher: &str, name: &str, v: &str) -> Result<Option<Version>> {
        const SQL: &str = concat!(
            "SELECT ",
            version_cols!(),
            " FROM registry_versions WHERE publisher = ? AND name = ? AND version = ?"
        );
        read_one(self, SQL, owned(&[publisher, name, v]), version).await
    }
    async fn list_versions(&self, publisher: &str, name: &str) -> Result<Vec<Version>> {
        let (publisher, name) = (publisher.to_owned(), name.to_owned());
        self.read(move |conn| versions_of(conn, &publisher, &name))
            .await
    }
    async fn version_by_digest(&self, digest: &str) -> Result<Option<Version>> {
        const SQL: &str = concat!(
            "SELECT ",
            version_cols!(),
            " FROM registry_versions WHERE digest = ? \
             ORDER BY published_at, publisher, name, version LIMIT 1"
        );
        read_one(self, SQL, owned(&[digest]), version).await
    }
    async fn set_yanked(&self, publisher: &str, name: &str, v: &str, yanked: bool) -> Result<()> {
        set_yanked(self, [publisher.into(), name.into(), v.into()], yanked).await
    }
    async fn take_down(&self, publisher: &str, name: &str, v: &str, t: &Takedown) -> Result<()> {
        take_down(self, [publisher.into(), name.into(), v.into()], t).await
    }
    async fn taken_down(&self) -> Result<Vec<(String, Takedown)>> {
        const SQL: &str = "SELECT digest, takedown_reason, takedown_by, takedown_at \
            FROM registry_versions WHERE takedown_at IS NOT NULL ORDER BY takedown_at, digest";
        read_all(self, SQL, Vec::new(), |row| {
            let c = Cols::new(row, "registry_versions");
            let takedown = Takedown {
                reason: c
                    .get::<Option<String>>("takedown_reason")?
                    .unwrap_or_default(),
                by: c.get::<Option<String>>("takedown_by")?.unwrap_or_default(),
                at: c.get("takedown_at")?,
            };
            Ok((c.get("digest")?, takedown))
        })
        .await
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
