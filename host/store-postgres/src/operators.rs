//! [`OpsStore`] on PostgreSQL: operator keys, tenant updates, the operator
//! audit log, erasing a tenant and pruning old runs and audit rows in batches.

use crate::Postgres;
use crate::row::{unavailable, write_error};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};
use weft_store::ops::{KEPT_ON_ERASE, OpsStore};
use weft_store::{AuditEntry, Error, Result};
use weft_types::{OperatorKey, Tenant};

/// Children before parents, so a batch never cascades past its bound; the
/// other tables with a `tenant_id` follow by name.
const FIRST: &[&str] = &[
    "attempts",
    "steps",
    "runs",
    "schedules",
    "workflow_versions",
];

const KEY: &str = "id, prefix, hash, name, created_at, revoked_at";

fn operator_key(r: &PgRow) -> Result<OperatorKey> {
    Ok(OperatorKey {
        id: r.try_get("id").map_err(unavailable)?,
        prefix: r.try_get("prefix").map_err(unavailable)?,
        hash: r.try_get("hash").map_err(unavailable)?,
        name: r.try_get("name").map_err(unavailable)?,
        created_at: r.try_get("created_at").map_err(unavailable)?,
        revoked_at: r.try_get("revoked_at").map_err(unavailable)?,
    })
}

fn audit_entry(r: &PgRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        tenant_id: r.try_get("tenant_id").map_err(unavailable)?,
        actor: r.try_get("actor").map_err(unavailable)?,
        action: r.try_get("action").map_err(unavailable)?,
        target: r.try_get("target").map_err(unavailable)?,
        at: r.try_get("at").map_err(unavailable)?,
    })
}

fn encode(column: &str, e: &serde_json::Error) -> Error {
    Error::Unavailable(format!("cannot encode tenants.{column}: {e}"))
}

#[async_trait]
impl OpsStore for Postgres {
    async fn create_operator_key(&self, k: &OperatorKey) -> Result<()> {
        sqlx::query(
            "INSERT INTO operator_keys (id, prefix, hash, name, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&k.id)
        .bind(&k.prefix)
        .bind(&k.hash)
        .bind(&k.name)
        .bind(k.created_at)
        .bind(k.revoked_at)
        .execute(&self.pool)
        .await
        .map_err(write_error("operator key", || {
            format!("operator key {} or its prefix exists", k.id)
        }))?;
        Ok(())
    }

    async fn operator_key_by_prefix(&self, prefix: &str) -> Result<Option<OperatorKey>> {
        let sql = format!("SELECT {KEY} FROM operator_keys WHERE prefix = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(prefix)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(operator_key)
            .transpose()
    }

    async fn list_operator_keys(&self) -> Result<Vec<OperatorKey>> {
        let sql = format!("SELECT {KEY} FROM operator_keys ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(operator_key).collect()
    }

    async fn revoke_operator_key(&self, id: &str, at: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE operator_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("operator key"));
        }
        Ok(())
    }

    async fn update_tenant(&self, t: &Tenant) -> Result<()> {
        let state = serde_json::to_string(&t.state).map_err(|e| encode("state", &e))?;
        let limits = serde_json::to_string(&t.limits).map_err(|e| encode("limits", &e))?;
        let done =
            sqlx::query("UPDATE tenants SET name = $1, state = $2, limits = $3 WHERE id = $4")
                .bind(&t.name)
                .bind(state)
                .bind(limits)
                .bind(&t.id)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("tenant"));
        }
        Ok(())
    }

    async fn operator_audit(&self, e: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO operator_audit (tenant_id, actor, action, target, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&e.tenant_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(e.at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn list_operator_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT tenant_id, actor, action, target, at FROM operator_audit \
             ORDER BY at DESC, seq DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(audit_entry).collect()
    }

    async fn erase_tenant(&self, tenant: &str, limit: u32) -> Result<u64> {
        let rows = sqlx::query(
            "SELECT table_name::text AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'tenant_id' \
             ORDER BY table_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut tables: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("name").map_err(unavailable))
            .collect::<Result<_>>()?;
        tables.retain(|n| !KEPT_ON_ERASE.contains(&n.as_str()));
        tables.sort_by_key(|n| FIRST.iter().position(|f| f == n).unwrap_or(FIRST.len()));
        for table in tables {
            // The table name comes from the schema, never from a caller.
            let sql = format!(
                "DELETE FROM \"{table}\" WHERE ctid IN \
                 (SELECT ctid FROM \"{table}\" WHERE tenant_id = $1 LIMIT $2)"
            );
            let done = sqlx::query(AssertSqlSafe(sql))
                .bind(tenant)
                .bind(i64::from(limit.max(1)))
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
            if done.rows_affected() > 0 {
                return Ok(done.rows_affected());
            }
        }
        sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(tenant)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(0)
    }

    async fn prune_runs(&self, tenant: &str, ended_before: i64, limit: u32) -> Result<u64> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM runs WHERE tenant_id = $1 AND finished_at IS NOT NULL \
             AND finished_at < $2 ORDER BY finished_at LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(tenant)
        .bind(ended_before)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
        for table in ["attempts", "steps", "notification_deliveries"] {
            let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND run_id = ANY($2)");
            sqlx::query(AssertSqlSafe(sql))
                .bind(tenant)
                .bind(&ids)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        sqlx::query("DELETE FROM runs WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(ids.len() as u64)
    }

    async fn prune_audit(&self, before: i64, limit: u32) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM audit WHERE ctid IN \
             (SELECT ctid FROM audit WHERE at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(i64::from(limit.max(1)))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
