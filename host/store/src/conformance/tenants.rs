//! Tenants and API keys.

use super::*;

/// A tenant is created once (a second create is `Duplicate`), read back exactly
/// (its wrapped key's bytes included), and listed oldest first.
pub async fn tenants_create_get_list<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.list_tenants().await.unwrap(), vec![], "a fresh store");
    let (b, a, c) = (tenant(B, 20), tenant(A, 30), tenant("ten_c", 10));
    for t in [&b, &a, &c] {
        store.create_tenant(t).await.unwrap();
    }
    let mut again = tenant(A, 99);
    again.name = "someone else".into();
    duplicate(store.create_tenant(&again).await, "a tenant id taken");
    assert_eq!(store.get_tenant(A).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get_tenant("ten_zz").await.unwrap(), None);
    assert_eq!(
        store.list_tenants().await.unwrap(),
        vec![c, b, a],
        "tenants oldest first"
    );
}

/// An API key is found by its prefix from any tenant; a prefix is unique across
/// all tenants (`Duplicate`), and so is a key id within its tenant.
pub async fn api_keys_by_prefix_unique<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let k1 = api_key(A, "key_1", "weft_aaaa", 10);
    store.create_api_key(&k1).await.unwrap();
    duplicate(
        store
            .create_api_key(&api_key(B, "key_2", "weft_aaaa", 11))
            .await,
        "a prefix taken by another tenant",
    );
    duplicate(
        store
            .create_api_key(&api_key(A, "key_1", "weft_bbbb", 12))
            .await,
        "a key id taken",
    );
    assert_eq!(
        store.api_key_by_prefix("weft_aaaa").await.unwrap(),
        Some(k1)
    );
    assert_eq!(store.api_key_by_prefix("weft_bbbb").await.unwrap(), None);
    assert_eq!(store.api_key_by_prefix("weft_aaa").await.unwrap(), None);
    assert_eq!(store.list_api_keys(B).await.unwrap(), vec![]);
}

/// A tenant's keys are listed oldest first; revoking stamps `revoked_at` once
/// (revoking again keeps the first time); another tenant's key is `NotFound`.
pub async fn api_keys_list_and_revoke<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let mut k1 = api_key(A, "key_1", "weft_1", 30);
    let k2 = api_key(A, "key_2", "weft_2", 10);
    let k3 = api_key(B, "key_3", "weft_3", 20);
    for k in [&k1, &k2, &k3] {
        store.create_api_key(k).await.unwrap();
    }
    assert_eq!(
        store.list_api_keys(A).await.unwrap(),
        vec![k2.clone(), k1.clone()],
        "a tenant's keys, oldest first"
    );
    store.revoke_api_key(A, "key_1", 500).await.unwrap();
    store.revoke_api_key(A, "key_1", 600).await.unwrap();
    k1.revoked_at = Some(500);
    assert_eq!(
        store.api_key_by_prefix("weft_1").await.unwrap(),
        Some(k1.clone()),
        "revoked at the first revocation"
    );
    not_found(
        store.revoke_api_key(A, "key_3", 700).await,
        "revoking another tenant's key",
    );
    not_found(
        store.revoke_api_key(A, "key_9", 700).await,
        "revoking a missing key",
    );
    assert_eq!(
        store.api_key_by_prefix("weft_3").await.unwrap(),
        Some(k3),
        "another tenant's revocation attempt changed nothing"
    );
    assert_eq!(store.list_api_keys(A).await.unwrap(), vec![k2, k1]);
}

/// A key's scopes and expiry are stored and read back exactly (`None` and an
/// id-bound scope alike); `touch_api_key` writes `last_used_at` once, then not
/// again until a minute has passed, and never on another tenant's key.
pub async fn api_keys_scopes_expiry_and_last_use<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let mut scoped = api_key(A, "key_s", "weft_s", 10);
    scoped.scopes = Some(vec![
        "runs:start:wf_1".parse().unwrap(),
        "workflows:read".parse().unwrap(),
    ]);
    scoped.expires_at = Some(5_000);
    let mut empty = api_key(A, "key_e", "weft_e", 11);
    empty.scopes = Some(vec![]);
    let whole = api_key(A, "key_w", "weft_w", 12);
    for k in [&scoped, &empty, &whole] {
        store.create_api_key(k).await.unwrap();
    }
    assert_eq!(
        store.api_key_by_prefix("weft_s").await.unwrap(),
        Some(scoped.clone())
    );
    assert_eq!(
        store.api_key_by_prefix("weft_e").await.unwrap(),
        Some(empty.clone()),
        "no scopes at all is not the whole role"
    );
    assert_eq!(
        store.api_key_by_prefix("weft_w").await.unwrap(),
        Some(whole)
    );

    let last_used = |store: Arc<dyn Store>| async move {
        store
            .api_key_by_prefix("weft_s")
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used(store.clone()).await, None);
    store.touch_api_key(A, "key_s", 100_000).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(100_000));
    store
        .touch_api_key(A, "key_s", 100_000 + crate::KEY_TOUCH_MS - 1)
        .await
        .unwrap();
    assert_eq!(
        last_used(store.clone()).await,
        Some(100_000),
        "within a minute: not written again"
    );
    store
        .touch_api_key(A, "key_s", 100_000 + crate::KEY_TOUCH_MS)
        .await
        .unwrap();
    assert_eq!(
        last_used(store.clone()).await,
        Some(100_000 + crate::KEY_TOUCH_MS)
    );
    store.touch_api_key(B, "key_s", 900_000).await.unwrap();
    store.touch_api_key(A, "key_nope", 900_000).await.unwrap();
    assert_eq!(
        last_used(store.clone()).await,
        Some(100_000 + crate::KEY_TOUCH_MS),
        "another tenant's touch changes nothing"
    );
}
