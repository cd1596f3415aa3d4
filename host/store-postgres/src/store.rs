//! `impl Store for Postgres`.

use crate::Postgres;
use crate::row::{
    self, ATTEMPT, CREDENTIAL, KEY, RUN, SCHEDULE, STEP, TENANT, TERMINAL, VERSION, WORKFLOW,
    missed_name, text, unavailable, write_error,
};
use async_trait::async_trait;
// Dynamic SQL here is only ever built from this file's constants (column lists,
// `TERMINAL`), never from data: every value is a bind parameter.
use sqlx::{AssertSqlSafe, Postgres as Pg, Row, Transaction};
use weft_store::{
    AuditEntry, Commit, Error, LastRun, OutboxEntry, Page, Result, RunFilter, RunState, Store,
    WorkflowFilter,
};
use weft_types::{
    ApiKey, Attempt, CredentialRecord, Run, Schedule, Status, Step, Tenant, Workflow,
    WorkflowVersion,
};

pub(crate) fn limit(n: u32) -> i64 {
    i64::from(n)
}

impl Postgres {
    async fn read_workflow(
        tx: &mut Transaction<'_, Pg>,
        tenant: &str,
        id: &str,
    ) -> Result<Option<Workflow>> {
        let sql = format!("SELECT {WORKFLOW} FROM workflows WHERE tenant_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::workflow)
            .transpose()
    }

    async fn insert_version(tx: &mut Transaction<'_, Pg>, v: &WorkflowVersion) -> Result<()> {
        sqlx::query(
            "INSERT INTO workflow_versions (tenant_id, workflow_id, version, definition, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&v.tenant_id)
        .bind(&v.workflow_id)
        .bind(i64::from(v.version))
        .bind(text(&v.definition))
        .bind(v.created_at)
        .execute(&mut **tx)
        .await
        .map_err(write_error("workflow", || {
            format!("workflow {} version {} exists", v.workflow_id, v.version)
        }))?;
        Ok(())
    }
}

#[async_trait]
impl Store for Postgres {
    async fn create_tenant(&self, t: &Tenant) -> Result<()> {
        let state = serde_json::to_string(&t.state)
            .map_err(|e| Error::Unavailable(format!("tenants.state: {e}")))?;
        let limits = serde_json::to_string(&t.limits)
            .map_err(|e| Error::Unavailable(format!("tenants.limits: {e}")))?;
        sqlx::query(
            "INSERT INTO tenants (id, name, wrapped_key, created_at, state, limits) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.wrapped_key)
        .bind(t.created_at)
        .bind(state)
        .bind(limits)
        .execute(&self.pool)
        .await
        .map_err(write_error("tenant", || format!("tenant {} exists", t.id)))?;
        Ok(())
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT} FROM tenants WHERE id = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::tenant)
            .transpose()
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        let sql = format!("SELECT {TENANT} FROM tenants ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::tenant).collect()
    }

    async fn create_api_key(&self, k: &ApiKey) -> Result<()> {
        let sql = format!(
            "INSERT INTO api_keys ({KEY}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let scopes = k.scopes.as_ref().map(|s| serde_json::json!(s).to_string());
        sqlx::query(AssertSqlSafe(sql))
            .bind(&k.tenant_id)
            .bind(&k.id)
            .bind(&k.prefix)
            .bind(&k.hash)
            .bind(k.role.as_str())
            .bind(&k.name)
            .bind(k.created_at)
            .bind(k.revoked_at)
            .bind(scopes)
            .bind(k.expires_at)
            .bind(k.last_used_at)
            .execute(&self.pool)
            .await
            .map_err(write_error("tenant", || {
                format!("API key {} or its prefix exists", k.id)
            }))?;
        Ok(())
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {KEY} FROM api_keys WHERE prefix = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(prefix)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::api_key)
            .transpose()
    }

    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        let sql =
            format!("SELECT {KEY} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::api_key).collect()
    }

    async fn touch_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3 \
             AND (last_used_at IS NULL OR last_used_at <= $4)",
        )
        .bind(at)
        .bind(tenant)
        .bind(id)
        .bind(at.saturating_sub(weft_store::KEY_TOUCH_MS))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn revoke_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE tenant_id = $2 AND id = $3",
        )
        .bind(at)
        .bind(tenant)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("API key"));
        }
        Ok(())
    }

    async fn create_workflow(&self, w: &Workflow, first: &WorkflowVersion) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let sql =
            format!("INSERT INTO workflows ({WORKFLOW}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        sqlx::query(AssertSqlSafe(sql))
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
            .map_err(write_error("tenant", || {
                format!("workflow {} or its webhook token exists", w.id)
            }))?;
        // A deleted workflow's versions are kept: reusing its id conflicts here.
        Self::insert_version(&mut tx, first).await?;
        tx.commit().await.map_err(unavailable)
    }

    async fn add_version(&self, next: &WorkflowVersion, name: &str, at: i64) -> Result<Workflow> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let (tenant, id) = (next.tenant_id.as_str(), next.workflow_id.as_str());
        let current = i64::from(next.version) - 1;
        let done = sqlx::query(
            "UPDATE workflows SET version = $1, name = $2, updated_at = $3 \
             WHERE tenant_id = $4 AND id = $5 AND version = $6",
        )
        .bind(i64::from(next.version))
        .bind(name)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .bind(current)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(match Self::read_workflow(&mut tx, tenant, id).await? {
                Some(w) => Error::Stale(format!(
                    "workflow {id} is at version {}, not {current}",
                    w.version
                )),
                None => Error::NotFound("workflow"),
            });
        }
        Self::insert_version(&mut tx, next).await?;
        let w = Self::read_workflow(&mut tx, tenant, id)
            .await?
            .ok_or(Error::NotFound("workflow"))?;
        tx.commit().await.map_err(unavailable)?;
        Ok(w)
    }

    async fn set_active(
        &self,
        tenant: &str,
        id: &str,
        active: bool,
        schedule: Option<&Schedule>,
        at: i64,
    ) -> Result<Workflow> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let done = sqlx::query(
            "UPDATE workflows SET active = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(active)
        .bind(at)
        .bind(tenant)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("workflow"));
        }
        sqlx::query("DELETE FROM schedules WHERE tenant_id = $1 AND workflow_id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        if let Some(s) = schedule {
            let sql = format!("INSERT INTO schedules ({SCHEDULE}) VALUES ($1, $2, $3, $4, $5, $6)");
            sqlx::query(AssertSqlSafe(sql))
                .bind(tenant)
                .bind(id)
                .bind(&s.cron)
                .bind(&s.timezone)
                .bind(missed_name(s.missed))
                .bind(s.next_fire_at)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        let w = Self::read_workflow(&mut tx, tenant, id)
            .await?
            .ok_or(Error::NotFound("workflow"))?;
        tx.commit().await.map_err(unavailable)?;
        Ok(w)
    }

    async fn delete_workflow(&self, tenant: &str, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM workflows WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("workflow"));
        }
        Ok(())
    }

    async fn get_workflow(&self, tenant: &str, id: &str) -> Result<Option<Workflow>> {
        let sql = format!("SELECT {WORKFLOW} FROM workflows WHERE tenant_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::workflow)
            .transpose()
    }

    async fn workflow_by_token(&self, token: &str) -> Result<Option<Workflow>> {
        let sql = format!("SELECT {WORKFLOW} FROM workflows WHERE webhook_token = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::workflow)
            .transpose()
    }

    async fn list_workflows(
        &self,
        tenant: &str,
        filter: &WorkflowFilter,
        page: &Page,
    ) -> Result<Vec<Workflow>> {
        crate::reads::list_workflows(self, tenant, filter, page).await
    }

    async fn last_runs(&self, tenant: &str, workflow_ids: &[String]) -> Result<Vec<LastRun>> {
        crate::reads::last_runs(self, tenant, workflow_ids).await
    }

    async fn get_version(
        &self,
        tenant: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<Option<WorkflowVersion>> {
        let sql = format!(
            "SELECT {VERSION} FROM workflow_versions \
             WHERE tenant_id = $1 AND workflow_id = $2 AND version = $3"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(workflow_id)
            .bind(i64::from(version))
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::version)
            .transpose()
    }

    async fn commit(&self, c: &Commit) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        match crate::commit::apply(&mut tx, c).await {
            Ok(()) => tx.commit().await.map_err(unavailable),
            Err(e) => {
                if let Err(r) = tx.rollback().await {
                    tracing::debug!(error = %r, "rollback failed; the connection is discarded");
                }
                Err(e)
            }
        }
    }

    async fn load_run(&self, tenant: &str, id: &str) -> Result<Option<RunState>> {
        // Two statements, no snapshot: the steps are read after the run, so
        // they are at least as new as it. A decision made on a run whose steps
        // moved on meanwhile commits against the run's old `seq` and conflicts,
        // and the worker reloads. This saves three round trips per load.
        let sql = format!("SELECT {RUN} FROM runs WHERE tenant_id = $1 AND id = $2");
        let Some(r) = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let run = row::run(&r)?;
        let sql =
            format!("SELECT {STEP} FROM steps WHERE tenant_id = $1 AND run_id = $2 ORDER BY key");
        let steps = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        let steps = steps.iter().map(row::step).collect::<Result<Vec<_>>>()?;
        Ok(Some(RunState { run, steps }))
    }

    async fn load_run_lean(
        &self,
        tenant: &str,
        id: &str,
        full: &[String],
    ) -> Result<Option<RunState>> {
        crate::reads::load_run_lean(self, tenant, id, full).await
    }

    async fn get_run(&self, tenant: &str, id: &str) -> Result<Option<Run>> {
        let sql = format!("SELECT {RUN} FROM runs WHERE tenant_id = $1 AND id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::run)
            .transpose()
    }

    async fn list_runs(&self, tenant: &str, f: &RunFilter, page: &Page) -> Result<Vec<Run>> {
        crate::reads::list_runs(self, tenant, f, page).await
    }

    async fn run_stats(
        &self,
        tenant: &str,
        window: &weft_store::stats::StatsWindow,
    ) -> Result<weft_store::stats::RunStats> {
        crate::reads::run_stats(self, tenant, window).await
    }

    async fn list_attempts(&self, tenant: &str, run_id: &str) -> Result<Vec<Attempt>> {
        let sql = format!(
            "SELECT {ATTEMPT} FROM attempts WHERE tenant_id = $1 AND run_id = $2 \
             ORDER BY step_key, attempt"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::attempt).collect()
    }

    async fn step_by_resume_token(&self, token: &str) -> Result<Option<Step>> {
        let sql = format!("SELECT {STEP} FROM steps WHERE resume_token = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(token)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::step)
            .transpose()
    }

    async fn due_steps(&self, at: i64, n: u32) -> Result<Vec<Step>> {
        let sql = format!(
            "SELECT {STEP} FROM steps WHERE due_at <= $1 AND status NOT IN {TERMINAL} \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = steps.tenant_id \
             AND (t.state::jsonb ->> 'state') <> 'active') \
             ORDER BY due_at, tenant_id, run_id, key LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(at)
            .bind(limit(n))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::step).collect()
    }

    async fn overdue_runs(&self, at: i64, n: u32) -> Result<Vec<Run>> {
        let sql = format!(
            "SELECT {RUN} FROM runs WHERE deadline_at <= $1 AND status NOT IN {TERMINAL} \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = runs.tenant_id \
             AND (t.state::jsonb ->> 'state') <> 'active') \
             ORDER BY deadline_at, tenant_id, id LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(at)
            .bind(limit(n))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::run).collect()
    }

    async fn count_runs(&self) -> Result<Vec<(Status, u64)>> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM runs GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                let c = row::Cols::new(r, "runs");
                let n: i64 = c.get("n")?;
                Ok((c.parse("status")?, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    async fn active_runs(&self, tenant: &str) -> Result<u64> {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM runs WHERE tenant_id = $1 AND status NOT IN {TERMINAL}"
        );
        let r = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        let n: i64 = row::Cols::new(&r, "runs").get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn outbox_claim(&self, now: i64, lease_ms: i64, n: u32) -> Result<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_until = $1 WHERE id IN ( \
                 SELECT id FROM outbox WHERE claimed_until <= $2 \
                 ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING id, tenant_id, run_id, step_key, attempt, due_at, created_at, claimed_until",
        )
        .bind(now.saturating_add(lease_ms))
        .bind(now)
        .bind(limit(n))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        let mut v = rows
            .iter()
            .map(|r| {
                let c = row::Cols::new(r, "outbox");
                Ok(OutboxEntry {
                    id: c.get("id")?,
                    tenant_id: c.get("tenant_id")?,
                    run_id: c.get("run_id")?,
                    step_key: c.get("step_key")?,
                    attempt: c.u32("attempt")?,
                    due_at: c.get("due_at")?,
                    created_at: c.get("created_at")?,
                    claimed_until: c.get("claimed_until")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(v)
    }

    async fn outbox_delete(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // Not waited for on the WAL flush: a delete that a database crash
        // loses only means its entries are published again once their claim
        // lapses (at-least-once; the step lease makes a duplicate harmless).
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
            .bind(ids)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(())
    }

    async fn outbox_oldest(&self) -> Result<Option<i64>> {
        let r = sqlx::query("SELECT MIN(created_at) AS at FROM outbox")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        row::Cols::new(&r, "outbox").get("at")
    }

    async fn create_credential(&self, c: &CredentialRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO credentials ({CREDENTIAL}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let hosts = serde_json::to_string(&c.hosts)
            .map_err(|e| Error::Unavailable(format!("credential hosts: {e}")))?;
        sqlx::query(AssertSqlSafe(sql))
            .bind(&c.tenant_id)
            .bind(&c.id)
            .bind(&c.name)
            .bind(text(&c.injection))
            .bind(hosts)
            .bind(&c.nonce)
            .bind(&c.ciphertext)
            .bind(c.created_at)
            .bind(ad_version(c)?)
            .execute(&self.pool)
            .await
            .map_err(write_error("tenant", || {
                format!("credential `{}` exists", c.name)
            }))?;
        Ok(())
    }

    async fn list_credentials(&self, tenant: &str) -> Result<Vec<CredentialRecord>> {
        let sql =
            format!("SELECT {CREDENTIAL} FROM credentials WHERE tenant_id = $1 ORDER BY name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::credential).collect()
    }

    async fn credential_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<CredentialRecord>> {
        let sql =
            format!("SELECT {CREDENTIAL} FROM credentials WHERE tenant_id = $1 AND name = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(tenant)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?
            .as_ref()
            .map(row::credential)
            .transpose()
    }

    async fn delete_credential(&self, tenant: &str, id: &str) -> Result<()> {
        // With its OAuth2 rows (refresh lease, reauthorize mark, pending
        // authorizations), in one transaction.
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("credential"));
        }
        for sql in [
            "DELETE FROM oauth_credentials WHERE tenant_id = $1 AND credential_id = $2",
            "DELETE FROM oauth_pending WHERE tenant_id = $1 AND credential_id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn reseal_credential(&self, c: &CredentialRecord, previous_nonce: &[u8]) -> Result<bool> {
        let hosts = serde_json::to_string(&c.hosts)
            .map_err(|e| Error::Unavailable(format!("credential hosts: {e}")))?;
        let done = sqlx::query(
            "UPDATE credentials SET name = $1, injection = $2, hosts = $3, nonce = $4, \
             ciphertext = $5, ad_version = $6 WHERE tenant_id = $7 AND id = $8 AND nonce = $9",
        )
        .bind(&c.name)
        .bind(text(&c.injection))
        .bind(hosts)
        .bind(&c.nonce)
        .bind(&c.ciphertext)
        .bind(ad_version(c)?)
        .bind(&c.tenant_id)
        .bind(&c.id)
        .bind(previous_nonce)
        .execute(&self.pool)
        .await
        .map_err(write_error("tenant", || {
            format!("credential `{}` exists", c.name)
        }))?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_delivery(
        &self,
        tenant: &str,
        workflow_id: &str,
        delivery_id: &str,
        now: i64,
    ) -> Result<Option<weft_store::Delivery>> {
        crate::deliveries::get(self, tenant, workflow_id, delivery_id, now).await
    }

    async fn prune_deliveries(&self, now: i64, limit: u32) -> Result<u64> {
        crate::deliveries::prune(self, now, limit).await
    }

    async fn due_schedules(&self, at: i64, n: u32) -> Result<Vec<Schedule>> {
        let sql = format!(
            "SELECT {SCHEDULE} FROM schedules WHERE next_fire_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = schedules.tenant_id \
             AND (t.state::jsonb ->> 'state') <> 'active') \
             ORDER BY next_fire_at, tenant_id, workflow_id LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(at)
            .bind(limit(n))
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.iter().map(row::schedule).collect()
    }

    async fn state_get(&self, tenant: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let r = sqlx::query(
            "SELECT value FROM plugin_state WHERE tenant_id = $1 AND plugin = $2 AND key = $3",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        r.as_ref()
            .map(|r| row::Cols::new(r, "plugin_state").get("value"))
            .transpose()
    }

    async fn state_set(&self, tenant: &str, plugin: &str, key: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO plugin_state (tenant_id, plugin, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, plugin, key) DO UPDATE SET value = excluded.value",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn state_delete(&self, tenant: &str, plugin: &str, key: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM plugin_state WHERE tenant_id = $1 AND plugin = $2 AND key = $3",
        )
        .bind(tenant)
        .bind(plugin)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn audit(&self, e: &AuditEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit (tenant_id, actor, action, target, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&e.tenant_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(e.at)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn list_audit(&self, tenant: &str, n: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT tenant_id, actor, action, target, at FROM audit WHERE tenant_id = $1 \
             ORDER BY at DESC, seq DESC LIMIT $2",
        )
        .bind(tenant)
        .bind(limit(n))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| {
                let c = row::Cols::new(r, "audit");
                Ok(AuditEntry {
                    tenant_id: c.get("tenant_id")?,
                    actor: c.get("actor")?,
                    action: c.get("action")?,
                    target: c.get("target")?,
                    at: c.get("at")?,
                })
            })
            .collect()
    }

    fn run_feed(&self) -> Option<Box<dyn weft_store::RunFeed>> {
        Some(Box::new(crate::feed::Feed::new(self.connect.clone())))
    }

    async fn ping(&self) -> Result<()> {
        let r = sqlx::query("SELECT 1 AS one")
            .fetch_one(&self.pool)
            .await
            .map_err(unavailable)?;
        let _: i32 = r.try_get("one").map_err(unavailable)?;
        Ok(())
    }
}

/// `ad_version` as the INTEGER column holds it.
fn ad_version(c: &CredentialRecord) -> Result<i32> {
    i32::try_from(c.ad_version).map_err(|_| {
        Error::Unavailable(format!(
            "credential `{}`: ad_version {} is out of range",
            c.name, c.ad_version
        ))
    })
}
