//! What only a broker shows: messages outlive the connection that published
//! them, and the topology is shared by every process with the same prefix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;
use weft_queue::{Queue, Task};
use weft_queue_amqp::{Amqp, Options, QueueType};

#[tokio::test]
async fn published_messages_outlive_the_publishers_connection() {
    let prefix = common::prefix();
    let options = Options {
        prefix: prefix.clone(),
        queue_type: QueueType::Quorum,
        ..Options::new(common::url())
    };
    let first = Amqp::connect(options.clone()).await.unwrap();
    let task = Task::new("tenant-a", "run-1", "step", 1).with_payload(b"x".to_vec());
    let id = first.publish(task.clone(), None).await.unwrap();
    assert_eq!(first.depth().await.unwrap().ready, 1);
    drop(first);

    let second = Amqp::connect(options).await.unwrap();
    let mut consumer = second.consume(1).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("delivered")
        .unwrap()
        .unwrap();
    assert_eq!(d.id(), &id);
    assert_eq!(d.task(), &task);
    assert_eq!(d.deliveries(), 1);
    d.ack().await.unwrap();
}

#[tokio::test]
async fn a_queue_of_another_type_is_refused_with_its_name() {
    let prefix = common::prefix();
    let classic = Options {
        prefix: prefix.clone(),
        queue_type: QueueType::Classic,
        ..Options::new(common::url())
    };
    Amqp::connect(classic.clone()).await.unwrap();
    let quorum = Options {
        queue_type: QueueType::Quorum,
        ..classic
    };
    let err = Amqp::connect(quorum).await.unwrap_err().to_string();
    assert!(err.contains(&format!("{prefix}.tasks")), "{err}");
}
