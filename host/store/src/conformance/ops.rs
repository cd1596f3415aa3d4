//! The operator's methods ([`crate::ops::OpsStore`]): operator keys, tenant
//! state and limits, the operator audit log, erasing and pruning.

use super::*;
use crate::AuditEntry;
use weft_types::{OperatorKey, Quotas, TenantLimits, TenantState};

fn operator_key(id: &str, prefix: &str, created_at: i64) -> OperatorKey {
    OperatorKey {
        id: id.into(),
        prefix: prefix.into(),
        hash: vec![9, 8, 7, 0, 255],
        name: format!("key {id}"),
        created_at,
        revoked_at: None,
    }
}

fn entry(tenant: &str, action: &str, at: i64) -> AuditEntry {
    AuditEntry {
        tenant_id: tenant.into(),
        actor: "op:opk_1".into(),
        action: action.into(),
        target: tenant.into(),
        at,
    }
}

/// Operator keys are found by prefix, unique by id and prefix, listed oldest
/// first, and revoked once (a second revoke keeps the first time).
pub async fn operator_keys_create_find_revoke<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let (k2, k1) = (
        operator_key("opk_2", "weft_op_b", 20),
        operator_key("opk_1", "weft_op_a", 10),
    );
    store.create_operator_key(&k2).await.unwrap();
    store.create_operator_key(&k1).await.unwrap();
    duplicate(
        store
            .create_operator_key(&operator_key("opk_3", "weft_op_a", 30))
            .await,
        "an operator key prefix taken",
    );
    assert_eq!(
        store.operator_key_by_prefix("weft_op_a").await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(
        store.operator_key_by_prefix("weft_op_z").await.unwrap(),
        None
    );
    assert_eq!(
        store.list_operator_keys().await.unwrap(),
        vec![k1.clone(), k2],
        "oldest first"
    );
    store.revoke_operator_key("opk_1", 50).await.unwrap();
    store.revoke_operator_key("opk_1", 60).await.unwrap();
    let got = store
        .operator_key_by_prefix("weft_op_a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.revoked_at, Some(50), "the first revocation stays");
    not_found(
        store.revoke_operator_key("opk_zz", 1).await,
        "an unknown operator key",
    );
    // An operator key is no API key.
    assert_eq!(store.api_key_by_prefix("weft_op_a").await.unwrap(), None);
}

/// A tenant's name, state and limits are written and read back exactly; an
/// unknown tenant is `NotFound`; other tenants are unchanged.
pub async fn tenant_state_and_limits_round_trip<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let (a, b) = (tenant(A, 1), tenant(B, 2));
    store.create_tenant(&a).await.unwrap();
    store.create_tenant(&b).await.unwrap();
    assert_eq!(
        store.get_tenant(A).await.unwrap().unwrap().state,
        TenantState::Active
    );
    let mut changed = a.clone();
    changed.name = "renamed".into();
    changed.state = TenantState::Deleting {
        reason: "asked to leave".into(),
        at: 10,
        erase_after: 99,
    };
    changed.limits = TenantLimits {
        api_rate: Some(2.5),
        api_burst: Some(3),
        max_active_runs: Some(7),
        run_retention_days: Some(0),
        quotas: Some(Quotas {
            steps_per_month: Some(1_000_000),
            ..Quotas::default()
        }),
        ..TenantLimits::default()
    };
    store
        .update_tenant_settings(A, Some(&changed.name), Some(&changed.limits))
        .await
        .unwrap();
    store
        .set_tenant_state(A, &TenantState::Active, &changed.state)
        .await
        .unwrap();
    let got = store.get_tenant(A).await.unwrap().unwrap();
    assert_eq!(got.name, "renamed");
    assert_eq!(got.state, changed.state);
    assert_eq!(got.limits, changed.limits);
    assert_eq!(
        (got.wrapped_key, got.created_at),
        (a.wrapped_key, a.created_at),
        "key and creation time never change"
    );
    assert_eq!(store.get_tenant(B).await.unwrap(), Some(b));
    not_found(
        store
            .update_tenant_settings("ten_zz", Some("x"), None)
            .await,
        "an unknown tenant",
    );
}

/// Erasing removes every row of the tenant in batches of at most `limit`,
/// then the tenant itself; another tenant's rows and the operator audit log
/// stay.
pub async fn erase_tenant_in_batches<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for t in [A, B] {
        store.create_tenant(&tenant(t, 1)).await.unwrap();
        store
            .create_api_key(&api_key(t, &format!("key_{t}"), &format!("weft_{t}"), 1))
            .await
            .unwrap();
        put_workflow(store.as_ref(), t, "wf_1").await;
        store
            .create_credential(&credential(t, "cred_1", "c"))
            .await
            .unwrap();
        store.state_set(t, "p", "k", b"v").await.unwrap();
        store.audit(&entry(t, "workflow.create", 5)).await.unwrap();
        for r in ["run_1", "run_2", "run_3"] {
            let run = run(t, r, "wf_1");
            let s = step(&run, "a", Status::Running);
            let mut c = create(&run, std::slice::from_ref(&s));
            c.attempts = vec![attempt(&s, 1)];
            store.commit(&c).await.unwrap();
        }
    }
    store
        .operator_audit(&entry(A, "tenant.erase.start", 9))
        .await
        .unwrap();
    let mut rounds = 0;
    loop {
        let n = store.erase_tenant(A, 2).await.unwrap();
        assert!(n <= 2, "a batch is bounded by its limit, got {n}");
        rounds += 1;
        if n == 0 {
            break;
        }
        assert!(rounds < 100, "erasing ends");
    }
    assert!(
        rounds > 5,
        "rows went in several bounded batches ({rounds} rounds)"
    );
    assert_eq!(
        store.get_tenant(A).await.unwrap(),
        None,
        "the tenant row goes last"
    );
    assert!(
        store
            .list_runs(A, &RunFilter::default(), &Page::first(10))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.list_api_keys(A).await.unwrap().is_empty());
    assert!(store.list_credentials(A).await.unwrap().is_empty());
    assert_eq!(store.state_get(A, "p", "k").await.unwrap(), None);
    assert!(store.list_audit(A, 10).await.unwrap().is_empty());
    assert_eq!(store.get_workflow(A, "wf_1").await.unwrap(), None);
    assert!(store.load_run(A, "run_1").await.unwrap().is_none());
    // B is whole.
    assert!(store.get_tenant(B).await.unwrap().is_some());
    assert_eq!(
        store
            .list_runs(B, &RunFilter::default(), &Page::first(10))
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(store.list_attempts(B, "run_1").await.unwrap().len(), 1);
    assert_eq!(store.list_api_keys(B).await.unwrap().len(), 1);
    assert_eq!(store.list_audit(B, 10).await.unwrap().len(), 1);
    assert_eq!(
        store.list_operator_audit(10).await.unwrap().len(),
        1,
        "the operator log stays"
    );
    // Erasing a gone tenant is a no-op.
    assert_eq!(store.erase_tenant(A, 2).await.unwrap(), 0);
}

/// Pruning deletes only the tenant's runs that ended before the cut-off, with
/// their steps and attempts, at most `limit` a call; audit rows older than a
/// time go in batches too; the operator log is newest first.
pub async fn prune_runs_and_audit<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for t in [A, B] {
        store.create_tenant(&tenant(t, 1)).await.unwrap();
        put_workflow(store.as_ref(), t, "wf_1").await;
        for (id, finished) in [
            ("run_1", Some(500)),
            ("run_2", Some(600)),
            ("run_3", Some(5_000)),
            ("run_4", None),
        ] {
            let mut run = run(t, id, "wf_1");
            if let Some(f) = finished {
                run.status = Status::Completed;
                run.finished_at = Some(f);
            }
            let s = step(&run, "a", Status::Completed);
            let mut c = create(&run, std::slice::from_ref(&s));
            c.attempts = vec![attempt(&s, 1)];
            store.commit(&c).await.unwrap();
        }
    }
    assert_eq!(
        store.prune_runs(A, 1_000, 1).await.unwrap(),
        1,
        "bounded by the limit"
    );
    assert_eq!(store.prune_runs(A, 1_000, 10).await.unwrap(), 1);
    assert_eq!(store.prune_runs(A, 1_000, 10).await.unwrap(), 0);
    let left = store
        .list_runs(A, &RunFilter::default(), &Page::first(10))
        .await
        .unwrap();
    assert_eq!(
        ids(&left, |r| &r.id),
        vec!["run_4", "run_3"],
        "recent and running runs stay"
    );
    assert!(
        store.list_attempts(A, "run_1").await.unwrap().is_empty(),
        "attempts go with the run"
    );
    assert!(store.load_run(A, "run_2").await.unwrap().is_none());
    assert_eq!(
        store
            .list_runs(B, &RunFilter::default(), &Page::first(10))
            .await
            .unwrap()
            .len(),
        4,
        "another tenant's runs stay"
    );

    for at in [10, 20, 30, 4_000] {
        store.audit(&entry(A, "x", at)).await.unwrap();
    }
    assert_eq!(store.prune_audit(1_000, 2).await.unwrap(), 2);
    assert_eq!(store.prune_audit(1_000, 2).await.unwrap(), 1);
    assert_eq!(store.prune_audit(1_000, 2).await.unwrap(), 0);
    let kept = store.list_audit(A, 10).await.unwrap();
    assert_eq!(kept.iter().map(|e| e.at).collect::<Vec<_>>(), vec![4_000]);

    store
        .operator_audit(&entry(A, "tenant.suspend", 1))
        .await
        .unwrap();
    store
        .operator_audit(&entry(B, "tenant.create", 2))
        .await
        .unwrap();
    let log = store.list_operator_audit(10).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["tenant.create", "tenant.suspend"]
    );
    assert_eq!(store.list_operator_audit(1).await.unwrap().len(), 1);
}
