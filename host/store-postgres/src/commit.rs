//! One [`Commit`]: conditional run updates, run inserts, step and attempt
//! upserts, the schedule advance and the outbox rows, in one transaction.

// Dynamic SQL here is only ever built from the column lists in `row`, never
// from data: every value is a bind parameter.
use crate::row::{ATTEMPT, RUN, STEP, opt_text, text, unavailable, write_error};
use sqlx::{AssertSqlSafe, Postgres as Pg, Transaction};
use weft_store::{Commit, Error, OutboxEntry, Result, ScheduleAdvance};
use weft_types::{Attempt, Run, Step};

async fn insert_run(tx: &mut Transaction<'_, Pg>, r: &Run) -> Result<()> {
    let sql = format!(
        "INSERT INTO runs ({RUN}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    bind_run(sqlx::query(AssertSqlSafe(sql)), r)
        .execute(&mut **tx)
        .await
        .map_err(write_error("run", || format!("run {} exists", r.id)))?;
    Ok(())
}

async fn update_run(tx: &mut Transaction<'_, Pg>, r: &Run, expected: i64) -> Result<()> {
    const SQL: &str = "UPDATE runs SET tenant_id = $1, id = $2, workflow_id = $3, version = $4, \
        status = $5, trigger_kind = $6, input = $7, output = $8, error = $9, response = $10, \
        parent_run_id = $11, parent_step_key = $12, depth = $13, deadline_at = $14, seq = $15, \
        created_at = $16, updated_at = $17, finished_at = $18, until_step = $19 \
        WHERE tenant_id = $1 AND id = $2 AND seq = $20";
    let done = bind_run(sqlx::query(SQL), r)
        .bind(expected)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    if done.rows_affected() == 0 {
        return Err(Error::Stale(format!(
            "run {} moved on from seq {expected}",
            r.id
        )));
    }
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, Pg, sqlx::postgres::PgArguments>;

fn bind_run<'q>(q: Query<'q>, r: &'q Run) -> Query<'q> {
    q.bind(&r.tenant_id)
        .bind(&r.id)
        .bind(&r.workflow_id)
        .bind(i64::from(r.version))
        .bind(r.status.as_str())
        .bind(r.trigger.as_str())
        .bind(text(&r.input))
        .bind(opt_text(r.output.as_ref()))
        .bind(opt_text(r.error.as_ref()))
        .bind(opt_text(r.response.as_ref()))
        .bind(r.parent.as_ref().map(|p| p.run_id.as_str()))
        .bind(r.parent.as_ref().map(|p| p.step_key.as_str()))
        .bind(i64::from(r.depth))
        .bind(r.deadline_at)
        .bind(r.seq)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.finished_at)
        .bind(r.until.as_deref())
}

/// Every step row of the commit in one statement (one round trip, where a
/// statement per row cost one each). A key given twice keeps its last row,
/// as upserting them one after the other would.
async fn upsert_steps(tx: &mut Transaction<'_, Pg>, steps: &[Step]) -> Result<()> {
    let mut last: Vec<&Step> = Vec::with_capacity(steps.len());
    for s in steps {
        match last
            .iter_mut()
            .find(|k| (&k.tenant_id, &k.run_id, &k.key) == (&s.tenant_id, &s.run_id, &s.key))
        {
            Some(k) => *k = s,
            None => last.push(s),
        }
    }
    if last.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&Step) -> Option<String>| last.iter().map(|s| f(s)).collect::<Vec<_>>();
    let sql = format!(
        "INSERT INTO steps ({STEP}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
         $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::bigint[], \
         $10::text[], $11::text[], $12::bigint[], $13::bigint[]) \
         ON CONFLICT (tenant_id, run_id, key) DO UPDATE SET status = excluded.status, \
         attempt = excluded.attempt, input = excluded.input, output = excluded.output, \
         error = excluded.error, due_at = excluded.due_at, \
         resume_token = excluded.resume_token, child_run_id = excluded.child_run_id, \
         created_at = excluded.created_at, updated_at = excluded.updated_at"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(col(|s| Some(s.tenant_id.clone())))
        .bind(col(|s| Some(s.run_id.clone())))
        .bind(col(|s| Some(s.key.clone())))
        .bind(col(|s| Some(s.status.as_str().to_owned())))
        .bind(
            last.iter()
                .map(|s| i64::from(s.attempt))
                .collect::<Vec<_>>(),
        )
        .bind(col(|s| opt_text(s.input.as_ref())))
        .bind(col(|s| opt_text(s.output.as_ref())))
        .bind(col(|s| opt_text(s.error.as_ref())))
        .bind(last.iter().map(|s| s.due_at).collect::<Vec<_>>())
        .bind(col(|s| s.resume_token.clone()))
        .bind(col(|s| s.child_run_id.clone()))
        .bind(last.iter().map(|s| s.created_at).collect::<Vec<_>>())
        .bind(last.iter().map(|s| s.updated_at).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await
        .map_err(write_error("run", || {
            "a resume token of the commit's steps is taken".to_owned()
        }))?;
    Ok(())
}

async fn upsert_attempt(tx: &mut Transaction<'_, Pg>, a: &Attempt) -> Result<()> {
    let sql = format!(
        "INSERT INTO attempts ({ATTEMPT}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (tenant_id, run_id, step_key, attempt) DO UPDATE SET \
         idempotency_key = excluded.idempotency_key, status = excluded.status, \
         input = excluded.input, output = excluded.output, error = excluded.error, \
         usage = excluded.usage, logs = excluded.logs, started_at = excluded.started_at, \
         finished_at = excluded.finished_at, digest = excluded.digest"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&a.tenant_id)
        .bind(&a.run_id)
        .bind(&a.step_key)
        .bind(i64::from(a.attempt))
        .bind(&a.idempotency_key)
        .bind(a.status.as_str())
        .bind(opt_text(a.input.as_ref()))
        .bind(opt_text(a.output.as_ref()))
        .bind(opt_text(a.error.as_ref()))
        .bind(opt_text(a.usage.as_ref()))
        .bind(opt_text(Some(&a.logs)))
        .bind(a.started_at)
        .bind(a.finished_at)
        .bind(&a.digest)
        .execute(&mut **tx)
        .await
        .map_err(write_error("step", || "attempt conflict".into()))?;
    Ok(())
}

async fn advance(tx: &mut Transaction<'_, Pg>, a: &ScheduleAdvance) -> Result<()> {
    let done = sqlx::query(
        "UPDATE schedules SET next_fire_at = $1 \
         WHERE tenant_id = $2 AND workflow_id = $3 AND next_fire_at = $4",
    )
    .bind(a.next)
    .bind(&a.tenant_id)
    .bind(&a.workflow_id)
    .bind(a.expected)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    if done.rows_affected() == 0 {
        return Err(Error::Stale(format!(
            "the schedule of {} moved on from {}",
            a.workflow_id, a.expected
        )));
    }
    Ok(())
}

async fn insert_outbox(tx: &mut Transaction<'_, Pg>, e: &OutboxEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox \
         (id, tenant_id, run_id, step_key, attempt, due_at, created_at, claimed_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(&e.tenant_id)
    .bind(&e.run_id)
    .bind(&e.step_key)
    .bind(i64::from(e.attempt))
    .bind(e.due_at)
    .bind(e.created_at)
    .bind(e.claimed_until)
    .execute(&mut **tx)
    .await
    .map_err(write_error("run", || {
        format!("outbox entry {} exists", e.id)
    }))?;
    Ok(())
}

pub(crate) async fn apply(tx: &mut Transaction<'_, Pg>, c: &Commit) -> Result<()> {
    for (r, expected) in &c.runs {
        match expected {
            Some(e) if r.seq <= *e => {
                return Err(Error::Stale(format!(
                    "run {}: seq {} is not after {e}",
                    r.id, r.seq
                )));
            }
            Some(e) => update_run(tx, r, *e).await?,
            None => insert_run(tx, r).await?,
        }
    }
    upsert_steps(tx, &c.steps).await?;
    let usage = crate::usage::count(tx, c).await?;
    for a in &c.attempts {
        upsert_attempt(tx, a).await?;
    }
    if let Some(a) = &c.schedule {
        advance(tx, a).await?;
    }
    for e in &c.outbox {
        insert_outbox(tx, e).await?;
    }
    if let Some(d) = &c.delivery {
        crate::deliveries::insert(tx, d).await?;
    }
    if let Some(p) = &c.poll {
        crate::polling::advance(tx, p).await?;
    }
    let events = weft_store::notifications::events(c);
    crate::notifications::insert_events(tx, &events).await?;
    // Last, just before COMMIT: the counter rows are shared by the commits
    // of a workflow that day (spread over 16 shards by run), and the upsert
    // holds their lock until COMMIT.
    crate::usage::write(tx, c, &usage).await?;
    Ok(())
}
