//! Delivery, settling, redelivery, delays, prefetch and payload size.

use super::*;

/// A published task is delivered once, intact, and after an ack never again.
pub async fn publish_consume_ack<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let sent = Task::new("tenant-a", "run-1", "fetch[0]", 2).with_payload(b"hi".to_vec());
    let id = publish(&*queue, sent.clone(), None).await;
    let mut consumer = queue.consume(4).await.unwrap();
    let d = recv(&mut consumer, "first delivery").await;
    assert_eq!(d.task(), &sent, "the task arrives intact");
    assert_eq!(d.id(), &id, "the delivery carries the published id");
    assert_eq!(d.deliveries(), 1);
    assert!(!d.redelivered());
    d.ack().await.expect("ack");
    quiet(&mut consumer, SETTINGS.ack_timeout * 2, "acked message").await;
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

/// `nack(true)` delivers the message again, marked as redelivered.
pub async fn nack_requeue_redelivers<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let id = publish(&*queue, task(1), None).await;
    let mut consumer = queue.consume(1).await.unwrap();
    recv(&mut consumer, "first delivery")
        .await
        .nack(true)
        .await
        .expect("nack");
    let again = recv_prompt(&mut consumer, "redelivery after nack").await;
    assert_eq!(again.id(), &id);
    assert_eq!(index(&again), 1);
    assert_eq!(again.deliveries(), 2);
    assert!(again.redelivered());
    again.ack().await.expect("ack");
    quiet(&mut consumer, QUIET, "acked message").await;
}

/// A delivery dropped without being settled is delivered again.
pub async fn dropped_delivery_redelivers<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    publish(&*queue, task(1), None).await;
    let mut consumer = queue.consume(1).await.unwrap();
    drop(recv(&mut consumer, "first delivery").await);
    let again = recv_prompt(&mut consumer, "redelivery after drop").await;
    assert_eq!(index(&again), 1);
    assert!(again.redelivered());
    again.ack().await.expect("ack");
}

/// Dropping a consumer hands its unsettled deliveries to other consumers; an
/// ack through the old delivery then fails with `Stale`.
pub async fn consumer_drop_redelivers<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    publish(&*queue, task(1), None).await;
    publish(&*queue, task(2), None).await;
    let mut first = queue.consume(2).await.unwrap();
    let a = recv(&mut first, "first delivery").await;
    let b = recv(&mut first, "second delivery").await;
    let mut second = queue.consume(2).await.unwrap();
    quiet(&mut second, QUIET, "messages held by the first consumer").await;
    drop(first);
    let mut got = vec![
        recv_prompt(&mut second, "redelivery after consumer drop").await,
        recv_prompt(&mut second, "redelivery after consumer drop").await,
    ];
    got.sort_by_key(index);
    assert_eq!(got.iter().map(index).collect::<Vec<_>>(), [1, 2]);
    assert!(got.iter().all(Delivery::redelivered));
    assert!(
        matches!(a.ack().await, Err(Error::Stale)),
        "ack after consumer drop is stale"
    );
    assert!(
        matches!(b.nack(true).await, Err(Error::Stale)),
        "nack after consumer drop is stale"
    );
    for d in got {
        d.ack().await.expect("ack of the redelivery");
    }
    quiet(&mut second, QUIET, "acked messages").await;
}

/// An unsettled delivery is redelivered after the ack timeout, not before; the
/// late ack of the first delivery fails with `Stale`.
pub async fn ack_timeout_redelivers<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    publish(&*queue, task(1), None).await;
    let mut slow = queue.consume(1).await.unwrap();
    let mut other = queue.consume(1).await.unwrap();
    let held = recv(&mut slow, "first delivery").await;
    quiet(
        &mut other,
        SETTINGS.ack_timeout / 2,
        "before the ack timeout",
    )
    .await;
    let again = recv(&mut other, "redelivery after the ack timeout").await;
    assert_eq!(again.id(), held.id());
    assert_eq!(again.deliveries(), 2);
    assert!(
        matches!(held.ack().await, Err(Error::Stale)),
        "late ack is stale"
    );
    again.ack().await.expect("ack of the redelivery");
    quiet(&mut other, SETTINGS.ack_timeout * 2, "acked message").await;
    quiet(&mut slow, QUIET, "acked message").await;
}

/// Delayed messages are not delivered before their delay and come out in the
/// order of their due times; `retry_after` delays a redelivery the same way.
pub async fn delayed_delivery<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let ms = Duration::from_millis;
    publish(&*queue, task(3), Some(ms(1500))).await;
    publish(&*queue, task(1), Some(ms(500))).await;
    publish(&*queue, task(2), Some(ms(1000))).await;
    let mut consumer = queue.consume(8).await.unwrap();
    quiet(&mut consumer, ms(250), "before the first delay").await;
    for n in 1..=3 {
        let d = recv(&mut consumer, "delayed message").await;
        assert_eq!(index(&d), n, "delayed messages come in due order");
        if n == 1 {
            d.retry_after(ms(2000)).await.expect("retry_after");
        } else {
            d.ack().await.expect("ack");
        }
    }
    quiet(&mut consumer, ms(250), "before the retry delay").await;
    let retried = recv(&mut consumer, "retry_after redelivery").await;
    assert_eq!(index(&retried), 1);
    assert_eq!(retried.deliveries(), 2);
    retried.ack().await.expect("ack");
}

/// A consumer never holds more than its prefetch; an ack lets the next one in,
/// and other consumers take what it cannot. A zero prefetch is refused.
pub async fn prefetch_bound<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    assert!(matches!(
        queue.consume(0).await.err(),
        Some(Error::Invalid(_))
    ));
    for n in 0..6 {
        publish(&*queue, task(n), None).await;
    }
    let mut limited = queue.consume(2).await.unwrap();
    let a = recv(&mut limited, "first of prefetch").await;
    let b = recv(&mut limited, "second of prefetch").await;
    quiet(&mut limited, QUIET, "beyond the prefetch of 2").await;
    let a_index = index(&a);
    a.ack().await.expect("ack");
    let c = recv(&mut limited, "after an ack").await;
    quiet(&mut limited, QUIET, "beyond the prefetch of 2").await;
    let mut other = queue.consume(10).await.unwrap();
    let mut rest = Vec::new();
    for _ in 0..3 {
        rest.push(recv(&mut other, "the rest, to another consumer").await);
    }
    quiet(&mut other, QUIET, "everything delivered").await;
    let mut seen: Vec<u32> = [&b, &c].into_iter().chain(&rest).map(index).collect();
    seen.push(a_index);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 6, "every message delivered once");
    for d in [b, c].into_iter().chain(rest) {
        d.ack().await.expect("ack");
    }
}

/// A payload over `Task::MAX_PAYLOAD_BYTES` is refused and nothing is enqueued;
/// one at the limit is carried intact.
pub async fn payload_limit<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    let queue = fresh(factory).await;
    let big = Task::new("t", "r", "s", 1).with_payload(vec![7; Task::MAX_PAYLOAD_BYTES + 1]);
    assert!(matches!(
        queue.publish(big, None).await,
        Err(Error::PayloadTooLarge { .. })
    ));
    let full = Task::new("t", "r", "s", 1).with_payload(vec![7; Task::MAX_PAYLOAD_BYTES]);
    publish(&*queue, full.clone(), None).await;
    let mut consumer = queue.consume(4).await.unwrap();
    let d = recv(&mut consumer, "payload at the limit").await;
    assert_eq!(d.task(), &full);
    d.ack().await.expect("ack");
    quiet(&mut consumer, QUIET, "the refused task").await;
}
