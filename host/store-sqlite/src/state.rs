//! Plugin state and the audit log.

use crate::error::db;
use crate::row::Cols;
use crate::{Result, Sqlite};
use weft_store::AuditEntry;

pub(crate) async fn get(
    s: &Sqlite,
    tenant: &str,
    plugin: &str,
    key: &str,
) -> Result<Option<Vec<u8>>> {
    let row = sqlx::query(
        "SELECT value FROM plugin_state WHERE tenant_id = ? AND plugin = ? AND key = ?",
    )
    .bind(tenant)
    .bind(plugin)
    .bind(key)
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?;
    row.as_ref()
        .map(|r| Cols::new(r, "plugin_state").get("value"))
        .transpose()
}

pub(crate) async fn set(
    s: &Sqlite,
    tenant: &str,
    plugin: &str,
    key: &str,
    value: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO plugin_state (tenant_id, plugin, key, value) VALUES (?, ?, ?, ?) \
         ON CONFLICT (tenant_id, plugin, key) DO UPDATE SET value = excluded.value",
    )
    .bind(tenant)
    .bind(plugin)
    .bind(key)
    .bind(value)
    .execute(&s.writer)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn delete(s: &Sqlite, tenant: &str, plugin: &str, key: &str) -> Result<bool> {
    let done =
        sqlx::query("DELETE FROM plugin_state WHERE tenant_id = ? AND plugin = ? AND key = ?")
            .bind(tenant)
            .bind(plugin)
            .bind(key)
            .execute(&s.writer)
            .await
            .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn audit(s: &Sqlite, e: &AuditEntry) -> Result<()> {
    sqlx::query("INSERT INTO audit (tenant_id, actor, action, target, at) VALUES (?, ?, ?, ?, ?)")
        .bind(&e.tenant_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(e.at)
        .execute(&s.writer)
        .await
        .map_err(db)?;
    Ok(())
}

pub(crate) async fn list_audit(s: &Sqlite, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>> {
    sqlx::query(
        "SELECT tenant_id, actor, action, target, at FROM audit WHERE tenant_id = ? \
         ORDER BY at DESC, seq DESC LIMIT ?",
    )
    .bind(tenant)
    .bind(i64::from(limit))
    .fetch_all(&s.reader)
    .await
    .map_err(db)?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "audit");
        Ok(AuditEntry {
            tenant_id: c.get("tenant_id")?,
            actor: c.get("actor")?,
            action: c.get("action")?,
            target: c.get("target")?,
            at: c.get("at")?,
        })
    })
    .collect()
}
