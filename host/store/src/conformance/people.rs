//! People: users, memberships, one-time links, sessions, login failures and
//! workflows' creators (`docs/TENANCY.md`, section 3).

use super::*;
use crate::people::{Link, LinkKind, Membership, SYSTEM, Session, User};

fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: None,
        totp_pending: Some(vec![1, 2, 3]),
        totp_last_step: 0,
        created_at: 5,
        disabled_at: None,
    }
}

fn member(tenant: &str, user: &str, role: Role, at: i64) -> Membership {
    Membership {
        tenant_id: tenant.into(),
        user_id: user.into(),
        role,
        created_by: "key_1".into(),
        created_at: at,
    }
}

fn session(id: u8, user: &str, tenant: &str) -> Session {
    Session {
        id_hash: vec![id; 32],
        user_id: user.into(),
        tenant_id: tenant.into(),
        csrf_hash: vec![id ^ 0xff; 32],
        created_at: 100,
        last_seen_at: 100,
        expires_at: 10_000,
        revoked_at: None,
    }
}

fn link(id: &str, token: u8, kind: LinkKind, expires_at: i64) -> Link {
    Link {
        id: id.into(),
        token_hash: vec![token; 32],
        kind,
        tenant_id: A.into(),
        role: Role::Member,
        email: Some("new@example.com".into()),
        user_id: None,
        created_by: "usr_owner".into(),
        created_at: 10,
        expires_at,
        used_at: None,
    }
}

async fn people_fixture(store: &dyn Store) {
    for t in [tenant(A, 1), tenant(B, 2)] {
        store.create_tenant(&t).await.unwrap();
    }
    store
        .create_user(&user("usr_1", "ann@example.com"))
        .await
        .unwrap();
    store
        .create_user(&user("usr_2", "bob@example.com"))
        .await
        .unwrap();
}

/// A user is read back exactly by id and by email; an email is unique; a
/// password change revokes every session of the user in that transaction;
/// a TOTP step is accepted once and never an earlier one.
pub async fn people_users_passwords_totp<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    people_fixture(store.as_ref()).await;
    let ann = user("usr_1", "ann@example.com");
    assert_eq!(store.get_user("usr_1").await.unwrap(), Some(ann.clone()));
    assert_eq!(
        store.user_by_email("ann@example.com").await.unwrap(),
        Some(ann)
    );
    assert_eq!(
        store.user_by_email("nobody@example.com").await.unwrap(),
        None
    );
    duplicate(
        store.create_user(&user("usr_3", "ann@example.com")).await,
        "an email taken",
    );
    store
        .add_membership(&member(A, "usr_1", Role::Admin, 10))
        .await
        .unwrap();
    store
        .add_membership(&member(B, "usr_1", Role::Viewer, 11))
        .await
        .unwrap();
    store
        .create_session(&session(1, "usr_1", A), None)
        .await
        .unwrap();
    store
        .create_session(&session(2, "usr_1", B), None)
        .await
        .unwrap();
    store
        .set_password("usr_1", "$argon2id$new", 500)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_user("usr_1")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "$argon2id$new"
    );
    for id in [1, 2] {
        let s = store.session_auth(&[id; 32]).await.unwrap().unwrap();
        assert_eq!(
            s.session.revoked_at,
            Some(500),
            "a password change revokes session {id}"
        );
    }
    not_found(store.set_password("usr_9", "x", 1).await, "an unknown user");
    store.set_totp("usr_1", Some(&[9; 20]), None).await.unwrap();
    let u = store.get_user("usr_1").await.unwrap().unwrap();
    assert_eq!((u.totp_secret, u.totp_pending), (Some(vec![9; 20]), None));
    assert!(store.use_totp_step("usr_1", 42).await.unwrap());
    assert!(
        !store.use_totp_step("usr_1", 42).await.unwrap(),
        "a code is used once"
    );
    assert!(
        !store.use_totp_step("usr_1", 41).await.unwrap(),
        "an earlier step after a later"
    );
    assert!(store.use_totp_step("usr_1", 43).await.unwrap());
}

/// Memberships: one per (tenant, user); listed with the email, oldest first;
/// a role change or a removal revokes the user's sessions in that tenant
/// only, in the same transaction; a session authenticates with the role of
/// its membership now, and not at all once the membership is gone.
pub async fn people_memberships_revoke_sessions<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    people_fixture(store.as_ref()).await;
    store
        .add_membership(&member(A, "usr_2", Role::Member, 20))
        .await
        .unwrap();
    store
        .add_membership(&member(A, "usr_1", Role::Owner, 10))
        .await
        .unwrap();
    store
        .add_membership(&member(B, "usr_2", Role::Admin, 30))
        .await
        .unwrap();
    duplicate(
        store
            .add_membership(&member(A, "usr_2", Role::Viewer, 40))
            .await,
        "a member twice",
    );
    not_found(
        store
            .add_membership(&member(A, "usr_9", Role::Viewer, 40))
            .await,
        "an unknown user",
    );
    let listed = store.list_members(A).await.unwrap();
    let got: Vec<_> = listed
        .iter()
        .map(|m| {
            (
                m.membership.user_id.as_str(),
                m.email.as_str(),
                m.membership.role,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("usr_1", "ann@example.com", Role::Owner),
            ("usr_2", "bob@example.com", Role::Member)
        ]
    );
    let of: Vec<_> = store
        .memberships_of("usr_2")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.tenant_id)
        .collect();
    assert_eq!(of, vec![A.to_owned(), B.to_owned()]);
    store
        .create_session(&session(1, "usr_2", A), None)
        .await
        .unwrap();
    store
        .create_session(&session(2, "usr_2", B), None)
        .await
        .unwrap();
    let s = store.session_auth(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(
        (s.role, s.session.clone()),
        (Role::Member, session(1, "usr_2", A))
    );
    store
        .set_member_role(A, "usr_2", Role::Admin, 200)
        .await
        .unwrap();
    let s = store.session_auth(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(
        (s.role, s.session.revoked_at),
        (Role::Admin, Some(200)),
        "a role change revokes"
    );
    store
        .create_session(&session(3, "usr_2", A), None)
        .await
        .unwrap();
    store.remove_membership(A, "usr_2", 300).await.unwrap();
    assert_eq!(
        store.session_auth(&[3; 32]).await.unwrap(),
        None,
        "no membership: no session"
    );
    assert_eq!(store.get_membership(A, "usr_2").await.unwrap(), None);
    let other = store.session_auth(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(
        other.session.revoked_at, None,
        "another tenant's session stays"
    );
    not_found(
        store.remove_membership(A, "usr_2", 301).await,
        "a removed member",
    );
    not_found(
        store.set_member_role(A, "usr_2", Role::Viewer, 302).await,
        "a removed member",
    );
    assert_eq!(store.revoke_sessions("usr_2", None, 400).await.unwrap(), 1);
}

/// Sessions: rotation revokes the replaced session in the same write; touch
/// moves `last_seen_at` forward only; revoking is idempotent.
pub async fn people_sessions_rotate_touch_revoke<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    people_fixture(store.as_ref()).await;
    store
        .add_membership(&member(A, "usr_1", Role::Viewer, 10))
        .await
        .unwrap();
    store
        .create_session(&session(1, "usr_1", A), None)
        .await
        .unwrap();
    duplicate(
        store.create_session(&session(1, "usr_1", A), None).await,
        "a session id taken",
    );
    let mut next = session(2, "usr_1", A);
    next.created_at = 150;
    store.create_session(&next, Some(&[1; 32])).await.unwrap();
    let old = store.session_auth(&[1; 32]).await.unwrap().unwrap();
    assert_eq!(
        old.session.revoked_at,
        Some(150),
        "rotation revokes the old id"
    );
    store.touch_session(&[2; 32], 500).await.unwrap();
    store.touch_session(&[2; 32], 400).await.unwrap();
    let s = store.session_auth(&[2; 32]).await.unwrap().unwrap();
    assert_eq!((s.session.last_seen_at, s.session.revoked_at), (500, None));
    store.revoke_session(&[2; 32], 600).await.unwrap();
    store.revoke_session(&[2; 32], 700).await.unwrap();
    let s = store.session_auth(&[2; 32]).await.unwrap().unwrap();
    assert_eq!(
        s.session.revoked_at,
        Some(600),
        "the first revocation stays"
    );
    assert_eq!(store.session_auth(&[7; 32]).await.unwrap(), None);
}

/// One-time links: taken once, not after they expire, not as another kind;
/// listed unused and unexpired, newest first, per tenant; deleted while unused.
pub async fn people_links_single_use_and_expiring<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    people_fixture(store.as_ref()).await;
    let mut old = link("inv_1", 1, LinkKind::Invitation, 1_000);
    old.created_at = 5;
    store.create_link(&old).await.unwrap();
    store
        .create_link(&link("inv_2", 2, LinkKind::Invitation, 2_000))
        .await
        .unwrap();
    let mut reset = link("rst_1", 3, LinkKind::Reset, 2_000);
    reset.user_id = Some("usr_1".into());
    store.create_link(&reset).await.unwrap();
    duplicate(
        store
            .create_link(&link("inv_9", 2, LinkKind::Invitation, 5))
            .await,
        "a token taken",
    );
    let listed = store
        .list_links(A, LinkKind::Invitation, 500)
        .await
        .unwrap();
    assert_eq!(ids(&listed, |l| &l.id), ["inv_2", "inv_1"], "newest first");
    assert_eq!(
        store
            .list_links(B, LinkKind::Invitation, 500)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        store
            .take_link(&[3; 32], LinkKind::Invitation, 500)
            .await
            .unwrap(),
        None,
        "wrong kind"
    );
    // Peeking spends nothing, and sees what take would take.
    assert_eq!(
        store
            .peek_link(&[3; 32], LinkKind::Invitation, 500)
            .await
            .unwrap(),
        None,
        "peek: wrong kind"
    );
    let peeked = store
        .peek_link(&[3; 32], LinkKind::Reset, 500)
        .await
        .unwrap()
        .expect("peek sees an unused link");
    assert_eq!(peeked.used_at, None);
    let got = store
        .take_link(&[3; 32], LinkKind::Reset, 500)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, peeked.id, "the peek did not use it");
    assert_eq!(
        (got.user_id.as_deref(), got.used_at),
        (Some("usr_1"), Some(500))
    );
    assert_eq!(
        store
            .take_link(&[3; 32], LinkKind::Reset, 501)
            .await
            .unwrap(),
        None,
        "used once"
    );
    assert_eq!(
        store
            .peek_link(&[3; 32], LinkKind::Reset, 501)
            .await
            .unwrap(),
        None,
        "peek: used"
    );
    assert_eq!(
        store
            .peek_link(&[1; 32], LinkKind::Invitation, 1_000)
            .await
            .unwrap(),
        None,
        "peek: expired"
    );
    assert_eq!(
        store
            .take_link(&[1; 32], LinkKind::Invitation, 1_000)
            .await
            .unwrap(),
        None,
        "expired"
    );
    not_found(
        store.delete_link(B, LinkKind::Invitation, "inv_2").await,
        "another tenant's",
    );
    store
        .delete_link(A, LinkKind::Invitation, "inv_2")
        .await
        .unwrap();
    assert_eq!(
        store
            .take_link(&[2; 32], LinkKind::Invitation, 600)
            .await
            .unwrap(),
        None,
        "deleted"
    );
    not_found(
        store.delete_link(A, LinkKind::Reset, "rst_1").await,
        "a used link",
    );
}

/// Login failures: counted per key since a time, oldest first; cleared per key.
/// A workflow's creator is `system` until set; unknown workflows have none.
pub async fn people_login_failures_and_creators<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    people_fixture(store.as_ref()).await;
    for at in [300, 100, 200] {
        store
            .record_login_failure("account:ann@example.com", at)
            .await
            .unwrap();
    }
    store
        .record_login_failure("addr:127.0.0.1", 250)
        .await
        .unwrap();
    assert_eq!(
        store
            .login_failures("account:ann@example.com", 150)
            .await
            .unwrap(),
        vec![200, 300]
    );
    store
        .clear_login_failures("account:ann@example.com")
        .await
        .unwrap();
    assert_eq!(
        store
            .login_failures("account:ann@example.com", 0)
            .await
            .unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(
        store.login_failures("addr:127.0.0.1", 0).await.unwrap(),
        vec![250]
    );
    put_workflow(store.as_ref(), A, "wf_1").await;
    assert_eq!(
        store.workflow_creator(A, "wf_1").await.unwrap().as_deref(),
        Some(SYSTEM)
    );
    store
        .set_workflow_creator(A, "wf_1", "usr_1")
        .await
        .unwrap();
    assert_eq!(
        store.workflow_creator(A, "wf_1").await.unwrap().as_deref(),
        Some("usr_1")
    );
    assert_eq!(
        store.workflow_creator(B, "wf_1").await.unwrap(),
        None,
        "another tenant"
    );
    not_found(
        store.set_workflow_creator(B, "wf_1", "usr_1").await,
        "another tenant's workflow",
    );
}
