//! The delivery loop's claim at scale and the rate cap's deferral
//! (`docs/TENANCY.md`, section 6): a tenant with a backlog of tens of
//! thousands of pending deliveries (a hundred rules at a hanging URL) still
//! leaves the claim fair and cheap; a deferred delivery stays pending with no
//! try and goes again when its time comes.

use super::*;
use crate::notifications::{
    DeliveryAttempt, DeliveryFilter, DeliveryOutcome, DeliveryStatus, NotificationRule, NotifyOn,
    NotifyTarget, SealedSecret,
};

fn rule(tenant: &str, id: &str) -> NotificationRule {
    NotificationRule {
        tenant_id: tenant.into(),
        id: id.into(),
        workflow_id: None,
        on: NotifyOn::RunFailed,
        target: NotifyTarget::Webhook {
            url: format!("https://hooks.example.com/{id}"),
            secret: SealedSecret {
                nonce: vec![1; 24],
                ciphertext: vec![0, 255, 7],
                ad_version: 2,
            },
        },
        enabled: true,
        created_at: 100,
        updated_at: 100,
    }
}

fn failed(tenant: &str, id: &str, at: i64) -> Run {
    let mut r = run(tenant, id, "wf_1");
    r.status = Status::Failed;
    r.finished_at = Some(at);
    r.updated_at = at;
    r
}

fn delivered(at: i64) -> DeliveryOutcome {
    DeliveryOutcome {
        attempt: DeliveryAttempt {
            at,
            http_status: Some(204),
            error: None,
        },
        status: DeliveryStatus::Delivered,
        next_at: None,
    }
}

/// A: 100 rules and 200 failed runs, 20 000 pending deliveries, all earlier
/// than B's one. Each claim takes A's earliest `per_tenant` and B's row
/// beside them; while A's are live, A gets none more; as they are recorded,
/// A's next go, in order. (The old claim counted A's live rows once per due
/// row: 20 000 x 20 000 row visits a claim.)
pub async fn notification_claim_with_a_large_backlog<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for i in 0..100 {
        store
            .create_rule(&rule(A, &format!("ntr_a{i:03}")))
            .await
            .unwrap();
    }
    store.create_rule(&rule(B, "ntr_b")).await.unwrap();
    for i in 0..200 {
        put_run(&*store, &failed(A, &format!("run_a{i:03}"), 1_000 + i), &[]).await;
    }
    put_run(&*store, &failed(B, "run_b", 5_000), &[]).await;
    let pending = DeliveryFilter {
        rule_id: None,
        status: Some(DeliveryStatus::Pending),
    };
    let page = store
        .list_notifications(A, &pending, &Page::first(1_000))
        .await
        .unwrap();
    assert_eq!(page.len(), 1_000, "A has a backlog");

    let got = store
        .claim_notifications(10_000, 60_000, 10, 4)
        .await
        .unwrap();
    let of = |g: &[crate::notifications::NotificationDelivery], t: &str| {
        g.iter().filter(|d| d.tenant_id == t).count()
    };
    assert_eq!(of(&got, A), 4, "A takes per_tenant rows: {got:#?}");
    assert_eq!(of(&got, B), 1, "B's row is in the same claim");
    assert!(
        got.iter()
            .filter(|d| d.tenant_id == A)
            .all(|d| d.run_id == "run_a000"),
        "A's earliest: {got:#?}"
    );
    let again = store
        .claim_notifications(10_000, 60_000, 10, 4)
        .await
        .unwrap();
    assert_eq!(again, vec![], "A has 4 live claims, B none due");
    for d in got.iter().filter(|d| d.tenant_id == A) {
        assert!(
            store
                .record_notification(A, &d.id, &delivered(10_100), 10_100)
                .await
                .unwrap()
        );
    }
    let next = store
        .claim_notifications(10_200, 60_000, 10, 4)
        .await
        .unwrap();
    assert_eq!(of(&next, A), 4, "A's next four: {next:#?}");
    assert!(
        next.iter()
            .all(|d| d.tenant_id == A && d.run_id == "run_a000")
    );
    assert!(
        got.iter().all(|g| next.iter().all(|n| n.id != g.id)),
        "not the recorded ones"
    );
}

/// A delivery put off (its rule at `rule_per_minute`) stays pending with no
/// try, is not claimed before its time and is claimed after it; a row no
/// longer pending is not deferred.
pub async fn notification_deferred_stays_pending<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.create_rule(&rule(A, "ntr_1")).await.unwrap();
    put_run(&*store, &failed(A, "run_1", 2_000), &[]).await;
    put_run(&*store, &failed(A, "run_2", 2_001), &[]).await;
    let got = store
        .claim_notifications(3_000, 60_000, 10, 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    let (first, second) = (&got[0], &got[1]);
    assert!(
        store
            .defer_notification(A, &first.id, 62_000, 3_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .defer_notification(B, &second.id, 62_000, 3_000)
            .await
            .unwrap(),
        "another tenant's row"
    );
    assert!(
        store
            .record_notification(A, &second.id, &delivered(3_100), 3_100)
            .await
            .unwrap()
    );
    assert!(
        !store
            .defer_notification(A, &second.id, 62_000, 3_200)
            .await
            .unwrap(),
        "no longer pending"
    );
    assert_eq!(
        store
            .claim_notifications(61_999, 60_000, 10, 10)
            .await
            .unwrap(),
        vec![],
        "not before its time (the claim was released, the deferral holds)"
    );
    let later = store
        .claim_notifications(62_000, 60_000, 10, 10)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].id, first.id);
    assert_eq!(later[0].status, DeliveryStatus::Pending);
    assert_eq!(later[0].attempts, vec![], "a deferral is not a try");
    assert_eq!(later[0].next_at, Some(62_000));
}
