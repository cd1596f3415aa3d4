//! Installs per tenant.

use super::*;
use crate::HeldUpgrade;

async fn two_packages(store: &dyn RegistryStore) -> (Version, Version) {
    put_publisher(store, "acme").await;
    let http = version("acme", "http", "1.0.0");
    let mail = version("acme", "mail", "2.0.0");
    publish(store, &http).await;
    publish(store, &mail).await;
    (http, mail)
}

/// An install reads back whole, once per tenant and package, and is counted.
pub async fn installs_create_get_list<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (http, mail) = two_packages(&*store).await;
    let a_mail = install(A, "ins_2", &mail);
    let a_http = install(A, "ins_9", &http);
    store.create_install(&a_mail).await.unwrap();
    store.create_install(&a_http).await.unwrap();
    assert_eq!(
        store.get_install(A, "ins_9").await.unwrap(),
        Some(a_http.clone())
    );
    assert_eq!(
        store.install_by_name(A, "http").await.unwrap(),
        Some(a_http.clone())
    );
    assert_eq!(store.install_by_name(A, "none").await.unwrap(), None);
    assert_eq!(
        store.list_installs(A).await.unwrap(),
        [a_http.clone(), a_mail],
        "a tenant's installs, by name"
    );
    duplicate(
        store.create_install(&install(A, "ins_3", &http)).await,
        "a second install of a package in one tenant",
    );
    duplicate(
        store.create_install(&install(A, "ins_9", &mail)).await,
        "an install id taken in the tenant",
    );
    store
        .create_install(&install(B, "ins_9", &http))
        .await
        .expect("another tenant installs the same package");
    assert_eq!(
        package(&*store, "acme", "http").await.installs,
        2,
        "installs are counted on the package over tenants"
    );
    assert_eq!(package(&*store, "acme", "mail").await.installs, 1);
}

/// An install's version, consent, pin and held upgrade change; deleting
/// lowers the count (it counts current installs).
pub async fn installs_update_and_delete<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (http, _) = two_packages(&*store).await;
    let next = version("acme", "http", "1.1.0");
    publish(&*store, &next).await;
    let mut ins = install(A, "ins_1", &http);
    store.create_install(&ins).await.unwrap();
    ins.held = Some(HeldUpgrade {
        version: "1.1.0".into(),
        digest: next.digest.clone(),
        disclosure_digest: next.disclosure_digest.clone(),
        requested_at: 300,
    });
    store.update_install(&ins).await.unwrap();
    assert_eq!(
        store.get_install(A, "ins_1").await.unwrap(),
        Some(ins.clone())
    );
    ins.pin = "^1".into();
    ins.version = "1.1.0".into();
    ins.digest = next.digest.clone();
    ins.consent_digest = next.disclosure_digest.clone();
    ins.consented_by = "key_owner".into();
    ins.consented_at = 400;
    ins.held = None;
    store.update_install(&ins).await.unwrap();
    assert_eq!(
        store.get_install(A, "ins_1").await.unwrap(),
        Some(ins.clone()),
        "an upgrade applied: version, digest, consent and pin replaced, held cleared"
    );
    not_found(
        store.update_install(&install(A, "ins_none", &http)).await,
        "updating an unknown install",
    );
    store.delete_install(A, "ins_1").await.unwrap();
    assert_eq!(store.get_install(A, "ins_1").await.unwrap(), None);
    assert_eq!(store.install_by_name(A, "http").await.unwrap(), None);
    not_found(store.delete_install(A, "ins_1").await, "deleting twice");
    assert_eq!(
        package(&*store, "acme", "http").await.installs,
        0,
        "an uninstall lowers the count: it counts current installs"
    );
    store
        .create_install(&install(A, "ins_2", &http))
        .await
        .expect("installing again after an uninstall");
    assert_eq!(package(&*store, "acme", "http").await.installs, 1);
}

/// Install/uninstall loops do not inflate the count; a failed delete
/// (another tenant's, or twice) changes nothing.
pub async fn installs_count_is_current_installs<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (http, _) = two_packages(&*store).await;
    store
        .create_install(&install(B, "ins_b", &http))
        .await
        .unwrap();
    for i in 0..5 {
        let id = format!("ins_{i}");
        store.create_install(&install(A, &id, &http)).await.unwrap();
        assert_eq!(package(&*store, "acme", "http").await.installs, 2);
        not_found(store.delete_install(B, &id).await, "B deleting A's install");
        store.delete_install(A, &id).await.unwrap();
        not_found(store.delete_install(A, &id).await, "deleting twice");
        assert_eq!(
            package(&*store, "acme", "http").await.installs,
            1,
            "loop {i}: installing and uninstalling again leaves the count as it was"
        );
    }
    assert_eq!(
        package(&*store, "acme", "mail").await.installs,
        0,
        "another package's count is untouched"
    );
    store.delete_install(B, "ins_b").await.unwrap();
    assert_eq!(package(&*store, "acme", "http").await.installs, 0);
}

/// Tenant B never reads, changes or deletes tenant A's installs.
pub async fn installs_isolated_by_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (http, _) = two_packages(&*store).await;
    let a = install(A, "ins_a", &http);
    store.create_install(&a).await.unwrap();
    assert_eq!(store.get_install(B, "ins_a").await.unwrap(), None);
    assert_eq!(store.install_by_name(B, "http").await.unwrap(), None);
    assert!(store.list_installs(B).await.unwrap().is_empty());
    let mut forged = a.clone();
    forged.tenant_id = B.into();
    forged.digest = sha("forged");
    not_found(
        store.update_install(&forged).await,
        "B updating A's install",
    );
    not_found(
        store.delete_install(B, "ins_a").await,
        "B deleting A's install",
    );
    assert_eq!(
        store.get_install(A, "ins_a").await.unwrap(),
        Some(a),
        "A's install is untouched by B"
    );
}

/// `installs_of_digest` finds a digest's installs in every tenant.
pub async fn installs_of_digest_over_tenants<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (http, mail) = two_packages(&*store).await;
    let (a, b) = (install(A, "ins_1", &http), install(B, "ins_2", &http));
    store.create_install(&a).await.unwrap();
    store.create_install(&b).await.unwrap();
    store
        .create_install(&install(A, "ins_3", &mail))
        .await
        .unwrap();
    let mut found = store.installs_of_digest(&http.digest).await.unwrap();
    found.sort_by(|x, y| x.tenant_id.cmp(&y.tenant_id));
    assert_eq!(found, [a, b]);
    assert!(
        store
            .installs_of_digest(&sha("none"))
            .await
            .unwrap()
            .is_empty()
    );
}

/// `installed_digests` gives one install of each digest installed anywhere:
/// the first by tenant and id, ordered by digest.
pub async fn installed_digests_one_per_digest<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    assert!(store.installed_digests().await.unwrap().is_empty());
    let (http, mail) = two_packages(&*store).await;
    let (b, a) = (install(B, "ins_1", &http), install(A, "ins_2", &http));
    store.create_install(&b).await.unwrap();
    store.create_install(&a).await.unwrap();
    let m = install(B, "ins_3", &mail);
    store.create_install(&m).await.unwrap();
    let found = store.installed_digests().await.unwrap();
    let mut want = vec![a, m]; // A's `ten_a` sorts before B's `ten_b`
    want.sort_by(|x, y| x.digest.cmp(&y.digest));
    assert_eq!(
        found, want,
        "one per digest, the first by tenant, by digest"
    );
}

/// An install names a package that exists.
pub async fn install_needs_the_package<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    put_publisher(&*store, "acme").await;
    not_found(
        store
            .create_install(&install(A, "ins_1", &version("acme", "ghost", "1.0.0")))
            .await,
        "installing an unknown package",
    );
    assert!(store.list_installs(A).await.unwrap().is_empty());
}
