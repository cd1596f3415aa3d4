//! `impl QueueTriggerStore for Sqlite`.

use crate::error::db;
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use weft_store::queue_trigger::{QueueConsumer, QueueReport, QueueTriggerStore};

macro_rules! cols {
    () => {
        "tenant_id, workflow_id, armed, owner, lease_until, consuming, last_message_at, \
         last_error, failures"
    };
}

fn consumer(row: &Row<'_>) -> Result<QueueConsumer> {
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
            failures: c.get("failures")?,
        },
    })
}

fn read(conn: &Connection, tenant: &str, workflow: &str) -> Result<Option<QueueConsumer>> {
    const SQL: &str = concat!(
        "SELECT ",
        cols!(),
        " FROM queue_consumers WHERE tenant_id = ? AND workflow_id = ?"
    );
    optional(conn, SQL, params![tenant, workflow], consumer)
}

#[async_trait]
impl QueueTriggerStore for Sqlite {
    async fn queue_arm(&self, tenant: &str, workflow: &str, armed: bool) -> Result<()> {
        const SQL: &str = "INSERT INTO queue_consumers (tenant_id, workflow_id, armed) \
            VALUES (?1, ?2, ?3) \
            ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET armed = excluded.armed, \
            consuming = CASE WHEN excluded.armed THEN queue_consumers.consuming ELSE 0 END";
        let (t, w) = (tenant.to_owned(), workflow.to_owned());
        self.write(move |conn| {
            execute(conn, SQL, params![t, w, armed]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn queue_consumer(&self, tenant: &str, workflow: &str) -> Result<Option<QueueConsumer>> {
        let (t, w) = (tenant.to_owned(), workflow.to_owned());
        self.read(move |conn| read(conn, &t, &w)).await
    }

    async fn free_queue_consumers(&self, at: i64, limit: u32) -> Result<Vec<QueueConsumer>> {
        const SQL: &str = concat!(
            "SELECT ",
            cols!(),
            " FROM queue_consumers WHERE armed = 1 AND (owner IS NULL OR lease_until <= ?) \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = queue_consumers.tenant_id \
             AND json_extract(t.state, '$.state') <> 'active') \
             ORDER BY lease_until, tenant_id, workflow_id LIMIT ?"
        );
        self.read(move |conn| all(conn, SQL, params![at, limit], consumer))
            .await
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
        const OTHERS: &str = "SELECT COUNT(*) FROM queue_consumers WHERE tenant_id = ? \
            AND workflow_id <> ? AND owner IS NOT NULL AND lease_until > ?";
        const TAKE: &str = "UPDATE queue_consumers SET owner = ?, lease_until = ? \
            WHERE tenant_id = ? AND workflow_id = ?";
        let (t, w, o) = (tenant.to_owned(), workflow.to_owned(), owner.to_owned());
        // One writer at a time: the count and the update see the same rows.
        self.write(move |conn| {
            let Some(row) = read(conn, &t, &w)? else {
                return Ok(false);
            };
            let live = row.owner.is_some() && row.lease_until > at;
            let mine = live && row.owner.as_deref() == Some(o.as_str());
            if !row.armed || (live && !mine) {
                return Ok(false);
            }
            if !mine {
                let others: i64 = conn
                    .prepare_cached(OTHERS)
                    .and_then(|mut s| s.query_row(params![t, w, at], |r| r.get(0)))
                    .map_err(db)?;
                if others >= i64::from(cap) {
                    return Ok(false);
                }
            }
            execute(conn, TAKE, params![o, until, t, w]).map_err(db)?;
            Ok(true)
        })
        .await
    }

    async fn queue_report(
        &self,
        tenant: &str,
        workflow: &str,
        owner: &str,
        report: &QueueReport,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE queue_consumers SET consuming = ?, last_message_at = ?, \
            last_error = ?, failures = ? WHERE tenant_id = ? AND workflow_id = ? AND owner = ?";
        let (t, w, o, r) = (
            tenant.to_owned(),
            workflow.to_owned(),
            owner.to_owned(),
            report.clone(),
        );
        self.write(move |conn| {
            let n = execute(
                conn,
                SQL,
                params![
                    r.consuming,
                    r.last_message_at,
                    r.last_error,
                    r.failures,
                    t,
                    w,
                    o
                ],
            )
            .map_err(db)?;
            Ok(n > 0)
        })
        .await
    }

    async fn queue_release(&self, tenant: &str, workflow: &str, owner: &str) -> Result<()> {
        const SQL: &str = "UPDATE queue_consumers SET owner = NULL, lease_until = 0, \
            consuming = 0 WHERE tenant_id = ? AND workflow_id = ? AND owner = ?";
        let (t, w, o) = (tenant.to_owned(), workflow.to_owned(), owner.to_owned());
        self.write(move |conn| {
            execute(conn, SQL, params![t, w, o]).map_err(db)?;
            Ok(())
        })
        .await
    }
}
