//! Plugin state and the audit log.

use super::*;
use crate::AuditEntry;

/// Plugin state is keyed by (tenant, plugin, key): a value set under one is
/// invisible under any other. `state_set` overwrites, bytes (empty included)
/// read back exactly, and `state_delete` says whether the value existed.
pub async fn state_isolated_by_tenant_and_plugin<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.state_get(A, "slack", "cursor").await.unwrap(), None);
    store.state_set(A, "slack", "cursor", b"one").await.unwrap();
    store.state_set(B, "slack", "cursor", b"two").await.unwrap();
    store
        .state_set(A, "github", "cursor", b"three")
        .await
        .unwrap();
    store.state_set(A, "slack", "empty", b"").await.unwrap();
    let binary: Vec<u8> = (0..=255).collect();
    store.state_set(A, "slack", "bin", &binary).await.unwrap();
    let get = |t: &'static str, p: &'static str, k: &'static str| {
        let store = store.clone();
        async move { store.state_get(t, p, k).await.unwrap() }
    };
    assert_eq!(get(A, "slack", "cursor").await, Some(b"one".to_vec()));
    assert_eq!(get(B, "slack", "cursor").await, Some(b"two".to_vec()));
    assert_eq!(get(A, "github", "cursor").await, Some(b"three".to_vec()));
    assert_eq!(get(B, "github", "cursor").await, None);
    assert_eq!(
        get(A, "slack", "empty").await,
        Some(vec![]),
        "an empty value is a value"
    );
    assert_eq!(get(A, "slack", "bin").await, Some(binary));

    store.state_set(A, "slack", "cursor", b"uno").await.unwrap();
    assert_eq!(
        get(A, "slack", "cursor").await,
        Some(b"uno".to_vec()),
        "overwritten"
    );
    assert_eq!(get(B, "slack", "cursor").await, Some(b"two".to_vec()));

    assert!(!store.state_delete(B, "github", "cursor").await.unwrap());
    assert_eq!(get(A, "github", "cursor").await, Some(b"three".to_vec()));
    assert!(store.state_delete(A, "slack", "cursor").await.unwrap());
    assert!(
        !store.state_delete(A, "slack", "cursor").await.unwrap(),
        "deleted twice"
    );
    assert_eq!(get(A, "slack", "cursor").await, None);
    assert_eq!(get(B, "slack", "cursor").await, Some(b"two".to_vec()));
}

/// The audit log lists a tenant's entries newest (`at`) first, later
/// insertions first among equal times, at most `limit`; never another tenant's.
pub async fn audit_newest_first_per_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let entry = |tenant: &str, action: &str, at: i64| AuditEntry {
        tenant_id: tenant.into(),
        actor: "key_1".into(),
        action: action.into(),
        target: "wf_1".into(),
        at,
    };
    let spec = [
        (A, "workflow.create", 10),
        (B, "workflow.create", 15),
        (A, "workflow.update", 30),
        (A, "workflow.activate", 20),
        (A, "credential.create", 30),
        (A, "credential.delete", 40),
    ];
    for (t, action, at) in spec {
        store.audit(&entry(t, action, at)).await.unwrap();
    }
    let actions = |v: Vec<AuditEntry>| -> Vec<String> { ids(&v, |e| &e.action) };
    assert_eq!(
        actions(store.list_audit(A, 100).await.unwrap()),
        [
            "credential.delete",
            "credential.create",
            "workflow.update",
            "workflow.activate",
            "workflow.create"
        ]
    );
    assert_eq!(
        store.list_audit(A, 2).await.unwrap(),
        vec![
            entry(A, "credential.delete", 40),
            entry(A, "credential.create", 30)
        ]
    );
    assert_eq!(
        store.list_audit(B, 100).await.unwrap(),
        vec![entry(B, "workflow.create", 15)]
    );
    assert_eq!(store.list_audit("ten_c", 100).await.unwrap(), vec![]);
}
