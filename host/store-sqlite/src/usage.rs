//! Usage counters on SQLite (`usage`): counted in the commit's transaction
//! (`docs/TENANCY.md`, section 5), read by the reports and the quota check.

use crate::error::db;
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use weft_store::Commit;
use weft_store::usage::{Increments, PEAK_MEMORY, UsageRow, UsageStore, saturating_add_sql};
use weft_types::Attempt;

/// A finished attempt of a commit, without its payloads, and its run's
/// workflow when the commit writes the run.
pub(crate) struct Finishing {
    attempt: Attempt,
    workflow: Option<String>,
}

/// The commit's finished attempts, taken on the caller's thread.
pub(crate) fn finishing(c: &Commit) -> Vec<Finishing> {
    c.attempts
        .iter()
        .filter(|a| a.finished_at.is_some())
        .map(|a| Finishing {
            attempt: Attempt {
                input: None,
                output: None,
                error: None,
                logs: Vec::new(),
                ..a.clone()
            },
            workflow: Increments::workflow_in(c, &a.tenant_id, &a.run_id).map(str::to_owned),
        })
        .collect()
}

/// Adds to `inc` the attempts not stored finished yet. Runs in the commit's
/// transaction, before the attempts are written.
pub(crate) fn count_attempts(
    conn: &Connection,
    finishing: &[Finishing],
    inc: &mut Increments,
) -> Result<()> {
    const DONE: &str = "SELECT finished_at IS NOT NULL AS done FROM attempts \
        WHERE tenant_id = ? AND run_id = ? AND step_key = ? AND attempt = ?";
    const WORKFLOW: &str = "SELECT workflow_id FROM runs WHERE tenant_id = ? AND id = ?";
    for f in finishing {
        let a = &f.attempt;
        let done = optional(
            conn,
            DONE,
            params![a.tenant_id, a.run_id, a.step_key, i64::from(a.attempt)],
            |row| Cols::new(row, "attempts").get::<bool>("done"),
        )?;
        if done == Some(true) {
            continue;
        }
        let workflow = match &f.workflow {
            Some(w) => w.clone(),
            None => optional(conn, WORKFLOW, params![a.tenant_id, a.run_id], |row| {
                Cols::new(row, "runs").get::<String>("workflow_id")
            })?
            .unwrap_or_default(),
        };
        inc.attempt(a, &workflow);
    }
    Ok(())
}

/// Writes the increments: one statement for all of them.
pub(crate) fn write(conn: &Connection, inc: &Increments) -> Result<()> {
    if inc.is_empty() {
        return Ok(());
    }
    let mut sql =
        String::from("INSERT INTO usage (tenant_id, day, workflow_id, counter, value) VALUES ");
    let mut values: Vec<Value> = Vec::with_capacity(inc.0.len() * 5);
    for (i, ((t, d, w, c), v)) in inc.0.iter().enumerate() {
        sql.push_str(if i == 0 {
            "(?, ?, ?, ?, ?)"
        } else {
            ", (?, ?, ?, ?, ?)"
        });
        values.extend([
            t.clone().into(),
            d.clone().into(),
            w.clone().into(),
            c.clone().into(),
            (*v).into(),
        ]);
    }
    // The sums saturate at i64::MAX: an overflow would fail the commit
    // (SQLite turns it into a REAL the STRICT column refuses).
    sql.push_str(&format!(
        " ON CONFLICT (tenant_id, day, workflow_id, counter) DO UPDATE SET value = \
         CASE WHEN counter = '{PEAK_MEMORY}' THEN max(value, excluded.value) \
         ELSE {} END",
        saturating_add_sql("usage")
    ));
    execute(conn, &sql, params_from_iter(values)).map_err(db)?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> Result<UsageRow> {
    let c = Cols::new(r, "usage");
    Ok(UsageRow {
        tenant_id: c.get("tenant_id")?,
        day: c.get("day")?,
        workflow_id: c.get("workflow_id")?,
        counter: c.get("counter")?,
        value: c.get("value")?,
    })
}

#[async_trait]
impl UsageStore for Sqlite {
    async fn usage(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        const SQL: &str = "SELECT tenant_id, day, workflow_id, counter, value FROM usage \
            WHERE tenant_id = ? AND day >= ? AND day <= ? ORDER BY day, workflow_id, counter";
        let (tenant, from, to) = (tenant.to_owned(), from.to_owned(), to.to_owned());
        self.read(move |conn| all(conn, SQL, params![tenant, from, to], row))
            .await
    }

    async fn usage_all(&self, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        const SQL: &str = "SELECT tenant_id, day, workflow_id, counter, value FROM usage \
            WHERE day >= ? AND day <= ? ORDER BY tenant_id, day, workflow_id, counter";
        let (from, to) = (from.to_owned(), to.to_owned());
        self.read(move |conn| all(conn, SQL, params![from, to], row))
            .await
    }
}
