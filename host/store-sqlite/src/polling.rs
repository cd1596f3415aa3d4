//! `impl PollingStore for Sqlite`, and the [`PollAdvance`] a commit writes.

use crate::error::db;
use crate::row::{Cols, all, execute, optional};
use crate::{Error, Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use weft_store::polling::{PollAdvance, PollState, PollingStore, SEEN_KEYS_KEPT};

macro_rules! cols {
    () => {
        "tenant_id, workflow_id, armed, cursor, next_poll_at, seq, last_poll_at, \
         last_success_at, last_error, failures"
    };
}

fn state(row: &Row<'_>) -> Result<PollState> {
    let c = Cols::new(row, "poll_states");
    Ok(PollState {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        armed: c.get("armed")?,
        cursor: c.get("cursor")?,
        next_poll_at: c.get("next_poll_at")?,
        seq: c.get("seq")?,
        last_poll_at: c.get("last_poll_at")?,
        last_success_at: c.get("last_success_at")?,
        last_error: c.get("last_error")?,
        failures: c.get("failures")?,
    })
}

fn read_state(conn: &Connection, tenant: &str, workflow: &str) -> Result<Option<PollState>> {
    const SQL: &str = concat!(
        "SELECT ",
        cols!(),
        " FROM poll_states WHERE tenant_id = ? AND workflow_id = ?"
    );
    optional(conn, SQL, params![tenant, workflow], state)
}

/// Writes a poll's advance inside a commit's transaction: `Stale` (and the
/// whole commit rolled back) when the row's `seq` moved on.
pub(crate) fn advance(conn: &Connection, p: &PollAdvance) -> Result<()> {
    const UPDATE: &str = "UPDATE poll_states SET seq = seq + 1, cursor = ?, next_poll_at = ?, \
        last_poll_at = ?, last_success_at = ?, last_error = NULL, failures = 0 \
        WHERE tenant_id = ? AND workflow_id = ? AND seq = ?";
    const NEXT: &str = "SELECT COALESCE(MAX(ord), 0) FROM poll_seen \
        WHERE tenant_id = ? AND workflow_id = ?";
    const SEE: &str = "INSERT OR IGNORE INTO poll_seen \
        (tenant_id, workflow_id, item_key, ord, seen_at) VALUES (?, ?, ?, ?, ?)";
    const PRUNE: &str = "DELETE FROM poll_seen WHERE tenant_id = ? AND workflow_id = ? \
        AND ord <= ?";
    let changed = execute(
        conn,
        UPDATE,
        params![
            p.cursor,
            p.next_poll_at,
            p.polled_at,
            p.polled_at,
            p.tenant_id,
            p.workflow_id,
            p.expected_seq
        ],
    )
    .map_err(db)?;
    if changed == 0 {
        return Err(Error::Stale(format!(
            "the poll of workflow {} moved on",
            p.workflow_id
        )));
    }
    if p.keys.is_empty() {
        return Ok(());
    }
    let mut ord: i64 = conn
        .prepare_cached(NEXT)
        .and_then(|mut s| s.query_row(params![p.tenant_id, p.workflow_id], |r| r.get(0)))
        .map_err(db)?;
    for k in &p.keys {
        ord += 1;
        execute(
            conn,
            SEE,
            params![p.tenant_id, p.workflow_id, k, ord, p.polled_at],
        )
        .map_err(db)?;
    }
    let keep = i64::try_from(SEEN_KEYS_KEPT).unwrap_or(i64::MAX);
    execute(
        conn,
        PRUNE,
        params![p.tenant_id, p.workflow_id, ord.saturating_sub(keep)],
    )
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl PollingStore for Sqlite {
    async fn poll_arm(&self, tenant: &str, workflow: &str, armed: bool, at: i64) -> Result<()> {
        // Arming a disarmed row makes it due at `at`; every change of
        // `armed` bumps `seq`, so a poll claimed before it cannot commit.
        const SQL: &str = "INSERT INTO poll_states \
            (tenant_id, workflow_id, armed, next_poll_at, seq, failures) \
            VALUES (?1, ?2, ?3, ?4, 1, 0) \
            ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET \
            next_poll_at = CASE WHEN excluded.armed AND NOT poll_states.armed \
                THEN excluded.next_poll_at ELSE poll_states.next_poll_at END, \
            seq = poll_states.seq + 1, armed = excluded.armed \
            WHERE poll_states.armed <> excluded.armed";
        let (t, w) = (tenant.to_owned(), workflow.to_owned());
        self.write(move |conn| {
            execute(conn, SQL, params![t, w, armed, at]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn poll_state(&self, tenant: &str, workflow: &str) -> Result<Option<PollState>> {
        let (t, w) = (tenant.to_owned(), workflow.to_owned());
        self.read(move |conn| read_state(conn, &t, &w)).await
    }

    async fn due_polls(&self, at: i64, limit: u32) -> Result<Vec<PollState>> {
        const SQL: &str = concat!(
            "SELECT ",
            cols!(),
            " FROM poll_states WHERE armed = 1 AND next_poll_at <= ? \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = poll_states.tenant_id \
             AND json_extract(t.state, '$.state') <> 'active') \
             ORDER BY next_poll_at, tenant_id, workflow_id LIMIT ?"
        );
        self.read(move |conn| all(conn, SQL, params![at, limit], state))
            .await
    }

    async fn poll_claim(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        until: i64,
    ) -> Result<PollState> {
        const SQL: &str = "UPDATE poll_states SET seq = seq + 1, next_poll_at = ? \
            WHERE tenant_id = ? AND workflow_id = ? AND seq = ? AND armed = 1";
        let (t, w) = (tenant.to_owned(), workflow.to_owned());
        self.write(move |conn| {
            let n = execute(conn, SQL, params![until, t, w, expected_seq]).map_err(db)?;
            let row = read_state(conn, &t, &w)?.ok_or(Error::NotFound("poll"))?;
            if n == 0 {
                return Err(Error::Stale(format!("the poll of workflow {w} was taken")));
            }
            Ok(row)
        })
        .await
    }

    async fn poll_seen(
        &self,
        tenant: &str,
        workflow: &str,
        keys: &[String],
    ) -> Result<Vec<String>> {
        const SQL: &str = "SELECT item_key FROM poll_seen \
            WHERE tenant_id = ? AND workflow_id = ? AND item_key = ?";
        let (t, w, keys) = (tenant.to_owned(), workflow.to_owned(), keys.to_vec());
        self.read(move |conn| {
            let mut out = Vec::new();
            for k in keys {
                let hit = optional(conn, SQL, params![t, w, k], |r| {
                    r.get::<_, String>(0).map_err(db)
                })?;
                out.extend(hit);
            }
            Ok(out)
        })
        .await
    }

    async fn poll_failed(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        at: i64,
        error: &str,
        next_poll_at: i64,
    ) -> Result<()> {
        const SQL: &str = "UPDATE poll_states SET seq = seq + 1, last_poll_at = ?, \
            last_error = ?, failures = failures + 1, next_poll_at = ? \
            WHERE tenant_id = ? AND workflow_id = ? AND seq = ?";
        let (t, w, e) = (tenant.to_owned(), workflow.to_owned(), error.to_owned());
        self.write(move |conn| {
            let n =
                execute(conn, SQL, params![at, e, next_poll_at, t, w, expected_seq]).map_err(db)?;
            if n == 0 {
                return Err(Error::Stale(format!("the poll of workflow {w} moved on")));
            }
            Ok(())
        })
        .await
    }
}
