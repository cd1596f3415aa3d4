//! Queue triggers (`triggers.queue`) against the real RabbitMQ of
//! `scripts/services`, with the TENANT'S OWN vhost and login (made here with
//! `rabbitmqctl`), a quorum queue whose dead-letter exchange and queue are
//! the tenant's: one run per message (JSON body and properties), a
//! duplicate `message_id` starting no second run, a message that cannot
//! become a run (the tenant's `max_active_runs` reached) returned and then
//! dead-lettered after its budget, one over the size limit dead-lettered at
//! once; a wrong password and a denied private address shown on the
//! workflow, the server carrying on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use lapin::options::{
    BasicGetOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{Value, json};
use std::time::Duration;
use weft_tests::TestApp;

fn services() -> (String, u16) {
    let dir = std::env::var("WEFT_TEST_SERVICES_DIR").expect(
        "WEFT_TEST_SERVICES_DIR is not set: start the services with \
         eval \"$(scripts/services start)\" (scripts/test does this)",
    );
    let url = std::env::var("WEFT_TEST_AMQP_URL").expect("WEFT_TEST_AMQP_URL");
    let port = url::Url::parse(&url).unwrap().port().unwrap();
    (dir, port)
}

/// `rabbitmqctl` on the services' broker (its node and cookie).
fn ctl(args: &[&str]) {
    let (dir, port) = services();
    let cookie = std::fs::read_to_string(format!("{dir}/rabbit/.erlang.cookie")).unwrap();
    let out = std::process::Command::new("rabbitmqctl")
        .args(["-q", "-n", &format!("weft-{port}@localhost")])
        .args(["--erlang-cookie", cookie.trim()])
        .args(args)
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tenant's own broker account: a vhost, a user with a password, a
/// quorum queue `orders` dead-lettering to the tenant's exchange `dlx`,
/// bound to its queue `dlq`.
struct Tenant {
    vhost: String,
    user: String,
    password: String,
    port: u16,
}

impl Tenant {
    async fn new(tag: &str) -> (Self, Channel, Connection) {
        let (_, port) = services();
        let n = std::process::id();
        let t = Self {
            vhost: format!("tenant-{tag}-{n}"),
            user: format!("app-{tag}-{n}"),
            password: format!("pw-{tag}-{n}-s3cret"),
            port,
        };
        ctl(&["add_vhost", &t.vhost]);
        ctl(&["add_user", &t.user, &t.password]);
        ctl(&["set_permissions", "-p", &t.vhost, &t.user, ".*", ".*", ".*"]);
        let conn = lapin::DefaultConnectionBuilder::new()
            .unwrap()
            .with_uri_str(format!(
                "amqp://{}:{}@127.0.0.1:{port}/{}",
                t.user, t.password, t.vhost
            ))
            .with_properties(ConnectionProperties::default())
            .connect()
            .await
            .unwrap();
        let ch = conn.create_channel().await.unwrap();
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        ch.exchange_declare(
            "dlx".into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
        ch.queue_declare("dlq".into(), durable, FieldTable::default())
            .await
            .unwrap();
        ch.queue_bind(
            "dlq".into(),
            "dlx".into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("dlx".into()),
        );
        ch.queue_declare("orders".into(), durable, args)
            .await
            .unwrap();
        (t, ch, conn)
    }

    fn url(&self) -> String {
        format!(
            "amqp://{}@127.0.0.1:{}/{}",
            self.user, self.port, self.vhost
        )
    }
}

impl Drop for Tenant {
    fn drop(&mut self) {
        ctl(&["delete_vhost", &self.vhost]);
        ctl(&["delete_user", &self.user]);
    }
}

async fn publish(ch: &Channel, body: &[u8], props: BasicProperties) {
    ch.basic_publish(
        "".into(),
        "orders".into(),
        BasicPublishOptions::default(),
        body,
        props,
    )
    .await
    .unwrap()
    .await
    .unwrap();
}

async fn credential(app: &TestApp, name: &str, url: &str, secret: &str) {
    app.post(
        "/v1/credentials",
        json!({"name": name, "secret": secret, "hosts": ["127.0.0.1"],
               "injection": {"type": "amqp", "url": url}}),
    )
    .await
    .expect(201);
}

fn workflow(max_attempts: u32, steps: Value) -> Value {
    json!({
        "name": "orders",
        "triggers": {"queue": {"credential": "mq", "queue": "orders", "max_attempts": max_attempts}},
        "steps": steps
    })
}

async fn queue_runs(app: &TestApp, wf: &str) -> Vec<Value> {
    let page = app
        .get(&format!(
            "/v1/runs?workflow_id={wf}&trigger=queue&limit=100"
        ))
        .await
        .expect(200);
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Waits (at most 60 s) until `pred` holds of the workflow's queue runs.
async fn until_runs(app: &TestApp, wf: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let runs = queue_runs(app, wf).await;
        if pred(&runs) {
            return runs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "queue runs never matched: {runs:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (at most 60 s) until `pred` holds of the workflow's `queue` status.
async fn until_status(app: &TestApp, wf: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let w = app.get(&format!("/v1/workflows/{wf}")).await.expect(200);
        if pred(&w["queue"]) {
            return w["queue"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the queue status never matched: {:#}",
            w["queue"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits (at most 60 s) for `n` messages on the tenant's dead-letter queue;
/// returns their bodies.
async fn dead_letters(ch: &Channel, n: usize) -> Vec<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut got = Vec::new();
    while got.len() < n {
        match ch
            .basic_get("dlq".into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            Some(m) => got.push(m.delivery.data.clone()),
            None => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{} of {n} dead letters",
                    got.len()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    got
}

#[tokio::test]
async fn messages_start_one_run_each_deduped_and_poison_is_dead_lettered() {
    let (tenant, ch, _conn) = Tenant::new("a").await;
    let app = TestApp::builder().start().await;
    credential(&app, "mq", &tenant.url(), &tenant.password).await;
    let wf = app
        .workflow(workflow(
            3,
            json!([{"id": "echo", "kind": "action", "connector": "transform", "action": "jq",
                    "input": {"filter": ".", "data": "{{ trigger.body }}"}}]),
        ))
        .await;
    let status = until_status(&app, &wf.id, |q| q["consuming"] == true).await;
    assert_eq!(status["armed"], true);
    assert_eq!(status["consecutive_failures"], 0);

    // Two messages: two runs, the JSON body and the properties as the trigger.
    let props = |id: &str| {
        BasicProperties::default()
            .with_message_id(id.into())
            .with_content_type("application/json".into())
    };
    publish(&ch, br#"{"order": 1}"#, props("m-1")).await;
    publish(&ch, b"plain text", BasicProperties::default()).await;
    let runs = until_runs(&app, &wf.id, |r| r.len() >= 2).await;
    let mut inputs = Vec::new();
    for r in &runs {
        let run = app
            .get(&format!("/v1/runs/{}", r["id"].as_str().unwrap()))
            .await
            .expect(200);
        inputs.push(run["input"].clone());
    }
    inputs.sort_by_key(|i| i["body"].is_string());
    assert_eq!(inputs[0]["body"], json!({"order": 1}));
    assert_eq!(inputs[0]["properties"]["message_id"], "m-1");
    assert_eq!(inputs[0]["properties"]["routing_key"], "orders");
    assert_eq!(inputs[0]["properties"]["redelivered"], false);
    assert_eq!(inputs[1]["body"], "plain text");

    // The same message id again (a redelivery after a crash between the
    // run's commit and the ack looks like this): no second run; it is acked.
    publish(&ch, br#"{"order": 1}"#, props("m-1")).await;
    publish(&ch, br#"{"order": 3}"#, props("m-3")).await;
    until_runs(&app, &wf.id, |r| r.len() >= 3).await;
    let q = ch
        .queue_declare(
            "orders".into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert_eq!(q.message_count(), 0, "every message acked");
    assert_eq!(
        queue_runs(&app, &wf.id).await.len(),
        3,
        "the duplicate message id started no run"
    );

    // Over the size limit: dead-lettered at once, shown on the workflow.
    let big = vec![b'x'; weft_worker::queue_trigger::MAX_MESSAGE_BYTES + 1];
    publish(&ch, &big, props("m-big")).await;
    let dead = dead_letters(&ch, 1).await;
    assert_eq!(dead[0].len(), big.len());
    let status = until_status(&app, &wf.id, |q| {
        q["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("over the limit"))
    })
    .await;
    assert_eq!(
        status["consuming"], true,
        "the consumer carries on: {status}"
    );
    assert_eq!(queue_runs(&app, &wf.id).await.len(), 3);

    // A message reusing an id with another body is no redelivery: refused
    // to the dead-letter exchange, no run.
    publish(&ch, br#"{"order": 99}"#, props("m-1")).await;
    let dead = dead_letters(&ch, 1).await;
    assert_eq!(dead[0], br#"{"order": 99}"#);
    until_status(&app, &wf.id, |q| {
        q["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("message id `m-1` was already used"))
    })
    .await;
    assert_eq!(queue_runs(&app, &wf.id).await.len(), 3);
}

#[tokio::test]
async fn a_message_that_cannot_start_a_run_is_retried_then_dead_lettered() {
    let (tenant, ch, _conn) = Tenant::new("b").await;
    // One unfinished run at most: the first message's run waits, so the
    // second cannot become a run (the quota refuses it) until its budget
    // is spent.
    let app = TestApp::builder()
        .worker(|o| o.max_active_runs = 1)
        .start()
        .await;
    credential(&app, "mq", &tenant.url(), &tenant.password).await;
    let wf = app
        .workflow(workflow(
            2,
            json!([{"id": "hold", "kind": "wait", "duration_ms": 600000}]),
        ))
        .await;
    until_status(&app, &wf.id, |q| q["consuming"] == true).await;
    publish(&ch, b"first", BasicProperties::default()).await;
    until_runs(&app, &wf.id, |r| r.len() == 1).await;
    publish(
        &ch,
        b"second",
        BasicProperties::default().with_message_id("m-2".into()),
    )
    .await;
    let dead = dead_letters(&ch, 1).await;
    assert_eq!(
        dead,
        vec![b"second".to_vec()],
        "dead-lettered after 2 deliveries"
    );
    let status = until_status(&app, &wf.id, |q| {
        q["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("delivery 2 of 2"))
    })
    .await;
    let e = status["last_error"].as_str().unwrap();
    assert!(
        e.contains("max_active_runs") && e.contains("dead-letter"),
        "{e}"
    );
    assert_eq!(queue_runs(&app, &wf.id).await.len(), 1, "no run for it");
}

#[tokio::test]
async fn a_wrong_password_and_a_private_broker_are_shown_not_fatal() {
    let (tenant, _ch, _conn) = Tenant::new("c").await;
    let app = TestApp::builder().start().await;
    credential(&app, "mq", &tenant.url(), "not-the-password").await;
    let refused = app
        .workflow(workflow(
            3,
            json!([{"id": "r", "kind": "respond", "body": "ok"}]),
        ))
        .await;
    let status = until_status(&app, &refused.id, |q| {
        q["consecutive_failures"].as_u64().is_some_and(|n| n >= 1)
    })
    .await;
    let e = status["last_error"].as_str().unwrap();
    assert_eq!(status["consuming"], false);
    assert!(
        e.contains("cannot connect") && e.contains(&tenant.user),
        "{e}"
    );
    assert!(
        !e.contains("not-the-password"),
        "the password is never shown: {e}"
    );
    // The server carries on.
    app.get("/v1/workflows").await.expect(200);

    // Private addresses not allowed (a production deployment): a plain
    // `amqp://` login is refused when it is stored (it would cross the
    // network in clear), as is a password in the URL ...
    let strict = TestApp::builder()
        .config(|c| c.sandbox.egress.allow_private = false)
        .start()
        .await;
    for (url, why) in [
        (
            tenant.url(),
            "`amqp://` sends the login in clear: use `amqps://`",
        ),
        (
            "amqps://u:pw@127.0.0.1/%2f".to_owned(),
            "the URL carries a password",
        ),
    ] {
        let r = strict
            .call(
                "POST",
                "/v1/credentials",
                Some(
                    json!({"name": "plain", "secret": "x", "hosts": ["127.0.0.1"],
                            "injection": {"type": "amqp", "url": url}}),
                ),
            )
            .await;
        let body = r.body.to_string();
        assert_eq!(r.status, 400, "{body}");
        assert!(
            body.contains("/injection/url") && body.contains(why),
            "{body}"
        );
    }
    // ... and the loopback broker is refused before any connection.
    let tls_port = std::env::var("WEFT_TEST_AMQP_TLS_URL")
        .ok()
        .and_then(|u| url::Url::parse(&u).ok()?.port())
        .expect("WEFT_TEST_AMQP_TLS_URL");
    credential(
        &strict,
        "mq",
        &format!(
            "amqps://{}@127.0.0.1:{tls_port}/{}",
            tenant.user, tenant.vhost
        ),
        &tenant.password,
    )
    .await;
    let wf = strict
        .workflow(workflow(
            3,
            json!([{"id": "r", "kind": "respond", "body": "ok"}]),
        ))
        .await;
    let status = until_status(&strict, &wf.id, |q| q["last_error"].is_string()).await;
    let e = status["last_error"].as_str().unwrap();
    assert!(e.contains("egress policy") && e.contains("loopback"), "{e}");

    // Paused: the consumer stops and says so.
    app.post(
        &format!("/v1/workflows/{}/deactivate", refused.id),
        json!(null),
    )
    .await
    .expect(200);
    let status = until_status(&app, &refused.id, |q| q["armed"] == false).await;
    assert_eq!(status["consuming"], false);
}

#[tokio::test]
async fn amqps_is_tls_with_the_certificate_checked() {
    // The services' TLS listener has a certificate from a throwaway CA the
    // system does not trust: the consumer refuses it (and says TLS).
    let tls_url = std::env::var("WEFT_TEST_AMQP_TLS_URL").expect("WEFT_TEST_AMQP_TLS_URL");
    let port = url::Url::parse(&tls_url).unwrap().port().unwrap();
    let app = TestApp::builder().start().await;
    credential(
        &app,
        "mq",
        &format!("amqps://weft@127.0.0.1:{port}/%2f"),
        "weft",
    )
    .await;
    let wf = app
        .workflow(workflow(
            3,
            json!([{"id": "r", "kind": "respond", "body": "ok"}]),
        ))
        .await;
    let status = until_status(&app, &wf.id, |q| q["last_error"].is_string()).await;
    let e = status["last_error"].as_str().unwrap();
    assert!(
        e.contains("over TLS") && e.contains(&format!(":{port}")),
        "{e}"
    );
    assert!(!e.contains(":weft@"), "no password in the error: {e}");
}
