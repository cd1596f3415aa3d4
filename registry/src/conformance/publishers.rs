//! Publishers and their signing keys.

use super::*;

/// A publisher is created once, read back whole, and listed for its tenant only.
pub async fn publishers_create_get_and_duplicate<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    assert_eq!(store.get_publisher("acme").await.unwrap(), None);
    let acme = publisher("acme", A);
    store.create_publisher(&acme).await.unwrap();
    store.create_publisher(&publisher("zeta", A)).await.unwrap();
    store
        .create_publisher(&publisher("other", B))
        .await
        .unwrap();
    assert_eq!(store.get_publisher("acme").await.unwrap(), Some(acme));
    duplicate(
        store.create_publisher(&publisher("acme", B)).await,
        "a publisher name is taken once, whatever the tenant",
    );
    let names: Vec<String> = store
        .publishers_of(A)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["acme", "zeta"], "a tenant's publishers, by name");
    assert!(store.publishers_of("ten_none").await.unwrap().is_empty());
}

/// Every publisher's name, with packages or not, over tenants, by name.
pub async fn publisher_names_lists_every_publisher<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    assert!(store.publisher_names().await.unwrap().is_empty());
    store.create_publisher(&publisher("zeta", A)).await.unwrap();
    store.create_publisher(&publisher("acme", B)).await.unwrap();
    store.create_publisher(&publisher("mid", A)).await.unwrap();
    publish(&*store, &version("mid", "http", "1.0.0")).await;
    assert_eq!(
        store.publisher_names().await.unwrap(),
        ["acme", "mid", "zeta"],
        "publishers without packages too"
    );
}

/// Verification is set and cleared by name, and shows on the packages.
pub async fn publishers_set_verified<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    publish(&*store, &version("acme", "http", "1.0.0")).await;
    assert!(!package(&*store, "acme", "http").await.verified);
    store.set_verified("acme", true).await.unwrap();
    assert!(store.get_publisher("acme").await.unwrap().unwrap().verified);
    assert!(
        package(&*store, "acme", "http").await.verified,
        "a package shows its publisher's verification"
    );
    store.set_verified("acme", false).await.unwrap();
    assert!(!store.get_publisher("acme").await.unwrap().unwrap().verified);
    not_found(
        store.set_verified("nobody", true).await,
        "verifying an unknown publisher",
    );
}

/// Keys are added once per publisher, listed oldest first, read by id.
pub async fn keys_add_list_and_duplicate<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    put_publisher(&*store, "zeta").await;
    let (k2, k1) = (
        key("acme", "bbbbbbbbbbbbbbbb", 20),
        key("acme", "aaaaaaaaaaaaaaaa", 10),
    );
    store.add_key(&k2).await.unwrap();
    store.add_key(&k1).await.unwrap();
    duplicate(
        store.add_key(&k1).await,
        "the same key id twice for a publisher",
    );
    store
        .add_key(&key("zeta", "aaaaaaaaaaaaaaaa", 30))
        .await
        .expect("the same key id under another publisher is another key");
    assert_eq!(store.list_keys("acme").await.unwrap(), [k1.clone(), k2]);
    assert_eq!(
        store.get_key("acme", "aaaaaaaaaaaaaaaa").await.unwrap(),
        Some(k1)
    );
    assert_eq!(
        store.get_key("acme", "cccccccccccccccc").await.unwrap(),
        None
    );
    assert_eq!(
        store.get_key("nobody", "aaaaaaaaaaaaaaaa").await.unwrap(),
        None
    );
    assert!(store.list_keys("nobody").await.unwrap().is_empty());
}

/// A revoked key keeps the time of its first revocation.
pub async fn keys_revoke_keeps_the_first_time<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    store
        .add_key(&key("acme", "aaaaaaaaaaaaaaaa", 10))
        .await
        .unwrap();
    store
        .add_key(&key("acme", "bbbbbbbbbbbbbbbb", 10))
        .await
        .unwrap();
    store
        .revoke_key("acme", "aaaaaaaaaaaaaaaa", 50)
        .await
        .unwrap();
    store
        .revoke_key("acme", "aaaaaaaaaaaaaaaa", 90)
        .await
        .unwrap();
    let k = store
        .get_key("acme", "aaaaaaaaaaaaaaaa")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        k.revoked_at,
        Some(50),
        "a second revocation keeps the first time"
    );
    let other = store
        .get_key("acme", "bbbbbbbbbbbbbbbb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.revoked_at, None, "revoking one key leaves the others");
    not_found(
        store.revoke_key("acme", "cccccccccccccccc", 50).await,
        "revoking an unknown key",
    );
    not_found(
        store.revoke_key("zeta", "aaaaaaaaaaaaaaaa", 50).await,
        "revoking a key of an unknown publisher",
    );
}
