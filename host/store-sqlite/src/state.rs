//! Plugin state and the audit log.

use crate::error::db;
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use rusqlite::params;
use weft_store::AuditEntry;

pub(crate) async fn get(
    s: &Sqlite,
    tenant: &str,
    plugin: &str,
    key: &str,
) -> Result<Option<Vec<u8>>> {
    const SQL: &str =
        "SELECT value FROM plugin_state WHERE tenant_id = ? AND plugin = ? AND key = ?";
    let (tenant, plugin, key) = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
    s.read(move |conn| {
        optional(conn, SQL, params![tenant, plugin, key], |row| {
            Cols::new(row, "plugin_state").get("value")
        })
    })
    .await
}

pub(crate) async fn set(
    s: &Sqlite,
    tenant: &str,
    plugin: &str,
    key: &str,
    value: &[u8],
) -> Result<()> {
    const SQL: &str = "INSERT INTO plugin_state (tenant_id, plugin, key, value) \
        VALUES (?, ?, ?, ?) \
        ON CONFLICT (tenant_id, plugin, key) DO UPDATE SET value = excluded.value";
    let (tenant, plugin, key) = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
    let value = value.to_vec();
    s.write(move |conn| {
        execute(conn, SQL, params![tenant, plugin, key, value]).map_err(db)?;
        Ok(())
    })
    .await
}

pub(crate) async fn delete(s: &Sqlite, tenant: &str, plugin: &str, key: &str) -> Result<bool> {
    const SQL: &str = "DELETE FROM plugin_state WHERE tenant_id = ? AND plugin = ? AND key = ?";
    let (tenant, plugin, key) = (tenant.to_owned(), plugin.to_owned(), key.to_owned());
    s.write(move |conn| {
        let changed = execute(conn, SQL, params![tenant, plugin, key]).map_err(db)?;
        Ok(changed > 0)
    })
    .await
}

pub(crate) async fn audit(s: &Sqlite, e: &AuditEntry) -> Result<()> {
    const SQL: &str =
        "INSERT INTO audit (tenant_id, actor, action, target, at) VALUES (?, ?, ?, ?, ?)";
    let e = e.clone();
    s.write(move |conn| {
        execute(
            conn,
            SQL,
            params![e.tenant_id, e.actor, e.action, e.target, e.at],
        )
        .map_err(db)?;
        Ok(())
    })
    .await
}

pub(crate) async fn list_audit(s: &Sqlite, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>> {
    const SQL: &str = "SELECT tenant_id, actor, action, target, at FROM audit \
        WHERE tenant_id = ? ORDER BY at DESC, seq DESC LIMIT ?";
    let tenant = tenant.to_owned();
    s.read(move |conn| {
        all(conn, SQL, params![tenant, i64::from(limit)], |row| {
            let c = Cols::new(row, "audit");
            Ok(AuditEntry {
                tenant_id: c.get("tenant_id")?,
                actor: c.get("actor")?,
                action: c.get("action")?,
                target: c.get("target")?,
                at: c.get("at")?,
            })
        })
    })
    .await
}
