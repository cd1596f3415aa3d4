//! Sealed credentials.

use super::*;

/// A credential name is unique within its tenant (`Duplicate`), and so is a
/// credential id; the same name in two tenants is two credentials. Lists are
/// by name and read back exactly.
pub async fn credentials_unique_name_per_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let slack = credential(A, "cred_1", "slack");
    let github = credential(A, "cred_2", "github");
    store.create_credential(&slack).await.unwrap();
    store.create_credential(&github).await.unwrap();
    duplicate(
        store
            .create_credential(&credential(A, "cred_3", "slack"))
            .await,
        "a credential name taken in the tenant",
    );
    duplicate(
        store
            .create_credential(&credential(A, "cred_1", "other"))
            .await,
        "a credential id taken in the tenant",
    );
    let mut theirs = credential(B, "cred_4", "slack");
    theirs.ciphertext = vec![42; 3];
    store.create_credential(&theirs).await.unwrap();

    assert_eq!(
        store.list_credentials(A).await.unwrap(),
        vec![github, slack.clone()],
        "a tenant's credentials, by name"
    );
    assert_eq!(
        store.list_credentials(B).await.unwrap(),
        vec![theirs.clone()]
    );
    assert_eq!(
        store.credential_by_name(A, "slack").await.unwrap(),
        Some(slack)
    );
    assert_eq!(
        store.credential_by_name(B, "slack").await.unwrap(),
        Some(theirs)
    );
    assert_eq!(store.credential_by_name(A, "other").await.unwrap(), None);
    assert_eq!(
        store.credential_by_name("ten_c", "slack").await.unwrap(),
        None
    );
}

/// Deleting a credential removes it and frees its name; deleting it again, or
/// another tenant's, is `NotFound` and leaves that one in place.
pub async fn credentials_delete<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let mine = credential(A, "cred_1", "slack");
    let theirs = credential(B, "cred_2", "slack");
    store.create_credential(&mine).await.unwrap();
    store.create_credential(&theirs).await.unwrap();
    not_found(
        store.delete_credential(A, "cred_2").await,
        "deleting another tenant's credential",
    );
    assert_eq!(
        store.list_credentials(B).await.unwrap(),
        vec![theirs.clone()]
    );
    store.delete_credential(A, "cred_1").await.unwrap();
    assert_eq!(store.credential_by_name(A, "slack").await.unwrap(), None);
    assert_eq!(store.list_credentials(A).await.unwrap(), vec![]);
    not_found(store.delete_credential(A, "cred_1").await, "deleting twice");
    let again = credential(A, "cred_3", "slack");
    store.create_credential(&again).await.unwrap();
    assert_eq!(
        store.credential_by_name(A, "slack").await.unwrap(),
        Some(again),
        "the name is free after deletion"
    );
    assert_eq!(store.list_credentials(B).await.unwrap(), vec![theirs]);
}

/// Re-sealing replaces binding and seal in one write, only while the row
/// still has the nonce it was read with (two processes re-sealing write it
/// once); another tenant's row, a missing row and a taken name are not
/// written; `ad_version` and `created_at` read back.
pub async fn credentials_reseal_compare_and_swap<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let mut old = credential(A, "cred_1", "slack");
    old.ad_version = 1;
    let github = credential(A, "cred_2", "github");
    let theirs = credential(B, "cred_1", "slack");
    for c in [&old, &github, &theirs] {
        store.create_credential(c).await.unwrap();
    }
    assert_eq!(
        store.credential_by_name(A, "slack").await.unwrap(),
        Some(old.clone()),
        "ad_version reads back"
    );
    let new = CredentialRecord {
        hosts: vec!["hooks.example.com".into()],
        injection: json!({ "type": "bearer" }),
        nonce: vec![1; 24],
        ciphertext: vec![7, 7, 7],
        ad_version: 2,
        created_at: 999,
        ..old.clone()
    };
    assert!(
        !store.reseal_credential(&new, &[0; 24]).await.unwrap(),
        "a stale nonce is not written"
    );
    assert_eq!(
        store.credential_by_name(A, "slack").await.unwrap(),
        Some(old.clone())
    );
    assert!(store.reseal_credential(&new, &old.nonce).await.unwrap());
    let want = CredentialRecord {
        created_at: old.created_at,
        ..new.clone()
    };
    assert_eq!(
        store.credential_by_name(A, "slack").await.unwrap(),
        Some(want.clone()),
        "binding, seal and ad_version replaced; created_at kept"
    );
    assert!(
        !store.reseal_credential(&new, &old.nonce).await.unwrap(),
        "the second of two re-seals from the same read is not written"
    );
    assert_eq!(
        store.list_credentials(B).await.unwrap(),
        vec![theirs],
        "the other tenant's credential with the same id is untouched"
    );
    let gone = credential(A, "cred_9", "nope");
    assert!(!store.reseal_credential(&gone, &gone.nonce).await.unwrap());
    let taken = CredentialRecord {
        name: "github".into(),
        nonce: vec![2; 24],
        ..want.clone()
    };
    duplicate(
        store.reseal_credential(&taken, &want.nonce).await,
        "renaming onto a taken name",
    );
    assert_eq!(store.list_credentials(A).await.unwrap(), vec![github, want]);
}
