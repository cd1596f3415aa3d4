//! OAuth2 bookkeeping: pending authorizations are single use and expire; the
//! refresh lease has one holder at a time; the reauthorize mark is per
//! tenant; a deleted credential's rows go with it.

use super::*;
use crate::oauth::OAuthPending;

fn pending(state: &str, tenant: &str, expires_at: i64) -> OAuthPending {
    OAuthPending {
        state: state.into(),
        tenant_id: tenant.into(),
        credential_id: "cred_1".into(),
        verifier: format!("verifier-{state}"),
        redirect_uri: "https://weft.test/oauth/callback".into(),
        expires_at,
    }
}

/// A pending authorization is taken once; an expired one is refused and
/// removed; the same state twice is `Duplicate`.
pub async fn oauth_pending_single_use_and_expiring<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    store
        .put_oauth_pending(&pending("s1", A, 1_000))
        .await
        .unwrap();
    store
        .put_oauth_pending(&pending("s2", A, 500))
        .await
        .unwrap();
    assert!(
        matches!(
            store.put_oauth_pending(&pending("s1", A, 1_000)).await,
            Err(Error::Duplicate(_))
        ),
        "a state stored twice must be Duplicate"
    );
    let got = store.take_oauth_pending("s1", 100).await.unwrap();
    assert_eq!(got, Some(pending("s1", A, 1_000)), "the first take gets it");
    assert_eq!(
        store.take_oauth_pending("s1", 100).await.unwrap(),
        None,
        "a pending authorization is single use"
    );
    assert_eq!(
        store.take_oauth_pending("s2", 600).await.unwrap(),
        None,
        "an expired pending authorization is refused"
    );
    assert_eq!(store.take_oauth_pending("nope", 600).await.unwrap(), None);
}

/// One holder at a time; the holder may renew; a released or lapsed lease
/// goes to the next; releasing someone else's lease does nothing.
pub async fn oauth_refresh_lease_one_holder<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    let lease = |h: &'static str, now: i64| {
        let store = store.clone();
        async move {
            store
                .lease_oauth_refresh(A, "cred_1", h, now, now + 100)
                .await
                .unwrap()
        }
    };
    assert!(lease("w1", 10).await, "a free lease is taken");
    assert!(!lease("w2", 20).await, "a held lease is refused");
    assert!(lease("w1", 30).await, "its holder renews it");
    store
        .release_oauth_refresh(A, "cred_1", "w2")
        .await
        .unwrap();
    assert!(!lease("w2", 40).await, "only the holder releases it");
    store
        .release_oauth_refresh(A, "cred_1", "w1")
        .await
        .unwrap();
    assert!(lease("w2", 50).await, "a released lease is taken");
    assert!(lease("w1", 150).await, "a lapsed lease is taken over");
    assert!(
        store
            .lease_oauth_refresh(B, "cred_1", "w9", 160, 260)
            .await
            .unwrap(),
        "another tenant's credential has its own lease"
    );
    // Racing takers: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .lease_oauth_refresh(A, "cred_2", &format!("r{i}"), 1_000, 2_000)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1, "eight racing takers: exactly one holds the lease");
}

/// The reauthorize mark is set, listed for its tenant only, and cleared.
pub async fn oauth_reauthorize_mark<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .set_oauth_reauthorize(A, "cred_1", Some("invalid_grant"), 10)
        .await
        .unwrap();
    let states = store.oauth_states(A).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].credential_id, "cred_1");
    assert_eq!(states[0].reauthorize.as_deref(), Some("invalid_grant"));
    assert!(
        store.oauth_states(B).await.unwrap().is_empty(),
        "per tenant"
    );
    // A lease on a marked credential keeps the mark.
    assert!(
        store
            .lease_oauth_refresh(A, "cred_1", "w1", 20, 120)
            .await
            .unwrap()
    );
    assert_eq!(
        store.oauth_states(A).await.unwrap()[0]
            .reauthorize
            .as_deref(),
        Some("invalid_grant")
    );
    store
        .set_oauth_reauthorize(A, "cred_1", None, 30)
        .await
        .unwrap();
    assert_eq!(store.oauth_states(A).await.unwrap()[0].reauthorize, None);
}

/// Deleting a credential deletes its OAuth2 rows (the lease, the mark, its
/// pending authorizations) and no other credential's.
pub async fn oauth_rows_go_with_the_credential<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for id in ["cred_1", "cred_2"] {
        store
            .create_credential(&credential(A, id, id))
            .await
            .unwrap();
        store
            .set_oauth_reauthorize(A, id, Some("invalid_grant"), 10)
            .await
            .unwrap();
        let mut p = pending(&format!("state-{id}"), A, 1_000);
        p.credential_id = id.into();
        store.put_oauth_pending(&p).await.unwrap();
    }
    assert!(
        store
            .lease_oauth_refresh(A, "cred_1", "w1", 20, 120)
            .await
            .unwrap()
    );

    store.delete_credential(A, "cred_1").await.unwrap();
    let states = store.oauth_states(A).await.unwrap();
    assert_eq!(
        states
            .iter()
            .map(|s| s.credential_id.as_str())
            .collect::<Vec<_>>(),
        ["cred_2"],
        "the deleted credential's row is gone, the other's stays"
    );
    assert_eq!(
        store.take_oauth_pending("state-cred_1", 30).await.unwrap(),
        None
    );
    assert!(
        store
            .take_oauth_pending("state-cred_2", 30)
            .await
            .unwrap()
            .is_some()
    );
    // A credential made again under the same id starts with no lease.
    let again = credential(A, "cred_1", "cred_1");
    store.create_credential(&again).await.unwrap();
    assert!(
        store
            .lease_oauth_refresh(A, "cred_1", "w2", 30, 130)
            .await
            .unwrap()
    );
}
