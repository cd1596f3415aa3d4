//! `impl Store for Sqlite`: each method hands over to its resource's module.

use crate::{Result, Sqlite, credentials, runs, runs_read, state, tenants, workflows};
use async_trait::async_trait;
use weft_store::{
    AuditEntry, Commit, LastRun, OutboxEntry, Page, RunFilter, RunState, Store, WorkflowFilter,
};
use weft_types::{
    ApiKey, Attempt, CredentialRecord, Run, Schedule, Status, Step, Tenant, Workflow,
    WorkflowVersion,
};

#[async_trait]
impl Store for Sqlite {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()> {
        tenants::create_tenant(self, tenant).await
    }
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        tenants::get_tenant(self, id).await
    }
    async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        tenants::list_tenants(self).await
    }
    async fn create_api_key(&self, key: &ApiKey) -> Result<()> {
        tenants::create_api_key(self, key).await
    }
    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>> {
        tenants::api_key_by_prefix(self, prefix).await
    }
    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>> {
        tenants::list_api_keys(self, tenant).await
    }
    async fn revoke_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        tenants::revoke_api_key(self, tenant, id, at).await
    }

    async fn touch_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()> {
        tenants::touch_api_key(self, tenant, id, at).await
    }

    async fn create_workflow(&self, workflow: &Workflow, first: &WorkflowVersion) -> Result<()> {
        workflows::create(self, workflow, first).await
    }
    async fn add_version(&self, next: &WorkflowVersion, name: &str, at: i64) -> Result<Workflow> {
        workflows::add_version(self, next, name, at).await
    }
    async fn set_active(
        &self,
        tenant: &str,
        id: &str,
        active: bool,
        schedule: Option<&Schedule>,
        at: i64,
    ) -> Result<Workflow> {
        workflows::set_active(self, tenant, id, active, schedule, at).await
    }
    async fn delete_workflow(&self, tenant: &str, id: &str) -> Result<()> {
        workflows::delete(self, tenant, id).await
    }
    async fn get_workflow(&self, tenant: &str, id: &str) -> Result<Option<Workflow>> {
        workflows::get(self, tenant, id).await
    }
    async fn workflow_by_token(&self, token: &str) -> Result<Option<Workflow>> {
        workflows::by_token(self, token).await
    }
    async fn list_workflows(
        &self,
        tenant: &str,
        filter: &WorkflowFilter,
        page: &Page,
    ) -> Result<Vec<Workflow>> {
        workflows::list(self, tenant, filter, page).await
    }
    async fn last_runs(&self, tenant: &str, workflow_ids: &[String]) -> Result<Vec<LastRun>> {
        runs_read::last_runs(self, tenant, workflow_ids).await
    }
    async fn get_version(
        &self,
        tenant: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<Option<WorkflowVersion>> {
        workflows::get_version(self, tenant, workflow_id, version).await
    }

    async fn commit(&self, commit: &Commit) -> Result<()> {
        runs::commit(self, commit).await
    }
    async fn load_run(&self, tenant: &str, id: &str) -> Result<Option<RunState>> {
        runs_read::load_run(self, tenant, id).await
    }
    async fn load_run_lean(
        &self,
        tenant: &str,
        id: &str,
        full: &[String],
    ) -> Result<Option<RunState>> {
        runs_read::load_run_lean(self, tenant, id, full).await
    }
    async fn get_run(&self, tenant: &str, id: &str) -> Result<Option<Run>> {
        runs_read::get_run(self, tenant, id).await
    }
    async fn list_runs(&self, tenant: &str, filter: &RunFilter, page: &Page) -> Result<Vec<Run>> {
        runs_read::list_runs(self, tenant, filter, page).await
    }
    async fn list_attempts(&self, tenant: &str, run_id: &str) -> Result<Vec<Attempt>> {
        runs_read::list_attempts(self, tenant, run_id).await
    }
    async fn step_by_resume_token(&self, token: &str) -> Result<Option<Step>> {
        runs_read::step_by_resume_token(self, token).await
    }
    async fn due_steps(&self, at: i64, limit: u32) -> Result<Vec<Step>> {
        runs_read::due_steps(self, at, limit).await
    }
    async fn overdue_runs(&self, at: i64, limit: u32) -> Result<Vec<Run>> {
        runs_read::overdue_runs(self, at, limit).await
    }
    async fn count_runs(&self) -> Result<Vec<(Status, u64)>> {
        runs_read::count_runs(self).await
    }
    async fn run_stats(
        &self,
        tenant: &str,
        window: &weft_store::stats::StatsWindow,
    ) -> Result<weft_store::stats::RunStats> {
        crate::stats::run_stats(self, tenant, window).await
    }
    async fn active_runs(&self, tenant: &str) -> Result<u64> {
        crate::outbox::active_runs(self, tenant).await
    }

    async fn outbox_claim(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<OutboxEntry>> {
        crate::outbox::claim(self, now, lease_ms, limit).await
    }
    async fn outbox_delete(&self, ids: &[String]) -> Result<()> {
        crate::outbox::delete(self, ids).await
    }
    async fn outbox_oldest(&self) -> Result<Option<i64>> {
        crate::outbox::oldest(self).await
    }

    async fn create_credential(&self, credential: &CredentialRecord) -> Result<()> {
        credentials::create(self, credential).await
    }
    async fn list_credentials(&self, tenant: &str) -> Result<Vec<CredentialRecord>> {
        credentials::list(self, tenant).await
    }
    async fn credential_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<CredentialRecord>> {
        credentials::by_name(self, tenant, name).await
    }
    async fn delete_credential(&self, tenant: &str, id: &str) -> Result<()> {
        credentials::delete(self, tenant, id).await
    }
    async fn reseal_credential(
        &self,
        credential: &CredentialRecord,
        previous_nonce: &[u8],
    ) -> Result<bool> {
        credentials::reseal(self, credential, previous_nonce).await
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

    async fn due_schedules(&self, at: i64, limit: u32) -> Result<Vec<Schedule>> {
        workflows::due_schedules(self, at, limit).await
    }

    async fn state_get(&self, tenant: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>> {
        state::get(self, tenant, plugin, key).await
    }
    async fn state_set(&self, tenant: &str, plugin: &str, key: &str, value: &[u8]) -> Result<()> {
        state::set(self, tenant, plugin, key, value).await
    }
    async fn state_delete(&self, tenant: &str, plugin: &str, key: &str) -> Result<bool> {
        state::delete(self, tenant, plugin, key).await
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        state::audit(self, entry).await
    }
    async fn list_audit(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>> {
        state::list_audit(self, tenant, limit).await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| {
            crate::row::optional(conn, "SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }
}
