//! A queue on fresh queue names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use weft_queue::conformance::Settings;
use weft_queue_amqp::{Amqp, Options, QueueType};

pub fn url() -> String {
    std::env::var("WEFT_TEST_AMQP_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_AMQP_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    })
}

pub fn prefix() -> String {
    format!("t{:012x}", rand::random::<u64>() >> 16)
}

pub async fn queue(settings: Settings, queue_type: QueueType) -> Amqp {
    Amqp::connect(Options {
        prefix: prefix(),
        queue_type,
        ack_timeout: settings.ack_timeout,
        max_deliveries: settings.max_deliveries,
        ..Options::new(url())
    })
    .await
    .unwrap()
}
