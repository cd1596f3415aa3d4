//! [`OpsStore`] on SQLite: operator keys, tenant updates, the operator audit
//! log, erasing a tenant and pruning old runs and audit rows in batches.

use crate::error::{db, immediate, one};
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use weft_store::AuditEntry;
use weft_store::ops::{KEPT_ON_ERASE, OpsStore, SweepLock};
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

fn operator_key(row: &Row<'_>) -> Result<OperatorKey> {
    let c = Cols::new(row, "operator_keys");
    Ok(OperatorKey {
        id: c.get("id")?,
        prefix: c.get("prefix")?,
        hash: c.get("hash")?,
        name: c.get("name")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
    })
}

fn audit_entry(row: &Row<'_>) -> Result<AuditEntry> {
    let c = Cols::new(row, "operator_audit");
    Ok(AuditEntry {
        tenant_id: c.get("tenant_id")?,
        actor: c.get("actor")?,
        action: c.get("action")?,
        target: c.get("target")?,
        at: c.get("at")?,
    })
}

/// The tables with a `tenant_id` column, children first, then by name.
fn tenant_tables(conn: &Connection) -> Result<Vec<String>> {
    const SQL: &str = "SELECT m.name FROM sqlite_master m \
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
        AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'tenant_id') \
        ORDER BY m.name";
    let mut names: Vec<String> = all(conn, SQL, [], |r| r.get::<_, String>(0).map_err(db))?;
    names.retain(|n| !KEPT_ON_ERASE.contains(&n.as_str()));
    names.sort_by_key(|n| FIRST.iter().position(|f| f == n).unwrap_or(FIRST.len()));
    Ok(names)
}

/// Deletes up to `limit` of the tenant's rows of `table`, by primary key (or
/// rowid when it has none).
fn erase_batch(conn: &Connection, table: &str, tenant: &str, limit: i64) -> Result<usize> {
    const PK: &str = "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk";
    let pk: Vec<String> = all(conn, PK, params![table], |r| {
        r.get::<_, String>(0).map_err(db)
    })?;
    let key = if pk.is_empty() {
        "rowid".to_owned()
    } else {
        format!(
            "({})",
            pk.iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let cols = key.trim_start_matches('(').trim_end_matches(')');
    // The table and column names come from the schema, never from a caller.
    let sql = format!(
        "DELETE FROM \"{table}\" WHERE {key} IN \
         (SELECT {cols} FROM \"{table}\" WHERE tenant_id = ?1 LIMIT ?2)"
    );
    execute(conn, &sql, params![tenant, limit]).map_err(db)
}

/// The tenant's state. # Errors: `NotFound`.
fn state_of(conn: &Connection, id: &str) -> Result<TenantState> {
    let text: Option<String> = optional(
        conn,
        "SELECT state FROM tenants WHERE id = ?",
        params![id],
        |r| r.get::<_, String>(0).map_err(db),
    )?;
    let text = text.ok_or(weft_store::Error::NotFound("tenant"))?;
    serde_json::from_str(&text).map_err(|e| crate::error::corrupt("tenants", "state", e))
}

/// Up to `limit` of the tenant's members who belong to no other tenant,
/// erased with their sessions, links and login failures; how many.
fn erase_members(conn: &Connection, tenant: &str, limit: i64) -> Result<u64> {
    const PICK: &str = "SELECT u.id, u.email FROM users u \
        WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = ?1) \
        AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id <> ?1) \
        LIMIT ?2";
    let users: Vec<(String, String)> = all(conn, PICK, params![tenant, limit], |r| {
        Ok((
            r.get::<_, String>(0).map_err(db)?,
            r.get::<_, String>(1).map_err(db)?,
        ))
    })?;
    for (id, email) in &users {
        for sql in [
            "DELETE FROM sessions WHERE user_id = ?1 AND ?2 IS NOT NULL",
            "DELETE FROM invitations WHERE user_id = ?1 AND ?2 IS NOT NULL",
            "DELETE FROM memberships WHERE user_id = ?1 AND tenant_id = ?2",
            "DELETE FROM users WHERE id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = ?1 AND m.tenant_id <> ?2)",
        ] {
            execute(conn, sql, params![id, tenant]).map_err(db)?;
        }
        // Per account, and per account and address (`pair:<email>|<ip>`).
        const FAILURES: &str = "DELETE FROM login_failures \
            WHERE key = ?1 OR substr(key, 1, length(?2)) = ?2";
        let (account, pair) = (format!("account:{email}"), format!("pair:{email}|"));
        execute(conn, FAILURES, params![account, pair]).map_err(db)?;
    }
    Ok(users.len() as u64)
}

#[async_trait]
impl OpsStore for Sqlite {
    async fn create_operator_key(&self, k: &OperatorKey) -> Result<()> {
        const SQL: &str = "INSERT INTO operator_keys (id, prefix, hash, name, created_at, revoked_at) \
            VALUES (?, ?, ?, ?, ?, ?)";
        let k = k.clone();
        self.write(move |conn| {
            execute(
                conn,
                SQL,
                params![k.id, k.prefix, k.hash, k.name, k.created_at, k.revoked_at],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn operator_key_by_prefix(&self, prefix: &str) -> Result<Option<OperatorKey>> {
        const SQL: &str = "SELECT id, prefix, hash, name, created_at, revoked_at \
            FROM operator_keys WHERE prefix = ?";
        let prefix = prefix.to_owned();
        self.read(move |conn| optional(conn, SQL, params![prefix], operator_key))
            .await
    }

    async fn list_operator_keys(&self) -> Result<Vec<OperatorKey>> {
        const SQL: &str = "SELECT id, prefix, hash, name, created_at, revoked_at \
            FROM operator_keys ORDER BY created_at, id";
        self.read(|conn| all(conn, SQL, [], operator_key)).await
    }

    async fn revoke_operator_key(&self, id: &str, at: i64) -> Result<()> {
        const SQL: &str =
            "UPDATE operator_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?";
        let id = id.to_owned();
        self.write(move |conn| {
            let changed = execute(conn, SQL, params![at, id]).map_err(db)?;
            one(changed, "operator key")
        })
        .await
    }

    async fn set_tenant_state(&self, id: &str, from: &TenantState, to: &TenantState) -> Result<()> {
        let to = crate::row::json("tenants", "state", to)?;
        let (id, from) = (id.to_owned(), from.clone());
        self.write(move |conn| {
            immediate(conn, |tx| {
                let now = state_of(tx, &id)?;
                if now != from {
                    return Err(weft_store::ops::moved(&id, &now));
                }
                let sql = "UPDATE tenants SET state = ? WHERE id = ?";
                execute(tx, sql, params![to, id]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn update_tenant_settings(
        &self,
        id: &str,
        name: Option<&str>,
        limits: Option<&TenantLimits>,
    ) -> Result<()> {
        const SQL: &str = "UPDATE tenants SET name = COALESCE(?, name), limits = COALESCE(?, limits) WHERE id = ?";
        let limits = limits
            .map(|l| crate::row::json("tenants", "limits", l))
            .transpose()?;
        let (id, name) = (id.to_owned(), name.map(str::to_owned));
        self.write(move |conn| {
            immediate(conn, |tx| {
                if matches!(state_of(tx, &id)?, TenantState::Erasing { .. }) {
                    return Err(weft_store::ops::erasing(&id));
                }
                execute(tx, SQL, params![name, limits, id]).map_err(db)?;
                Ok(())
            })
        })
        .await
    }

    async fn lock_sweeper(&self) -> Result<Option<SweepLock>> {
        Ok(SweepLock::local(&self.sweeper))
    }

    async fn operator_audit(&self, e: &AuditEntry) -> Result<()> {
        const SQL: &str = "INSERT INTO operator_audit (tenant_id, actor, action, target, at) VALUES (?, ?, ?, ?, ?)";
        let e = e.clone();
        self.write(move |conn| {
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

    async fn list_operator_audit(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT tenant_id, actor, action, target, at FROM operator_audit \
            ORDER BY at DESC, seq DESC LIMIT ?";
        self.read(move |conn| all(conn, SQL, params![i64::from(limit)], audit_entry))
            .await
    }

    async fn erase_tenant(&self, tenant: &str, limit: u32) -> Result<u64> {
        let tenant = tenant.to_owned();
        let limit = i64::from(limit.max(1));
        self.write(move |conn| {
            immediate(conn, |tx| {
                let gone = erase_members(tx, &tenant, limit)?;
                if gone > 0 {
                    return Ok(gone);
                }
                for table in tenant_tables(tx)? {
                    let n = erase_batch(tx, &table, &tenant, limit)?;
                    if n > 0 {
                        return Ok(n as u64);
                    }
                }
                execute(tx, "DELETE FROM tenants WHERE id = ?", params![tenant]).map_err(db)?;
                Ok(0)
            })
        })
        .await
    }

    async fn prune_runs(&self, tenant: &str, ended_before: i64, limit: u32) -> Result<u64> {
        const PICK: &str = "SELECT id FROM runs WHERE tenant_id = ? AND finished_at IS NOT NULL \
            AND finished_at < ? ORDER BY finished_at LIMIT ?";
        let tenant = tenant.to_owned();
        let limit = i64::from(limit.max(1));
        self.write(move |conn| {
            immediate(conn, |tx| {
                let ids: Vec<String> = all(tx, PICK, params![tenant, ended_before, limit], |r| {
                    r.get::<_, String>(0).map_err(db)
                })?;
                for id in &ids {
                    for table in ["attempts", "steps", "notification_deliveries"] {
                        let sql = format!("DELETE FROM {table} WHERE tenant_id = ? AND run_id = ?");
                        execute(tx, &sql, params![tenant, id]).map_err(db)?;
                    }
                    execute(
                        tx,
                        "DELETE FROM runs WHERE tenant_id = ? AND id = ?",
                        params![tenant, id],
                    )
                    .map_err(db)?;
                }
                Ok(ids.len() as u64)
            })
        })
        .await
    }

    async fn prune_audit(&self, before: i64, limit: u32) -> Result<u64> {
        const SQL: &str = "DELETE FROM audit WHERE seq IN \
            (SELECT seq FROM audit WHERE at < ? ORDER BY at LIMIT ?)";
        let limit = i64::from(limit.max(1));
        self.write(move |conn| Ok(execute(conn, SQL, params![before, limit]).map_err(db)? as u64))
            .await
    }
}
