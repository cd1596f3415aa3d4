//! Notification rules and deliveries (`docs/TENANCY.md`, section 6): rules
//! per tenant; one delivery per (rule, event), written by the run's commit;
//! claims with a lease; every attempt recorded.

use super::*;
use crate::notifications::{
    ConnectorTarget, DeliveryAttempt, DeliveryFilter, DeliveryOutcome, DeliveryStatus,
    NotificationRule, NotifyOn, NotifyTarget, SealedSecret,
};

pub(super) fn rule(
    tenant: &str,
    id: &str,
    workflow: Option<&str>,
    on: NotifyOn,
) -> NotificationRule {
    NotificationRule {
        tenant_id: tenant.into(),
        id: id.into(),
        workflow_id: workflow.map(Into::into),
        on,
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

/// A run of `workflow` that ended in `status` at `at`.
pub(super) fn ended(tenant: &str, id: &str, workflow: &str, status: Status, at: i64) -> Run {
    let mut r = run(tenant, id, workflow);
    r.status = status;
    r.finished_at = Some(at);
    r.updated_at = at;
    r
}

pub(super) async fn deliveries(store: &dyn Store, tenant: &str) -> Vec<(String, String)> {
    let mut got: Vec<(String, String)> = store
        .list_notifications(tenant, &DeliveryFilter::default(), &Page::first(100))
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.rule_id, d.event_key))
        .collect();
    got.sort();
    got
}

/// Rules are created, read, listed oldest first, updated and deleted, and
/// another tenant's id reads as missing and cannot be changed.
pub async fn notification_rules_crud_by_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r1 = rule(A, "ntr_1", None, NotifyOn::RunFailed);
    let mut r2 = rule(A, "ntr_2", Some("wf_1"), NotifyOn::RunWaiting);
    r2.created_at = 200;
    store.create_rule(&r1).await.unwrap();
    store.create_rule(&r2).await.unwrap();
    duplicate(store.create_rule(&r1).await, "the same rule id twice");
    assert_eq!(store.get_rule(A, "ntr_1").await.unwrap(), Some(r1.clone()));
    assert_eq!(
        store.get_rule(B, "ntr_1").await.unwrap(),
        None,
        "another tenant's"
    );
    assert_eq!(
        store.list_rules(A).await.unwrap(),
        vec![r1.clone(), r2.clone()]
    );
    assert_eq!(store.list_rules(B).await.unwrap(), vec![]);

    let mut changed = r1.clone();
    changed.enabled = false;
    changed.on = NotifyOn::RunRecovered;
    changed.workflow_id = Some("wf_2".into());
    changed.updated_at = 300;
    store.update_rule(&changed).await.unwrap();
    assert_eq!(
        store.get_rule(A, "ntr_1").await.unwrap(),
        Some(changed.clone())
    );
    let mut theirs = changed.clone();
    theirs.tenant_id = B.into();
    not_found(
        store.update_rule(&theirs).await,
        "updating another tenant's rule",
    );
    not_found(
        store.delete_rule(B, "ntr_1").await,
        "deleting another tenant's rule",
    );
    store.delete_rule(A, "ntr_1").await.unwrap();
    not_found(store.delete_rule(A, "ntr_1").await, "deleting twice");
    assert_eq!(store.list_rules(A).await.unwrap(), vec![r2]);
}

/// A failed run makes one delivery per matching enabled rule (tenant-wide or
/// for its workflow), in its commit; writing the failed run again (a retried
/// or later commit) makes none; rules of other workflows, other events,
/// disabled rules and other tenants' rules make none.
pub async fn notification_failed_run_delivers_once<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_all", None, NotifyOn::RunFailed))
        .await
        .unwrap();
    store
        .create_rule(&rule(A, "ntr_wf1", Some("wf_1"), NotifyOn::RunFailed))
        .await
        .unwrap();
    store
        .create_rule(&rule(A, "ntr_wf2", Some("wf_2"), NotifyOn::RunFailed))
        .await
        .unwrap();
    store
        .create_rule(&rule(A, "ntr_wait", None, NotifyOn::RunWaiting))
        .await
        .unwrap();
    let mut off = rule(A, "ntr_off", None, NotifyOn::RunFailed);
    off.enabled = false;
    store.create_rule(&off).await.unwrap();
    store
        .create_rule(&rule(B, "ntr_b", None, NotifyOn::RunFailed))
        .await
        .unwrap();

    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[]).await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![],
        "a running run notifies nothing"
    );
    let (mut failed, expected) = next(&r);
    failed.status = Status::Failed;
    failed.finished_at = Some(2_000);
    store
        .commit(&Commit {
            runs: vec![(failed.clone(), expected)],
            ..Commit::default()
        })
        .await
        .unwrap();
    let want = vec![
        ("ntr_all".to_owned(), "run_1:failed".to_owned()),
        ("ntr_wf1".to_owned(), "run_1:failed".to_owned()),
    ];
    assert_eq!(deliveries(&*store, A).await, want);
    // The terminal run written again: no second delivery.
    store
        .commit(&Commit {
            runs: vec![next(&failed)],
            ..Commit::default()
        })
        .await
        .unwrap();
    assert_eq!(deliveries(&*store, A).await, want, "an event delivers once");
    assert_eq!(
        deliveries(&*store, B).await,
        vec![],
        "another tenant's rule"
    );

    let all = store
        .list_notifications(A, &DeliveryFilter::default(), &Page::first(10))
        .await
        .unwrap();
    let d = all.iter().find(|d| d.rule_id == "ntr_all").unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.on, NotifyOn::RunFailed);
    assert_eq!(d.run_id, "run_1");
    assert_eq!(d.workflow_id, "wf_1");
    assert_eq!(d.next_at, Some(2_000));
    assert_eq!(d.payload["type"], "run_failed");
    assert_eq!(d.payload["run_id"], "run_1");
    assert_eq!(d.payload["status"], "failed");
    assert!(d.attempts.is_empty());
    let only = DeliveryFilter {
        rule_id: Some("ntr_wf1".into()),
        status: None,
    };
    let one = store
        .list_notifications(A, &only, &Page::first(10))
        .await
        .unwrap();
    assert_eq!(one.len(), 1, "filtered by rule");
    let page = store
        .list_notifications(A, &DeliveryFilter::default(), &Page::first(1))
        .await
        .unwrap();
    let rest = Page {
        before: Some(page[0].id.clone()),
        limit: 10,
    };
    let rest = store
        .list_notifications(A, &DeliveryFilter::default(), &rest)
        .await
        .unwrap();
    assert_eq!(page.len() + rest.len(), 2, "pages newest first by id");
    assert!(rest.iter().all(|d| d.id < page[0].id));
}

/// A step waiting with a resume token makes a `run_waiting` delivery, once.
pub async fn notification_waiting_step_delivers<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_wait", None, NotifyOn::RunWaiting))
        .await
        .unwrap();
    let r = run(A, "run_1", "wf_1");
    let timer = step(&r, "sleep", Status::Waiting);
    put_run(&*store, &r, &[timer]).await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![],
        "a timer wait needs nobody"
    );
    let (mut waiting, expected) = next(&r);
    waiting.status = Status::Waiting;
    let mut approval = step(&r, "approve", Status::Waiting);
    approval.resume_token = Some("tok_1".into());
    let c = Commit {
        runs: vec![(waiting.clone(), expected)],
        steps: vec![approval.clone()],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    let want = vec![("ntr_wait".to_owned(), "run_1:waiting:approve:0".to_owned())];
    assert_eq!(deliveries(&*store, A).await, want);
    let again = Commit {
        runs: vec![next(&waiting)],
        steps: vec![approval],
        ..Commit::default()
    };
    store.commit(&again).await.unwrap();
    assert_eq!(
        deliveries(&*store, A).await,
        want,
        "once per waiting step attempt"
    );
}

/// `run_recovered`: a completed run notifies only when its workflow's
/// previous finished run failed.
pub async fn notification_recovered_after_failure_only<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_rec", None, NotifyOn::RunRecovered))
        .await
        .unwrap();
    let ok = |id: &str, at: i64| ended(A, id, "wf_1", Status::Completed, at);
    put_run(&*store, &ok("run_1", 1_000), &[]).await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![],
        "a first success recovers nothing"
    );
    put_run(
        &*store,
        &ended(A, "run_2", "wf_1", Status::Failed, 2_000),
        &[],
    )
    .await;
    put_run(
        &*store,
        &ended(A, "run_x", "wf_2", Status::Completed, 2_500),
        &[],
    )
    .await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![],
        "another workflow's success"
    );
    put_run(&*store, &ok("run_3", 3_000), &[]).await;
    let want = vec![("ntr_rec".to_owned(), "run_3:recovered".to_owned())];
    assert_eq!(deliveries(&*store, A).await, want);
    put_run(&*store, &ok("run_4", 4_000), &[]).await;
    assert_eq!(
        deliveries(&*store, A).await,
        want,
        "a success after a success"
    );
}

/// Claims take due pending rows with a lease (a second claim gets none while
/// it holds); a recorded try appends to the attempts and sets the status and
/// the next try; a delivered row is never claimed again.
pub async fn notification_claims_and_attempts<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_1", None, NotifyOn::RunFailed))
        .await
        .unwrap();
    put_run(
        &*store,
        &ended(A, "run_1", "wf_1", Status::Failed, 2_000),
        &[],
    )
    .await;
    assert_eq!(
        store
            .claim_notifications(1_999, 1_000, 10, 1_000)
            .await
            .unwrap(),
        vec![],
        "not due"
    );
    let got = store
        .claim_notifications(2_000, 1_000, 10, 1_000)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let id = got[0].id.clone();
    assert_eq!(
        store
            .claim_notifications(2_500, 1_000, 10, 1_000)
            .await
            .unwrap(),
        vec![],
        "leased"
    );
    let failed = DeliveryOutcome {
        attempt: DeliveryAttempt {
            at: 2_600,
            http_status: Some(500),
            error: Some("HTTP 500".into()),
        },
        status: DeliveryStatus::Pending,
        next_at: Some(5_000),
    };
    assert!(
        store
            .record_notification(A, &id, &failed, 2_600)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_notification(B, &id, &failed, 2_600)
            .await
            .unwrap(),
        "another tenant"
    );
    assert_eq!(
        store
            .claim_notifications(4_999, 1_000, 10, 1_000)
            .await
            .unwrap(),
        vec![],
        "backing off"
    );
    let again = store
        .claim_notifications(5_000, 1_000, 10, 1_000)
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "due again, claim released");
    assert_eq!(again[0].attempts, vec![failed.attempt.clone()]);
    let ok = DeliveryOutcome {
        attempt: DeliveryAttempt {
            at: 5_100,
            http_status: Some(204),
            error: None,
        },
        status: DeliveryStatus::Delivered,
        next_at: None,
    };
    assert!(store.record_notification(A, &id, &ok, 5_100).await.unwrap());
    assert!(
        !store.record_notification(A, &id, &ok, 5_200).await.unwrap(),
        "no longer pending"
    );
    assert_eq!(
        store
            .claim_notifications(i64::MAX / 2, 1_000, 10, 1_000)
            .await
            .unwrap(),
        vec![]
    );
    let d = &store
        .list_notifications(A, &DeliveryFilter::default(), &Page::first(10))
        .await
        .unwrap()[0];
    assert_eq!(d.status, DeliveryStatus::Delivered);
    assert_eq!(d.attempts, vec![failed.attempt, ok.attempt]);
    assert_eq!(d.last_error(), None);
    assert_eq!(d.next_at, None);
    assert_eq!(d.updated_at, 5_100);
    let delivered = DeliveryFilter {
        rule_id: None,
        status: Some(DeliveryStatus::Delivered),
    };
    assert_eq!(
        store
            .list_notifications(A, &delivered, &Page::first(10))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_notifications(B, &delivered, &Page::first(10))
            .await
            .unwrap()
            .len(),
        0
    );
}

/// Two delivery loops claiming at once (two workers) never get the same row.
pub async fn notification_claims_race_disjoint<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_1", None, NotifyOn::RunFailed))
        .await
        .unwrap();
    for i in 0..20 {
        let r = ended(A, &format!("run_{i:02}"), "wf_1", Status::Failed, 2_000 + i);
        put_run(&*store, &r, &[]).await;
    }
    let (a, b) = (store.clone(), store.clone());
    let (x, y) = tokio::join!(
        async move {
            a.claim_notifications(5_000, 60_000, 15, 1_000)
                .await
                .unwrap()
        },
        async move {
            b.claim_notifications(5_000, 60_000, 15, 1_000)
                .await
                .unwrap()
        },
    );
    let mut ids: Vec<String> = x.iter().chain(&y).map(|d| d.id.clone()).collect();
    let claimed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "a row claimed twice");
    assert_eq!(claimed, 20, "every due row claimed by one or the other");
}

/// A claim takes a tenant's earliest rows only while it has fewer than
/// `per_tenant` claims live: a tenant with many due rows earlier than
/// another's does not fill the claim, nor the next one while its sends last;
/// as they are recorded, its next rows go.
pub async fn notification_claims_fair_by_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for t in [A, B] {
        store
            .create_rule(&rule(t, &format!("ntr_{t}"), None, NotifyOn::RunFailed))
            .await
            .unwrap();
    }
    // A: 30 failed runs, all earlier than B's one.
    for i in 0..30 {
        let r = ended(
            A,
            &format!("run_a{i:02}"),
            "wf_1",
            Status::Failed,
            1_000 + i,
        );
        put_run(&*store, &r, &[]).await;
    }
    put_run(
        &*store,
        &ended(B, "run_b", "wf_1", Status::Failed, 2_000),
        &[],
    )
    .await;
    let got = store
        .claim_notifications(5_000, 60_000, 10, 4)
        .await
        .unwrap();
    let of = |t: &str| got.iter().filter(|d| d.tenant_id == t).count();
    assert_eq!(of(A), 4, "A takes per_tenant rows, not the whole claim");
    assert_eq!(of(B), 1, "B's row is in the same claim");
    let a: Vec<&str> = got
        .iter()
        .filter(|d| d.tenant_id == A)
        .map(|d| d.run_id.as_str())
        .collect();
    assert_eq!(
        a,
        ["run_a00", "run_a01", "run_a02", "run_a03"],
        "A's earliest"
    );
    let again = store
        .claim_notifications(5_000, 60_000, 10, 4)
        .await
        .unwrap();
    assert_eq!(again, vec![], "A has 4 rows being sent: none more");
    // Two of A's are recorded: two more of A's may go.
    for d in got.iter().filter(|d| d.tenant_id == A).take(2) {
        let done = DeliveryOutcome {
            attempt: DeliveryAttempt {
                at: 5_100,
                http_status: Some(204),
                error: None,
            },
            status: DeliveryStatus::Delivered,
            next_at: None,
        };
        assert!(
            store
                .record_notification(A, &d.id, &done, 5_100)
                .await
                .unwrap()
        );
    }
    let more = store
        .claim_notifications(5_200, 60_000, 10, 4)
        .await
        .unwrap();
    let runs: Vec<&str> = more.iter().map(|d| d.run_id.as_str()).collect();
    assert_eq!(runs, ["run_a04", "run_a05"], "A's next two");
    // Once the claims lapse (a worker died), A's earliest go again.
    let lapsed = store
        .claim_notifications(70_000, 60_000, 100, 4)
        .await
        .unwrap();
    let runs: Vec<&str> = lapsed.iter().map(|d| d.run_id.as_str()).collect();
    assert_eq!(runs, ["run_a02", "run_a03", "run_a04", "run_a05", "run_b"]);
}

/// A run started by one of this deployment's notifications (a webhook run
/// whose request carried `weft-notification`) makes no notification event,
/// nor does a run below it (a sub-workflow's or an error workflow's run, at
/// any depth); an unmarked webhook run does.
pub async fn notification_runs_below_a_notification_make_none<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    use crate::notifications::NOTIFICATION_HEADER;
    let store = fresh(factory).await;
    store
        .create_rule(&rule(A, "ntr_1", None, NotifyOn::RunFailed))
        .await
        .unwrap();
    let hooked = |id: &str, headers: serde_json::Value| {
        let mut r = ended(A, id, "wf_1", Status::Failed, 2_000);
        r.trigger = Trigger::Webhook;
        r.input = json!({ "body": {}, "query": {}, "headers": headers });
        r
    };
    let marked = hooked("run_m", json!({ NOTIFICATION_HEADER: "ntd_1" }));
    put_run(&*store, &marked, &[]).await;
    let mut child = ended(A, "run_c", "wf_2", Status::Failed, 2_100);
    child.trigger = Trigger::Subworkflow;
    child.parent = Some(weft_types::Parent {
        run_id: "run_m".into(),
        step_key: "call".into(),
    });
    child.depth = 1;
    put_run(&*store, &child, &[]).await;
    let mut grandchild = ended(A, "run_e", "wf_3", Status::Failed, 2_200);
    grandchild.trigger = Trigger::Error;
    grandchild.parent = Some(weft_types::Parent {
        run_id: "run_c".into(),
        step_key: String::new(),
    });
    put_run(&*store, &grandchild, &[]).await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![],
        "no event below a notification"
    );
    put_run(
        &*store,
        &hooked("run_u", json!({ "content-type": "application/json" })),
        &[],
    )
    .await;
    assert_eq!(
        deliveries(&*store, A).await,
        vec![("ntr_1".to_owned(), "run_u:failed".to_owned())],
        "an unmarked webhook run notifies"
    );
}

/// A tenant's erase takes its rules and deliveries (another tenant's stay),
/// and pruning runs takes the deliveries of the runs it prunes (a kept run's
/// stay).
pub async fn notification_rows_erased_and_pruned<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    for t in [A, B] {
        store.create_tenant(&tenant(t, 1)).await.unwrap();
        put_workflow(store.as_ref(), t, "wf_1").await;
        store
            .create_rule(&rule(t, &format!("ntr_{t}"), None, NotifyOn::RunFailed))
            .await
            .unwrap();
        for (id, at) in [("run_old", 500), ("run_new", 5_000)] {
            let r = run(t, id, "wf_1");
            put_run(&*store, &r, &[]).await;
            let (mut failed, expected) = next(&r);
            failed.status = Status::Failed;
            failed.finished_at = Some(at);
            store
                .commit(&Commit {
                    runs: vec![(failed, expected)],
                    ..Commit::default()
                })
                .await
                .unwrap();
        }
    }
    let rule_a = format!("ntr_{A}");
    assert_eq!(deliveries(&*store, A).await.len(), 2);

    // Retention: the old run goes with its delivery; the new one's stays.
    assert_eq!(store.prune_runs(A, 1_000, 10).await.unwrap(), 1);
    assert_eq!(
        deliveries(&*store, A).await,
        vec![(rule_a.clone(), "run_new:failed".to_owned())],
        "a pruned run's deliveries go with it"
    );
    assert_eq!(deliveries(&*store, B).await.len(), 2, "B untouched");

    // Erase: every rule and delivery of A, nothing of B.
    let mut rounds = 0;
    while store.erase_tenant(A, 1).await.unwrap() > 0 {
        rounds += 1;
        assert!(rounds < 100, "erasing ends");
    }
    assert!(
        store.list_rules(A).await.unwrap().is_empty(),
        "rules erased"
    );
    assert!(
        store.get_rule(A, &rule_a).await.unwrap().is_none(),
        "rule erased"
    );
    assert!(deliveries(&*store, A).await.is_empty(), "deliveries erased");
    assert!(
        store
            .claim_notifications(i64::MAX / 2, 1_000, 100, 1_000)
            .await
            .unwrap()
            .iter()
            .all(|d| d.tenant_id == B),
        "nothing of A is left to send"
    );
    assert_eq!(store.list_rules(B).await.unwrap().len(), 1);
    assert_eq!(deliveries(&*store, B).await.len(), 2);
}

/// A connector rule keeps its target (connector, action, input, config,
/// grants) through create, read and an update that turns it into a webhook
/// and back.
pub async fn notification_connector_rule_round_trips<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let mut r = rule(A, "ntr_c", None, NotifyOn::RunFailed);
    let webhook = r.target.clone();
    let target = NotifyTarget::Connector(ConnectorTarget {
        connector: "slack".into(),
        action: "post-message".into(),
        input: serde_json::json!({"channel": "C1", "text": "{{ event.run_id }} failed"}),
        config: serde_json::json!({"base_url": "https://slack.com/api"}),
        hosts: vec!["slack.com".into()],
        credentials: [("bot-token".to_owned(), "slack-bot".to_owned())].into(),
    });
    r.target = target.clone();
    store.create_rule(&r).await.unwrap();
    assert_eq!(store.get_rule(A, "ntr_c").await.unwrap(), Some(r.clone()));
    r.target = webhook;
    store.update_rule(&r).await.unwrap();
    assert_eq!(store.get_rule(A, "ntr_c").await.unwrap(), Some(r.clone()));
    r.target = target;
    store.update_rule(&r).await.unwrap();
    assert_eq!(store.list_rules(A).await.unwrap(), vec![r]);
}
