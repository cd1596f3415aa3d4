//! Installs per tenant on PostgreSQL (`registry_installs`): every read and
//! write names the tenant, so another tenant's install reads as missing.

use crate::Postgres;
use crate::registry::changed;
use crate::row::{Cols, opt_text, unavailable, write_error};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;
use weft_registry::Install;
use weft_store::Result;

/// The columns of `registry_installs`.
const INSTALL: &str = "tenant_id, id, publisher, name, kind, pin, version, digest, \
    consent_digest, consented_by, consented_at, held, created_at";

fn install(r: &PgRow) -> Result<Install> {
    let c = Cols::new(r, "registry_installs");
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

pub(crate) async fn create(pg: &Postgres, i: &Install) -> Result<()> {
    let mut tx = pg.registry_tx().await?;
    let sql = format!(
        "INSERT INTO registry_installs ({INSTALL}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&i.tenant_id)
        .bind(&i.id)
        .bind(&i.publisher)
        .bind(&i.name)
        .bind(i.kind.as_str())
        .bind(&i.pin)
        .bind(&i.version)
        .bind(&i.digest)
        .bind(&i.consent_digest)
        .bind(&i.consented_by)
        .bind(i.consented_at)
        .bind(opt_text(i.held.as_ref()))
        .bind(i.created_at)
        .execute(&mut *tx)
        .await
        .map_err(write_error("package", || {
            format!(
                "the tenant has `{}` installed already (or an install {})",
                i.name, i.id
            )
        }))?;
    let done = sqlx::query(
        "UPDATE registry_packages SET installs = installs + 1 \
             WHERE publisher = $1 AND name = $2",
    )
    .bind(&i.publisher)
    .bind(&i.name)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    changed(done, "package")?;
    tx.commit().await.map_err(unavailable)
}

pub(crate) async fn update(pg: &Postgres, i: &Install) -> Result<()> {
    let done = sqlx::query(
        "UPDATE registry_installs SET pin = $1, version = $2, digest = $3, \
             consent_digest = $4, consented_by = $5, consented_at = $6, held = $7 \
             WHERE tenant_id = $8 AND id = $9",
    )
    .bind(&i.pin)
    .bind(&i.version)
    .bind(&i.digest)
    .bind(&i.consent_digest)
    .bind(&i.consented_by)
    .bind(i.consented_at)
    .bind(opt_text(i.held.as_ref()))
    .bind(&i.tenant_id)
    .bind(&i.id)
    .execute(pg.pool())
    .await
    .map_err(unavailable)?;
    changed(done, "install")
}

pub(crate) async fn get(pg: &Postgres, tenant: &str, id: &str) -> Result<Option<Install>> {
    let sql = format!("SELECT {INSTALL} FROM registry_installs WHERE tenant_id = $1 AND id = $2");
    let rows = pg.rows(sql, &[tenant, id]).await?;
    rows.first().map(install).transpose()
}

pub(crate) async fn by_name(pg: &Postgres, tenant: &str, name: &str) -> Result<Option<Install>> {
    let sql = format!("SELECT {INSTALL} FROM registry_installs WHERE tenant_id = $1 AND name = $2");
    let rows = pg.rows(sql, &[tenant, name]).await?;
    rows.first().map(install).transpose()
}

pub(crate) async fn list(pg: &Postgres, tenant: &str) -> Result<Vec<Install>> {
    let sql = format!("SELECT {INSTALL} FROM registry_installs WHERE tenant_id = $1 ORDER BY name");
    let rows = pg.rows(sql, &[tenant]).await?;
    rows.iter().map(install).collect()
}

pub(crate) async fn of_digest(pg: &Postgres, digest: &str) -> Result<Vec<Install>> {
    let sql =
        format!("SELECT {INSTALL} FROM registry_installs WHERE digest = $1 ORDER BY tenant_id, id");
    let rows = pg.rows(sql, &[digest]).await?;
    rows.iter().map(install).collect()
}

/// One install per digest: the first by tenant and id.
pub(crate) async fn one_per_digest(pg: &Postgres) -> Result<Vec<Install>> {
    let sql = format!(
        "SELECT DISTINCT ON (digest) {INSTALL} FROM registry_installs \
         ORDER BY digest, tenant_id, id"
    );
    let rows = pg.rows(sql, &[]).await?;
    rows.iter().map(install).collect()
}

/// Deletes an install and lowers its package's count (current installs),
/// in one statement.
pub(crate) async fn delete(pg: &Postgres, tenant: &str, id: &str) -> Result<()> {
    let done = sqlx::query(
        "WITH gone AS (DELETE FROM registry_installs WHERE tenant_id = $1 AND id = $2 \
         RETURNING publisher, name) \
         UPDATE registry_packages p SET installs = GREATEST(p.installs - 1, 0) \
         FROM gone WHERE p.publisher = gone.publisher AND p.name = gone.name",
    )
    .bind(tenant)
    .bind(id)
    .execute(pg.pool())
    .await
    .map_err(unavailable)?;
    changed(done, "install")
}
