//! The sweeper's queries leave out the tenants that are not active
//! (`docs/TENANCY.md`, section 2): a suspended tenant's due steps and
//! schedules stay due, untouched, and hold back no other tenant's.

use super::*;
use weft_types::TenantState;

/// `due_steps` and `due_schedules` answer no row of a suspended (or
/// deleting) tenant, however many it has, so the `limit` goes to the other
/// tenants; on resume its rows are due again, as they were. Rows of a tenant
/// with no tenant row (older data) are kept.
pub async fn due_rows_leave_out_suspended_tenants<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for id in [A, B] {
        store.create_tenant(&tenant(id, 1)).await.unwrap();
    }
    // A has more due rows than a sweeper round takes, all earlier than B's.
    let ra = run(A, "run_a", "wf_a");
    let steps: Vec<Step> = (0..5)
        .map(|i| {
            let mut s = step(&ra, &format!("s{i}"), Status::Pending);
            s.due_at = Some(10 + i);
            s
        })
        .collect();
    put_run(&*store, &ra, &steps).await;
    let rb = run(B, "run_b", "wf_b");
    let mut sb = step(&rb, "y", Status::Pending);
    sb.due_at = Some(100);
    put_run(&*store, &rb, std::slice::from_ref(&sb)).await;
    let orphan = run("ten_gone", "run_c", "wf_c");
    let mut sc = step(&orphan, "z", Status::Pending);
    sc.due_at = Some(200);
    put_run(&*store, &orphan, std::slice::from_ref(&sc)).await;
    for (t, w, at) in [(A, "wf_a", 10), (A, "wf_a2", 11), (B, "wf_b", 100)] {
        put_workflow(&*store, t, w).await;
        let s = schedule(t, w, at);
        store.set_active(t, w, true, Some(&s), 5).await.unwrap();
    }
    let keys = |v: Vec<Step>| -> Vec<String> { ids(&v, |s| &s.key) };
    let wfs = |v: Vec<Schedule>| -> Vec<String> { ids(&v, |s| &s.workflow_id) };
    assert_eq!(
        keys(store.due_steps(1_000, 2).await.unwrap()),
        ["s0", "s1"],
        "active: earliest first"
    );

    let suspended = TenantState::Suspended {
        reason: "unpaid".into(),
        at: 50,
    };
    store
        .set_tenant_state(A, &TenantState::Active, &suspended)
        .await
        .unwrap();
    assert_eq!(
        keys(store.due_steps(1_000, 2).await.unwrap()),
        ["y", "z"],
        "a suspended tenant's steps hold back no other tenant's"
    );
    assert_eq!(
        wfs(store.due_schedules(1_000, 1).await.unwrap()),
        ["wf_b"],
        "nor its schedules"
    );

    let deleting = TenantState::Deleting {
        reason: "closed".into(),
        at: 60,
        erase_after: 10_000,
    };
    store
        .set_tenant_state(A, &suspended, &deleting)
        .await
        .unwrap();
    assert_eq!(keys(store.due_steps(1_000, 10).await.unwrap()), ["y", "z"]);
    assert_eq!(wfs(store.due_schedules(1_000, 10).await.unwrap()), ["wf_b"]);

    store
        .set_tenant_state(A, &deleting, &TenantState::Active)
        .await
        .unwrap();
    assert_eq!(
        keys(store.due_steps(1_000, 10).await.unwrap()),
        ["s0", "s1", "s2", "s3", "s4", "y", "z"],
        "resumed: due again, as they were"
    );
    assert_eq!(
        wfs(store.due_schedules(1_000, 10).await.unwrap()),
        ["wf_a", "wf_a2", "wf_b"]
    );
}
