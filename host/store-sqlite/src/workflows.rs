//! Workflows, their versions and schedules.

use crate::error::{begin, db, finish, one};
use crate::row::{Cols, json};
use crate::{Error, Result, Sqlite};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use weft_store::Page;
use weft_types::{Missed, Schedule, Workflow, WorkflowVersion};

const WF_COLS: &str = "tenant_id, id, name, version, active, webhook_token, created_at, updated_at";
const SCHEDULE_COLS: &str = "tenant_id, workflow_id, cron, timezone, missed, next_fire_at";

fn workflow(row: &SqliteRow) -> Result<Workflow> {
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

fn version(row: &SqliteRow) -> Result<WorkflowVersion> {
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

fn schedule(row: &SqliteRow) -> Result<Schedule> {
    let c = Cols::new(row, "schedules");
    let missed: &str = c.get("missed")?;
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

async fn read_workflow(
    conn: &mut SqliteConnection,
    tenant: &str,
    id: &str,
) -> Result<Option<Workflow>> {
    sqlx::query(&format!(
        "SELECT {WF_COLS} FROM workflows WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(db)?
    .as_ref()
    .map(workflow)
    .transpose()
}

async fn insert_version(conn: &mut SqliteConnection, v: &WorkflowVersion) -> Result<()> {
    sqlx::query(
        "INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&v.tenant_id)
    .bind(&v.workflow_id)
    .bind(i64::from(v.version))
    .bind(json("workflow_versions", "definition", &v.definition)?)
    .bind(v.created_at)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn create(s: &Sqlite, w: &Workflow, first: &WorkflowVersion) -> Result<()> {
    let mut tx = begin(&s.writer).await?;
    let result = async {
        sqlx::query(&format!(
            "INSERT INTO workflows ({WF_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&w.tenant_id)
        .bind(&w.id)
        .bind(&w.name)
        .bind(i64::from(w.version))
        .bind(w.active)
        .bind(&w.webhook_token)
        .bind(w.created_at)
        .bind(w.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        // A deleted workflow's versions are kept: reusing its id conflicts here.
        insert_version(&mut tx, first).await
    }
    .await;
    finish(tx, result).await
}

pub(crate) async fn add_version(
    s: &Sqlite,
    next: &WorkflowVersion,
    name: &str,
    at: i64,
) -> Result<Workflow> {
    let (tenant, id) = (next.tenant_id.as_str(), next.workflow_id.as_str());
    let mut tx = begin(&s.writer).await?;
    let result = async {
        let current = i64::from(next.version) - 1;
        let done = sqlx::query(
            "UPDATE workflows SET version = ?, name = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?",
        )
        .bind(i64::from(next.version))
        .bind(name)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .bind(current)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(match read_workflow(&mut tx, tenant, id).await? {
                Some(w) => Error::Conflict(format!(
                    "workflow {id} is at version {}, not {current}",
                    w.version
                )),
                None => Error::NotFound("workflow"),
            });
        }
        insert_version(&mut tx, next).await?;
        read_workflow(&mut tx, tenant, id)
            .await?
            .ok_or(Error::NotFound("workflow"))
    }
    .await;
    finish(tx, result).await
}

pub(crate) async fn set_active(
    s: &Sqlite,
    tenant: &str,
    id: &str,
    active: bool,
    sched: Option<&Schedule>,
    at: i64,
) -> Result<Workflow> {
    let mut tx = begin(&s.writer).await?;
    let result = async {
        let done = sqlx::query(
            "UPDATE workflows SET active = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(active)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        one(done, "workflow")?;
        sqlx::query("DELETE FROM schedules WHERE tenant_id = ? AND workflow_id = ?")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(sc) = sched {
            sqlx::query(&format!(
                "INSERT INTO schedules ({SCHEDULE_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
            ))
            .bind(tenant)
            .bind(id)
            .bind(&sc.cron)
            .bind(&sc.timezone)
            .bind(missed_name(sc.missed))
            .bind(sc.next_fire_at)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        read_workflow(&mut tx, tenant, id)
            .await?
            .ok_or(Error::NotFound("workflow"))
    }
    .await;
    finish(tx, result).await
}

/// Its schedule goes with it (foreign key, `ON DELETE CASCADE`); its versions stay.
pub(crate) async fn delete(s: &Sqlite, tenant: &str, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM workflows WHERE tenant_id = ? AND id = ?")
        .bind(tenant)
        .bind(id)
        .execute(&s.writer)
        .await
        .map_err(db)?;
    one(done, "workflow")
}

pub(crate) async fn get(s: &Sqlite, tenant: &str, id: &str) -> Result<Option<Workflow>> {
    let mut conn = s.reader.acquire().await.map_err(db)?;
    read_workflow(&mut conn, tenant, id).await
}

pub(crate) async fn by_token(s: &Sqlite, token: &str) -> Result<Option<Workflow>> {
    sqlx::query(&format!(
        "SELECT {WF_COLS} FROM workflows WHERE webhook_token = ?"
    ))
    .bind(token)
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?
    .as_ref()
    .map(workflow)
    .transpose()
}

pub(crate) async fn list(s: &Sqlite, tenant: &str, page: &Page) -> Result<Vec<Workflow>> {
    let before = if page.before.is_some() {
        " AND id < ?"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {WF_COLS} FROM workflows WHERE tenant_id = ?{before} ORDER BY id DESC LIMIT ?"
    );
    let mut q = sqlx::query(&sql).bind(tenant);
    if let Some(b) = &page.before {
        q = q.bind(b);
    }
    q.bind(i64::from(page.capped()))
        .fetch_all(&s.reader)
        .await
        .map_err(db)?
        .iter()
        .map(workflow)
        .collect()
}

pub(crate) async fn get_version(
    s: &Sqlite,
    tenant: &str,
    workflow_id: &str,
    v: u32,
) -> Result<Option<WorkflowVersion>> {
    sqlx::query(
        "SELECT tenant_id, workflow_id, version, definition, created_at FROM workflow_versions \
         WHERE tenant_id = ? AND workflow_id = ? AND version = ?",
    )
    .bind(tenant)
    .bind(workflow_id)
    .bind(i64::from(v))
    .fetch_optional(&s.reader)
    .await
    .map_err(db)?
    .as_ref()
    .map(version)
    .transpose()
}

pub(crate) async fn due_schedules(s: &Sqlite, at: i64, limit: u32) -> Result<Vec<Schedule>> {
    sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS} FROM schedules WHERE next_fire_at <= ? \
         ORDER BY next_fire_at, tenant_id, workflow_id LIMIT ?"
    ))
    .bind(at)
    .bind(i64::from(limit))
    .fetch_all(&s.reader)
    .await
    .map_err(db)?
    .iter()
    .map(schedule)
    .collect()
}
