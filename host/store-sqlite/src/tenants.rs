//! Tenants and API keys.

use crate::error::{db, one};
use crate::row::Cols;
use crate::{Result, Sqlite};
use sqlx::sqlite::SqliteRow;
use weft_types::{ApiKey, Tenant};

const KEY_COLS: &str = "tenant_id, id, prefix, hash, role, name, created_at, revoked_at";

fn tenant(row: &SqliteRow) -> Result<Tenant> {
    let c = Cols::new(row, "tenants");
    Ok(Tenant {
        id: c.get("id")?,
        name: c.get("name")?,
        wrapped_key: c.get("wrapped_key")?,
        created_at: c.get("created_at")?,
    })
}

fn api_key(row: &SqliteRow) -> Result<ApiKey> {
    let c = Cols::new(row, "api_keys");
    Ok(ApiKey {
        id: c.get("id")?,
        tenant_id: c.get("tenant_id")?,
        prefix: c.get("prefix")?,
        hash: c.get("hash")?,
        role: c.parse("role")?,
        name: c.get("name")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
    })
}

pub(crate) async fn create_tenant(s: &Sqlite, t: &Tenant) -> Result<()> {
    sqlx::query("INSERT INTO tenants (id, name, wrapped_key, created_at) VALUES (?, ?, ?, ?)")
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.wrapped_key)
        .bind(t.created_at)
        .execute(&s.writer)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn get_tenant(s: &Sqlite, id: &str) -> Result<Option<Tenant>> {
    sqlx::query("SELECT id, name, wrapped_key, created_at FROM tenants WHERE id = ?")
        .bind(id)
        .fetch_optional(&s.reader)
        .await
        .map_err(db)?
        .as_ref()
        .map(tenant)
        .transpose()
}

pub(crate) async fn list_tenants(s: &Sqlite) -> Result<Vec<Tenant>> {
    sqlx::query("SELECT id, name, wrapped_key, created_at FROM tenants ORDER BY created_at, id")
        .fetch_all(&s.reader)
        .await
        .map_err(db)?
        .iter()
        .map(tenant)
        .collect()
}

pub(crate) async fn create_api_key(s: &Sqlite, k: &ApiKey) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO api_keys ({KEY_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&k.tenant_id)
    .bind(&k.id)
    .bind(&k.prefix)
    .bind(&k.hash)
    .bind(k.role.as_str())
    .bind(&k.name)
    .bind(k.created_at)
    .bind(k.revoked_at)
    .execute(&s.writer)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn api_key_by_prefix(s: &Sqlite, prefix: &str) -> Result<Option<ApiKey>> {
    sqlx::query(&format!("SELECT {KEY_COLS} FROM api_keys WHERE prefix = ?"))
        .bind(prefix)
        .fetch_optional(&s.reader)
        .await
        .map_err(db)?
        .as_ref()
        .map(api_key)
        .transpose()
}

pub(crate) async fn list_api_keys(s: &Sqlite, tenant: &str) -> Result<Vec<ApiKey>> {
    sqlx::query(&format!(
        "SELECT {KEY_COLS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id"
    ))
    .bind(tenant)
    .fetch_all(&s.reader)
    .await
    .map_err(db)?
    .iter()
    .map(api_key)
    .collect()
}

pub(crate) async fn revoke_api_key(s: &Sqlite, tenant: &str, id: &str, at: i64) -> Result<()> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant_id = ? AND id = ?",
    )
    .bind(at)
    .bind(tenant)
    .bind(id)
    .execute(&s.writer)
    .await
    .map_err(db)?;
    one(done, "api key")
}
