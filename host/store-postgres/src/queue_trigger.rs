//! `impl QueueTriggerStore for Postgres`.

use crate::Postgres;
use crate::row::{Cols, unavailable};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use weft_store::Result;
use weft_store::queue_trigger::{QueueConsumer, QueueReport, QueueTriggerStore};

const COLS: &str = "tenant_id, workflow_id, armed, owner, lease_until, consuming, \
    last_message_at, last_error, failures";

fn consumer(row: &PgRow) -> Result<QueueConsumer> {
    let c = Cols::new(row, "queue_consumers");
    Ok(QueueConsumer {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        armed: c.get("armed")?,
        owner: c.get("owner")?,
        lease_until: c.get("lease_until")?,
        report: QueueReport {
            consuming: c.get("consuming")?,
            last_message_at: c.get("last_message_at")?,
            last_error: c.get("last_error")?,
            failures: c.u32("failures")?,
        },
    })
}

#[async_trait]
impl QueueTriggerStore for Postgres {
    async fn queue_arm(&self, tenant: &str, workflow: &str, armed: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO queue_consumers (tenant_id, workflow_id, armed) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET armed = excluded.armed, \
             consuming = excluded.armed AND queue_consumers.consuming",
        )
        .bind(tenant)
        .bind(workflow)
        .bind(armed)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn queue_consumer(&self, tenant: &str, workflow: &str) -> Result<Option<QueueConsumer>> {
        let sql =
            format!("SELECT {COLS} FROM queue_consumers WHERE tenant_id = $1 AND workflow_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .bind(workflow)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(consumer)
            .transpose()
    }

    async fn free_queue_consumers(&self, at: i64, n: u32) -> Result<Vec<QueueConsumer>> {
        let sql = format!(
            "SELECT {COLS} FROM queue_consumers WHERE armed \
             AND (owner IS NULL OR lease_until <= $1) \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = queue_consumers.tenant_id \
             AND (t.state::jsonb ->> 'state') <> 'active') \
             ORDER BY lease_until, tenant_id, workflow_id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(i64::from(n))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(consumer).collect()
    }

    async fn queue_lease(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        at: i64,
        until: i64,
        cap: u32,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        // The tenant's rows locked: two workers taking two of its
        // consumers at once count one after the other.
        let sql = format!(
            "SELECT {COLS} FROM queue_consumers WHERE tenant_id = $1 \
             ORDER BY workflow_id FOR UPDATE"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&mut *tx)
            .await
            .map_err(unavailable)?
            .iter()
            .map(consumer)
            .collect::<Result<Vec<_>>>()?;
        let live = |r: &QueueConsumer| r.owner.is_some() && r.lease_until > at;
        let Some(row) = rows.iter().find(|r| r.workflow_id == workflow) else {
            return Ok(false);
        };
        let mine = live(row) && row.owner.as_deref() == Some(owner);
        if !row.armed || (live(row) && !mine) {
            return Ok(false);
        }
        if !mine {
            let others = rows
                .iter()
                .filter(|r| r.workflow_id != workflow && live(r))
                .count();
            if others >= cap as usize {
                return Ok(false);
            }
        }
        sqlx::query(
            "UPDATE queue_consumers SET owner = $1, lease_until = $2 \
             WHERE tenant_id = $3 AND workflow_id = $4",
        )
        .bind(owner)
        .bind(until)
        .bind(tenant)
        .bind(workflow)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }

    async fn queue_report(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        report: &QueueReport,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE queue_consumers SET consuming = $1, last_message_at = $2, \
             last_error = $3, failures = $4 \
             WHERE tenant_id = $5 AND workflow_id = $6 AND owner = $7",
        )
        .bind(report.consuming)
        .bind(report.last_message_at)
        .bind(&report.last_error)
        .bind(i64::from(report.failures))
        .bind(tenant)
        .bind(workflow)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn queue_release(&self, tenant: &str, workflow: &str, owner: &str) -> Result<()> {
        sqlx::query(
            "UPDATE queue_consumers SET owner = NULL, lease_until = 0, consuming = FALSE \
             WHERE tenant_id = $1 AND workflow_id = $2 AND owner = $3",
        )
        .bind(tenant)
        .bind(workflow)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}
