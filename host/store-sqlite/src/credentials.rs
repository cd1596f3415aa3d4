//! Sealed credentials.

use crate::Error;
use crate::error::{db, one};
use crate::row::{Cols, json};
use crate::{Result, Sqlite};
use sqlx::sqlite::SqliteRow;
use weft_types::CredentialRecord;

const COLS: &str = "tenant_id, id, name, injection, hosts, nonce, ciphertext, created_at";

fn credential(row: &SqliteRow) -> Result<CredentialRecord> {
    let c = Cols::new(row, "credentials");
    Ok(CredentialRecord {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        name: c.get("name")?,
        injection: c.json("injection")?,
        hosts: c.json("hosts")?,
        nonce: c.get("nonce")?,
        ciphertext: c.get("ciphertext")?,
        created_at: c.get("created_at")?,
    })
}

pub(crate) async fn create(s: &Sqlite, cr: &CredentialRecord) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO credentials ({COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&cr.tenant_id)
    .bind(&cr.id)
    .bind(&cr.name)
    .bind(json("credentials", "injection", &cr.injection)?)
    .bind(json("credentials", "hosts", &cr.hosts)?)
    .bind(&cr.nonce)
    .bind(&cr.ciphertext)
    .bind(cr.created_at)
    .execute(&s.writer)
    .await
    .map_err(|e| match db(e) {
        Error::Conflict(_) => Error::Conflict(format!("credential `{}` exists", cr.name)),
        other => other,
    })?;
    Ok(())
}

pub(crate) async fn list(s: &Sqlite, tenant: &str) -> Result<Vec<CredentialRecord>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM credentials WHERE tenant_id = ? ORDER BY name"
    ))
    .bind(tenant)
    .fetch_all(&s.reader)
    .await
    .map_err(db)?
    .iter()
    .map(credential)
    .collect()
}

pub(crate) async fn by_name(
    s: &Sqlite,
    tenant: &str,
    name: &str,
) -> Result<Option<CredentialRecord>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM credentials WHERE tenant_id = ? AND name = ?"
    ))
    .bind(tenant)
    .bind(name)
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?
    .as_ref()
    .map(credential)
    .transpose()
}

pub(crate) async fn delete(s: &Sqlite, tenant: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = ? AND id = ?")
        .bind(tenant)
        .bind(id)
        .execute(&s.writer)
        .await
        .map_err(db)?;
    one(done, "credential")
}
