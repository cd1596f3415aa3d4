//! Workflows, their versions and schedules.

use crate::error::{db, immediate, one};
use crate::row::{Cols, all, execute, json, optional};
use crate::{Error, Result, Sqlite};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};
use weft_store::{Page, WorkflowFilter};
use weft_types::{Missed, Schedule, Workflow, WorkflowVersion};

/// The columns of `workflows`.
macro_rules! wf_cols {
    () => {
        "tenant_id, id, name, version, active, webhook_token, created_at, updated_at"
    };
}
/// The columns of `schedules`.
macro_rules! schedule_cols {
    () => {
        "tenant_id, workflow_id, cron, timezone, missed, next_fire_at"
    };
}

fn workflow(row: &Row<'_>) -> Result<Workflow> {
    let c = Cols::new(row, "workflows");
    Ok(Workflow {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        name: c.get("name")?,
        version: c.u32("version")?,
        active: c.get("active")?,
        webhook_token: c.get("webhook_token")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

fn version(row: &Row<'_>) -> Result<WorkflowVersion> {
    let c = Cols::new(row, "workflow_versions");
    Ok(WorkflowVersion {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        version: c.u32("version")?,
        definition: c.json("definition")?,
        created_at: c.get("created_at")?,
    })
}

fn missed_name(m: Missed) -> &'static str {
    match m {
        Missed::Skip => "skip",
        Missed::Once => "once",
    }
}

fn schedule(row: &Row<'_>) -> Result<Schedule> {
    let c = Cols::new(row, "schedules");
    let missed = c.text("missed")?;
    Ok(Schedule {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        cron: c.get("cron")?,
        timezone: c.get("timezone")?,
        missed: match missed {
            "skip" => Missed::Skip,
            "once" => Missed::Once,
            other => {
                let e = format!("unknown missed-tick policy `{other}`");
                return Err(crate::error::corrupt("schedules", "missed", e));
            }
        },
        next_fire_at: c.get("next_fire_at")?,
    })
}

fn read_workflow(conn: &Connection, tenant: &str, id: &str) -> Result<Option<Workflow>> {
    const SQL: &str = concat!(
        "SELECT ",
        wf_cols!(),
        " FROM workflows WHERE tenant_id = ? AND id = ?"
    );
    optional(conn, SQL, params![tenant, id], workflow)
}

fn insert_version(conn: &Connection, v: &WorkflowVersion, definition: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition, created_at) \
         VALUES (?, ?, ?, ?, ?)",
        params![
            v.tenant_id,
            v.workflow_id,
            i64::from(v.version),
            definition,
            v.created_at
        ],
    )
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn create(s: &Sqlite, w: &Workflow, first: &WorkflowVersion) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO workflows (",
        wf_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let definition = json("workflow_versions", "definition", &first.definition)?;
    let (w, first) = (w.clone(), first.clone());
    s.write(move |conn| {
        immediate(conn, |tx| {
            execute(
                tx,
                SQL,
                params![
                    w.tenant_id,
                    w.id,
                    w.name,
                    i64::from(w.version),
                    w.active,
                    w.webhook_token,
                    w.created_at,
                    w.updated_at
                ],
            )
            .map_err(db)?;
            // A deleted workflow's versions are kept: reusing its id conflicts here.
            insert_version(tx, &first, &definition)
        })
    })
    .await
}

pub(crate) async fn add_version(
    s: &Sqlite,
    next: &WorkflowVersion,
    name: &str,
    at: i64,
) -> Result<Workflow> {
    let definition = json("workflow_versions", "definition", &next.definition)?;
    let (next, name) = (next.clone(), name.to_owned());
    s.write(move |conn| {
        immediate(conn, |tx| {
            let (tenant, id) = (next.tenant_id.as_str(), next.workflow_id.as_str());
            let current = i64::from(next.version) - 1;
            let changed = execute(
                tx,
                "UPDATE workflows SET version = ?, name = ?, updated_at = ? \
                 WHERE tenant_id = ? AND id = ? AND version = ?",
                params![i64::from(next.version), name, at, tenant, id, current],
            )
            .map_err(db)?;
            if changed == 0 {
                return Err(match read_workflow(tx, tenant, id)? {
                    Some(w) => Error::Stale(format!(
                        "workflow {id} is at version {}, not {current}",
                        w.version
                    )),
                    None => Error::NotFound("workflow"),
                });
            }
            insert_version(tx, &next, &definition)?;
            read_workflow(tx, tenant, id)?.ok_or(Error::NotFound("workflow"))
        })
    })
    .await
}

pub(crate) async fn set_active(
    s: &Sqlite,
    tenant: &str,
    id: &str,
    active: bool,
    sched: Option<&Schedule>,
    at: i64,
) -> Result<Workflow> {
    const INSERT: &str = concat!(
        "INSERT INTO schedules (",
        schedule_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?)"
    );
    let (tenant, id, sched) = (tenant.to_owned(), id.to_owned(), sched.cloned());
    s.write(move |conn| {
        immediate(conn, |tx| {
            let changed = execute(
                tx,
                "UPDATE workflows SET active = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                params![active, at, tenant, id],
            )
            .map_err(db)?;
            one(changed, "workflow")?;
            execute(
                tx,
                "DELETE FROM schedules WHERE tenant_id = ? AND workflow_id = ?",
                params![tenant, id],
            )
            .map_err(db)?;
            if let Some(sc) = &sched {
                execute(
                    tx,
                    INSERT,
                    params![
                        tenant,
                        id,
                        sc.cron,
                        sc.timezone,
                        missed_name(sc.missed),
                        sc.next_fire_at
                    ],
                )
                .map_err(db)?;
            }
            read_workflow(tx, &tenant, &id)?.ok_or(Error::NotFound("workflow"))
        })
    })
    .await
}

/// Its schedule goes with it (foreign key, `ON DELETE CASCADE`); its versions stay.
pub(crate) async fn delete(s: &Sqlite, tenant: &str, id: &str) -> Result<()> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.write(move |conn| {
        let changed = execute(
            conn,
            "DELETE FROM workflows WHERE tenant_id = ? AND id = ?",
            params![tenant, id],
        )
        .map_err(db)?;
        one(changed, "workflow")
    })
    .await
}

pub(crate) async fn get(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<Workflow>> {
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.read(move |conn| read_workflow(conn, &tenant, &id)).await
}

pub(crate) async fn by_token(s: &Sqlite, token: &str) -> Result<Option<Workflow>> {
    const SQL: &str = concat!(
        "SELECT ",
        wf_cols!(),
        " FROM workflows WHERE webhook_token = ?"
    );
    let token = token.to_owned();
    s.read(move |conn| optional(conn, SQL, params![token], workflow))
        .await
}

pub(crate) async fn list(
    s: &Sqlite,
    tenant: &str,
    filter: &WorkflowFilter,
    page: &Page,
) -> Result<Vec<Workflow>> {
    let mut sql = concat!("SELECT ", wf_cols!(), " FROM workflows WHERE tenant_id = ?").to_owned();
    let mut args: Vec<Value> = vec![tenant.to_owned().into()];
    // SQLite's LIKE folds the case of ASCII letters only, as the filter says.
    if let Some(pattern) = filter.like_pattern() {
        sql.push_str(" AND name LIKE ? ESCAPE '\\'");
        args.push(pattern.into());
    }
    if let Some(b) = &page.before {
        sql.push_str(" AND id < ?");
        args.push(b.clone().into());
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(i64::from(page.capped()).into());
    s.read(move |conn| all(conn, &sql, params_from_iter(&args), workflow))
        .await
}

pub(crate) async fn get_version(
    s: &Sqlite,
    tenant: &str,
    workflow_id: &str,
    v: u32,
) -> Result<Option<WorkflowVersion>> {
    const SQL: &str = "SELECT tenant_id, workflow_id, version, definition, created_at \
        FROM workflow_versions WHERE tenant_id = ? AND workflow_id = ? AND version = ?";
    let (tenant, workflow_id) = (tenant.to_owned(), workflow_id.to_owned());
    s.read(move |conn| {
        optional(
            conn,
            SQL,
            params![tenant, workflow_id, i64::from(v)],
            version,
        )
    })
    .await
}

pub(crate) async fn due_schedules(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Schedule>> {
    const SQL: &str = concat!(
        "SELECT ",
        schedule_cols!(),
        " FROM schedules WHERE next_fire_at <= ? \
         AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = schedules.tenant_id \
         AND json_extract(t.state, '$.state') <> 'active') \
         ORDER BY next_fire_at, tenant_id, workflow_id LIMIT ?"
    );
    s.read(move |conn| all(conn, SQL, params![at, i64::from(limit)], schedule))
        .await
}
