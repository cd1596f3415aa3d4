//! People, hardened (`docs/TENANCY.md`, section 3): a login attempt recorded
//! before its check can be forgotten alone, an account's counters cleared
//! everywhere, dead rows pruned in bounded batches, and the last owner kept
//! under concurrent demotions.

use super::*;
use crate::people::{Link, LinkKind, Membership, Session, User};

fn person(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: None,
        totp_pending: None,
        totp_last_step: 0,
        created_at: 5,
        disabled_at: None,
    }
}

fn owner(tenant: &str, user: &str) -> Membership {
    Membership {
        tenant_id: tenant.into(),
        user_id: user.into(),
        role: Role::Owner,
        created_by: "key_1".into(),
        created_at: 10,
    }
}

fn live_session(id: u8, expires_at: i64, revoked_at: Option<i64>) -> Session {
    Session {
        id_hash: vec![id; 32],
        user_id: "usr_1".into(),
        tenant_id: A.into(),
        csrf_hash: vec![id ^ 0xff; 32],
        created_at: 100,
        last_seen_at: 100,
        expires_at,
        revoked_at,
    }
}

fn reset(id: &str, token: u8, expires_at: i64) -> Link {
    Link {
        id: id.into(),
        token_hash: vec![token; 32],
        kind: LinkKind::Reset,
        tenant_id: A.into(),
        role: Role::Member,
        email: None,
        user_id: Some("usr_1".into()),
        created_by: "usr_2".into(),
        created_at: 10,
        expires_at,
        used_at: None,
    }
}

/// One attempt of two at the same millisecond is forgotten alone; an
/// account's counters are cleared under `account:` and every `pair:` key of
/// that exact email (not of an email it is a prefix of, not by wildcard).
pub async fn people_login_failures_forget_one_and_clear_account<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let k = "addr:10.0.0.1";
    for at in [100, 100, 200] {
        store.record_login_failure(k, at).await.unwrap();
    }
    store.forget_login_failure(k, 100).await.unwrap();
    store.forget_login_failure(k, 150).await.unwrap();
    assert_eq!(store.login_failures(k, 0).await.unwrap(), vec![100, 200]);
    let keys = [
        ("account:a_n@x.com", false),
        ("pair:a_n@x.com|10.0.0.1", false),
        ("pair:a_n@x.com|-", false),
        ("pair:abn@x.com|10.0.0.1", true),
        ("account:abn@x.com", true),
        ("pair:a_n@x.co|10.0.0.1", true),
        ("pair:a_n@x.com.evil|1", true),
    ];
    for (key, _) in keys {
        store.record_login_failure(key, 300).await.unwrap();
    }
    store.clear_account_failures("a_n@x.com").await.unwrap();
    for (key, kept) in keys {
        let n = store.login_failures(key, 0).await.unwrap().len();
        assert_eq!(n, usize::from(kept), "{key}");
    }
}

/// Revoked and expired sessions, used and expired links, failures older
/// than a day go, `limit` rows of each per call at most; live ones stay.
pub async fn people_prune_dead_rows_in_batches<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    for (id, email) in [("usr_1", "ann@example.com"), ("usr_2", "bob@example.com")] {
        store.create_user(&person(id, email)).await.unwrap();
    }
    store.add_membership(&owner(A, "usr_1")).await.unwrap();
    let now = 10 * crate::people::FAILURES_KEPT_MS;
    for s in [
        live_session(1, now + 1000, None),
        live_session(2, now - 1, None),
        live_session(3, now + 1000, Some(now - 5)),
        live_session(4, now - 9, Some(now - 10)),
    ] {
        store.create_session(&s, None).await.unwrap();
    }
    for l in [
        reset("rst_live", 1, now + 1000),
        reset("rst_expired", 2, now - 1),
        reset("rst_used", 3, now + 1000),
    ] {
        store.create_link(&l).await.unwrap();
    }
    assert!(
        store
            .take_link(&[3; 32], LinkKind::Reset, now - 100)
            .await
            .unwrap()
            .is_some()
    );
    let old = now - crate::people::FAILURES_KEPT_MS - 1;
    for key in [
        "account:random1@x.com",
        "addr:10.9.9.9",
        "account:ann@example.com",
    ] {
        store.record_login_failure(key, old).await.unwrap();
    }
    store
        .record_login_failure("account:ann@example.com", now - 5)
        .await
        .unwrap();
    // Bounded: one of each kind per call (3 sessions, 2 links, 3 failures dead).
    assert_eq!(store.prune_people(now, 1).await.unwrap(), 3);
    let mut total = 3;
    loop {
        let n = store.prune_people(now, 1).await.unwrap();
        assert!(n <= 3, "{n} rows in a batch of 1 of each");
        total += n;
        if n == 0 {
            break;
        }
    }
    assert_eq!(total, 3 + 2 + 3);
    assert!(store.session_auth(&[1; 32]).await.unwrap().is_some());
    for gone in [2u8, 3, 4] {
        assert!(
            store.session_auth(&[gone; 32]).await.unwrap().is_none(),
            "session {gone}"
        );
    }
    assert!(
        store
            .peek_link(&[1; 32], LinkKind::Reset, now)
            .await
            .unwrap()
            .is_some()
    );
    let left = store.list_links(A, LinkKind::Reset, 0).await.unwrap();
    assert_eq!(
        left.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        vec!["rst_live"],
        "used and expired links are gone"
    );
    assert_eq!(
        store
            .login_failures("account:ann@example.com", 0)
            .await
            .unwrap(),
        vec![now - 5]
    );
    assert!(
        store
            .login_failures("addr:10.9.9.9", 0)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Two owners demoting (or removing) each other at once leave one owner:
/// the store checks the last owner in the write's own transaction.
pub async fn people_last_owner_kept_under_concurrency<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    for (id, email) in [("usr_1", "ann@example.com"), ("usr_2", "bob@example.com")] {
        store.create_user(&person(id, email)).await.unwrap();
        store.add_membership(&owner(A, id)).await.unwrap();
    }
    for round in 0..4 {
        let (a, b) = if round % 2 == 0 {
            tokio::join!(
                store.set_member_role(A, "usr_1", Role::Member, 1),
                store.set_member_role(A, "usr_2", Role::Member, 1),
            )
        } else {
            tokio::join!(
                store.remove_membership(A, "usr_1", 1),
                store.remove_membership(A, "usr_2", 1),
            )
        };
        assert!(
            a.is_ok() != b.is_ok(),
            "round {round}: exactly one wins: {a:?} {b:?}"
        );
        for r in [a, b] {
            if let Err(e) = r {
                assert!(
                    matches!(&e, Error::Stale(m) if m.contains("last owner")),
                    "{e:?}"
                );
            }
        }
        let owners = store
            .list_members(A)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.membership.role == Role::Owner)
            .count();
        assert_eq!(owners, 1, "round {round}");
        // Back to two owners for the next round.
        for id in ["usr_1", "usr_2"] {
            match store.get_membership(A, id).await.unwrap() {
                None => store.add_membership(&owner(A, id)).await.unwrap(),
                Some(_) => store.set_member_role(A, id, Role::Owner, 1).await.unwrap(),
            }
        }
    }
    // Alone: neither demoted nor removed; another role is fine once two.
    store.remove_membership(A, "usr_2", 1).await.unwrap();
    assert!(matches!(
        store.set_member_role(A, "usr_1", Role::Admin, 1).await,
        Err(Error::Stale(_))
    ));
    assert!(matches!(
        store.remove_membership(A, "usr_1", 1).await,
        Err(Error::Stale(_))
    ));
    assert!(matches!(
        store.set_member_role(A, "usr_9", Role::Admin, 1).await,
        Err(Error::NotFound(_))
    ));
}
