//! Run statistics (`Store::run_stats`): two `GROUP BY`s over the index
//! `runs_by_created` (tenant, created_at, status, workflow_id), which holds
//! every column they read, so neither touches the runs' rows.

use crate::error::{corrupt, db};
use crate::row::{Cols, all};
use crate::{Result, Sqlite};
use rusqlite::params;
use weft_store::stats::{BUSIEST, BucketCount, BusyWorkflow, RunStats, StatsWindow};

pub(crate) const BY_BUCKET: &str = "SELECT (created_at - ?2) / ?4 AS bucket, status, \
     COUNT(*) AS runs FROM runs WHERE tenant_id = ?1 AND created_at >= ?2 AND created_at < ?3 \
     GROUP BY bucket, status ORDER BY bucket, status";

pub(crate) const BUSIEST_SQL: &str = "SELECT t.workflow_id, w.name, t.runs, t.failed FROM \
     (SELECT workflow_id, COUNT(*) AS runs, SUM(status = 'failed') AS failed FROM runs \
     WHERE tenant_id = ?1 AND created_at >= ?2 AND created_at < ?3 \
     GROUP BY workflow_id ORDER BY runs DESC, workflow_id LIMIT ?4) t \
     LEFT JOIN workflows w ON w.tenant_id = ?1 AND w.id = t.workflow_id \
     ORDER BY t.runs DESC, t.workflow_id";

fn count(c: &Cols<'_, '_>, column: &'static str) -> Result<u64> {
    let n: i64 = c.get(column)?;
    u64::try_from(n).map_err(|e| corrupt("runs", column, e))
}

pub(crate) async fn run_stats(s: &Sqlite, tenant: &str, w: &StatsWindow) -> Result<RunStats> {
    let (tenant, w) = (tenant.to_owned(), *w);
    s.read(move |conn| {
        // One read transaction: both parts count the same runs.
        let tx = conn.transaction().map_err(db)?;
        let buckets = all(
            &tx,
            BY_BUCKET,
            params![tenant, w.from, w.to, w.bucket_ms.max(1)],
            |row| {
                let c = Cols::new(row, "runs");
                Ok(BucketCount {
                    bucket: c.get("bucket")?,
                    status: c.parse("status")?,
                    runs: count(&c, "runs")?,
                })
            },
        )?;
        let busiest = all(
            &tx,
            BUSIEST_SQL,
            params![tenant, w.from, w.to, i64::from(BUSIEST)],
            |row| {
                let c = Cols::new(row, "runs");
                Ok(BusyWorkflow {
                    workflow_id: c.get("workflow_id")?,
                    name: c.get("name")?,
                    runs: count(&c, "runs")?,
                    failed: count(&c, "failed")?,
                })
            },
        )?;
        tx.commit().map_err(db)?;
        Ok(RunStats { buckets, busiest })
    })
    .await
}
