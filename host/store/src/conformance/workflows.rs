//! Workflows, their versions and schedules.

use super::*;

/// A workflow is read back by id and by webhook token (from any tenant); its
/// first version is stored with it. An id taken in the tenant or a webhook
/// token taken anywhere is `Duplicate`; the same id in another tenant is fine.
pub async fn workflows_create_and_find<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let w = put_workflow(&*store, A, "wf_1").await;
    assert_eq!(
        store.get_workflow(A, "wf_1").await.unwrap(),
        Some(w.clone())
    );
    assert_eq!(
        store.workflow_by_token(&w.webhook_token).await.unwrap(),
        Some(w.clone())
    );
    assert_eq!(store.workflow_by_token("hook_nope").await.unwrap(), None);
    assert_eq!(
        store.get_version(A, "wf_1", 1).await.unwrap(),
        Some(version(A, "wf_1", 1))
    );
    assert_eq!(store.get_version(A, "wf_1", 2).await.unwrap(), None);

    let mut same_id = workflow(A, "wf_1");
    same_id.webhook_token = "hook_other".into();
    duplicate(
        store
            .create_workflow(&same_id, &version(A, "wf_1", 1))
            .await,
        "a workflow id taken",
    );
    let mut same_token = workflow(B, "wf_2");
    same_token.webhook_token = w.webhook_token.clone();
    duplicate(
        store
            .create_workflow(&same_token, &version(B, "wf_2", 1))
            .await,
        "a webhook token taken by another tenant",
    );
    assert_eq!(store.get_workflow(B, "wf_2").await.unwrap(), None);
    assert_eq!(store.get_version(B, "wf_2", 1).await.unwrap(), None);

    let theirs = put_workflow(&*store, B, "wf_1").await;
    assert_eq!(store.get_workflow(B, "wf_1").await.unwrap(), Some(theirs));
    assert_eq!(store.get_workflow(A, "wf_1").await.unwrap(), Some(w));
}

/// Workflows are listed newest (greatest id) first, a page at a time: `before`
/// is the last id of the previous page; a limit of 0 reads as 1.
pub async fn workflows_list_pages_newest_first<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for n in [3, 1, 5, 2, 4] {
        put_workflow(&*store, A, &format!("wf_{n:02}")).await;
    }
    put_workflow(&*store, B, "wf_06").await;
    let list = |before: Option<&str>, limit| {
        let store = store.clone();
        let page = Page {
            before: before.map(str::to_owned),
            limit,
        };
        async move {
            let got = store
                .list_workflows(A, &WorkflowFilter::default(), &page)
                .await
                .unwrap();
            ids(&got, |w| &w.id)
        }
    };
    assert_eq!(list(None, 2).await, ["wf_05", "wf_04"]);
    assert_eq!(list(Some("wf_04"), 2).await, ["wf_03", "wf_02"]);
    assert_eq!(list(Some("wf_02"), 2).await, ["wf_01"]);
    assert_eq!(list(Some("wf_01"), 2).await, Vec::<String>::new());
    assert_eq!(
        list(Some("wf_035"), 100).await,
        ["wf_03", "wf_02", "wf_01"],
        "before need not be an existing id"
    );
    assert_eq!(list(None, 0).await, ["wf_05"], "a limit of 0 reads as 1");
    let all = store
        .list_workflows(A, &WorkflowFilter::default(), &Page::first(100))
        .await
        .unwrap();
    assert_eq!(all.len(), 5, "only the tenant's workflows");
    assert_eq!(all[0], workflow(A, "wf_05"));
}

/// `add_version` takes exactly the current version plus 1 (else `Stale`),
/// makes it current and renames the workflow; old versions stay readable.
pub async fn add_version_checks_version<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let w = put_workflow(&*store, A, "wf_1").await;
    let v2 = version(A, "wf_1", 2);
    let got = store.add_version(&v2, "renamed", 300).await.unwrap();
    let mut expected = w.clone();
    expected.version = 2;
    expected.name = "renamed".into();
    expected.updated_at = 300;
    assert_eq!(got, expected, "add_version returns the updated workflow");
    assert_eq!(
        store.get_workflow(A, "wf_1").await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(store.get_version(A, "wf_1", 2).await.unwrap(), Some(v2));
    assert_eq!(
        store.get_version(A, "wf_1", 1).await.unwrap(),
        Some(version(A, "wf_1", 1))
    );

    for behind in [0, 1, 2, 4] {
        let mut v = version(A, "wf_1", behind);
        v.definition = json!({ "stale": true });
        stale(
            store.add_version(&v, "lost", 400).await,
            &format!("version {behind} on a workflow at 2"),
        );
    }
    assert_eq!(store.get_workflow(A, "wf_1").await.unwrap(), Some(expected));
    assert_eq!(
        store.get_version(A, "wf_1", 2).await.unwrap(),
        Some(version(A, "wf_1", 2)),
        "a refused version overwrote nothing"
    );
    assert_eq!(store.get_version(A, "wf_1", 4).await.unwrap(), None);
    not_found(
        store.add_version(&version(A, "wf_9", 2), "x", 400).await,
        "a version of a missing workflow",
    );
    not_found(
        store.add_version(&version(B, "wf_1", 3), "x", 400).await,
        "a version of another tenant's workflow",
    );
}

/// `set_active` flips `active`, stamps `updated_at` and replaces the schedule:
/// `due_schedules` (any tenant, earliest first, at or before `at`, limit) sees
/// the new one, and none after a `set_active` without a schedule.
pub async fn set_active_replaces_schedule<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let w = put_workflow(&*store, A, "wf_1").await;
    put_workflow(&*store, B, "wf_2").await;
    let s1 = schedule(A, "wf_1", 5_000);
    let got = store
        .set_active(A, "wf_1", true, Some(&s1), 200)
        .await
        .unwrap();
    let mut active = w.clone();
    active.active = true;
    active.updated_at = 200;
    assert_eq!(got, active);
    assert_eq!(store.get_workflow(A, "wf_1").await.unwrap(), Some(active));
    assert_eq!(store.due_schedules(4_999, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.due_schedules(5_000, 10).await.unwrap(),
        vec![s1.clone()],
        "a schedule is due at its tick"
    );

    let mut s2 = schedule(A, "wf_1", 6_000);
    s2.cron = "0 0 * * * *".into();
    s2.missed = Missed::Skip;
    store
        .set_active(A, "wf_1", true, Some(&s2), 210)
        .await
        .unwrap();
    let s3 = schedule(B, "wf_2", 5_500);
    store
        .set_active(B, "wf_2", true, Some(&s3), 210)
        .await
        .unwrap();
    assert_eq!(store.due_schedules(5_000, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.due_schedules(9_000, 10).await.unwrap(),
        vec![s3.clone(), s2.clone()],
        "every tenant's due schedules, earliest first"
    );
    assert_eq!(store.due_schedules(9_000, 1).await.unwrap(), vec![s3]);

    let got = store.set_active(A, "wf_1", false, None, 220).await.unwrap();
    assert!(!got.active);
    assert_eq!(got.updated_at, 220);
    assert_eq!(
        store.due_schedules(9_000, 10).await.unwrap().len(),
        1,
        "no schedule after set_active without one"
    );
    not_found(
        store.set_active(A, "wf_9", true, None, 230).await,
        "activating a missing workflow",
    );
    not_found(
        store.set_active(B, "wf_1", true, Some(&s1), 230).await,
        "activating another tenant's workflow",
    );
    assert_eq!(store.due_schedules(9_000, 10).await.unwrap().len(), 1);
}

/// Deleting a workflow removes it (by id, by token, from lists) and its
/// schedule, but the version its runs use stays readable, and the id is not
/// reused over it (`Duplicate`). Deleting it again, or another tenant's, is
/// `NotFound`.
pub async fn delete_workflow_keeps_versions<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let w = put_workflow(&*store, A, "wf_1").await;
    store
        .set_active(A, "wf_1", true, Some(&schedule(A, "wf_1", 100)), 150)
        .await
        .unwrap();
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[]).await;
    not_found(
        store.delete_workflow(B, "wf_1").await,
        "deleting another tenant's workflow",
    );
    assert!(store.get_workflow(A, "wf_1").await.unwrap().is_some());

    store.delete_workflow(A, "wf_1").await.unwrap();
    assert_eq!(store.get_workflow(A, "wf_1").await.unwrap(), None);
    assert_eq!(
        store.workflow_by_token(&w.webhook_token).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .list_workflows(A, &WorkflowFilter::default(), &Page::first(10))
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(store.due_schedules(i64::MAX, 10).await.unwrap(), vec![]);
    assert_eq!(
        store.get_version(A, "wf_1", 1).await.unwrap(),
        Some(version(A, "wf_1", 1)),
        "a run's version outlives its workflow"
    );
    assert_eq!(store.get_run(A, "run_1").await.unwrap(), Some(r));
    not_found(store.delete_workflow(A, "wf_1").await, "deleting twice");

    let mut v = version(A, "wf_1", 1);
    v.definition = json!({ "replaced": true });
    duplicate(
        store.create_workflow(&workflow(A, "wf_1"), &v).await,
        "a deleted workflow's id while its versions are kept",
    );
    assert_eq!(
        store.get_version(A, "wf_1", 1).await.unwrap(),
        Some(version(A, "wf_1", 1)),
        "versions are immutable"
    );
}
