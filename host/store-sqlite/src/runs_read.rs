//! Reading runs, steps and the journal; the sweeper's queries.

use crate::error::{corrupt, db};
use crate::row::{Cols, all, optional, terminal};
use crate::runs::{attempt, attempt_cols, run, run_cols, step, step_cols};
use crate::{Result, Sqlite};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};
use weft_store::{LastRun, Page, RunFilter, RunState};
use weft_types::{Attempt, Run, Status, Step};

const RUN_BY_ID: &str = concat!(
    "SELECT ",
    run_cols!(),
    " FROM runs WHERE tenant_id = ? AND id = ?"
);
const STEPS_OF_RUN: &str = concat!(
    "SELECT ",
    step_cols!(),
    " FROM steps WHERE tenant_id = ? AND run_id = ? ORDER BY key"
);
const STEP_BY_TOKEN: &str = concat!(
    "SELECT ",
    step_cols!(),
    " FROM steps WHERE resume_token = ?"
);
// The sweeper's queries are served by the partial indexes `steps_due` and
// `runs_deadline`: their `WHERE` is repeated verbatim.
const DUE_STEPS: &str = concat!(
    "SELECT ",
    step_cols!(),
    " FROM steps WHERE due_at <= ? AND status NOT IN ",
    terminal!(),
    " AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = steps.tenant_id \
     AND json_extract(t.state, '$.state') <> 'active') \
     ORDER BY due_at, tenant_id, run_id, key LIMIT ?"
);
const OVERDUE_RUNS: &str = concat!(
    "SELECT ",
    run_cols!(),
    " FROM runs WHERE deadline_at <= ? AND status NOT IN ",
    terminal!(),
    " AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = runs.tenant_id \
     AND json_extract(t.state, '$.state') <> 'active') \
     ORDER BY deadline_at, tenant_id, id LIMIT ?"
);

pub(crate) async fn load_run(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<RunState>> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.read(move |conn| {
        // One read transaction: the run and its steps from the same snapshot.
        let tx = conn.transaction().map_err(db)?;
        let Some(run) = optional(&tx, RUN_BY_ID, params![tenant, id], run)? else {
            return Ok(None);
        };
        let steps = all(&tx, STEPS_OF_RUN, params![tenant, id], step)?;
        tx.commit().map_err(db)?;
        Ok(Some(RunState { run, steps }))
    })
    .await
}

// A terminal step's data, unless its key is listed in ?3 (a JSON array):
// NULL, and SQLite does not read the column (nor its overflow pages).
const STEPS_OF_RUN_LEAN: &str = concat!(
    "SELECT tenant_id, run_id, key, status, attempt, ",
    "CASE WHEN status IN ",
    terminal!(),
    " AND key NOT IN (SELECT value FROM json_each(?3)) THEN NULL ELSE input END AS input, ",
    "CASE WHEN status IN ",
    terminal!(),
    " AND key NOT IN (SELECT value FROM json_each(?3)) THEN NULL ELSE output END AS output, ",
    "CASE WHEN status IN ",
    terminal!(),
    " AND key NOT IN (SELECT value FROM json_each(?3)) THEN NULL ELSE error END AS error, ",
    "due_at, resume_token, child_run_id, created_at, updated_at ",
    "FROM steps WHERE tenant_id = ?1 AND run_id = ?2 ORDER BY key"
);

/// `Store::load_run_lean`: the run and its steps from one snapshot, a
/// terminal step's `input`, `output` and `error` left out unless its key is
/// in `full`.
pub(crate) async fn load_run_lean(
    s: &Sqlite,
    tenant: &str,
    id: &str,
    full: &[String],
) -> Result<Option<RunState>> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    let full = serde_json::to_string(full).map_err(|e| corrupt("steps", "key", e))?;
    s.read(move |conn| {
        let tx = conn.transaction().map_err(db)?;
        let Some(run) = optional(&tx, RUN_BY_ID, params![tenant, id], run)? else {
            return Ok(None);
        };
        let steps = all(&tx, STEPS_OF_RUN_LEAN, params![tenant, id, full], lean_step)?;
        tx.commit().map_err(db)?;
        Ok(Some(RunState { run, steps }))
    })
    .await
}

/// A row of [`STEPS_OF_RUN_LEAN`], its columns read by position: this read
/// takes every row of a run for each decision, and finding a column by name
/// (a scan of the statement's column names for each value) was a tenth of
/// the server's time in a 1,000-item loop (profiled).
fn lean_step(row: &rusqlite::Row<'_>) -> Result<Step> {
    const COLS: [&str; 13] = [
        "tenant_id",
        "run_id",
        "key",
        "status",
        "attempt",
        "input",
        "output",
        "error",
        "due_at",
        "resume_token",
        "child_run_id",
        "created_at",
        "updated_at",
    ];
    let bad = |i: usize, e: &dyn std::fmt::Display| corrupt("steps", COLS[i], e);
    let text = |i: usize| -> Result<Option<&str>> {
        let v = row.get_ref(i).map_err(|e| bad(i, &e))?;
        v.as_str_or_null().map_err(|e| bad(i, &e))
    };
    let req = |i: usize| -> Result<String> {
        text(i)?
            .map(str::to_owned)
            .ok_or_else(|| bad(i, &"NULL where text is required"))
    };
    let json = |i: usize| -> Result<Option<serde_json::Value>> {
        text(i)?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| bad(i, &e))
    };
    let failure = |i: usize| -> Result<Option<weft_types::Failure>> {
        text(i)?
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| bad(i, &e))
    };
    let int = |i: usize| -> Result<Option<i64>> { row.get(i).map_err(|e| bad(i, &e)) };
    let attempt = int(4)?.ok_or_else(|| bad(4, &"NULL where a number is required"))?;
    Ok(Step {
        tenant_id: req(0)?,
        run_id: req(1)?,
        key: req(2)?,
        status: req(3)?.parse().map_err(|e| bad(3, &e))?,
        attempt: u32::try_from(attempt).map_err(|e| bad(4, &e))?,
        input: json(5)?,
        output: json(6)?,
        error: failure(7)?,
        due_at: int(8)?,
        resume_token: text(9)?.map(str::to_owned),
        child_run_id: text(10)?.map(str::to_owned),
        created_at: int(11)?.ok_or_else(|| bad(11, &"NULL where a number is required"))?,
        updated_at: int(12)?.ok_or_else(|| bad(12, &"NULL where a number is required"))?,
    })
}

pub(crate) async fn get_run(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<Run>> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.read(move |conn| optional(conn, RUN_BY_ID, params![tenant, id], run))
        .await
}

pub(crate) async fn list_runs(
    s: &Sqlite,
    tenant: &str,
    filter: &RunFilter,
    page: &Page,
) -> Result<Vec<Run>> {
    let mut sql = concat!("SELECT ", run_cols!(), " FROM runs WHERE tenant_id = ?").to_owned();
    let mut args: Vec<Value> = vec![tenant.to_owned().into()];
    if let Some(w) = &filter.workflow_id {
        sql.push_str(" AND workflow_id = ?");
        args.push(w.clone().into());
    }
    if let Some(st) = filter.status {
        sql.push_str(" AND status = ?");
        args.push(st.as_str().to_owned().into());
    }
    if let Some(t) = filter.trigger {
        sql.push_str(" AND trigger_kind = ?");
        args.push(t.as_str().to_owned().into());
    }
    if let Some(from) = filter.created_from {
        sql.push_str(" AND created_at >= ?");
        args.push(from.into());
    }
    if let Some(to) = filter.created_to {
        sql.push_str(" AND created_at < ?");
        args.push(to.into());
    }
    if let Some(b) = &page.before {
        sql.push_str(" AND id < ?");
        args.push(b.clone().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(i64::from(page.capped()).into());
    s.read(move |conn| all(conn, &sql, params_from_iter(&args), run))
        .await
}

/// The newest run of each workflow: one probe of `runs_by_workflow` (backwards)
/// per id, in one statement.
const LAST_RUNS: &str = "SELECT r.workflow_id, r.id, r.status, r.created_at FROM runs r \
     WHERE r.tenant_id = ?1 AND r.id IN (SELECT (SELECT x.id FROM runs x \
     WHERE x.tenant_id = ?1 AND x.workflow_id = w.value ORDER BY x.id DESC LIMIT 1) \
     FROM json_each(?2) w)";

pub(crate) async fn last_runs(s: &Sqlite, tenant: &str, ids: &[String]) -> Result<Vec<LastRun>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(ids).map_err(|e| corrupt("runs", "workflow_id", e))?;
    let tenant = tenant.to_owned();
    s.read(move |conn| {
        all(conn, LAST_RUNS, params![tenant, ids], |row| {
            let c = Cols::new(row, "runs");
            Ok(LastRun {
                workflow_id: c.get("workflow_id")?,
                id: c.get("id")?,
                status: c.parse("status")?,
                created_at: c.get("created_at")?,
            })
        })
    })
    .await
}

pub(crate) async fn list_attempts(s: &Sqlite, tenant: &str, run_id: &str) -> Result<Vec<Attempt>> {
    const SQL: &str = concat!(
        "SELECT ",
        attempt_cols!(),
        " FROM attempts WHERE tenant_id = ? AND run_id = ? ORDER BY step_key, attempt"
    );
    let (tenant, run_id) = (tenant.to_owned(), run_id.to_owned());
    s.read(move |conn| all(conn, SQL, params![tenant, run_id], attempt))
        .await
}

pub(crate) async fn step_by_resume_token(s: &Sqlite, token: &str) -> Result<Option<Step>> {
    let token = token.to_owned();
    s.read(move |conn| optional(conn, STEP_BY_TOKEN, params![token], step))
        .await
}

pub(crate) async fn due_steps(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Step>> {
    s.read(move |conn| all(conn, DUE_STEPS, params![at, i64::from(limit)], step))
        .await
}

pub(crate) async fn overdue_runs(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Run>> {
    s.read(move |conn| all(conn, OVERDUE_RUNS, params![at, i64::from(limit)], run))
        .await
}

pub(crate) async fn count_runs(s: &Sqlite) -> Result<Vec<(Status, u64)>> {
    const SQL: &str = "SELECT status, COUNT(*) AS n FROM runs GROUP BY status ORDER BY status";
    s.read(|conn| {
        all(conn, SQL, [], |row| {
            let c = Cols::new(row, "runs");
            let n: i64 = c.get("n")?;
            let n = u64::try_from(n).map_err(|e| corrupt("runs", "COUNT(*)", e))?;
            Ok((c.parse("status")?, n))
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::row::TERMINAL;

    /// The plan SQLite picks for `sql` on a reader connection.
    async fn plan(s: &Sqlite, sql: &str, args: usize) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        s.read(move |conn| {
            let mut q = conn.prepare(&sql).map_err(db)?;
            let details = q
                .query_map(params_from_iter(std::iter::repeat_n(0_i64, args)), |r| {
                    r.get::<_, String>(3)
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(db)?;
            Ok(details.join("; "))
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn sweeper_and_lookups_use_their_indexes() {
        let s = Sqlite::temporary().await.unwrap();
        let due = plan(&s, DUE_STEPS, 2).await;
        assert!(due.contains("INDEX steps_due"), "{due}");
        let overdue = plan(&s, OVERDUE_RUNS, 2).await;
        assert!(overdue.contains("INDEX runs_deadline"), "{overdue}");
        let token = plan(&s, STEP_BY_TOKEN, 1).await;
        assert!(token.contains("INDEX steps_resume_token"), "{token}");
        let by_wf = "SELECT id FROM runs WHERE tenant_id = ? AND workflow_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
        let by_wf = plan(&s, by_wf, 4).await;
        assert!(
            by_wf.contains("INDEX runs_by_workflow") && !by_wf.contains("TEMP B-TREE"),
            "{by_wf}"
        );
        let steps = plan(&s, STEPS_OF_RUN, 2).await;
        assert!(!steps.contains("TEMP B-TREE"), "{steps}");
        let window = "SELECT id FROM runs WHERE tenant_id = ? AND created_at >= ? \
             AND created_at < ? ORDER BY id DESC LIMIT ?";
        let window = plan(&s, window, 4).await;
        assert!(window.contains("INDEX runs_by_created"), "{window}");
        for stats in [crate::stats::BY_BUCKET, crate::stats::BUSIEST_SQL] {
            let got = plan(&s, stats, 4).await;
            assert!(
                got.contains("COVERING INDEX runs_by_created"),
                "the statistics read the index only: {got}"
            );
        }
        let last = plan(&s, LAST_RUNS, 2).await;
        assert!(
            last.contains("INDEX runs_by_workflow") && !last.contains("SCAN r"),
            "{last}"
        );
    }

    #[test]
    fn the_sweeper_queries_repeat_the_partial_index_condition() {
        let condition = format!("status NOT IN {TERMINAL}");
        assert!(DUE_STEPS.contains(&condition), "{DUE_STEPS}");
        assert!(OVERDUE_RUNS.contains(&condition), "{OVERDUE_RUNS}");
    }
}
