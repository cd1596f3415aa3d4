//! TLS to a real RabbitMQ (`scripts/services` starts a TLS-only listener that
//! requires a client certificate): publish and consume over it, and the
//! refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft_tls::testing::{env, files};

mod common;

use std::time::Duration;
use weft_queue::{Queue, Task};
use weft_queue_amqp::{Amqp, Options, QueueType};

fn options(url: String, ca: &str, client: bool) -> Options {
    Options {
        prefix: common::prefix(),
        queue_type: QueueType::Quorum,
        tls: files(ca, client),
        ..Options::new(url)
    }
}

async fn refused(options: Options) -> String {
    tokio::time::timeout(Duration::from_secs(20), Amqp::connect(options))
        .await
        .expect("a refusal, not a hang")
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn over_tls_with_a_client_certificate_it_publishes_and_consumes() {
    let q = Amqp::connect(options(
        env("WEFT_TEST_AMQP_TLS_URL"),
        "WEFT_TEST_TLS_CA_FILE",
        true,
    ))
    .await
    .unwrap();
    let task = Task::new("tenant-a", "run-1", "step", 1).with_payload(b"over tls".to_vec());
    let id = q.publish(task.clone(), None).await.unwrap();
    let mut consumer = q.consume(1).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(10), consumer.next())
        .await
        .expect("delivered")
        .unwrap()
        .unwrap();
    assert_eq!((d.id(), d.task()), (&id, &task));
    d.ack().await.unwrap();
    q.ping().await.unwrap();
}

#[tokio::test]
async fn the_broker_refuses_a_client_without_a_certificate() {
    let e = refused(options(
        env("WEFT_TEST_AMQP_TLS_URL"),
        "WEFT_TEST_TLS_CA_FILE",
        false,
    ))
    .await;
    // In TLS 1.3 the broker judges the client's certificate after the
    // client's side of the handshake is done: the client sees its alert, or
    // the reset that follows it. The same options with the certificate pass
    // (the test above).
    assert!(
        e.starts_with("queue unavailable: rabbitmq")
            && (e.contains("CertificateRequired") || e.contains("Connection reset")),
        "{e}"
    );
}

#[tokio::test]
async fn a_broker_certificate_from_another_ca_is_refused_naming_the_ca_file() {
    let e = refused(options(
        env("WEFT_TEST_AMQP_TLS_URL"),
        "WEFT_TEST_TLS_OTHER_CA_FILE",
        true,
    ))
    .await;
    assert!(
        e.contains("UnknownIssuer")
            && e.contains("queue.tls.ca_file")
            && e.contains(&env("WEFT_TEST_TLS_OTHER_CA_FILE")),
        "{e}"
    );
}

#[tokio::test]
async fn plain_amqp_to_the_tls_port_fails_and_tls_files_need_amqps() {
    let plain = env("WEFT_TEST_AMQP_TLS_URL").replacen("amqps://", "amqp://", 1);
    let e = refused(Options {
        prefix: common::prefix(),
        ..Options::new(plain.clone())
    })
    .await;
    assert!(e.starts_with("queue unavailable: rabbitmq"), "{e}");
    let e = refused(options(plain, "WEFT_TEST_TLS_CA_FILE", true)).await;
    assert!(e.contains("queue.tls") && e.contains("amqps://"), "{e}");
}
