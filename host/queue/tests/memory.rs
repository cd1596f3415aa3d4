//! The queue conformance suite against the in-process adapter, in paused tokio
//! time: delays and ack timeouts cost no wall-clock time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_queue::{Queue, conformance::Settings, memory};

async fn queue(settings: Settings) -> Arc<dyn Queue> {
    let options = memory::Options {
        ack_timeout: settings.ack_timeout,
        max_deliveries: settings.max_deliveries,
        ..memory::Options::default()
    };
    Arc::new(memory::Handle::start(options).expect("valid options"))
}

weft_queue::conformance_tests!(
    #[tokio::test(start_paused = true)]
    queue
);

#[tokio::test]
async fn options_are_validated() {
    let zero = memory::Options {
        max_deliveries: 0,
        ..memory::Options::default()
    };
    assert!(matches!(
        memory::Service::new(zero),
        Err(weft_queue::Error::Invalid(_))
    ));
    let json = r#"{"ack_timeout_ms": 1500, "max_deliveries": 2}"#;
    let options: memory::Options = serde_json::from_str(json).unwrap();
    assert_eq!(options.ack_timeout, std::time::Duration::from_millis(1500));
    assert!(serde_json::from_str::<memory::Options>(r#"{"nope": 1}"#).is_err());
}

/// H2: a delay no clock can add (a retry-after or a wait taken from a
/// hostile value) is not a panic that poisons the queue; it is the far
/// future, and the queue goes on serving.
#[tokio::test(start_paused = true)]
async fn an_absurd_delay_neither_panics_nor_blocks_the_queue() {
    let q = queue(weft_queue::conformance::SETTINGS).await;
    let never = weft_queue::Task::new("t", "r", "later", 1);
    q.publish(never, Some(std::time::Duration::MAX))
        .await
        .unwrap();
    let now = weft_queue::Task::new("t", "r", "now", 1);
    q.publish(now, None).await.unwrap();
    let mut consumer = q.consume(4).await.unwrap();
    let d = tokio::time::timeout(std::time::Duration::from_secs(5), consumer.next())
        .await
        .expect("the ready task is delivered")
        .unwrap()
        .unwrap();
    assert_eq!(d.task().step_key, "now");
    d.ack().await.unwrap();
    tokio::time::advance(std::time::Duration::from_secs(30 * 24 * 3_600)).await;
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(10), consumer.next())
            .await
            .is_err(),
        "the absurdly delayed task is not due"
    );
}
