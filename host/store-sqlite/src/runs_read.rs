//! Reading runs, steps and the journal; the sweeper's queries.

use crate::error::db;
use crate::row::TERMINAL;
use crate::runs::{ATTEMPT_COLS, RUN_COLS, STEP_COLS, attempt, run, step};
use crate::{Result, Sqlite};
use weft_store::{Page, RunFilter, RunState};
use weft_types::{Attempt, Run, Status, Step};

pub(crate) async fn load_run(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<RunState>> {
    // One read transaction: the run and its steps from the same snapshot.
    let mut tx = s.reader.begin().await.map_err(db)?;
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM runs WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let steps = sqlx::query(&format!(
        "SELECT {STEP_COLS} FROM steps WHERE tenant_id = ? AND run_id = ? ORDER BY key"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db)?
    .iter()
    .map(step)
    .collect::<Result<Vec<Step>>>()?;
    tx.commit().await.map_err(db)?;
    Ok(Some(RunState {
        run: run(&row)?,
        steps,
    }))
}

pub(crate) async fn get_run(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<Run>> {
    sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM runs WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?
    .as_ref()
    .map(run)
    .transpose()
}

pub(crate) async fn list_runs(
    s: &Sqlite,
    tenant: &str,
    filter: &RunFilter,
    page: &Page,
) -> Result<Vec<Run>> {
    let mut sql = format!("SELECT {RUN_COLS} FROM runs WHERE tenant_id = ?");
    if filter.workflow_id.is_some() {
        sql.push_str(" AND workflow_id = ?");
    }
    if filter.status.is_some() {
        sql.push_str(" AND status = ?");
    }
    if page.before.is_some() {
        sql.push_str(" AND id < ?");
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    let mut q = sqlx::query(&sql).bind(tenant);
    if let Some(w) = &filter.workflow_id {
        q = q.bind(w);
    }
    if let Some(st) = filter.status {
        q = q.bind(st.as_str());
    }
    if let Some(b) = &page.before {
        q = q.bind(b);
    }
    q.bind(i64::from(page.capped()))
        .fetch_all(&s.reader)
        .await
        .map_err(db)?
        .iter()
        .map(run)
        .collect()
}

pub(crate) async fn list_attempts(s: &Sqlite, tenant: &str, run_id: &str) -> Result<Vec<Attempt>> {
    sqlx::query(&format!(
        "SELECT {ATTEMPT_COLS} FROM attempts WHERE tenant_id = ? AND run_id = ? \
         ORDER BY step_key, attempt"
    ))
    .bind(tenant)
    .bind(run_id)
    .fetch_all(&s.reader)
    .await
    .map_err(db)?
    .iter()
    .map(attempt)
    .collect()
}

pub(crate) async fn step_by_resume_token(s: &Sqlite, token: &str) -> Result<Option<Step>> {
    sqlx::query(&format!(
        "SELECT {STEP_COLS} FROM steps WHERE resume_token = ?"
    ))
    .bind(token)
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?
    .as_ref()
    .map(step)
    .transpose()
}

/// Served by the partial index `steps_due` (its `WHERE` is repeated verbatim).
pub(crate) fn due_steps_sql() -> String {
    format!(
        "SELECT {STEP_COLS} FROM steps WHERE due_at <= ? AND status NOT IN {TERMINAL} \
         ORDER BY due_at, tenant_id, run_id, key LIMIT ?"
    )
}

/// Served by the partial index `runs_deadline`.
pub(crate) fn overdue_runs_sql() -> String {
    format!(
        "SELECT {RUN_COLS} FROM runs WHERE deadline_at <= ? AND status NOT IN {TERMINAL} \
         ORDER BY deadline_at, tenant_id, id LIMIT ?"
    )
}

pub(crate) async fn due_steps(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Step>> {
    sqlx::query(&due_steps_sql())
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&s.reader)
        .await
        .map_err(db)?
        .iter()
        .map(step)
        .collect()
}

pub(crate) async fn overdue_runs(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Run>> {
    sqlx::query(&overdue_runs_sql())
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&s.reader)
        .await
        .map_err(db)?
        .iter()
        .map(run)
        .collect()
}

pub(crate) async fn count_runs(s: &Sqlite) -> Result<Vec<(Status, u64)>> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM runs GROUP BY status ORDER BY status")
            .fetch_all(&s.reader)
            .await
            .map_err(db)?;
    rows.iter()
        .map(|row| {
            let c = crate::row::Cols::new(row, "runs");
            let n: i64 = c.get("n")?;
            let n = u64::try_from(n).map_err(|e| crate::error::corrupt("runs", "COUNT(*)", e))?;
            Ok((c.parse("status")?, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn plan(s: &Sqlite, sql: &str, args: usize) -> String {
        let sql = format!("EXPLAIN QUERY PLAN {sql}");
        let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(&sql);
        for _ in 0..args {
            q = q.bind(0_i64);
        }
        let rows = q.fetch_all(&s.reader).await.unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ")
    }

    #[tokio::test]
    async fn sweeper_and_lookups_use_their_indexes() {
        let s = Sqlite::temporary().await.unwrap();
        let due = plan(&s, &due_steps_sql(), 2).await;
        assert!(due.contains("INDEX steps_due"), "{due}");
        let overdue = plan(&s, &overdue_runs_sql(), 2).await;
        assert!(overdue.contains("INDEX runs_deadline"), "{overdue}");
        let token = plan(
            &s,
            &format!("SELECT {STEP_COLS} FROM steps WHERE resume_token = ?"),
            1,
        )
        .await;
        assert!(token.contains("INDEX steps_resume_token"), "{token}");
        let by_wf = "SELECT id FROM runs WHERE tenant_id = ? AND workflow_id = ? AND id < ? ORDER BY id DESC LIMIT ?";
        let by_wf = plan(&s, by_wf, 4).await;
        assert!(
            by_wf.contains("INDEX runs_by_workflow") && !by_wf.contains("TEMP B-TREE"),
            "{by_wf}"
        );
    }
}
