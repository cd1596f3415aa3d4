//! Many producers and consumers at once.

use super::*;

/// Four producers and four consumers: every message is delivered at least once
/// and acked successfully exactly once, whatever the order. Some first
/// deliveries are nacked to mix redeliveries in.
pub async fn many_producers_and_consumers<F, Fut>(factory: F)
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    const PRODUCERS: u32 = 4;
    const PER_PRODUCER: u32 = 1000;
    const TOTAL: u32 = PRODUCERS * PER_PRODUCER;
    let queue = fresh(factory).await;
    let acked: Arc<Mutex<HashMap<u32, u32>>> = Arc::default();
    let done = Arc::new(Notify::new());

    let mut consumers = Vec::new();
    for _ in 0..4 {
        let mut consumer = queue.consume(16).await.unwrap();
        let (acked, done) = (acked.clone(), done.clone());
        consumers.push(tokio::spawn(async move {
            while let Some(d) = consumer.next().await {
                let d = d.expect("delivery");
                let n = index(&d);
                if n.is_multiple_of(7) && d.deliveries() == 1 {
                    d.nack(true).await.expect("nack");
                    continue;
                }
                if d.ack().await.is_ok() {
                    let mut acked = acked.lock().unwrap();
                    *acked.entry(n).or_default() += 1;
                    if acked.len() == TOTAL as usize {
                        done.notify_one();
                    }
                }
            }
        }));
    }
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let queue = queue.clone();
        producers.push(tokio::spawn(async move {
            for i in 0..PER_PRODUCER {
                queue
                    .publish(task(p * PER_PRODUCER + i), None)
                    .await
                    .expect("publish");
                if i.is_multiple_of(64) {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for p in producers {
        p.await.expect("producer");
    }
    timeout(Duration::from_secs(60), done.notified())
        .await
        .expect("every message acked within 60 s");
    // Let any stray duplicate surface before counting.
    tokio::time::sleep(QUIET).await;
    for c in &consumers {
        c.abort();
    }
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
    let acked = acked.lock().unwrap();
    assert_eq!(acked.len(), TOTAL as usize, "every message acked");
    let twice: Vec<_> = acked.iter().filter(|&(_, &count)| count != 1).collect();
    assert!(twice.is_empty(), "messages acked more than once: {twice:?}");
}
