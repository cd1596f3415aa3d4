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
