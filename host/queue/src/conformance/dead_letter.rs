//! Dead letters: rejection, the delivery limit, listing and re-drive.

use super::*;

/// `nack(false)` dead-letters the message at once, with reason `Rejected`.
pub async fn nack_reject_dead_letters<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let id = publish(&*queue, task(1), None).await;
    let mut consumer = queue.consume(1).await.unwrap();
    recv(&mut consumer, "delivery")
        .await
        .nack(false)
        .await
        .expect("nack");
    quiet(&mut consumer, QUIET, "rejected message").await;
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1, "the rejected message is a dead letter");
    assert_eq!(dead[0].id, id);
    assert_eq!(dead[0].task, task(1));
    assert_eq!(dead[0].deliveries, 1);
    assert_eq!(dead[0].reason, DeadReason::Rejected);
}

/// A message delivered `max_deliveries` times without an ack — nacked, dropped,
/// timed out — is dead-lettered with reason `DeliveryLimit`; other work flows on.
pub async fn delivery_limit_dead_letters<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    assert_eq!(SETTINGS.max_deliveries, 3);
    let id = publish(&*queue, task(1), None).await;
    let mut consumer = queue.consume(1).await.unwrap();
    let d = recv(&mut consumer, "delivery 1").await;
    assert_eq!(d.deliveries(), 1);
    d.nack(true).await.expect("nack");
    let d = recv_prompt(&mut consumer, "delivery 2").await;
    assert_eq!(d.deliveries(), 2);
    drop(d);
    let held = recv_prompt(&mut consumer, "delivery 3").await;
    assert_eq!(held.deliveries(), 3);
    // The third delivery times out: no fourth delivery, a dead letter instead.
    quiet(&mut consumer, SETTINGS.ack_timeout * 2, "a poison message").await;
    assert!(matches!(held.ack().await, Err(Error::Stale)));
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    assert_eq!(dead[0].deliveries, 3);
    assert_eq!(dead[0].reason, DeadReason::DeliveryLimit);
    publish(&*queue, task(2), None).await;
    let next = recv(&mut consumer, "other work after a poison message").await;
    assert_eq!(index(&next), 2);
    next.ack().await.expect("ack");
}

/// Dead letters are listed up to a limit and re-driven by id: the message comes
/// back with a fresh delivery count and leaves the list; an unknown or already
/// re-driven id is `NotFound`.
pub async fn dead_letters_list_and_redrive<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let mut consumer = queue.consume(4).await.unwrap();
    let mut ids = Vec::new();
    for n in 1..=3 {
        ids.push(publish(&*queue, task(n), None).await);
        recv(&mut consumer, "delivery")
            .await
            .nack(false)
            .await
            .expect("reject");
    }
    assert_eq!(
        queue.dead_letters(2).await.unwrap().len(),
        2,
        "the limit is respected"
    );
    let all = queue.dead_letters(100).await.unwrap();
    let mut listed: Vec<MessageId> = all.iter().map(|d| d.id.clone()).collect();
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);

    let target = all
        .iter()
        .find(|d| d.task == task(2))
        .expect("dead letter of task 2");
    queue.redrive(&target.id).await.expect("redrive");
    let back = recv(&mut consumer, "re-driven message").await;
    assert_eq!(back.id(), &target.id);
    assert_eq!(back.task(), &task(2));
    assert_eq!(
        back.deliveries(),
        1,
        "a re-driven message starts a fresh count"
    );
    back.ack().await.expect("ack");
    quiet(&mut consumer, QUIET, "only the re-driven message").await;

    let left = queue.dead_letters(100).await.unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|d| d.id != target.id));
    assert!(matches!(
        queue.redrive(&target.id).await,
        Err(Error::NotFound(_))
    ));
    let unknown = MessageId::new("no-such-message");
    assert!(matches!(
        queue.redrive(&unknown).await,
        Err(Error::NotFound(_))
    ));
}
