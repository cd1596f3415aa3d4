//! What the console lists and counts: workflows (with a name filter) and
//! their newest runs, runs with their filters, run statistics; and a run
//! loaded lean for a decision (`Store::load_run_lean`). Every value
//! is a bind parameter; the SQL text is built from this file's constants
//! only.

use crate::Postgres;
use crate::row::{self, Cols, RUN, WORKFLOW, unavailable};
use crate::store::limit;
use sqlx::AssertSqlSafe;
use weft_store::stats::{BUSIEST, BucketCount, BusyWorkflow, RunStats, StatsWindow};
use weft_store::{LastRun, Page, Result, RunFilter, RunState, WorkflowFilter};
use weft_types::{Run, Workflow};

/// ASCII letters folded, nothing else: the name filter's rule on every
/// adapter (`lower()` would follow the database's locale).
const FOLD: &str = "translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";

pub(crate) async fn list_workflows(
    pg: &Postgres,
    tenant: &str,
    filter: &WorkflowFilter,
    page: &Page,
) -> Result<Vec<Workflow>> {
    let sql = format!(
        "SELECT {WORKFLOW} FROM workflows WHERE tenant_id = $1 \
         AND ($2::text IS NULL OR {FOLD} LIKE $2 ESCAPE '\\') \
         AND ($3::text IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(filter.like_pattern())
        .bind(page.before.as_deref())
        .bind(limit(page.capped()))
        .fetch_all(&pg.pool)
        .await
        .map_err(unavailable)?;
    rows.iter().map(row::workflow).collect()
}

/// One backwards probe of `runs_by_workflow` per workflow, in one statement.
pub(crate) async fn last_runs(pg: &Postgres, tenant: &str, ids: &[String]) -> Result<Vec<LastRun>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT r.workflow_id, r.id, r.status, r.created_at FROM unnest($2::text[]) AS w(id) \
         CROSS JOIN LATERAL (SELECT workflow_id, id, status, created_at FROM runs \
         WHERE tenant_id = $1 AND workflow_id = w.id ORDER BY id DESC LIMIT 1) r",
    )
    .bind(tenant)
    .bind(ids)
    .fetch_all(&pg.pool)
    .await
    .map_err(unavailable)?;
    rows.iter()
        .map(|r| {
            let c = Cols::new(r, "runs");
            Ok(LastRun {
                workflow_id: c.get("workflow_id")?,
                id: c.get("id")?,
                status: c.parse("status")?,
                created_at: c.get("created_at")?,
            })
        })
        .collect()
}

pub(crate) async fn list_runs(
    pg: &Postgres,
    tenant: &str,
    f: &RunFilter,
    page: &Page,
) -> Result<Vec<Run>> {
    let sql = format!(
        "SELECT {RUN} FROM runs WHERE tenant_id = $1 \
         AND ($2::text IS NULL OR workflow_id = $2) \
         AND ($3::text IS NULL OR status = $3) \
         AND ($4::text IS NULL OR trigger_kind = $4) \
         AND ($5::bigint IS NULL OR created_at >= $5) \
         AND ($6::bigint IS NULL OR created_at < $6) \
         AND ($7::text IS NULL OR id < $7) ORDER BY id DESC LIMIT $8"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(f.workflow_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.trigger.map(|t| t.as_str()))
        .bind(f.created_from)
        .bind(f.created_to)
        .bind(page.before.as_deref())
        .bind(limit(page.capped()))
        .fetch_all(&pg.pool)
        .await
        .map_err(unavailable)?;
    rows.iter().map(row::run).collect()
}

fn count(c: &Cols<'_>, column: &'static str) -> Result<u64> {
    let n: i64 = c.get(column)?;
    u64::try_from(n).map_err(|e| weft_store::Error::Unavailable(format!("runs.{column}: {e}")))
}

/// Run statistics: two `GROUP BY`s over `runs_by_created` (tenant,
/// created_at, status, workflow_id), in one read-only transaction so both
/// count the same runs.
pub(crate) async fn run_stats(pg: &Postgres, tenant: &str, w: &StatsWindow) -> Result<RunStats> {
    let mut tx = pg.pool.begin().await.map_err(unavailable)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    let rows = sqlx::query(
        "SELECT (created_at - $2) / $4 AS bucket, status, COUNT(*) AS runs FROM runs \
         WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(tenant)
    .bind(w.from)
    .bind(w.to)
    .bind(w.bucket_ms.max(1))
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let buckets = rows
        .iter()
        .map(|r| {
            let c = Cols::new(r, "runs");
            Ok(BucketCount {
                bucket: c.get("bucket")?,
                status: c.parse("status")?,
                runs: count(&c, "runs")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let rows = sqlx::query(
        "SELECT t.workflow_id, w.name, t.runs, t.failed FROM \
         (SELECT workflow_id, COUNT(*) AS runs, COUNT(*) FILTER (WHERE status = 'failed') \
         AS failed FROM runs WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY workflow_id ORDER BY runs DESC, workflow_id LIMIT $4) t \
         LEFT JOIN workflows w ON w.tenant_id = $1 AND w.id = t.workflow_id \
         ORDER BY t.runs DESC, t.workflow_id",
    )
    .bind(tenant)
    .bind(w.from)
    .bind(w.to)
    .bind(i64::from(BUSIEST))
    .fetch_all(&mut *tx)
    .await
    .map_err(unavailable)?;
    let busiest = rows
        .iter()
        .map(|r| {
            let c = Cols::new(r, "runs");
            Ok(BusyWorkflow {
                workflow_id: c.get("workflow_id")?,
                name: c.get("name")?,
                runs: count(&c, "runs")?,
                failed: count(&c, "failed")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    tx.commit().await.map_err(unavailable)?;
    Ok(RunStats { buckets, busiest })
}

/// The steps of a run, a terminal step's `input`, `output` and `error` NULL
/// unless its key is in `$3` (then not read, nor de-TOASTed).
const STEPS_LEAN: &str = "SELECT tenant_id, run_id, key, status, attempt, \
     CASE WHEN lean THEN NULL ELSE input END AS input, \
     CASE WHEN lean THEN NULL ELSE output END AS output, \
     CASE WHEN lean THEN NULL ELSE error END AS error, \
     due_at, resume_token, child_run_id, created_at, updated_at \
     FROM (SELECT *, status IN ('completed', 'failed', 'cancelled', 'skipped') \
     AND NOT (key = ANY($3)) AS lean FROM steps WHERE tenant_id = $1 AND run_id = $2) s \
     ORDER BY key";

/// `Store::load_run_lean`: the run, then its steps (two statements, as
/// `load_run`: the steps are at least as new as the run, and a decision on
/// steps that moved on conflicts on the run's `seq`).
pub(crate) async fn load_run_lean(
    pg: &Postgres,
    tenant: &str,
    id: &str,
    full: &[String],
) -> Result<Option<RunState>> {
    let sql = format!("SELECT {RUN} FROM runs WHERE tenant_id = $1 AND id = $2");
    let Some(r) = sqlx::query(AssertSqlSafe(sql))
        .bind(tenant)
        .bind(id)
        .fetch_optional(&pg.pool)
        .await
        .map_err(unavailable)?
    else {
        return Ok(None);
    };
    let run = row::run(&r)?;
    let steps = sqlx::query(STEPS_LEAN)
        .bind(tenant)
        .bind(id)
        .bind(full)
        .fetch_all(&pg.pool)
        .await
        .map_err(unavailable)?;
    let steps = steps.iter().map(row::step).collect::<Result<Vec<_>>>()?;
    Ok(Some(RunState { run, steps }))
}
