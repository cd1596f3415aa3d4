//! Webhook delivery ids: written in a commit's transaction, read, pruned.

use crate::Postgres;
use crate::row::{unavailable, write_error};
use sqlx::{Postgres as Pg, Row, Transaction};
use weft_store::{Delivery, Result};

/// Written inside a commit's transaction: an expired row with the same key is
/// replaced; an unexpired one (the primary key) makes the commit `Duplicate`.
/// Two transactions inserting one key: the second waits on the index for the
/// first and fails when it commits.
pub(crate) async fn insert(tx: &mut Transaction<'_, Pg>, d: &Delivery) -> Result<()> {
    sqlx::query(
        "DELETE FROM webhook_deliveries \
         WHERE tenant_id = $1 AND workflow_id = $2 AND delivery_id = $3 AND expires_at <= $4",
    )
    .bind(&d.tenant_id)
    .bind(&d.workflow_id)
    .bind(&d.delivery_id)
    .bind(d.created_at)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    sqlx::query(
        "INSERT INTO webhook_deliveries \
         (tenant_id, workflow_id, delivery_id, run_id, body_sha256, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&d.tenant_id)
    .bind(&d.workflow_id)
    .bind(&d.delivery_id)
    .bind(&d.run_id)
    .bind(&d.body_sha256)
    .bind(d.created_at)
    .bind(d.expires_at)
    .execute(&mut **tx)
    .await
    .map_err(write_error("workflow", || {
        format!("delivery `{}` was seen", d.delivery_id)
    }))?;
    Ok(())
}

pub(crate) async fn get(
    s: &Postgres,
    tenant: &str,
    workflow_id: &str,
    delivery_id: &str,
    now: i64,
) -> Result<Option<Delivery>> {
    let row = sqlx::query(
        "SELECT tenant_id, workflow_id, delivery_id, run_id, body_sha256, created_at, \
         expires_at \
         FROM webhook_deliveries \
         WHERE tenant_id = $1 AND workflow_id = $2 AND delivery_id = $3 AND expires_at > $4",
    )
    .bind(tenant)
    .bind(workflow_id)
    .bind(delivery_id)
    .bind(now)
    .fetch_optional(&s.pool)
    .await
    .map_err(unavailable)?;
    row.map(|r| {
        Ok(Delivery {
            tenant_id: r.try_get("tenant_id").map_err(unavailable)?,
            workflow_id: r.try_get("workflow_id").map_err(unavailable)?,
            delivery_id: r.try_get("delivery_id").map_err(unavailable)?,
            run_id: r.try_get("run_id").map_err(unavailable)?,
            body_sha256: r.try_get("body_sha256").map_err(unavailable)?,
            created_at: r.try_get("created_at").map_err(unavailable)?,
            expires_at: r.try_get("expires_at").map_err(unavailable)?,
        })
    })
    .transpose()
}

pub(crate) async fn prune(s: &Postgres, now: i64, limit: u32) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_deliveries WHERE ctid IN \
         (SELECT ctid FROM webhook_deliveries WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now)
    .bind(i64::from(limit))
    .execute(&s.pool)
    .await
    .map_err(unavailable)?;
    Ok(done.rows_affected())
}
