//! The [`Store`] trait and the values it exchanges.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use weft_types::{
    ApiKey, Attempt, CredentialRecord, Run, Schedule, Status, Step, Tenant, Trigger, Workflow,
    WorkflowVersion,
};

/// A run and all its steps, as read for one engine decision.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// The run row; `run.seq` is what a [`Commit`] must expect.
    pub run: Run,
    /// Every step row, ordered by key.
    pub steps: Vec<Step>,
}

impl RunState {
    /// The step with `key`.
    pub fn step(&self, key: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.key == key)
    }
}

/// One atomic change: a run (new or updated), its changed steps and journal
/// entries, runs it starts, and a schedule tick it consumes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Commit {
    /// The runs written: each new (`expected_seq: None`, must not exist) or
    /// updated only if its stored `seq` equals `expected_seq` (then stored with
    /// `run.seq`, which must be greater).
    pub runs: Vec<(Run, Option<i64>)>,
    /// Step rows inserted or replaced (by tenant, run, key).
    pub steps: Vec<Step>,
    /// Journal rows inserted or replaced (by tenant, run, step key, attempt).
    pub attempts: Vec<Attempt>,
    /// A schedule tick consumed by this commit.
    pub schedule: Option<ScheduleAdvance>,
    /// Tasks to publish, written with the rest (the transactional outbox).
    pub outbox: Vec<OutboxEntry>,
    /// A webhook delivery id recorded with the run it starts.
    /// # Errors: `Duplicate` when an unexpired delivery with the same
    /// (tenant, workflow, id) exists (an expired one is replaced).
    pub delivery: Option<Delivery>,
    /// A poll's cursor advance and seen keys, written with the runs it
    /// starts (`crate::polling`). # Errors: `Stale` when the poll row's
    /// `seq` moved on.
    pub poll: Option<crate::polling::PollAdvance>,
}

/// A webhook delivery id seen for a workflow, and the run it started: a
/// repeated delivery starts no second run and gets that run's answer
/// (`docs/SECURITY.md`, A6). Unique by (tenant, workflow, delivery id) while
/// unexpired; pruned once expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The workflow's tenant.
    pub tenant_id: String,
    /// The workflow the webhook belongs to.
    pub workflow_id: String,
    /// The sender's delivery id (at most `weft_types::webhook::MAX_DELIVERY_ID` bytes).
    pub delivery_id: String,
    /// The run the first delivery started.
    pub run_id: String,
    /// SHA-256 of the first delivery's body (lowercase hex): a repeated id
    /// with another body is refused, not answered with this run.
    pub body_sha256: String,
    /// When it was first seen (ms since the epoch).
    pub created_at: i64,
    /// From then on it is forgotten (ms since the epoch).
    pub expires_at: i64,
}

/// A task to publish, written in the same transaction as the decision that
/// made it due; the relay publishes it and then deletes it
/// (`docs/DISTRIBUTED.md`, "The outbox").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Unique, chosen by the writer; ties on `created_at` are ordered by it.
    pub id: String,
    /// The run's tenant.
    pub tenant_id: String,
    /// The run.
    pub run_id: String,
    /// The step (or a `$`-prefixed pseudo step).
    pub step_key: String,
    /// The attempt the task asks for.
    pub attempt: u32,
    /// Publish with a delay of `due_at - now` (ms since the epoch).
    pub due_at: i64,
    /// When it was written (ms since the epoch).
    pub created_at: i64,
    /// Claimed until then (ms since the epoch; 0: not claimed). The process
    /// that commits an entry writes it claimed for itself and publishes it
    /// right after the commit; a relay takes it only once this lapsed (its
    /// writer died first). [`Store::outbox_claim`] returns its new claim here.
    #[serde(default)]
    pub claimed_until: i64,
}

/// Moves a schedule from the tick it fired to the next, if nobody else did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleAdvance {
    /// The owner.
    pub tenant_id: String,
    /// The workflow.
    pub workflow_id: String,
    /// The `next_fire_at` this commit consumed.
    pub expected: i64,
    /// The new `next_fire_at`.
    pub next: i64,
}

/// Keyset pagination, newest first: `before` is the last id of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Page {
    /// Only ids strictly smaller than this.
    pub before: Option<String>,
    /// At most this many (adapters cap it at 1000).
    pub limit: u32,
}

impl Page {
    /// The first `limit` records.
    pub fn first(limit: u32) -> Self {
        Self {
            before: None,
            limit,
        }
    }

    /// The limit, between 1 and 1000.
    pub fn capped(&self) -> u32 {
        self.limit.clamp(1, 1000)
    }
}

/// Which runs to list: every filter set must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only this workflow's runs.
    pub workflow_id: Option<String>,
    /// Only runs in this status.
    pub status: Option<Status>,
    /// Only runs started this way.
    pub trigger: Option<Trigger>,
    /// Only runs created at or after this time.
    pub created_from: Option<i64>,
    /// Only runs created before this time.
    pub created_to: Option<i64>,
}

impl RunFilter {
    /// Whether `run` passes (what every adapter's query computes).
    pub fn accepts(&self, run: &Run) -> bool {
        self.workflow_id
            .as_ref()
            .is_none_or(|w| *w == run.workflow_id)
            && self.status.is_none_or(|s| s == run.status)
            && self.trigger.is_none_or(|t| t == run.trigger)
            && self.created_from.is_none_or(|f| run.created_at >= f)
            && self.created_to.is_none_or(|t| run.created_at < t)
    }
}

/// Which workflows to list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkflowFilter {
    /// Only workflows whose name contains this text: ASCII letters match
    /// either case, every other character (`%` and `_` too) only itself.
    pub name: Option<String>,
}

impl WorkflowFilter {
    /// Whether `name` passes (what every adapter's query computes).
    pub fn accepts(&self, name: &str) -> bool {
        self.name
            .as_deref()
            .is_none_or(|q| name.to_ascii_lowercase().contains(&q.to_ascii_lowercase()))
    }

    /// The filter as a `LIKE` pattern with `\` as the escape character:
    /// `%` + the text, ASCII-lowercased, `\`, `%` and `_` escaped, + `%`.
    pub fn like_pattern(&self) -> Option<String> {
        let q = self.name.as_deref()?;
        let mut out = String::with_capacity(q.len() + 2);
        out.push('%');
        for c in q.chars() {
            if matches!(c, '\\' | '%' | '_') {
                out.push('\\');
            }
            out.push(c.to_ascii_lowercase());
        }
        out.push('%');
        Some(out)
    }
}

/// The newest run of a workflow (`Store::last_runs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRun {
    /// The workflow.
    pub workflow_id: String,
    /// The run (the greatest id of the workflow's runs).
    pub id: String,
    /// Where it is.
    pub status: Status,
    /// When it was created.
    pub created_at: i64,
}

/// One line of the audit log: who did what to which record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The tenant.
    pub tenant_id: String,
    /// The API key id (or `system`).
    pub actor: String,
    /// `workflow.create`, `credential.delete`, ...
    pub action: String,
    /// The record's id.
    pub target: String,
    /// When.
    pub at: i64,
}

/// The store port. Object-safe: the composition root holds an `Arc<dyn Store>`.
#[async_trait]
pub trait Store:
    Send
    + Sync
    + 'static
    + crate::usage::UsageStore
    + crate::ops::OpsStore
    + crate::notifications::NotificationStore
    + crate::people::PeopleStore
    + crate::oauth::OAuthStore
    + crate::polling::PollingStore
    + crate::queue_trigger::QueueTriggerStore
{
    // ---- tenants and API keys

    /// Creates a tenant. # Errors: `Duplicate` when the id exists.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    /// Reads a tenant.
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>>;
    /// Every tenant, oldest first.
    async fn list_tenants(&self) -> Result<Vec<Tenant>>;
    /// Stores a key. # Errors: `Duplicate` when the prefix is taken.
    async fn create_api_key(&self, key: &ApiKey) -> Result<()>;
    /// Finds a key by its public prefix (any tenant: this is how a request is authenticated).
    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKey>>;
    /// The tenant's keys, oldest first.
    async fn list_api_keys(&self, tenant: &str) -> Result<Vec<ApiKey>>;
    /// Revokes a key at `at`. # Errors: `NotFound`.
    async fn revoke_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()>;
    /// Records that a key was used at `at`, unless it was recorded within
    /// [`KEY_TOUCH_MS`](crate::KEY_TOUCH_MS) before (so a busy key costs one
    /// write a minute, not one per call). An unknown key is ignored.
    async fn touch_api_key(&self, tenant: &str, id: &str, at: i64) -> Result<()>;

    // ---- workflows

    /// Creates a workflow with its first version.
    /// # Errors: `Duplicate` when the id or the webhook token exists.
    async fn create_workflow(&self, workflow: &Workflow, first: &WorkflowVersion) -> Result<()>;
    /// Adds `next` (whose `version` must be the current one plus 1) and makes it
    /// current, renaming the workflow to `name`.
    /// # Errors: `NotFound`; `Stale` when another update won.
    async fn add_version(&self, next: &WorkflowVersion, name: &str, at: i64) -> Result<Workflow>;
    /// Activates or deactivates a workflow, replacing its schedule (`None`: no schedule).
    /// # Errors: `NotFound`.
    async fn set_active(
        &self,
        tenant: &str,
        id: &str,
        active: bool,
        schedule: Option<&Schedule>,
        at: i64,
    ) -> Result<Workflow>;
    /// Deletes a workflow, its schedule and its versions not referenced by runs
    /// (runs keep their version). # Errors: `NotFound`.
    async fn delete_workflow(&self, tenant: &str, id: &str) -> Result<()>;
    /// Reads a workflow.
    async fn get_workflow(&self, tenant: &str, id: &str) -> Result<Option<Workflow>>;
    /// Finds a workflow by its webhook token (any tenant).
    async fn workflow_by_token(&self, token: &str) -> Result<Option<Workflow>>;
    /// Lists workflows, newest first, that pass `filter`.
    async fn list_workflows(
        &self,
        tenant: &str,
        filter: &WorkflowFilter,
        page: &Page,
    ) -> Result<Vec<Workflow>>;
    /// The newest run of each of `workflow_ids` that has one (in no
    /// particular order), in one query whatever their number (at most 1000).
    async fn last_runs(&self, tenant: &str, workflow_ids: &[String]) -> Result<Vec<LastRun>>;
    /// Reads one version (kept after the workflow is deleted, for its runs).
    async fn get_version(
        &self,
        tenant: &str,
        workflow_id: &str,
        version: u32,
    ) -> Result<Option<WorkflowVersion>>;

    // ---- runs, steps, journal

    /// Applies a [`Commit`] atomically.
    /// # Errors: `Stale` when a run's `seq` (or the schedule tick) moved, `Duplicate` when a new
    /// run or a resume token exists; nothing is written then.
    async fn commit(&self, commit: &Commit) -> Result<()>;
    /// Reads a run with all its steps.
    async fn load_run(&self, tenant: &str, id: &str) -> Result<Option<RunState>>;
    /// Reads a run with all its steps for one engine decision
    /// (`weft_engine::run::Plan::lean`): every row is there with its status,
    /// attempt, times and links, but a terminal step's `input`, `output` and
    /// `error` may be left out (`None`) unless its key is in `full`; steps
    /// not terminal are whole. A decision reads and writes the data of a
    /// few rows, so what it loads need not grow with every output the run
    /// has made. The default reads everything ([`Store::load_run`]).
    async fn load_run_lean(
        &self,
        tenant: &str,
        id: &str,
        full: &[String],
    ) -> Result<Option<RunState>> {
        let _ = full;
        self.load_run(tenant, id).await
    }
    /// Reads a run without its steps.
    async fn get_run(&self, tenant: &str, id: &str) -> Result<Option<Run>>;
    /// Lists runs, newest first.
    async fn list_runs(&self, tenant: &str, filter: &RunFilter, page: &Page) -> Result<Vec<Run>>;
    /// The journal of a run, by step key then attempt.
    async fn list_attempts(&self, tenant: &str, run_id: &str) -> Result<Vec<Attempt>>;
    /// Finds the waiting step a resume token belongs to (any tenant).
    async fn step_by_resume_token(&self, token: &str) -> Result<Option<Step>>;
    /// Steps not terminal whose `due_at` is at or before `at`, earliest first (any tenant
    /// whose state is active: a suspended tenant's steps wait, `docs/TENANCY.md` section 2):
    /// what the sweeper re-enqueues.
    async fn due_steps(&self, at: i64, limit: u32) -> Result<Vec<Step>>;
    /// Runs not terminal whose deadline is at or before `at` (any tenant).
    async fn overdue_runs(&self, at: i64, limit: u32) -> Result<Vec<Run>>;
    /// Counts runs by status (metrics).
    async fn count_runs(&self) -> Result<Vec<(Status, u64)>>;
    /// The tenant's runs created in `window`: per bucket and status, and
    /// the busiest workflows (see [`crate::stats`]); one `GROUP BY` each.
    async fn run_stats(
        &self,
        tenant: &str,
        window: &crate::stats::StatsWindow,
    ) -> Result<crate::stats::RunStats>;

    /// Counts the tenant's runs that are not in a terminal status (the hard
    /// quota of active runs).
    async fn active_runs(&self, tenant: &str) -> Result<u64>;

    // ---- the outbox

    /// Up to `limit` entries (any tenant) that are unclaimed or whose claim
    /// lapsed (at or before `now`; the claim their commit wrote counts too),
    /// oldest first by (`created_at`, `id`), claimed until `now + lease_ms`
    /// (returned in `claimed_until`). Two callers never get the same entry
    /// while its claim is live.
    async fn outbox_claim(&self, now: i64, lease_ms: i64, limit: u32) -> Result<Vec<OutboxEntry>>;
    /// Removes entries (published); unknown ids are ignored.
    async fn outbox_delete(&self, ids: &[String]) -> Result<()>;
    /// `created_at` of the oldest entry (the relay's lag).
    async fn outbox_oldest(&self) -> Result<Option<i64>>;

    // ---- credentials

    /// Stores a sealed credential. # Errors: `Duplicate` when the name is taken.
    async fn create_credential(&self, credential: &CredentialRecord) -> Result<()>;
    /// The tenant's credentials, by name.
    async fn list_credentials(&self, tenant: &str) -> Result<Vec<CredentialRecord>>;
    /// Reads a credential by name.
    async fn credential_by_name(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<CredentialRecord>>;
    /// Deletes a credential. # Errors: `NotFound`.
    async fn delete_credential(&self, tenant: &str, id: &str) -> Result<()>;
    /// Replaces a credential's binding and seal (name, injection, hosts,
    /// nonce, ciphertext, `ad_version`) in one write, if its nonce is still
    /// `previous_nonce` (compare-and-swap: two processes re-sealing the same
    /// row write it once). `false`: the row is gone or was re-sealed
    /// meanwhile. # Errors: `Duplicate` when the new name is taken.
    async fn reseal_credential(
        &self,
        credential: &CredentialRecord,
        previous_nonce: &[u8],
    ) -> Result<bool>;

    // ---- webhook deliveries

    /// The unexpired delivery (`expires_at` after `now`) of a workflow by its id.
    async fn get_delivery(
        &self,
        tenant: &str,
        workflow_id: &str,
        delivery_id: &str,
        now: i64,
    ) -> Result<Option<Delivery>>;
    /// Deletes up to `limit` deliveries expired at `now` (any tenant); how many.
    async fn prune_deliveries(&self, now: i64, limit: u32) -> Result<u64>;

    // ---- schedules

    /// Schedules whose next tick is at or before `at` (any tenant whose state is
    /// active: a suspended tenant's stay due), earliest first.
    async fn due_schedules(&self, at: i64, limit: u32) -> Result<Vec<Schedule>>;

    // ---- plugin state (the sandbox's `weft:plugin/state`)

    /// Reads a value.
    async fn state_get(&self, tenant: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>>;
    /// Writes a value.
    async fn state_set(&self, tenant: &str, plugin: &str, key: &str, value: &[u8]) -> Result<()>;
    /// Deletes a value; whether it existed.
    async fn state_delete(&self, tenant: &str, plugin: &str, key: &str) -> Result<bool>;

    // ---- audit

    /// Appends to the audit log (insert only; nothing updates or deletes it).
    async fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The tenant's audit log, newest first.
    async fn list_audit(&self, tenant: &str, limit: u32) -> Result<Vec<AuditEntry>>;

    // ---- health

    /// Checks the backend answers.
    async fn ping(&self) -> Result<()>;

    /// A feed of the runs that answer or end, committed by any process that
    /// shares this store, when the backend has one (PostgreSQL: `LISTEN` on
    /// what the commit `NOTIFY`s). `None` (the default): waiters poll. It
    /// connects on its first [`crate::RunFeed::next`].
    fn run_feed(&self) -> Option<Box<dyn crate::RunFeed>> {
        None
    }
}
