//! Rows to domain types and sqlx errors to store errors. Every decoding
//! failure names its table and column.

use serde_json::Value;
use sqlx::Row;
use sqlx::error::ErrorKind;
use sqlx::postgres::PgRow;
use std::fmt::Display;
use std::str::FromStr;
use weft_store::{Error, Result};
use weft_types::{
    ApiKey, Attempt, CredentialRecord, Missed, Parent, Run, Schedule, Step, Tenant, Workflow,
    WorkflowVersion,
};

/// The statuses a step or run never leaves (the partial indexes' condition).
pub(crate) const TERMINAL: &str = "('completed', 'failed', 'cancelled', 'skipped')";

/// A backend failure: connection, pool, server.
pub(crate) fn unavailable(e: sqlx::Error) -> Error {
    Error::Unavailable(format!("postgres: {e}"))
}

/// A write error: a unique violation is `Duplicate(what())`, a foreign-key
/// violation `NotFound(missing)`, anything else `Unavailable`.
pub(crate) fn write_error(
    missing: &'static str,
    what: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => Error::Duplicate(what()),
            ErrorKind::ForeignKeyViolation => Error::NotFound(missing),
            _ => unavailable(e),
        },
        _ => unavailable(e),
    }
}

fn corrupt(table: &str, column: &str, e: impl Display) -> Error {
    Error::Unavailable(format!("corrupt value in {table}.{column}: {e}"))
}

/// One row of one table, its columns read by name.
pub(crate) struct Cols<'a> {
    row: &'a PgRow,
    table: &'static str,
}

impl<'a> Cols<'a> {
    pub(crate) fn new(row: &'a PgRow, table: &'static str) -> Self {
        Self { row, table }
    }

    pub(crate) fn get<T>(&self, column: &'static str) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        self.row
            .try_get(column)
            .map_err(|e| corrupt(self.table, column, e))
    }

    pub(crate) fn u32(&self, column: &'static str) -> Result<u32> {
        let v: i64 = self.get(column)?;
        u32::try_from(v).map_err(|e| corrupt(self.table, column, e))
    }

    pub(crate) fn parse<T: FromStr>(&self, column: &'static str) -> Result<T>
    where
        T::Err: Display,
    {
        let s: String = self.get(column)?;
        s.parse().map_err(|e| corrupt(self.table, column, e))
    }

    pub(crate) fn json(&self, column: &'static str) -> Result<Value> {
        let s: String = self.get(column)?;
        serde_json::from_str(&s).map_err(|e| corrupt(self.table, column, e))
    }

    pub(crate) fn json_as<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> Result<T> {
        let s: String = self.get(column)?;
        serde_json::from_str(&s).map_err(|e| corrupt(self.table, column, e))
    }

    pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> Result<Option<T>> {
        let s: Option<String> = self.get(column)?;
        s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(self.table, column, e)))
            .transpose()
    }
}

/// A JSON value as stored.
pub(crate) fn text(v: &Value) -> String {
    v.to_string()
}

/// An optional JSON value as stored.
pub(crate) fn opt_text<T: serde::Serialize>(v: Option<&T>) -> Option<String> {
    // Domain values are plain data (strings, numbers, maps with string keys):
    // serializing them cannot fail.
    v.map(|v| serde_json::to_string(v).unwrap_or_default())
}

pub(crate) fn missed_name(m: Missed) -> &'static str {
    match m {
        Missed::Skip => "skip",
        Missed::Once => "once",
    }
}

fn missed(table: &str, s: &str) -> Result<Missed> {
    match s {
        "skip" => Ok(Missed::Skip),
        "once" => Ok(Missed::Once),
        other => Err(corrupt(
            table,
            "missed",
            format!("unknown policy `{other}`"),
        )),
    }
}

pub(crate) const TENANT: &str = "id, name, wrapped_key, created_at, state, limits";
pub(crate) fn tenant(r: &PgRow) -> Result<Tenant> {
    let c = Cols::new(r, "tenants");
    Ok(Tenant {
        id: c.get("id")?,
        name: c.get("name")?,
        wrapped_key: c.get("wrapped_key")?,
        created_at: c.get("created_at")?,
        state: c.json_as("state")?,
        limits: c.json_as("limits")?,
    })
}

pub(crate) const KEY: &str = "tenant_id, id, prefix, hash, role, name, created_at, revoked_at, scopes, expires_at, last_used_at";
pub(crate) fn api_key(r: &PgRow) -> Result<ApiKey> {
    let c = Cols::new(r, "api_keys");
    Ok(ApiKey {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        prefix: c.get("prefix")?,
        hash: c.get("hash")?,
        role: c.parse("role")?,
        name: c.get("name")?,
        created_at: c.get("created_at")?,
        revoked_at: c.get("revoked_at")?,
        scopes: c
            .get::<Option<String>>("scopes")?
            .map(|v| {
                serde_json::from_str(&v)
                    .map_err(|e| crate::Error::Corrupt(format!("api_keys.scopes: {e}")))
            })
            .transpose()?,
        expires_at: c.get("expires_at")?,
        last_used_at: c.get("last_used_at")?,
    })
}

pub(crate) const WORKFLOW: &str =
    "tenant_id, id, name, version, active, webhook_token, created_at, updated_at";
pub(crate) fn workflow(r: &PgRow) -> Result<Workflow> {
    let c = Cols::new(r, "workflows");
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

pub(crate) const VERSION: &str = "tenant_id, workflow_id, version, definition, created_at";
pub(crate) fn version(r: &PgRow) -> Result<WorkflowVersion> {
    let c = Cols::new(r, "workflow_versions");
    Ok(WorkflowVersion {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        version: c.u32("version")?,
        definition: c.json("definition")?,
        created_at: c.get("created_at")?,
    })
}

pub(crate) const SCHEDULE: &str = "tenant_id, workflow_id, cron, timezone, missed, next_fire_at";
pub(crate) fn schedule(r: &PgRow) -> Result<Schedule> {
    let c = Cols::new(r, "schedules");
    let m: String = c.get("missed")?;
    Ok(Schedule {
        tenant_id: c.get("tenant_id")?,
        workflow_id: c.get("workflow_id")?,
        cron: c.get("cron")?,
        timezone: c.get("timezone")?,
        missed: missed("schedules", &m)?,
        next_fire_at: c.get("next_fire_at")?,
    })
}

pub(crate) const RUN: &str = "tenant_id, id, workflow_id, version, status, trigger_kind, input, \
    output, error, response, parent_run_id, parent_step_key, depth, deadline_at, seq, \
    created_at, updated_at, finished_at, until_step";
pub(crate) fn run(r: &PgRow) -> Result<Run> {
    let c = Cols::new(r, "runs");
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

pub(crate) const STEP: &str = "tenant_id, run_id, key, status, attempt, input, output, error, \
    due_at, resume_token, child_run_id, created_at, updated_at";
pub(crate) fn step(r: &PgRow) -> Result<Step> {
    let c = Cols::new(r, "steps");
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

pub(crate) const ATTEMPT: &str = "tenant_id, run_id, step_key, attempt, idempotency_key, status, \
    input, output, error, usage, logs, started_at, finished_at, digest";
pub(crate) fn attempt(r: &PgRow) -> Result<Attempt> {
    let c = Cols::new(r, "attempts");
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
        logs: c.json_as("logs")?,
        digest: c.get("digest")?,
        started_at: c.get("started_at")?,
        finished_at: c.get("finished_at")?,
    })
}

pub(crate) const CREDENTIAL: &str =
    "tenant_id, id, name, injection, hosts, nonce, ciphertext, created_at, ad_version";
pub(crate) fn credential(r: &PgRow) -> Result<CredentialRecord> {
    let c = Cols::new(r, "credentials");
    let hosts = c.json("hosts")?;
    Ok(CredentialRecord {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        name: c.get("name")?,
        injection: c.json("injection")?,
        hosts: serde_json::from_value(hosts).map_err(|e| corrupt("credentials", "hosts", e))?,
        nonce: c.get("nonce")?,
        ciphertext: c.get("ciphertext")?,
        created_at: c.get("created_at")?,
        ad_version: u32::try_from(c.get::<i32>("ad_version")?)
            .map_err(|e| corrupt("credentials", "ad_version", e))?,
    })
}
