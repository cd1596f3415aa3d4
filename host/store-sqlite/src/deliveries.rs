//! Webhook delivery ids: written in a commit's transaction, read, pruned.

use crate::error::{db, db_or_taken};
use crate::row::{Cols, execute, optional};
use crate::{Result, Sqlite};
use rusqlite::{Connection, params};
use weft_store::Delivery;

/// Written inside a commit's transaction: an expired row with the same key is
/// replaced; an unexpired one makes the commit `Duplicate`.
pub(crate) fn insert(conn: &Connection, d: &Delivery) -> Result<()> {
    const EXPIRED: &str = "DELETE FROM webhook_deliveries \
        WHERE tenant_id = ? AND workflow_id = ? AND delivery_id = ? AND expires_at <= ?";
    const SQL: &str = "INSERT INTO webhook_deliveries \
        (tenant_id, workflow_id, delivery_id, run_id, body_sha256, created_at, expires_at) \
        VALUES (?, ?, ?, ?, ?, ?, ?)";
    execute(
        conn,
        EXPIRED,
        params![d.tenant_id, d.workflow_id, d.delivery_id, d.created_at],
    )
    .map_err(db)?;
    execute(
        conn,
        SQL,
        params![
            d.tenant_id,
            d.workflow_id,
            d.delivery_id,
            d.run_id,
            d.body_sha256,
            d.created_at,
            d.expires_at
        ],
    )
    .map_err(db_or_taken(|| {
        format!("delivery `{}` was seen", d.delivery_id)
    }))?;
    Ok(())
}

pub(crate) async fn get(
    s: &Sqlite,
    tenant: &str,
    workflow_id: &str,
    delivery_id: &str,
    now: i64,
) -> Result<Option<Delivery>> {
    const SQL: &str = "SELECT tenant_id, workflow_id, delivery_id, run_id, body_sha256, \
        created_at, expires_at FROM webhook_deliveries \
        WHERE tenant_id = ? AND workflow_id = ? AND delivery_id = ? AND expires_at > ?";
    let key = (
        tenant.to_owned(),
        workflow_id.to_owned(),
        delivery_id.to_owned(),
    );
    s.read(move |conn| {
        optional(conn, SQL, params![key.0, key.1, key.2, now], |row| {
            let c = Cols::new(row, "webhook_deliveries");
            Ok(Delivery {
                tenant_id: c.get("tenant_id")?,
                workflow_id: c.get("workflow_id")?,
                delivery_id: c.get("delivery_id")?,
                run_id: c.get("run_id")?,
                body_sha256: c.get("body_sha256")?,
                created_at: c.get("created_at")?,
                expires_at: c.get("expires_at")?,
            })
        })
    })
    .await
}

pub(crate) async fn prune(s: &Sqlite, now: i64, limit: u32) -> Result<u64> {
    const SQL: &str = "DELETE FROM webhook_deliveries WHERE rowid IN \
        (SELECT rowid FROM webhook_deliveries WHERE expires_at <= ? LIMIT ?)";
    let limit = i64::from(limit);
    s.write(move |conn| {
        let n = execute(conn, SQL, params![now, limit]).map_err(db)?;
        Ok(n as u64)
    })
    .await
}
