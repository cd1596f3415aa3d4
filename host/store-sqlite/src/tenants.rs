//! Tenants and API keys.

use crate::error::{db, one};
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use rusqlite::{Row, params};
use weft_types::{ApiKey, Tenant};

/// The columns of `api_keys`.
macro_rules! key_cols {
    () => {
        "tenant_id, id, prefix, hash, role, name, created_at, revoked_at, scopes, expires_at, last_used_at"
    };
}

/// The columns of `tenants`.
macro_rules! tenant_cols {
    () => {
        "id, name, wrapped_key, created_at, state, limits"
    };
}

fn tenant(row: &Row<'_>) -> Result<Tenant> {
    let c = Cols::new(row, "tenants");
    Ok(Tenant {
        id: c.get("id")?,
        name: c.get("name")?,
        wrapped_key: c.get("wrapped_key")?,
        created_at: c.get("created_at")?,
        state: c.json("state")?,
        limits: c.json("limits")?,
    })
}

fn api_key(row: &Row<'_>) -> Result<ApiKey> {
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
        scopes: scopes_from(c.get("scopes")?)?,
        expires_at: c.get("expires_at")?,
        last_used_at: c.get("last_used_at")?,
    })
}

pub(crate) async fn create_tenant(s: &Sqlite, t: &Tenant) -> Result<()> {
    const SQL: &str = "INSERT INTO tenants (id, name, wrapped_key, created_at, state, limits) \
        VALUES (?, ?, ?, ?, ?, ?)";
    let t = t.clone();
    let state = crate::row::json("tenants", "state", &t.state)?;
    let limits = crate::row::json("tenants", "limits", &t.limits)?;
    s.write(move |conn| {
        execute(
            conn,
            SQL,
            params![t.id, t.name, t.wrapped_key, t.created_at, state, limits],
        )
        .map_err(db)?;
        Ok(())
    })
    .await
}

pub(crate) async fn get_tenant(s: &Sqlite, id: &str) -> Result<Option<Tenant>> {
    const SQL: &str = concat!("SELECT ", tenant_cols!(), " FROM tenants WHERE id = ?");
    let id = id.to_owned();
    s.read(move |conn| optional(conn, SQL, params![id], tenant))
        .await
}

pub(crate) async fn list_tenants(s: &Sqlite) -> Result<Vec<Tenant>> {
    const SQL: &str = concat!(
        "SELECT ",
        tenant_cols!(),
        " FROM tenants ORDER BY created_at, id"
    );
    s.read(|conn| all(conn, SQL, [], tenant)).await
}

pub(crate) async fn create_api_key(s: &Sqlite, k: &ApiKey) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO api_keys (",
        key_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let k = k.clone();
    let scopes = scopes_to(k.scopes.as_deref());
    s.write(move |conn| {
        execute(
            conn,
            SQL,
            params![
                k.tenant_id,
                k.id,
                k.prefix,
                k.hash,
                k.role.as_str(),
                k.name,
                k.created_at,
                k.revoked_at,
                scopes,
                k.expires_at,
                k.last_used_at
            ],
        )
        .map_err(db)?;
        Ok(())
    })
    .await
}

pub(crate) async fn api_key_by_prefix(s: &Sqlite, prefix: &str) -> Result<Option<ApiKey>> {
    const SQL: &str = concat!("SELECT ", key_cols!(), " FROM api_keys WHERE prefix = ?");
    let prefix = prefix.to_owned();
    s.read(move |conn| optional(conn, SQL, params![prefix], api_key))
        .await
}

pub(crate) async fn list_api_keys(s: &Sqlite, tenant: &str) -> Result<Vec<ApiKey>> {
    const SQL: &str = concat!(
        "SELECT ",
        key_cols!(),
        " FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id"
    );
    let tenant = tenant.to_owned();
    s.read(move |conn| all(conn, SQL, params![tenant], api_key))
        .await
}

pub(crate) async fn revoke_api_key(s: &Sqlite, tenant: &str, id: &str, at: i64) -> Result<()> {
    const SQL: &str = "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) \
        WHERE tenant_id = ? AND id = ?";
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.write(move |conn| {
        let changed = execute(conn, SQL, params![at, tenant, id]).map_err(db)?;
        one(changed, "api key")
    })
    .await
}

pub(crate) async fn touch_api_key(s: &Sqlite, tenant: &str, id: &str, at: i64) -> Result<()> {
    const SQL: &str = "UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ? AND id = ? \
        AND (last_used_at IS NULL OR last_used_at <= ?)";
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    let stale = at.saturating_sub(weft_store::KEY_TOUCH_MS);
    s.write(move |conn| {
        execute(conn, SQL, params![at, tenant, id, stale]).map_err(db)?;
        Ok(())
    })
    .await
}

/// A key's scopes as stored: a JSON array of `resource:verb[:id]`, or NULL.
fn scopes_to(scopes: Option<&[weft_types::scope::Scope]>) -> Option<String> {
    scopes.map(|s| serde_json::to_string(s).unwrap_or_else(|_| "[]".into()))
}

fn scopes_from(text: Option<String>) -> Result<Option<Vec<weft_types::scope::Scope>>> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| weft_store::Error::Corrupt(format!("api_keys.scopes: {e}")))
    })
    .transpose()
}
