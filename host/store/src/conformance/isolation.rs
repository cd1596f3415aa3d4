//! Tenant isolation across every per-tenant method.

use super::*;
use crate::{AuditEntry, RunState};

/// Everything tenant [`A`] owns, as read by `A`.
#[derive(Debug, PartialEq)]
struct Snapshot {
    workflows: Vec<Workflow>,
    version: Option<WorkflowVersion>,
    run: Option<RunState>,
    runs: Vec<Run>,
    attempts: Vec<Attempt>,
    credentials: Vec<CredentialRecord>,
    keys: Vec<ApiKey>,
    state: Option<Vec<u8>>,
    audit: Vec<AuditEntry>,
    schedules: Vec<Schedule>,
}

async fn snapshot(store: &dyn Store, t: &str) -> Snapshot {
    Snapshot {
        workflows: store
            .list_workflows(t, &WorkflowFilter::default(), &Page::first(100))
            .await
            .unwrap(),
        version: store.get_version(t, "wf_1", 1).await.unwrap(),
        run: store.load_run(t, "run_1").await.unwrap(),
        runs: store
            .list_runs(t, &RunFilter::default(), &Page::first(100))
            .await
            .unwrap(),
        attempts: store.list_attempts(t, "run_1").await.unwrap(),
        credentials: store.list_credentials(t).await.unwrap(),
        keys: store.list_api_keys(t).await.unwrap(),
        state: store.state_get(t, "slack", "cursor").await.unwrap(),
        audit: store.list_audit(t, 100).await.unwrap(),
        schedules: store.due_schedules(i64::MAX, 100).await.unwrap(),
    }
}

/// Tenant `A`'s workflow, version, schedule, run with a step and an attempt,
/// credential, API key, state and audit entry.
async fn populate(store: &dyn Store) -> Run {
    put_workflow(store, A, "wf_1").await;
    let s = schedule(A, "wf_1", 5_000);
    store
        .set_active(A, "wf_1", true, Some(&s), 100)
        .await
        .unwrap();
    let r = run(A, "run_1", "wf_1");
    let st = step(&r, "a", Status::Running);
    let c = Commit {
        attempts: vec![attempt(&st, 1)],
        ..create(&r, &[st])
    };
    store.commit(&c).await.unwrap();
    store
        .create_credential(&credential(A, "cred_1", "slack"))
        .await
        .unwrap();
    store
        .create_api_key(&api_key(A, "key_1", "weft_a", 10))
        .await
        .unwrap();
    store.state_set(A, "slack", "cursor", b"a").await.unwrap();
    let entry = AuditEntry {
        tenant_id: A.into(),
        actor: "key_1".into(),
        action: "workflow.create".into(),
        target: "wf_1".into(),
        at: 100,
    };
    store.audit(&entry).await.unwrap();
    r
}

/// Every per-tenant read with another tenant's ids reads as missing or empty.
pub async fn tenant_isolation_reads<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    populate(&*store).await;
    let mine = snapshot(&*store, A).await;
    assert_eq!(
        mine.workflows.len(),
        1,
        "the setup is visible to its tenant"
    );
    assert!(mine.version.is_some() && mine.run.is_some() && mine.state.is_some());
    assert_eq!(
        (
            mine.attempts.len(),
            mine.credentials.len(),
            mine.keys.len(),
            mine.audit.len()
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(store.get_workflow(B, "wf_1").await.unwrap(), None);
    assert_eq!(store.get_run(B, "run_1").await.unwrap(), None);
    assert_eq!(store.credential_by_name(B, "slack").await.unwrap(), None);
    let filter = RunFilter {
        workflow_id: Some("wf_1".into()),
        status: Some(Status::Running),
        ..RunFilter::default()
    };
    assert_eq!(
        store
            .list_runs(B, &filter, &Page::first(100))
            .await
            .unwrap(),
        vec![]
    );
    let theirs = snapshot(&*store, B).await;
    let empty = Snapshot {
        workflows: vec![],
        version: None,
        run: None,
        runs: vec![],
        attempts: vec![],
        credentials: vec![],
        keys: vec![],
        state: None,
        audit: vec![],
        schedules: mine.schedules.clone(),
    };
    assert_eq!(theirs, empty, "another tenant sees none of A's records");
}

/// Every per-tenant write aimed at another tenant's ids fails (`NotFound`,
/// `Stale`, or `false` for state) and changes nothing; the same ids
/// created in the other tenant are separate records.
pub async fn tenant_isolation_writes<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = populate(&*store).await;
    let before = snapshot(&*store, A).await;

    not_found(store.revoke_api_key(B, "key_1", 50).await, "revoke_api_key");
    not_found(
        store.add_version(&version(B, "wf_1", 2), "x", 50).await,
        "add_version",
    );
    not_found(
        store.set_active(B, "wf_1", false, None, 50).await,
        "set_active",
    );
    not_found(store.delete_workflow(B, "wf_1").await, "delete_workflow");
    not_found(
        store.delete_credential(B, "cred_1").await,
        "delete_credential",
    );
    assert!(
        !store.state_delete(B, "slack", "cursor").await.unwrap(),
        "state_delete"
    );
    let mut theirs = r.clone();
    theirs.tenant_id = B.into();
    let (moved, e) = next(&theirs);
    let c = Commit {
        runs: vec![(moved, e)],
        schedule: Some(ScheduleAdvance {
            tenant_id: B.into(),
            workflow_id: "wf_1".into(),
            expected: 5_000,
            next: 6_000,
        }),
        ..Commit::default()
    };
    stale(store.commit(&c).await, "updating another tenant's run");
    assert_eq!(
        snapshot(&*store, A).await,
        before,
        "A's records are untouched"
    );

    let mut w = workflow(B, "wf_1");
    w.webhook_token = "hook_b".into();
    store
        .create_workflow(&w, &version(B, "wf_1", 1))
        .await
        .unwrap();
    put_run(&*store, &theirs, &[step(&theirs, "a", Status::Pending)]).await;
    store
        .create_credential(&credential(B, "cred_1", "slack"))
        .await
        .unwrap();
    store.state_set(B, "slack", "cursor", b"b").await.unwrap();
    store.delete_workflow(B, "wf_1").await.unwrap();
    store.delete_credential(B, "cred_1").await.unwrap();
    assert!(store.state_delete(B, "slack", "cursor").await.unwrap());
    assert_eq!(store.get_run(B, "run_1").await.unwrap(), Some(theirs));
    assert_eq!(
        snapshot(&*store, A).await,
        before,
        "the same ids in another tenant are other records"
    );
}
