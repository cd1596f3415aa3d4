//! Usage counters on PostgreSQL (`usage`): counted in the commit's
//! transaction (`docs/TENANCY.md`, section 5), read by the reports and the
//! quota check.

use crate::Postgres;
use crate::row::{Cols, unavailable};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres as Pg, Transaction};
use weft_store::usage::{Increments, UsageRow, UsageStore};
use weft_store::{Commit, Result};

/// The commit's counters: the runs it inserts, and its finished attempts not
/// stored finished yet. Runs in the commit's transaction, before the
/// attempts are written; the attempt row is locked, so a concurrent commit of
/// the same attempt waits and then sees it finished.
pub(crate) async fn count(tx: &mut Transaction<'_, Pg>, c: &Commit) -> Result<Increments> {
    let mut inc = Increments::runs(c);
    for a in c.attempts.iter().filter(|a| a.finished_at.is_some()) {
        let done: Option<bool> = sqlx::query_scalar(
            "SELECT finished_at IS NOT NULL FROM attempts WHERE tenant_id = $1 AND run_id = $2 \
             AND step_key = $3 AND attempt = $4 FOR UPDATE",
        )
        .bind(&a.tenant_id)
        .bind(&a.run_id)
        .bind(&a.step_key)
        .bind(i64::from(a.attempt))
        .fetch_optional(&mut **tx)
        .await
        .map_err(unavailable)?;
        if done == Some(true) {
            continue;
        }
        let workflow = match Increments::workflow_in(c, &a.tenant_id, &a.run_id) {
            Some(w) => w.to_owned(),
            None => sqlx::query_scalar::<_, String>(
                "SELECT workflow_id FROM runs WHERE tenant_id = $1 AND id = $2",
            )
            .bind(&a.tenant_id)
            .bind(&a.run_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(unavailable)?
            .unwrap_or_default(),
        };
        inc.attempt(a, &workflow);
    }
    Ok(inc)
}

/// The counter rows' shards (migration 0018): concurrent commits of one
/// workflow add to different rows, so they do not wait for each other's
/// row lock (held until COMMIT, across the WAL flush).
const SHARDS: u32 = 16;

/// The shard a commit adds to: from its first run's id (FNV-1a), so that
/// concurrent runs spread over the shards.
fn shard(c: &Commit) -> i16 {
    let id = c
        .runs
        .first()
        .map(|(r, _)| r.id.as_str())
        .or_else(|| c.attempts.first().map(|a| a.run_id.as_str()))
        .unwrap_or_default();
    let h = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    // Below SHARDS (16): always fits.
    i16::try_from(h % SHARDS).unwrap_or(0)
}

/// Writes the increments: one statement for all of them, into the commit's
/// shard.
pub(crate) async fn write(
    tx: &mut Transaction<'_, Pg>,
    c: &Commit,
    inc: &Increments,
) -> Result<()> {
    if inc.is_empty() {
        return Ok(());
    }
    let shard = shard(c);
    let n = inc.0.len();
    let (mut t, mut d, mut w, mut c, mut v) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for ((tenant, day, workflow, counter), value) in &inc.0 {
        t.push(tenant.as_str());
        d.push(day.as_str());
        w.push(workflow.as_str());
        c.push(counter.as_str());
        v.push(*value);
    }
    // The sums saturate at i64::MAX: an overflow ("bigint out of range")
    // would fail the commit.
    // (`weft_store::usage::saturating_add_sql`, written out: sqlx takes
    // only static SQL.)
    sqlx::query(
        "INSERT INTO usage (tenant_id, day, workflow_id, counter, value, shard) \
         SELECT *, $6::smallint FROM \
         UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) \
         ON CONFLICT (tenant_id, day, workflow_id, counter, shard) DO UPDATE SET value = \
         CASE WHEN usage.counter = 'peak_memory_bytes' \
         THEN GREATEST(usage.value, EXCLUDED.value) \
         WHEN usage.value > 9223372036854775807 - EXCLUDED.value THEN 9223372036854775807 \
         ELSE usage.value + EXCLUDED.value END",
    )
    .bind(t)
    .bind(d)
    .bind(w)
    .bind(c)
    .bind(v)
    .bind(shard)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    Ok(())
}

/// A counter's value over its shards: the maximum for `peak_memory_bytes`,
/// else the sum, saturating at `i64::MAX` like the writes.
macro_rules! summed {
    () => {
        "CASE WHEN counter = 'peak_memory_bytes' THEN MAX(value) \
         ELSE LEAST(SUM(value), 9223372036854775807)::BIGINT END"
    };
}

fn row(r: &PgRow) -> Result<UsageRow> {
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
impl UsageStore for Postgres {
    async fn usage(&self, tenant: &str, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(concat!(
            "SELECT tenant_id, day, workflow_id, counter, ",
            summed!(),
            " AS value FROM usage WHERE tenant_id = $1 AND day >= $2 AND day <= $3 \
                 GROUP BY tenant_id, day, workflow_id, counter \
                 ORDER BY day, workflow_id, counter"
        ))
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(unavailable)?;
        rows.iter().map(row).collect()
    }

    async fn usage_all(&self, from: &str, to: &str) -> Result<Vec<UsageRow>> {
        let rows = sqlx::query(concat!(
            "SELECT tenant_id, day, workflow_id, counter, ",
            summed!(),
            " AS value FROM usage WHERE day >= $1 AND day <= $2 \
                 GROUP BY tenant_id, day, workflow_id, counter \
                 ORDER BY tenant_id, day, workflow_id, counter"
        ))
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(unavailable)?;
        rows.iter().map(row).collect()
    }
}
