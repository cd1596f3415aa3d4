//! `impl PollingStore for Postgres`, and the [`PollAdvance`] a commit writes.

use crate::Postgres;
use crate::row::{Cols, unavailable};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres as Pg, Row as _, Transaction};
use weft_store::polling::{PollAdvance, PollState, PollingStore, SEEN_KEYS_KEPT};
use weft_store::{Error, Result};

const COLS: &str = "tenant_id, workflow_id, armed, cursor, next_poll_at, seq, last_poll_at, \
    last_success_at, last_error, failures";

fn state(row: &PgRow) -> Result<PollState> {
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
        failures: c.u32("failures")?,
    })
}

/// Writes a poll's advance inside a commit's transaction: `Stale` (and the
/// whole commit rolled back) when the row's `seq` moved on.
pub(crate) async fn advance(tx: &mut Transaction<'_, Pg>, p: &PollAdvance) -> Result<()> {
    let done = sqlx::query(
        "UPDATE poll_states SET seq = seq + 1, cursor = $1, next_poll_at = $2, \
         last_poll_at = $3, last_success_at = $3, last_error = NULL, failures = 0 \
         WHERE tenant_id = $4 AND workflow_id = $5 AND seq = $6",
    )
    .bind(&p.cursor)
    .bind(p.next_poll_at)
    .bind(p.polled_at)
    .bind(&p.tenant_id)
    .bind(&p.workflow_id)
    .bind(p.expected_seq)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    if done.rows_affected() == 0 {
        return Err(Error::Stale(format!(
            "the poll of workflow {} moved on",
            p.workflow_id
        )));
    }
    if p.keys.is_empty() {
        return Ok(());
    }
    // The row update above holds the row's lock until COMMIT, so two
    // commits of one workflow never number their keys at once.
    let mut ord: i64 = sqlx::query(
        "SELECT COALESCE(MAX(ord), 0)::BIGINT FROM poll_seen \
         WHERE tenant_id = $1 AND workflow_id = $2",
    )
    .bind(&p.tenant_id)
    .bind(&p.workflow_id)
    .fetch_one(&mut **tx)
    .await
    .map_err(unavailable)?
    .try_get(0)
    .map_err(unavailable)?;
    for k in &p.keys {
        ord += 1;
        sqlx::query(
            "INSERT INTO poll_seen (tenant_id, workflow_id, item_key, ord, seen_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&p.tenant_id)
        .bind(&p.workflow_id)
        .bind(k)
        .bind(ord)
        .bind(p.polled_at)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    }
    let keep = i64::try_from(SEEN_KEYS_KEPT).unwrap_or(i64::MAX);
    sqlx::query("DELETE FROM poll_seen WHERE tenant_id = $1 AND workflow_id = $2 AND ord <= $3")
        .bind(&p.tenant_id)
        .bind(&p.workflow_id)
        .bind(ord.saturating_sub(keep))
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    Ok(())
}

#[async_trait]
impl PollingStore for Postgres {
    async fn poll_arm(&self, tenant: &str, workflow: &str, armed: bool, at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO poll_states \
             (tenant_id, workflow_id, armed, next_poll_at, seq, failures) \
             VALUES ($1, $2, $3, $4, 1, 0) \
             ON CONFLICT (tenant_id, workflow_id) DO UPDATE SET \
             next_poll_at = CASE WHEN excluded.armed AND NOT poll_states.armed \
                 THEN excluded.next_poll_at ELSE poll_states.next_poll_at END, \
             seq = poll_states.seq + 1, armed = excluded.armed \
             WHERE poll_states.armed <> excluded.armed",
        )
        .bind(tenant)
        .bind(workflow)
        .bind(armed)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn poll_state(&self, tenant: &str, workflow: &str) -> Result<Option<PollState>> {
        let sql =
            format!("SELECT {COLS} FROM poll_states WHERE tenant_id = $1 AND workflow_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .bind(workflow)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(state)
            .transpose()
    }

    async fn due_polls(&self, at: i64, n: u32) -> Result<Vec<PollState>> {
        let sql = format!(
            "SELECT {COLS} FROM poll_states WHERE armed AND next_poll_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = poll_states.tenant_id \
             AND (t.state::jsonb ->> 'state') <> 'active') \
             ORDER BY next_poll_at, tenant_id, workflow_id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(i64::from(n.clamp(1, 1000)))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(state).collect()
    }

    async fn poll_claim(
        &self,
        tenant: &str,
        workflow: &str,
        expected_seq: i64,
        until: i64,
    ) -> Result<PollState> {
        let sql = format!(
            "UPDATE poll_states SET seq = seq + 1, next_poll_at = $1 \
             WHERE tenant_id = $2 AND workflow_id = $3 AND seq = $4 AND armed \
             RETURNING {COLS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(until)
            .bind(tenant)
            .bind(workflow)
            .bind(expected_seq)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        match row {
            Some(r) => state(&r),
            None => match self.poll_state(tenant, workflow).await? {
                Some(_) => Err(Error::Stale(format!(
                    "the poll of workflow {workflow} was taken"
                ))),
                None => Err(Error::NotFound("poll")),
            },
        }
    }

    async fn poll_seen(
        &self,
        tenant: &str,
        workflow: &str,
        keys: &[String],
    ) -> Result<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT item_key FROM poll_seen \
             WHERE tenant_id = $1 AND workflow_id = $2 AND item_key = ANY($3)",
        )
        .bind(tenant)
        .bind(workflow)
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(unavailable))
            .collect()
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
        let done = sqlx::query(
            "UPDATE poll_states SET seq = seq + 1, last_poll_at = $1, last_error = $2, \
             failures = failures + 1, next_poll_at = $3 \
             WHERE tenant_id = $4 AND workflow_id = $5 AND seq = $6",
        )
        .bind(at)
        .bind(error)
        .bind(next_poll_at)
        .bind(tenant)
        .bind(workflow)
        .bind(expected_seq)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::Stale(format!(
                "the poll of workflow {workflow} moved on"
            )));
        }
        Ok(())
    }
}
