//! The queue conformance suite against RabbitMQ (`WEFT_TEST_AMQP_URL`, started
//! by `scripts/test`), with queues of their own per test, in real time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use weft_queue::{Queue, conformance::Settings};
use weft_queue_amqp::QueueType;

async fn quorum(settings: Settings) -> Arc<dyn Queue> {
    Arc::new(common::queue(settings, QueueType::Quorum).await)
}

weft_queue::conformance_tests!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    quorum
);

mod classic {
    use super::*;

    async fn classic(settings: Settings) -> Arc<dyn Queue> {
        Arc::new(common::queue(settings, QueueType::Classic).await)
    }

    weft_queue::conformance_tests!(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        classic
    );
}
