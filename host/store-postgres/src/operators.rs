//! [`OpsStore`] on PostgreSQL: operator keys, tenant updates, the operator
//! audit log, erasing a tenant and pruning old runs and audit rows in batches.

use crate::Postgres;
use crate::row::{unavailable, write_error};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Row};
use sqlx::{Connection, PgConnection};
use weft_store::ops::{Held, KEPT_ON_ERASE, OpsStore, SweepLock};
use weft_store::{AuditEntry, Error, Result};
use weft_types::{OperatorKey, TenantLimits, TenantState};

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

/// The advisory lock of the operator's sweeper: one per schema (tests share
/// a database, a schema each; so may deployments).
const SWEEPER_KEY: &str = "hashtext('weft.ops_sweeper'), hashtext(current_schema())";

/// The sweeper lock's session.
struct Advisory(PgConnection);

#[async_trait]
impl Held for Advisory {
    async fn release(self: Box<Self>) {
        let mut conn = self.0;
        let sql = format!("SELECT pg_advisory_unlock({SWEEPER_KEY})");
        if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await {
            tracing::warn!(error = %e, "cannot release the sweeper lock: closing its session");
        }
        let _ = conn.close().await;
    }
}

/// The tenant's state, its row locked until `tx` ends. # Errors: `NotFound`.
async fn state_of(tx: &mut PgConnection, id: &str) -> Result<TenantState> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT state FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
    let text = text.ok_or(Error::NotFound("tenant"))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Unavailable(format!("corrupt value in tenants.state: {e}")))
}

/// Up to `limit` of the tenant's members who belong to no other tenant,
/// erased with their sessions, links and login failures; how many.
async fn erase_members(pool: &sqlx::PgPool, tenant: &str, limit: i64) -> Result<u64> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    let users: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM users u \
         WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id <> $1) \
         LIMIT $2",
    )
    .bind(tenant)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    // Lock the picked users, then check again, in a new statement (it sees
    // what committed meanwhile), that they belong to no other tenant: a
    // membership added to another tenant since the pick keeps its user; one
    // being added now waits on the lock (its key share on the user) and then
    // fails on the user erased, rather than being cascaded away.
    let picked: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    let users: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM users u WHERE u.id = ANY($1) ORDER BY u.id FOR UPDATE",
    )
    .bind(&picked)
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let locked: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    let users: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM users u WHERE u.id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id <> $2)",
    )
    .bind(&locked)
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let ids: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    let accounts: Vec<String> = users.iter().map(|(_, e)| format!("account:{e}")).collect();
    let pairs: Vec<String> = users.iter().map(|(_, e)| format!("pair:{e}|")).collect();
    for sql in [
        "DELETE FROM sessions WHERE user_id = ANY($1) AND $2::text IS NOT NULL",
        "DELETE FROM invitations WHERE user_id = ANY($1) AND $2::text IS NOT NULL",
        "DELETE FROM memberships WHERE user_id = ANY($1) AND tenant_id = $2",
        "DELETE FROM users WHERE id = ANY($1) \
         AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id)",
    ] {
        sqlx::query(sql)
            .bind(&ids)
            .bind(tenant)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
    }
    // Per account, and per account and address (`pair:<email>|<ip>`).
    sqlx::query(
        "DELETE FROM login_failures WHERE key = ANY($1) \
         OR EXISTS (SELECT 1 FROM unnest($2::text[]) p WHERE starts_with(key, p))",
    )
    .bind(&accounts)
    .bind(&pairs)
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    Ok(users.len() as u64)
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

    async fn set_tenant_state(&self, id: &str, from: &TenantState, to: &TenantState) -> Result<()> {
        let to = serde_json::to_string(to).map_err(|e| encode("state", &e))?;
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let now = state_of(&mut tx, id).await?;
        if now != *from {
            return Err(weft_store::ops::moved(id, &now));
        }
        sqlx::query("UPDATE tenants SET state = $1 WHERE id = $2")
            .bind(to)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn update_tenant_settings(
        &self,
        id: &str,
        name: Option<&str>,
        limits: Option<&TenantLimits>,
    ) -> Result<()> {
        let limits = limits
            .map(|l| serde_json::to_string(l).map_err(|e| encode("limits", &e)))
            .transpose()?;
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        if matches!(state_of(&mut tx, id).await?, TenantState::Erasing { .. }) {
            return Err(weft_store::ops::erasing(id));
        }
        sqlx::query(
            "UPDATE tenants SET name = COALESCE($1, name), limits = COALESCE($2, limits) \
             WHERE id = $3",
        )
        .bind(name)
        .bind(limits)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)
    }

    async fn lock_sweeper(&self) -> Result<Option<SweepLock>> {
        // A connection of its own, out of the pool: the lock lives with its
        // session, so a process that dies (or drops the lock) closes the
        // connection and the server releases it.
        let mut conn = self.pool.acquire().await.map_err(unavailable)?.detach();
        let sql = format!("SELECT pg_try_advisory_lock({SWEEPER_KEY})");
        let got: bool = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&mut conn)
            .await
            .map_err(unavailable)?;
        if !got {
            let _ = conn.close().await;
            return Ok(None);
        }
        Ok(Some(SweepLock::new(Advisory(conn))))
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
        let gone = erase_members(&self.pool, tenant, i64::from(limit.max(1))).await?;
        if gone > 0 {
            return Ok(gone);
        }
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
