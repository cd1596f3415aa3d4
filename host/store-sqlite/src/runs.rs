//! Runs, steps and the attempt journal: their rows, and `commit`.

use crate::error::{begin, db, db_or_missing, finish};
use crate::row::{Cols, json, opt_json};
use crate::{Error, Result, Sqlite};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use weft_store::{Commit, ScheduleAdvance};
use weft_types::{Attempt, Parent, Run, Step};

pub(crate) const RUN_COLS: &str = "tenant_id, id, workflow_id, version, status, trigger_kind, \
    input, output, error, response, parent_run_id, parent_step_key, depth, deadline_at, seq, \
    created_at, updated_at, finished_at";
pub(crate) const STEP_COLS: &str = "tenant_id, run_id, key, status, attempt, input, output, \
    error, due_at, resume_token, child_run_id, created_at, updated_at";
pub(crate) const ATTEMPT_COLS: &str = "tenant_id, run_id, step_key, attempt, idempotency_key, \
    status, input, output, error, usage, started_at, finished_at";

pub(crate) fn run(row: &SqliteRow) -> Result<Run> {
    let c = Cols::new(row, "runs");
    let parent_run: Option<String> = c.get("parent_run_id")?;
    let parent_step: Option<String> = c.get("parent_step_key")?;
    Ok(Run {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        workflow_id: c.get("workflow_id")?,
        version: c.u32("version")?,
        status: c.parse("status")?,
        trigger: c.parse("trigger_kind")?,
        input: c.json("input")?,
        output: c.opt_json("output")?,
        error: c.opt_json("error")?,
        response: c.opt_json("response")?,
        parent: parent_run.map(|run_id| Parent {
            run_id,
            step_key: parent_step.unwrap_or_default(),
        }),
        depth: c.u32("depth")?,
        deadline_at: c.get("deadline_at")?,
        seq: c.get("seq")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
        finished_at: c.get("finished_at")?,
    })
}

pub(crate) fn step(row: &SqliteRow) -> Result<Step> {
    let c = Cols::new(row, "steps");
    Ok(Step {
        tenant_id: c.get("tenant_id")?,
        run_id: c.get("run_id")?,
        key: c.get("key")?,
        status: c.parse("status")?,
        attempt: c.u32("attempt")?,
        input: c.opt_json("input")?,
        output: c.opt_json("output")?,
        error: c.opt_json("error")?,
        due_at: c.get("due_at")?,
        resume_token: c.get("resume_token")?,
        child_run_id: c.get("child_run_id")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

pub(crate) fn attempt(row: &SqliteRow) -> Result<Attempt> {
    let c = Cols::new(row, "attempts");
    Ok(Attempt {
        tenant_id: c.get("tenant_id")?,
        run_id: c.get("run_id")?,
        step_key: c.get("step_key")?,
        attempt: c.u32("attempt")?,
        idempotency_key: c.get("idempotency_key")?,
        status: c.parse("status")?,
        input: c.opt_json("input")?,
        output: c.opt_json("output")?,
        error: c.opt_json("error")?,
        usage: c.opt_json("usage")?,
        started_at: c.get("started_at")?,
        finished_at: c.get("finished_at")?,
    })
}

/// One transaction: conditional run updates, run inserts, step and attempt
/// upserts, the schedule advance. Any failure rolls everything back.
pub(crate) async fn commit(s: &Sqlite, c: &Commit) -> Result<()> {
    for (r, expected) in &c.runs {
        if let Some(e) = expected
            && r.seq <= *e
        {
            return Err(Error::Conflict(format!(
                "run {}: seq {} is not after {e}",
                r.id, r.seq
            )));
        }
    }
    let mut tx = begin(&s.writer).await?;
    let result = apply(&mut tx, c).await;
    finish(tx, result).await
}

async fn apply(conn: &mut SqliteConnection, c: &Commit) -> Result<()> {
    for (r, expected) in &c.runs {
        match expected {
            Some(seq) => update_run(conn, r, *seq).await?,
            None => insert_run(conn, r).await?,
        }
    }
    for st in &c.steps {
        upsert_step(conn, st).await?;
    }
    for a in &c.attempts {
        upsert_attempt(conn, a).await?;
    }
    if let Some(adv) = &c.schedule {
        advance(conn, adv).await?;
    }
    Ok(())
}

/// The run's columns after the key, in `RUN_COLS` order.
fn bind_run<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    r: &'q Run,
) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>> {
    Ok(q.bind(&r.workflow_id)
        .bind(i64::from(r.version))
        .bind(r.status.as_str())
        .bind(r.trigger.as_str())
        .bind(json("runs", "input", &r.input)?)
        .bind(opt_json("runs", "output", r.output.as_ref())?)
        .bind(opt_json("runs", "error", r.error.as_ref())?)
        .bind(opt_json("runs", "response", r.response.as_ref())?)
        .bind(r.parent.as_ref().map(|p| p.run_id.as_str()))
        .bind(r.parent.as_ref().map(|p| p.step_key.as_str()))
        .bind(i64::from(r.depth))
        .bind(r.deadline_at)
        .bind(r.seq)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.finished_at))
}

async fn insert_run(conn: &mut SqliteConnection, r: &Run) -> Result<()> {
    let sql = format!(
        "INSERT INTO runs ({RUN_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let q = sqlx::query(&sql).bind(&r.tenant_id).bind(&r.id);
    bind_run(q, r)?
        .execute(conn)
        .await
        .map_err(|e| match db(e) {
            Error::Conflict(_) => Error::Conflict(format!("run {} exists", r.id)),
            other => other,
        })?;
    Ok(())
}

async fn update_run(conn: &mut SqliteConnection, r: &Run, expected: i64) -> Result<()> {
    const SQL: &str = "UPDATE runs SET workflow_id = ?, version = ?, status = ?, \
        trigger_kind = ?, input = ?, output = ?, error = ?, response = ?, parent_run_id = ?, \
        parent_step_key = ?, depth = ?, deadline_at = ?, seq = ?, created_at = ?, \
        updated_at = ?, finished_at = ? WHERE tenant_id = ? AND id = ? AND seq = ?";
    let done = bind_run(sqlx::query(SQL), r)?
        .bind(&r.tenant_id)
        .bind(&r.id)
        .bind(expected)
        .execute(conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "run {} moved on from seq {expected}",
            r.id
        )));
    }
    Ok(())
}

async fn upsert_step(conn: &mut SqliteConnection, st: &Step) -> Result<()> {
    let sql = format!(
        "INSERT INTO steps ({STEP_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, run_id, key) DO UPDATE SET status = excluded.status, \
         attempt = excluded.attempt, input = excluded.input, output = excluded.output, \
         error = excluded.error, due_at = excluded.due_at, \
         resume_token = excluded.resume_token, child_run_id = excluded.child_run_id, \
         created_at = excluded.created_at, updated_at = excluded.updated_at"
    );
    sqlx::query(&sql)
        .bind(&st.tenant_id)
        .bind(&st.run_id)
        .bind(&st.key)
        .bind(st.status.as_str())
        .bind(i64::from(st.attempt))
        .bind(opt_json("steps", "input", st.input.as_ref())?)
        .bind(opt_json("steps", "output", st.output.as_ref())?)
        .bind(opt_json("steps", "error", st.error.as_ref())?)
        .bind(st.due_at)
        .bind(st.resume_token.as_deref())
        .bind(st.child_run_id.as_deref())
        .bind(st.created_at)
        .bind(st.updated_at)
        .execute(conn)
        .await
        .map_err(db_or_missing("run"))?;
    Ok(())
}

async fn upsert_attempt(conn: &mut SqliteConnection, a: &Attempt) -> Result<()> {
    let sql = format!(
        "INSERT INTO attempts ({ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, run_id, step_key, attempt) DO UPDATE SET \
         idempotency_key = excluded.idempotency_key, status = excluded.status, \
         input = excluded.input, output = excluded.output, error = excluded.error, \
         usage = excluded.usage, started_at = excluded.started_at, \
         finished_at = excluded.finished_at"
    );
    sqlx::query(&sql)
        .bind(&a.tenant_id)
        .bind(&a.run_id)
        .bind(&a.step_key)
        .bind(i64::from(a.attempt))
        .bind(&a.idempotency_key)
        .bind(a.status.as_str())
        .bind(opt_json("attempts", "input", a.input.as_ref())?)
        .bind(opt_json("attempts", "output", a.output.as_ref())?)
        .bind(opt_json("attempts", "error", a.error.as_ref())?)
        .bind(opt_json("attempts", "usage", a.usage.as_ref())?)
        .bind(a.started_at)
        .bind(a.finished_at)
        .execute(conn)
        .await
        .map_err(db_or_missing("step"))?;
    Ok(())
}

async fn advance(conn: &mut SqliteConnection, adv: &ScheduleAdvance) -> Result<()> {
    let done = sqlx::query(
        "UPDATE schedules SET next_fire_at = ? \
         WHERE tenant_id = ? AND workflow_id = ? AND next_fire_at = ?",
    )
    .bind(adv.next)
    .bind(&adv.tenant_id)
    .bind(&adv.workflow_id)
    .bind(adv.expected)
    .execute(conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!(
            "the schedule of {} moved on from {}",
            adv.workflow_id, adv.expected
        )));
    }
    Ok(())
}
