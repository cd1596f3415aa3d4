//! Installs per tenant on SQLite (`registry_installs`): every read and
//! write names the tenant, so another tenant's install reads as missing.

use crate::error::{db, db_or_missing, immediate, one};
use crate::registry::{owned, read_all, read_one};
use crate::row::{Cols, execute, opt_json, optional};
use crate::{Error, Result, Sqlite};
use rusqlite::{Row, params};
use weft_registry::Install;

/// The columns of `registry_installs`.
macro_rules! install_cols {
    () => {
        "tenant_id, id, publisher, name, kind, pin, version, digest, consent_digest, \
         consented_by, consented_at, held, created_at"
    };
}

fn install(row: &Row<'_>) -> Result<Install> {
    let c = Cols::new(row, "registry_installs");
    Ok(Install {
        id: c.get("id")?,
        tenant_id: c.get("tenant_id")?,
        publisher: c.get("publisher")?,
        name: c.get("name")?,
        kind: c.parse("kind")?,
        pin: c.get("pin")?,
        version: c.get("version")?,
        digest: c.get("digest")?,
        consent_digest: c.get("consent_digest")?,
        consented_by: c.get("consented_by")?,
        consented_at: c.get("consented_at")?,
        held: c.opt_json("held")?,
        created_at: c.get("created_at")?,
    })
}

pub(crate) async fn create(s: &Sqlite, i: &Install) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO registry_installs (",
        install_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    const COUNT: &str =
        "UPDATE registry_packages SET installs = installs + 1 WHERE publisher = ? AND name = ?";
    let i = i.clone();
    s.write(move |conn| {
        immediate(conn, |tx| {
            let held = opt_json("registry_installs", "held", i.held.as_ref())?;
            execute(
                tx,
                SQL,
                params![
                    i.tenant_id,
                    i.id,
                    i.publisher,
                    i.name,
                    i.kind.as_str(),
                    i.pin,
                    i.version,
                    i.digest,
                    i.consent_digest,
                    i.consented_by,
                    i.consented_at,
                    held,
                    i.created_at
                ],
            )
            .map_err(|e| match db_or_missing("package")(e) {
                Error::Duplicate(_) => Error::Duplicate(format!(
                    "the tenant has `{}` installed already (or an install {})",
                    i.name, i.id
                )),
                other => other,
            })?;
            let changed = execute(tx, COUNT, params![i.publisher, i.name]).map_err(db)?;
            one(changed, "package")
        })
    })
    .await
}

pub(crate) async fn update(s: &Sqlite, i: &Install) -> Result<()> {
    const SQL: &str = "UPDATE registry_installs SET pin = ?, version = ?, digest = ?, \
        consent_digest = ?, consented_by = ?, consented_at = ?, held = ? \
        WHERE tenant_id = ? AND id = ?";
    let i = i.clone();
    s.write(move |conn| {
        let held = opt_json("registry_installs", "held", i.held.as_ref())?;
        let changed = execute(
            conn,
            SQL,
            params![
                i.pin,
                i.version,
                i.digest,
                i.consent_digest,
                i.consented_by,
                i.consented_at,
                held,
                i.tenant_id,
                i.id
            ],
        )
        .map_err(db)?;
        one(changed, "install")
    })
    .await
}

pub(crate) async fn get(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<Install>> {
    const SQL: &str = concat!(
        "SELECT ",
        install_cols!(),
        " FROM registry_installs WHERE tenant_id = ? AND id = ?"
    );
    read_one(s, SQL, owned(&[tenant, id]), install).await
}

pub(crate) async fn by_name(s: &Sqlite, tenant: &str, name: &str) -> Result<Option<Install>> {
    const SQL: &str = concat!(
        "SELECT ",
        install_cols!(),
        " FROM registry_installs WHERE tenant_id = ? AND name = ?"
    );
    read_one(s, SQL, owned(&[tenant, name]), install).await
}

pub(crate) async fn list(s: &Sqlite, tenant: &str) -> Result<Vec<Install>> {
    const SQL: &str = concat!(
        "SELECT ",
        install_cols!(),
        " FROM registry_installs WHERE tenant_id = ? ORDER BY name"
    );
    read_all(s, SQL, owned(&[tenant]), install).await
}

pub(crate) async fn of_digest(s: &Sqlite, digest: &str) -> Result<Vec<Install>> {
    const SQL: &str = concat!(
        "SELECT ",
        install_cols!(),
        " FROM registry_installs WHERE digest = ? ORDER BY tenant_id, id"
    );
    read_all(s, SQL, owned(&[digest]), install).await
}

/// One install per digest: the first by tenant and id.
pub(crate) async fn one_per_digest(s: &Sqlite) -> Result<Vec<Install>> {
    const SQL: &str = concat!(
        "SELECT ",
        install_cols!(),
        " FROM registry_installs i WHERE NOT EXISTS (SELECT 1 FROM registry_installs j \
         WHERE j.digest = i.digest AND (j.tenant_id, j.id) < (i.tenant_id, i.id)) ORDER BY digest"
    );
    read_all(s, SQL, owned(&[]), install).await
}

/// Deletes an install and lowers its package's count (current installs).
pub(crate) async fn delete(s: &Sqlite, tenant: &str, id: &str) -> Result<()> {
    const SQL: &str =
        "DELETE FROM registry_installs WHERE tenant_id = ? AND id = ? RETURNING publisher, name";
    const COUNT: &str = "UPDATE registry_packages SET installs = MAX(installs - 1, 0) \
        WHERE publisher = ? AND name = ?";
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.write(move |conn| {
        immediate(conn, |tx| {
            let (publisher, name) = optional(tx, SQL, params![tenant, id], |row| {
                let c = Cols::new(row, "registry_installs");
                Ok((c.get::<String>("publisher")?, c.get::<String>("name")?))
            })?
            .ok_or(Error::NotFound("install"))?;
            execute(tx, COUNT, params![publisher, name]).map_err(db)?;
            Ok(())
        })
    })
    .await
}
