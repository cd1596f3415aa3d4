//! The store conformance suite: one async function per behaviour of the
//! [`Store`] port. Every adapter runs all of them, unchanged, through
//! [`conformance_tests!`](crate::conformance_tests).
//!
//! Each function takes a factory that returns a fresh, empty store (no
//! tenants, no workflows, no runs). The functions never sleep and never read
//! the clock: every time is a fixed number, so a failure reproduces.
//!
//! Failures panic with a message naming the broken behaviour: this module is
//! test support, compiled only with the `conformance` feature.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod commit;
mod concurrency;
mod credentials;
mod deliveries;
mod isolation;
mod lifecycle;
mod listings;
mod logs;
mod notifications;
mod notify_scale;
mod oauth;
mod ops;
mod outbox;
mod people;
mod people_retention;
mod polling;
mod queue_trigger;
mod reads;
mod state;
mod suspended;
mod tenants;
mod test_runs;
mod usage;
mod values;
mod workflows;

pub use commit::*;
pub use concurrency::*;
pub use credentials::*;
pub use deliveries::*;
pub use isolation::*;
pub use lifecycle::*;
pub use listings::*;
pub use logs::*;
pub use notifications::*;
pub use notify_scale::*;
pub use oauth::*;
pub use ops::*;
pub use outbox::*;
pub use people::*;
pub use people_retention::*;
pub use polling::*;
pub use queue_trigger::*;
pub use reads::*;
pub use state::*;
pub use suspended::*;
pub use tenants::*;
pub use test_runs::*;
pub use usage::*;
pub use values::*;
pub use workflows::*;

use crate::{Commit, Error, LastRun, Page, RunFilter, ScheduleAdvance, Store, WorkflowFilter};
use serde_json::json;
use std::{future::Future, sync::Arc};
use weft_types::{
    ApiKey, Attempt, CredentialRecord, Missed, Role, Run, Schedule, Status, Step, Tenant, Trigger,
    Workflow, WorkflowVersion,
};

/// The tenant most functions write to.
pub const A: &str = "ten_a";
/// Another tenant, which must never see [`A`]'s records.
pub const B: &str = "ten_b";

async fn fresh<F, Fut>(factory: F) -> Arc<dyn Store>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    factory().await
}

fn tenant(id: &str, created_at: i64) -> Tenant {
    Tenant {
        id: id.into(),
        name: format!("Tenant {id}"),
        wrapped_key: vec![0, 1, 2, 254, 255],
        created_at,
        state: weft_types::TenantState::Active,
        limits: weft_types::TenantLimits::default(),
    }
}

fn api_key(tenant: &str, id: &str, prefix: &str, created_at: i64) -> ApiKey {
    ApiKey {
        id: id.into(),
        tenant_id: tenant.into(),
        prefix: prefix.into(),
        hash: vec![7; 32],
        role: Role::Admin,
        name: format!("key {id}"),
        created_at,
        revoked_at: None,
        scopes: None,
        expires_at: None,
        last_used_at: None,
    }
}

fn workflow(tenant: &str, id: &str) -> Workflow {
    Workflow {
        tenant_id: tenant.into(),
        id: id.into(),
        name: format!("workflow {id}"),
        version: 1,
        active: false,
        webhook_token: format!("hook_{tenant}_{id}"),
        created_at: 100,
        updated_at: 100,
    }
}

fn version(tenant: &str, workflow_id: &str, version: u32) -> WorkflowVersion {
    WorkflowVersion {
        tenant_id: tenant.into(),
        workflow_id: workflow_id.into(),
        version,
        definition: json!({ "name": workflow_id, "version": version, "steps": [{ "id": "a" }] }),
        created_at: 100 + i64::from(version),
    }
}

fn schedule(tenant: &str, workflow_id: &str, next_fire_at: i64) -> Schedule {
    Schedule {
        tenant_id: tenant.into(),
        workflow_id: workflow_id.into(),
        cron: "0 */5 * * * *".into(),
        timezone: "Europe/Paris".into(),
        missed: Missed::Once,
        next_fire_at,
    }
}

fn credential(tenant: &str, id: &str, name: &str) -> CredentialRecord {
    CredentialRecord {
        tenant_id: tenant.into(),
        id: id.into(),
        name: name.into(),
        injection: json!({ "header": { "name": "Authorization", "prefix": "Bearer " } }),
        hosts: vec!["api.example.com".into(), "*.example.org".into()],
        nonce: vec![9; 12],
        ciphertext: vec![0, 255, 1, 254],
        created_at: 100,
        ad_version: 2,
    }
}

fn run(tenant: &str, id: &str, workflow_id: &str) -> Run {
    Run {
        tenant_id: tenant.into(),
        id: id.into(),
        workflow_id: workflow_id.into(),
        version: 1,
        status: Status::Running,
        trigger: Trigger::Manual,
        input: json!({ "run": id }),
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq: 1,
        created_at: 1_000,
        updated_at: 1_000,
        finished_at: None,
        until: None,
    }
}

fn step(run: &Run, key: &str, status: Status) -> Step {
    Step::new(run, key, status, 1_000)
}

fn attempt(step: &Step, n: u32) -> Attempt {
    Attempt {
        tenant_id: step.tenant_id.clone(),
        run_id: step.run_id.clone(),
        step_key: step.key.clone(),
        attempt: n,
        idempotency_key: format!("{}:{}", step.run_id, step.key),
        status: Status::Running,
        input: Some(json!({ "attempt": n })),
        output: None,
        error: None,
        usage: None,
        logs: Vec::new(),
        digest: None,
        started_at: 1_000 + i64::from(n),
        finished_at: None,
    }
}

/// A commit that creates `run` with `steps`.
fn create(run: &Run, steps: &[Step]) -> Commit {
    Commit {
        runs: vec![(run.clone(), None)],
        steps: steps.to_vec(),
        ..Commit::default()
    }
}

/// `run` one `seq` further, expected at its current `seq`.
fn next(run: &Run) -> (Run, Option<i64>) {
    let mut moved = run.clone();
    moved.seq += 1;
    moved.updated_at += 1;
    (moved, Some(run.seq))
}

async fn put_run(store: &dyn Store, run: &Run, steps: &[Step]) {
    store
        .commit(&create(run, steps))
        .await
        .unwrap_or_else(|e| panic!("creating run {}: {e}", run.id));
}

async fn put_workflow(store: &dyn Store, tenant: &str, id: &str) -> Workflow {
    let w = workflow(tenant, id);
    store
        .create_workflow(&w, &version(tenant, id, 1))
        .await
        .unwrap_or_else(|e| panic!("creating workflow {id}: {e}"));
    w
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|t| id(t).to_owned()).collect()
}

/// Lost a race: the caller must reload.
fn stale<T: std::fmt::Debug>(got: crate::Result<T>, what: &str) {
    assert!(
        matches!(got, Err(Error::Stale(_))),
        "{what}: expected Stale, got {got:?}"
    );
}

/// A unique value taken: reported to the user.
fn duplicate<T: std::fmt::Debug>(got: crate::Result<T>, what: &str) {
    assert!(
        matches!(got, Err(Error::Duplicate(_))),
        "{what}: expected Duplicate, got {got:?}"
    );
}

fn not_found<T: std::fmt::Debug>(got: crate::Result<T>, what: &str) {
    assert!(
        matches!(got, Err(Error::NotFound(_))),
        "{what}: expected NotFound, got {got:?}"
    );
}

/// Turns the whole suite into tests in the calling crate:
/// `weft_store::conformance_tests!(#[tokio::test] factory);` where `factory` is
/// an `async fn() -> Arc<dyn Store>` returning a fresh, empty store.
#[macro_export]
macro_rules! conformance_tests {
    ($(#[$attr:meta])* $factory:path) => {
        $crate::conformance_tests!(@each [$(#[$attr])*] $factory;
            tenants_create_get_list,
            api_keys_by_prefix_unique,
            api_keys_list_and_revoke,
            api_keys_scopes_expiry_and_last_use,
            workflows_create_and_find,
            workflows_list_pages_newest_first,
            workflows_search_by_name,
            last_runs_newest_per_workflow,
            add_version_checks_version,
            set_active_replaces_schedule,
            delete_workflow_keeps_versions,
            commit_creates_and_loads,
            commit_new_run_conflicts,
            commit_seq_must_match_and_increase,
            commit_is_atomic,
            commit_upserts_steps_and_attempts,
            commit_refuses_orphans,
            commit_schedule_tick_once,
            commit_resume_token_unique,
            commit_concurrent_one_wins,
            commit_concurrent_distinct_runs,
            load_run_steps_by_key,
            load_run_lean_leaves_out_finished_data,
            list_runs_filters_and_pages,
            list_runs_by_trigger_and_time,
            run_stats_by_bucket_and_busiest,
            list_attempts_by_step_then_attempt,
            due_steps_earliest_first,
            due_rows_leave_out_suspended_tenants,
            overdue_runs_not_terminal,
            count_runs_by_status,
            step_by_resume_token_any_tenant,
            credentials_unique_name_per_tenant,
            credentials_delete,
            credentials_reseal_compare_and_swap,
            state_isolated_by_tenant_and_plugin,
            audit_newest_first_per_tenant,
            tenant_isolation_reads,
            tenant_isolation_writes,
            json_values_round_trip,
            optional_values_round_trip,
            attempt_logs_round_trip,
            attempt_digest_round_trip,
            ping_answers,
            usage_counts_runs_and_finished_attempts,
            usage_retried_commit_does_not_count_twice,
            usage_failed_commit_counts_nothing,
            usage_huge_values_saturate,
            people_users_passwords_totp,
            people_memberships_revoke_sessions,
            people_sessions_rotate_touch_revoke,
            people_links_single_use_and_expiring,
            people_login_failures_and_creators,
            people_login_failures_forget_one_and_clear_account,
            people_prune_dead_rows_in_batches,
            people_last_owner_kept_under_concurrency,
            outbox_written_with_the_commit,
            outbox_written_claimed_waits_for_its_claim,
            outbox_claim_oldest_first_and_leased,
            outbox_delete_and_oldest,
            active_runs_counts_live_runs_per_tenant,
            deliveries_one_run_per_id,
            deliveries_expire_and_prune,
            deliveries_concurrent_one_wins,
            notification_rules_crud_by_tenant,
            notification_failed_run_delivers_once,
            notification_waiting_step_delivers,
            notification_recovered_after_failure_only,
            notification_claims_and_attempts,
            notification_claims_race_disjoint,
            notification_claims_fair_by_tenant,
            notification_runs_below_a_notification_make_none,
            notification_rows_erased_and_pruned,
            notification_connector_rule_round_trips,
            notification_claim_with_a_large_backlog,
            notification_deferred_stays_pending,
            test_runs_notify_nobody,
            operator_keys_create_find_revoke,
            tenant_state_and_limits_round_trip,
            erase_tenant_in_batches,
            prune_runs_and_audit,
            tenant_state_compare_and_set,
            sweeper_lock_one_holder,
            overdue_runs_leave_out_inactive_tenants,
            erase_tenant_takes_its_only_members,
            oauth_pending_single_use_and_expiring,
            oauth_refresh_lease_one_holder,
            oauth_reauthorize_mark,
            oauth_rows_go_with_the_credential,
            polling_claim_once_and_commit_with_runs,
            polling_failures_recorded_and_cleared,
            polling_disarm_keeps_cursor_and_keys,
            queue_consumer_lease_one_owner,
            queue_consumer_lease_cap_per_tenant,
        );
    };
    (@each $attrs:tt $factory:path; $($name:ident,)*) => {
        $( $crate::conformance_tests!(@one $attrs $factory; $name); )*
    };
    (@one [$($attr:tt)*] $factory:path; $name:ident) => {
        $($attr)*
        async fn $name() {
            $crate::conformance::$name($factory).await;
        }
    };
}
