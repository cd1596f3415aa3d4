//! Runs, steps and the attempt journal: their rows, and `commit`.

use crate::error::{db, db_or_missing, db_or_taken};
use crate::row::{Cols, execute, json, opt_json, opt_text};
use crate::{Error, Result, Sqlite};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};
use weft_store::{Commit, Delivery, OutboxEntry, ScheduleAdvance};
use weft_types::{Attempt, Parent, Run, Step};

// The columns of each table, in the order values are bound; macros so that
// every statement is one `concat!`ed literal (prepared once, cached by text).

/// The columns of `runs`.
macro_rules! run_cols {
    () => {
        "tenant_id, id, workflow_id, version, status, trigger_kind, input, output, error, \
         response, parent_run_id, parent_step_key, depth, deadline_at, seq, created_at, \
         updated_at, finished_at, until_step"
    };
}
/// The columns of `steps`.
macro_rules! step_cols {
    () => {
        "tenant_id, run_id, key, status, attempt, input, output, error, due_at, resume_token, \
         child_run_id, created_at, updated_at"
    };
}
/// The columns of `attempts`.
macro_rules! attempt_cols {
    () => {
        "tenant_id, run_id, step_key, attempt, idempotency_key, status, input, output, error, \
         usage, logs, started_at, finished_at, digest"
    };
}
pub(crate) use {attempt_cols, run_cols, step_cols};

pub(crate) fn run(row: &Row<'_>) -> Result<Run> {
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
        until: c.get("until_step")?,
    })
}

pub(crate) fn step(row: &Row<'_>) -> Result<Step> {
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

pub(crate) fn attempt(row: &Row<'_>) -> Result<Attempt> {
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
        logs: c.json("logs")?,
        digest: c.get("digest")?,
        started_at: c.get("started_at")?,
        finished_at: c.get("finished_at")?,
    })
}

/// A run written by a commit, encoded before it goes to the writer thread.
enum RunWrite {
    /// `tenant_id, id` then the other columns, in `run_cols!` order.
    Insert { id: String, values: Vec<Value> },
    /// The other columns, then `tenant_id, id` and the expected `seq`.
    Update {
        id: String,
        expected: i64,
        values: Vec<Value>,
    },
}

/// A [`Commit`] as bound values: JSON is serialized (and can fail) on the
/// caller's thread, the writer thread only runs SQL.
struct Encoded {
    runs: Vec<RunWrite>,
    steps: Vec<Vec<Value>>,
    attempts: Vec<Vec<Value>>,
    schedule: Option<ScheduleAdvance>,
    outbox: Vec<OutboxEntry>,
    delivery: Option<Delivery>,
    poll: Option<weft_store::polling::PollAdvance>,
    /// The runs it inserts, counted; its finished attempts, counted in the
    /// transaction if not stored finished yet.
    usage: weft_store::usage::Increments,
    finishing: Vec<crate::usage::Finishing>,
    /// The notification events it makes (`docs/TENANCY.md`, section 6).
    events: Vec<weft_store::notifications::RunEvent>,
}

/// One transaction (shared with the commits queued behind it, each in a
/// savepoint of its own: [`crate::group`]): conditional run updates, run
/// inserts, step and attempt upserts, the schedule advance. Any failure
/// rolls back everything this commit wrote, and nothing else.
pub(crate) async fn commit(s: &Sqlite, c: &Commit) -> Result<()> {
    let mut runs = Vec::with_capacity(c.runs.len());
    for (r, expected) in &c.runs {
        runs.push(match expected {
            Some(e) if r.seq <= *e => {
                return Err(Error::Stale(format!(
                    "run {}: seq {} is not after {e}",
                    r.id, r.seq
                )));
            }
            Some(e) => {
                let mut values = run_values(r)?;
                values.extend([r.tenant_id.clone().into(), r.id.clone().into(), (*e).into()]);
                RunWrite::Update {
                    id: r.id.clone(),
                    expected: *e,
                    values,
                }
            }
            None => {
                let mut values = vec![r.tenant_id.clone().into(), r.id.clone().into()];
                values.extend(run_values(r)?);
                RunWrite::Insert {
                    id: r.id.clone(),
                    values,
                }
            }
        });
    }
    let encoded = Encoded {
        runs,
        steps: c.steps.iter().map(step_values).collect::<Result<_>>()?,
        attempts: c
            .attempts
            .iter()
            .map(attempt_values)
            .collect::<Result<_>>()?,
        schedule: c.schedule.clone(),
        outbox: c.outbox.clone(),
        delivery: c.delivery.clone(),
        poll: c.poll.clone(),
        usage: weft_store::usage::Increments::runs(c),
        finishing: crate::usage::finishing(c),
        events: weft_store::notifications::events(c),
    };
    s.write_grouped(move |conn| apply(conn, &encoded)).await
}

fn apply(conn: &Connection, c: &Encoded) -> Result<()> {
    for r in &c.runs {
        match r {
            RunWrite::Insert { id, values } => insert_run(conn, id, values)?,
            RunWrite::Update {
                id,
                expected,
                values,
            } => update_run(conn, id, *expected, values)?,
        }
    }
    for st in &c.steps {
        upsert_step(conn, st)?;
    }
    let mut usage = c.usage.clone();
    crate::usage::count_attempts(conn, &c.finishing, &mut usage)?;
    for a in &c.attempts {
        upsert_attempt(conn, a)?;
    }
    if let Some(adv) = &c.schedule {
        advance(conn, adv)?;
    }
    for e in &c.outbox {
        crate::outbox::insert(conn, e)?;
    }
    if let Some(d) = &c.delivery {
        crate::deliveries::insert(conn, d)?;
    }
    if let Some(p) = &c.poll {
        crate::polling::advance(conn, p)?;
    }
    crate::notifications::insert_events(conn, &c.events)?;
    // Last, so the counter rows (shared by every commit of a workflow that
    // day) are locked for as little of the transaction as can be.
    crate::usage::write(conn, &usage)?;
    Ok(())
}

/// The run's columns after the key, in `run_cols!` order.
fn run_values(r: &Run) -> Result<Vec<Value>> {
    Ok(vec![
        r.workflow_id.clone().into(),
        i64::from(r.version).into(),
        r.status.as_str().to_owned().into(),
        r.trigger.as_str().to_owned().into(),
        json("runs", "input", &r.input)?.into(),
        opt_json("runs", "output", r.output.as_ref())?.into(),
        opt_json("runs", "error", r.error.as_ref())?.into(),
        opt_json("runs", "response", r.response.as_ref())?.into(),
        opt_text(r.parent.as_ref().map(|p| p.run_id.as_str())),
        opt_text(r.parent.as_ref().map(|p| p.step_key.as_str())),
        i64::from(r.depth).into(),
        r.deadline_at.into(),
        r.seq.into(),
        r.created_at.into(),
        r.updated_at.into(),
        r.finished_at.into(),
        opt_text(r.until.as_deref()),
    ])
}

/// A step's columns, in `step_cols!` order.
fn step_values(st: &Step) -> Result<Vec<Value>> {
    Ok(vec![
        st.tenant_id.clone().into(),
        st.run_id.clone().into(),
        st.key.clone().into(),
        st.status.as_str().to_owned().into(),
        i64::from(st.attempt).into(),
        opt_json("steps", "input", st.input.as_ref())?.into(),
        opt_json("steps", "output", st.output.as_ref())?.into(),
        opt_json("steps", "error", st.error.as_ref())?.into(),
        st.due_at.into(),
        opt_text(st.resume_token.as_deref()),
        opt_text(st.child_run_id.as_deref()),
        st.created_at.into(),
        st.updated_at.into(),
    ])
}

/// An attempt's columns, in `attempt_cols!` order.
fn attempt_values(a: &Attempt) -> Result<Vec<Value>> {
    Ok(vec![
        a.tenant_id.clone().into(),
        a.run_id.clone().into(),
        a.step_key.clone().into(),
        i64::from(a.attempt).into(),
        a.idempotency_key.clone().into(),
        a.status.as_str().to_owned().into(),
        opt_json("attempts", "input", a.input.as_ref())?.into(),
        opt_json("attempts", "output", a.output.as_ref())?.into(),
        opt_json("attempts", "error", a.error.as_ref())?.into(),
        opt_json("attempts", "usage", a.usage.as_ref())?.into(),
        json("attempts", "logs", &a.logs)?.into(),
        a.started_at.into(),
        a.finished_at.into(),
        a.digest.clone().into(),
    ])
}

fn insert_run(conn: &Connection, id: &str, values: &[Value]) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO runs (",
        run_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    execute(conn, SQL, params_from_iter(values))
        .map_err(db_or_taken(|| format!("run {id} exists")))?;
    Ok(())
}

fn update_run(conn: &Connection, id: &str, expected: i64, values: &[Value]) -> Result<()> {
    const SQL: &str = "UPDATE runs SET workflow_id = ?, version = ?, status = ?, \
        trigger_kind = ?, input = ?, output = ?, error = ?, response = ?, parent_run_id = ?, \
        parent_step_key = ?, depth = ?, deadline_at = ?, seq = ?, created_at = ?, \
        updated_at = ?, finished_at = ?, until_step = ? WHERE tenant_id = ? AND id = ? \
        AND seq = ?";
    let changed = execute(conn, SQL, params_from_iter(values)).map_err(db)?;
    if changed == 0 {
        return Err(Error::Stale(format!(
            "run {id} moved on from seq {expected}"
        )));
    }
    Ok(())
}

fn upsert_step(conn: &Connection, values: &[Value]) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO steps (",
        step_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, run_id, key) DO UPDATE SET status = excluded.status, \
         attempt = excluded.attempt, input = excluded.input, output = excluded.output, \
         error = excluded.error, due_at = excluded.due_at, \
         resume_token = excluded.resume_token, child_run_id = excluded.child_run_id, \
         created_at = excluded.created_at, updated_at = excluded.updated_at"
    );
    execute(conn, SQL, params_from_iter(values)).map_err(db_or_missing("run"))?;
    Ok(())
}

fn upsert_attempt(conn: &Connection, values: &[Value]) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO attempts (",
        attempt_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, run_id, step_key, attempt) DO UPDATE SET \
         idempotency_key = excluded.idempotency_key, status = excluded.status, \
         input = excluded.input, output = excluded.output, error = excluded.error, \
         usage = excluded.usage, logs = excluded.logs, started_at = excluded.started_at, \
         finished_at = excluded.finished_at, digest = excluded.digest"
    );
    execute(conn, SQL, params_from_iter(values)).map_err(db_or_missing("step"))?;
    Ok(())
}

fn advance(conn: &Connection, adv: &ScheduleAdvance) -> Result<()> {
    const SQL: &str = "UPDATE schedules SET next_fire_at = ? \
        WHERE tenant_id = ? AND workflow_id = ? AND next_fire_at = ?";
    let params = params![adv.next, adv.tenant_id, adv.workflow_id, adv.expected];
    let changed = execute(conn, SQL, params).map_err(db)?;
    if changed == 0 {
        return Err(Error::Stale(format!(
            "the schedule of {} moved on from {}",
            adv.workflow_id, adv.expected
        )));
    }
    Ok(())
}
