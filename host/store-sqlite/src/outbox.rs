//! The outbox table and the active-runs count.

use crate::error::db;
use crate::row::{Cols, all, execute, unfinished};
use crate::{Result, Sqlite};
use rusqlite::{Connection, params};
use weft_store::OutboxEntry;

/// Written inside a commit's transaction.
pub(crate) fn insert(conn: &Connection, e: &OutboxEntry) -> Result<()> {
    const SQL: &str = "INSERT INTO outbox \
        (id, tenant_id, run_id, step_key, attempt, due_at, created_at, claimed_until) \
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    execute(
        conn,
        SQL,
        params![
            e.id,
            e.tenant_id,
            e.run_id,
            e.step_key,
            i64::from(e.attempt),
            e.due_at,
            e.created_at,
            e.claimed_until
        ],
    )
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn claim(
    s: &Sqlite,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> Result<Vec<OutboxEntry>> {
    // One writer thread: selecting then updating in one closure is atomic.
    const SQL: &str = "UPDATE outbox SET claimed_until = ?1 WHERE id IN \
        (SELECT id FROM outbox WHERE claimed_until <= ?2 ORDER BY created_at, id LIMIT ?3) \
        RETURNING id, tenant_id, run_id, step_key, attempt, due_at, created_at, claimed_until";
    let until = now.saturating_add(lease_ms);
    let limit = i64::from(limit);
    s.write(move |conn| {
        let mut v = all(conn, SQL, params![until, now, limit], |row| {
            let c = Cols::new(row, "outbox");
            let attempt: i64 = c.get("attempt")?;
            Ok(OutboxEntry {
                id: c.get("id")?,
                tenant_id: c.get("tenant_id")?,
                run_id: c.get("run_id")?,
                step_key: c.get("step_key")?,
                attempt: u32::try_from(attempt)
                    .map_err(|e| crate::error::corrupt("outbox", "attempt", e))?,
                due_at: c.get("due_at")?,
                created_at: c.get("created_at")?,
                claimed_until: c.get("claimed_until")?,
            })
        })?;
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    })
    .await
}

pub(crate) async fn delete(s: &Sqlite, ids: &[String]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids = ids.to_vec();
    s.write(move |conn| {
        crate::error::immediate(conn, |tx| {
            for id in &ids {
                execute(tx, "DELETE FROM outbox WHERE id = ?", params![id]).map_err(db)?;
            }
            Ok(())
        })
    })
    .await
}

pub(crate) async fn oldest(s: &Sqlite) -> Result<Option<i64>> {
    const SQL: &str = "SELECT MIN(created_at) AS at FROM outbox";
    s.read(|conn| {
        let v = all(conn, SQL, [], |row| Cols::new(row, "outbox").get("at"))?;
        Ok(v.into_iter().next().flatten())
    })
    .await
}

/// Counted on `runs_by_status`, one range per unfinished status: as many
/// index entries as the tenant has unfinished runs (`NOT IN` the terminal
/// ones read every run the tenant ever had).
pub(crate) async fn active_runs(s: &Sqlite, tenant: &str) -> Result<u64> {
    const SQL: &str = concat!(
        "SELECT COUNT(*) AS n FROM runs WHERE tenant_id = ? AND status IN ",
        unfinished!()
    );
    let tenant = tenant.to_owned();
    s.read(move |conn| {
        let v: Vec<i64> = all(conn, SQL, params![tenant], |row| {
            Cols::new(row, "runs").get("n")
        })?;
        Ok(v.into_iter()
            .next()
            .map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    })
    .await
}
