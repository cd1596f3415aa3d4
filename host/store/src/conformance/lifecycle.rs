//! A tenant's life made race-free (`docs/TENANCY.md`, sections 2 and 7):
//! state changes are compare-and-set, settings never write the state, one
//! sweeper at a time, a suspended tenant's runs do not time out, and erasing
//! a tenant takes the people who belonged only to it.

use super::*;
use crate::people::{Link, LinkKind, Membership, Session, User};
use weft_types::{TenantLimits, TenantState};

fn suspended(at: i64) -> TenantState {
    TenantState::Suspended {
        reason: "unpaid".into(),
        at,
    }
}

fn stale(r: crate::Result<()>, what: &str) -> String {
    match r {
        Err(Error::Stale(m)) => m,
        other => panic!("{what}: expected Stale, got {other:?}"),
    }
}

/// `set_tenant_state` moves the state only from the state the caller read
/// (a change computed from a stale read is refused, naming the state it is
/// in, and nothing is written); `update_tenant_settings` writes the name and
/// limits and never the state, and refuses a tenant being erased.
pub async fn tenant_state_compare_and_set<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    store.create_tenant(&tenant(B, 2)).await.unwrap();
    let read = store.get_tenant(A).await.unwrap().unwrap();

    // Process 2 suspends; process 1 then writes its limits from its read.
    store
        .set_tenant_state(A, &TenantState::Active, &suspended(10))
        .await
        .unwrap();
    let limits = TenantLimits {
        max_active_runs: Some(3),
        ..TenantLimits::default()
    };
    store
        .update_tenant_settings(A, Some("renamed"), Some(&limits))
        .await
        .unwrap();
    let got = store.get_tenant(A).await.unwrap().unwrap();
    assert_eq!(
        got.state,
        suspended(10),
        "the settings left the state alone"
    );
    assert_eq!((got.name.as_str(), &got.limits), ("renamed", &limits));
    store.update_tenant_settings(A, None, None).await.unwrap();
    let same = store.get_tenant(A).await.unwrap().unwrap();
    assert_eq!(
        (same.name, same.limits),
        (got.name, got.limits),
        "None keeps"
    );

    // A resume computed from the read before the suspension is refused.
    let m = stale(
        store
            .set_tenant_state(A, &read.state, &TenantState::Active)
            .await,
        "a move from a state the tenant left",
    );
    assert!(m.contains("suspended"), "names the state it is in: {m}");
    assert_eq!(
        store.get_tenant(A).await.unwrap().unwrap().state,
        suspended(10)
    );

    // The sweeper's flip from a stale snapshot of a delete loses to a resume.
    let deleting = TenantState::Deleting {
        reason: "closed".into(),
        at: 20,
        erase_after: 30,
    };
    store
        .set_tenant_state(A, &suspended(10), &deleting)
        .await
        .unwrap();
    store
        .set_tenant_state(A, &deleting, &TenantState::Active)
        .await
        .unwrap();
    let erasing = TenantState::Erasing {
        reason: "closed".into(),
        at: 40,
    };
    stale(
        store.set_tenant_state(A, &deleting, &erasing).await,
        "an erase flip after a resume",
    );
    assert_eq!(
        store.get_tenant(A).await.unwrap().unwrap().state,
        TenantState::Active
    );
    // Another delete is another state: the old snapshot still loses.
    let again = TenantState::Deleting {
        reason: "closed".into(),
        at: 50,
        erase_after: 9_000,
    };
    store
        .set_tenant_state(A, &TenantState::Active, &again)
        .await
        .unwrap();
    stale(
        store.set_tenant_state(A, &deleting, &erasing).await,
        "an erase flip from an earlier delete",
    );
    store.set_tenant_state(A, &again, &erasing).await.unwrap();
    let m = stale(
        store.update_tenant_settings(A, Some("x"), None).await,
        "settings of an erasing tenant",
    );
    assert!(m.contains("erasing"), "{m}");
    assert_eq!(store.get_tenant(A).await.unwrap().unwrap().name, "renamed");

    assert_eq!(
        store.get_tenant(B).await.unwrap().unwrap().state,
        TenantState::Active,
        "another tenant untouched"
    );
    not_found(
        store
            .set_tenant_state("ten_zz", &TenantState::Active, &suspended(1))
            .await,
        "an unknown tenant's state",
    );
    not_found(
        store
            .update_tenant_settings("ten_zz", Some("x"), None)
            .await,
        "an unknown tenant's settings",
    );
}

/// One holder of the sweeper lock at a time; released, it can be taken again.
pub async fn sweeper_lock_one_holder<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let held = store.lock_sweeper().await.unwrap().expect("a free lock");
    assert!(
        store.lock_sweeper().await.unwrap().is_none(),
        "a second sweeper is refused while the first holds it"
    );
    held.release().await;
    let again = store.lock_sweeper().await.unwrap().expect("released");
    assert!(store.lock_sweeper().await.unwrap().is_none());
    again.release().await;
}

/// A run of a tenant that is not active never times out: `overdue_runs`
/// leaves it out like `due_steps` leaves out its steps; on resume it is
/// overdue again.
pub async fn overdue_runs_leave_out_inactive_tenants<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for t in [A, B] {
        store.create_tenant(&tenant(t, 1)).await.unwrap();
        let mut r = run(t, &format!("run_{t}"), "wf_1");
        r.status = Status::Running;
        r.deadline_at = Some(100);
        put_run(&*store, &r, &[]).await;
    }
    let overdue = || async { ids(&store.overdue_runs(200, 10).await.unwrap(), |r| &r.id) };
    assert_eq!(overdue().await, ["run_ten_a", "run_ten_b"]);
    store
        .set_tenant_state(A, &TenantState::Active, &suspended(50))
        .await
        .unwrap();
    assert_eq!(overdue().await, ["run_ten_b"], "suspended: no timeout");
    let deleting = TenantState::Deleting {
        reason: "closed".into(),
        at: 60,
        erase_after: 1_000,
    };
    store
        .set_tenant_state(A, &suspended(50), &deleting)
        .await
        .unwrap();
    assert_eq!(overdue().await, ["run_ten_b"], "deleting: no timeout");
    store
        .set_tenant_state(A, &deleting, &TenantState::Active)
        .await
        .unwrap();
    assert_eq!(overdue().await, ["run_ten_a", "run_ten_b"], "resumed");
}

fn user(id: &str, email: &str) -> User {
    User {
        id: id.into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: Some(vec![7; 40]),
        totp_pending: None,
        totp_last_step: 3,
        created_at: 5,
        disabled_at: None,
    }
}

fn member(tenant: &str, user: &str) -> Membership {
    Membership {
        tenant_id: tenant.into(),
        user_id: user.into(),
        role: Role::Member,
        created_by: "key_1".into(),
        created_at: 10,
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

/// Erasing a tenant erases, in bounded batches, the users whose only
/// membership was in it (email, password hash, TOTP secret), their sessions,
/// reset links and login failures; a user who also belongs to another tenant
/// keeps the account and that membership, and loses only this one.
pub async fn erase_tenant_takes_its_only_members<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_tenant(&tenant(A, 1)).await.unwrap();
    store.create_tenant(&tenant(B, 2)).await.unwrap();
    for (id, email) in [
        ("usr_1", "ann@example.com"),
        ("usr_2", "bob@example.com"),
        ("usr_3", "cy@example.com"),
        ("usr_both", "dee@example.com"),
        ("usr_b", "eve@example.com"),
    ] {
        store.create_user(&user(id, email)).await.unwrap();
        for key in [format!("account:{email}"), format!("pair:{email}|10.0.0.1")] {
            store.record_login_failure(&key, 50).await.unwrap();
        }
    }
    for (u, t) in [
        ("usr_1", A),
        ("usr_2", A),
        ("usr_3", A),
        ("usr_both", A),
        ("usr_both", B),
        ("usr_b", B),
    ] {
        store.add_membership(&member(t, u)).await.unwrap();
    }
    for (n, u, t) in [(1, "usr_1", A), (2, "usr_both", A), (3, "usr_both", B)] {
        store.create_session(&session(n, u, t), None).await.unwrap();
    }
    store
        .create_link(&Link {
            id: "lnk_reset".into(),
            token_hash: vec![9; 32],
            kind: LinkKind::Reset,
            tenant_id: A.into(),
            role: Role::Member,
            email: None,
            user_id: Some("usr_2".into()),
            created_by: "usr_both".into(),
            created_at: 10,
            expires_at: 10_000,
            used_at: None,
        })
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
    for (id, email) in [
        ("usr_1", "ann@example.com"),
        ("usr_2", "bob@example.com"),
        ("usr_3", "cy@example.com"),
    ] {
        assert_eq!(store.get_user(id).await.unwrap(), None, "{id} erased");
        assert_eq!(store.user_by_email(email).await.unwrap(), None);
        for key in [format!("account:{email}"), format!("pair:{email}|10.0.0.1")] {
            assert!(
                store.login_failures(&key, 0).await.unwrap().is_empty(),
                "{id}'s login failures erased ({key})"
            );
        }
    }
    assert!(store.session_auth(&[1; 32]).await.unwrap().is_none());
    assert!(store.session_auth(&[2; 32]).await.unwrap().is_none());
    assert!(
        store
            .take_link(&[9; 32], LinkKind::Reset, 20)
            .await
            .unwrap()
            .is_none(),
        "the reset link is gone"
    );

    // Members of another tenant keep their account and that membership.
    for (id, email) in [
        ("usr_both", "dee@example.com"),
        ("usr_b", "eve@example.com"),
    ] {
        let u = store.get_user(id).await.unwrap().expect("kept");
        assert_eq!(u.email, email);
        for key in [format!("account:{email}"), format!("pair:{email}|10.0.0.1")] {
            assert_eq!(
                store.login_failures(&key, 0).await.unwrap(),
                vec![50],
                "{key}"
            );
        }
    }
    let left: Vec<String> = store
        .memberships_of("usr_both")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.tenant_id)
        .collect();
    assert_eq!(left, [B], "only the erased tenant's membership went");
    assert!(store.session_auth(&[3; 32]).await.unwrap().is_some());
    assert_eq!(store.get_tenant(A).await.unwrap(), None);
}
