//! Fault tests of the distributed mode with real processes (docs/TEST-PLAN.md,
//! "Durability"): a cluster of `weft api` and two `weft worker`s on
//! PostgreSQL, RabbitMQ and Redis (`scripts/services`), workflows whose `http`
//! steps call a stand-in service in this process, and faults made for real:
//! `kill -9`, SIGTERM, and the backing services stopped and started.
//!
//! Every test ends with the same checker (`distributed/check.rs`): every
//! accepted run terminal, in the expected state; no step with two committed
//! results; the stand-in applied each effect once per idempotency key.
//!
//! The services are shared, so the tests run one at a time ([`SERIAL`]) and a
//! stopped service is always started again, even when a test fails.
//!
//! Needs the services' variables (`eval "$(scripts/services env)"`) and the
//! built connectors (`http`, `transform`). `WEFT_TEST_LOG=info` raises the
//! processes' log level (their stderr is printed when a test fails);
//! `WEFT_TEST_KEEP=1` keeps each cluster's database and data directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "distributed/check.rs"]
mod check;
#[path = "distributed/cluster.rs"]
mod cluster;
#[path = "distributed/standin.rs"]
mod standin;

use check::{Expect, check, pretty, step};
use cluster::{Cluster, Outage, Role, SERIAL, redis};
use serde_json::{Value, json};
use standin::StandIn;
use std::time::{Duration, Instant};
use weft_model::{Run, RunRef, StartQuery, StartRun, Status, WorkflowsQuery};
use weft_types::Reason;

/// Retries for every step: enough that a crash or an outage never exhausts
/// them (the poison bound, not this, must end a step that kills its worker).
fn retry() -> Value {
    json!({"max_attempts": 10, "initial_interval_ms": 100, "backoff_coefficient": 2, "max_interval_ms": 1000})
}

/// An `http` step POSTing to the stand-in's `path` (`/ok`, `/slow?ms=N`, `/poison`).
fn call(id: &str, stand_in: &StandIn, path: &str) -> Value {
    json!({"id": id, "kind": "action", "connector": "http", "action": "request",
           "input": {"method": "POST", "url": stand_in.url(path), "json": {"step": id}},
           "retry": retry()})
}

/// A workflow of `steps`, allowed to reach the stand-in.
fn workflow(name: &str, stand_in: &StandIn, steps: Vec<Value>) -> Value {
    json!({"name": name, "grants": {"hosts": [stand_in.host()]}, "steps": steps})
}

/// Whether a run is over.
fn terminal(run: &Run) -> bool {
    matches!(
        run.status,
        Status::Completed | Status::Failed | Status::Cancelled
    )
}

/// Polls one run until it is terminal.
async fn finished(c: &Cluster, id: &str, timeout: Duration) -> Run {
    let deadline = Instant::now() + timeout;
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(run) = c.client().get_run(id).await {
            if terminal(&run) {
                return run;
            }
            last = Some(run);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "run {id} not terminal after {timeout:?}: {}",
        last.as_ref()
            .map_or_else(|| "never read".to_owned(), pretty)
    );
}

/// D1: `kill -9` of a worker while its steps' requests are in flight: the
/// steps are retried by the other worker (after their lease expires) and
/// complete once; the stand-in applies each effect once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d1_kill_9_of_a_worker_mid_step_retries_the_step_elsewhere_once() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let mut c = Cluster::start("d1", &[]).await;
    let wf = c
        .workflow(&workflow(
            "d1",
            &stand_in,
            vec![
                call("slow", &stand_in, "/slow?ms=2000"),
                call("after", &stand_in, "/ok"),
            ],
        ))
        .await;
    let ids = c.start_runs(&wf, 12, 4).await;
    stand_in.wait_in_flight(10, Duration::from_secs(30)).await;
    let victim = c.workers[0].name.clone();
    c.workers[0].kill9();
    eprintln!(
        "  kill -9 {victim} with {} slow requests in flight",
        stand_in.in_flight()
    );
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["slow", "after"]),
        ids.len() * 2,
        Duration::from_secs(60),
    )
    .await;
    assert!(
        report.failed(Reason::LeaseExpired) >= 1,
        "no attempt lost its worker: {victim} had nothing in flight, the test proved nothing ({report})"
    );
    assert!(
        report.repeats >= 1,
        "the retried steps did not call the stand-in again ({report})"
    );
    println!("D1 ok in {:.1} s: {report}", t0.elapsed().as_secs_f64());
}

/// D11: usage metering across a worker's `kill -9` mid-step (docs/TENANCY.md,
/// section 5): once every run has completed, the tenant's counters equal the
/// journal, each finished attempt (the ones lost with the worker included)
/// counted once, in PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d11_usage_equals_the_journal_after_a_worker_is_killed_mid_step() {
    let _serial = SERIAL.lock().await;
    let stand_in = StandIn::start().await;
    let mut c = Cluster::start("d11", &[]).await;
    let wf = c
        .workflow(&workflow(
            "d11",
            &stand_in,
            vec![
                call("slow", &stand_in, "/slow?ms=2000"),
                call("after", &stand_in, "/ok"),
            ],
        ))
        .await;
    let ids = c.start_runs(&wf, 12, 4).await;
    stand_in.wait_in_flight(10, Duration::from_secs(30)).await;
    c.workers[0].kill9();
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["slow", "after"]),
        ids.len() * 2,
        Duration::from_secs(60),
    )
    .await;
    assert!(
        report.failed(Reason::LeaseExpired) >= 1,
        "no attempt lost its worker: the test proved nothing ({report})"
    );
    let runs: Vec<Run> = report.final_runs.values().cloned().collect();
    let want = weft_tests::usage::from_journal(&runs);
    let q = weft_model::usage::UsageQuery {
        group: Some(weft_model::usage::UsageGroup::Workflow),
        ..Default::default()
    };
    let usage = c
        .client()
        .usage(&q)
        .await
        .unwrap_or_else(|e| panic!("GET /v1/usage: {e}"));
    assert_eq!(usage.total, want, "the counters are the journal's");
    assert_eq!(want.runs, 12);
    assert_eq!(
        usize::try_from(want.steps).unwrap(),
        report.attempts,
        "every journaled attempt is finished and counted"
    );
    println!("D11 ok: {report}; usage {want:?}");
}

/// H1: the hosted service's story (`weft_tests::hosted`) on PostgreSQL,
/// RabbitMQ and Redis: the operator creates a tenant and invites its owner,
/// people log in with cookie sessions, the seed matrix holds, and a
/// suspension stops the tenant's webhook and schedule across the API and the
/// workers until resume. The embedded run of the same story is
/// `tests/tests/hosted.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h1_the_hosted_story_on_postgresql_rabbitmq_and_redis() {
    let _serial = SERIAL.lock().await;
    let c = Cluster::start("h1", &[]).await;
    weft_tests::hosted::operator_story(&c.api.base, &c.operator, &c.key).await;
}

/// T1: a test run (`until`, the editor's "test step") on PostgreSQL,
/// RabbitMQ and the workers: only the named step calls the stand-in, the run
/// completes when it ends, the step after it is skipped and never calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t1_a_test_run_stops_after_its_step_on_the_workers() {
    let _serial = SERIAL.lock().await;
    let stand_in = StandIn::start().await;
    let c = Cluster::start("t1", &[]).await;
    let wf = c
        .workflow(&workflow(
            "t1",
            &stand_in,
            vec![
                call("first", &stand_in, "/ok"),
                call("second", &stand_in, "/ok"),
            ],
        ))
        .await;
    let body = StartRun {
        input: json!(1),
        until: Some("first".into()),
    };
    let started = c
        .client()
        .start_run(&wf, &body, &StartQuery::default())
        .await
        .unwrap();
    let run = finished(&c, &started.id, Duration::from_secs(60)).await;
    assert_eq!(run.status, Status::Completed, "{}", pretty(&run));
    assert_eq!(run.until.as_deref(), Some("first"));
    assert_eq!(run.step("second").map(|s| s.status), Some(Status::Skipped));
    let effects = stand_in.effects();
    assert_eq!(
        effects.keys().collect::<Vec<_>>(),
        [&format!("{}:first", run.id)],
        "only the tested step called out"
    );
}

/// C1: a code step on PostgreSQL, RabbitMQ and the workers: a webhook whose
/// script (Boa in the `code` connector, on a worker) shapes its body, the
/// answer the respond step gives from it; the syntax check at save runs on
/// the API process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c1_a_code_step_runs_on_the_workers_and_is_checked_by_the_api() {
    let _serial = SERIAL.lock().await;
    let c = Cluster::start("c1", &[]).await;
    let broken = json!({"name": "c1-broken", "steps": [
        {"id": "s", "kind": "code", "code": "return [\n  items.map(x => x +)\n];"}
    ]});
    let err = c
        .client()
        .create_workflow(weft_client::Definition::Json(&broken))
        .await
        .expect_err("a syntax error is refused at save");
    // The envelope with its details (path and message).
    let text = format!("{err:?}");
    assert!(
        text.contains("/steps/0/code") && text.contains("line 2"),
        "{text}"
    );
    let def = json!({"name": "c1", "steps": [
        {"id": "shape", "kind": "code", "items": "trigger.body",
         "code": "console.log('from', items[0].from);\nreturn items.map(b => ({ greeting: `hello ${b.from}`, n: items.length }));"},
        {"id": "reply", "kind": "respond", "body": "{{ steps.shape.output[0] }}"}
    ]});
    let wf = c.workflow(&def).await;
    let active = c
        .client()
        .activate_workflow(&wf)
        .await
        .unwrap_or_else(|e| panic!("POST /v1/workflows/{wf}/activate: {e}"));
    let token = active
        .hook_url()
        .rsplit_once("/hooks/")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("no webhook token in {active:#?}"));
    let (status, _, resp) = hook(&c, &token).await;
    assert_eq!(status, 200, "{}", resp.text());
    assert_eq!(
        resp.json::<Value>(),
        Some(json!({"greeting": "hello hook", "n": 1}))
    );
}

/// D3: RabbitMQ stopped and started while most of ~1,000 steps are queued and
/// some are in flight; runs started while it is down answer 201 (the outbox
/// absorbs them). Every run completes, every effect applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d3_rabbitmq_restart_with_a_thousand_steps_queued_loses_nothing() {
    const RUNS: usize = 300;
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let c = Cluster::start("d3", &[]).await;
    let wf = c
        .workflow(&workflow(
            "d3",
            &stand_in,
            vec![
                call("a", &stand_in, "/ok"),
                call("b", &stand_in, "/ok"),
                call("c", &stand_in, "/ok"),
            ],
        ))
        .await;
    let mut ids = c.start_runs(&wf, RUNS, 16).await;
    let submitted = t0.elapsed();
    let done = c
        .metric(&c.api.base, "weft_runs{status=\"completed\"}")
        .await;
    let applied = stand_in.effects().len();
    let outage = Outage::begin("amqp").await;
    eprintln!(
        "  broker stopped {:.1} s after the first start: {done} of {RUNS} runs completed, {applied} of {} steps applied",
        submitted.as_secs_f64(),
        RUNS * 3
    );
    // Accepted while the broker is down: 201 from the outbox, never a 500.
    ids.extend(c.start_runs(&wf, 10, 2).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    outage.end().await;
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["a", "b", "c"]),
        ids.len() * 3,
        Duration::from_secs(150),
    )
    .await;
    println!("D3 ok in {:.1} s: {report}", t0.elapsed().as_secs_f64());
}

/// D5: a crash between the database commit and the publish. With the broker
/// down, runs are accepted (their outbox rows commit, no relay can publish);
/// the API is killed; the broker comes back; a new API starts: the outbox rows
/// are published and every run completes. The sweeper's re-publishing is
/// pushed out of the test's window, so only the outbox can do it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d5_outbox_publishes_after_a_crash_between_commit_and_publish() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let mut c = Cluster::start("d5", &[("WEFT_WORKER_STALE_AFTER_MS", "600000")]).await;
    let wf = c
        .workflow(&workflow(
            "d5",
            &stand_in,
            vec![call("a", &stand_in, "/ok"), call("b", &stand_in, "/ok")],
        ))
        .await;
    let warm = c.start_run(&wf, json!("warm")).await;
    let run = finished(&c, &warm, Duration::from_secs(30)).await;
    assert_eq!(run.status, Status::Completed, "{}", pretty(&run));
    let mut relayed_before = 0.0;
    for w in &c.workers {
        relayed_before += c.metric(&w.base, "weft_outbox_relayed_total").await;
    }

    let outage = Outage::begin("amqp").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        ids.push(c.start_run(&wf, json!(i)).await);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "starting a run with the broker down took {:?}",
            t.elapsed()
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let run = c
        .client()
        .get_run(&ids[0])
        .await
        .unwrap_or_else(|e| panic!("GET /v1/runs/{}: {e}", ids[0]));
    assert!(
        matches!(run.status, Status::Pending | Status::Running),
        "a run completed with the broker down? {}",
        pretty(&run)
    );
    let old = c.api.name.clone();
    c.api.kill9();
    eprintln!("  kill -9 {old} with 20 runs accepted and unpublished");
    outage.end().await;
    c.api = c.spawn(Role::Api).await;

    let mut expect = Expect::all(&ids, Status::Completed, &["a", "b"]);
    expect.extend(Expect::all(&[warm], Status::Completed, &["a", "b"]));
    let report = check(&c, &stand_in, &expect, 21 * 2, Duration::from_secs(60)).await;
    let relayed = c.metric_sum("weft_outbox_relayed_total").await - relayed_before;
    assert!(
        relayed >= 40.0,
        "the relays published {relayed} outbox rows since the outage; 40 step tasks were committed"
    );
    println!(
        "D5 ok in {:.1} s: {relayed} outbox rows relayed after the outage; {report}",
        t0.elapsed().as_secs_f64()
    );
}

/// D6: a step that crashes its worker every time (the test kills every worker
/// whenever the stand-in's `/poison` is hit, then starts them again) fails
/// with reason `poison` after a bounded number of tries; runs started
/// meanwhile keep completing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d6_a_poison_step_fails_its_run_after_bounded_tries_while_others_complete() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let mut c = Cluster::start("d6", &[]).await;
    let poison = c
        .workflow(&workflow(
            "d6-poison",
            &stand_in,
            vec![call("p", &stand_in, "/poison")],
        ))
        .await;
    let ok = c
        .workflow(&workflow(
            "d6-ok",
            &stand_in,
            vec![call("s", &stand_in, "/ok")],
        ))
        .await;
    let poisoned = c.start_run(&poison, json!("poison")).await;
    let mut others = Vec::new();
    let mut kills = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut next_start = Instant::now();
    let final_poisoned = loop {
        assert!(
            Instant::now() < deadline,
            "the poison run is not terminal after 120 s ({kills} kills)"
        );
        if let Some(key) = stand_in.poison_hit(Duration::from_millis(100)).await {
            kills += 1;
            eprintln!("  poison hit #{kills} ({key}): kill -9 of every worker, then new ones");
            c.restart_workers_hard().await;
            continue;
        }
        if Instant::now() >= next_start {
            others.extend(c.start_runs(&ok, 2, 2).await);
            next_start += Duration::from_millis(500);
        }
        if let Ok(run) = c.client().get_run(&poisoned).await
            && terminal(&run)
        {
            break run;
        }
    };
    assert!(
        (1..=5).contains(&kills),
        "the poison step ran {kills} times: not bounded by the delivery limit"
    );
    let poison_requests: u32 = stand_in
        .effects()
        .values()
        .filter(|e| e.endpoint == "poison")
        .map(|e| e.hits)
        .sum();
    assert_eq!(
        poison_requests, kills,
        "every request to /poison killed the workers once"
    );
    let p = step(&final_poisoned, "p");
    assert_eq!(p.status, Status::Failed, "{}", pretty(&final_poisoned));
    assert_eq!(
        p.error.as_ref().and_then(|e| e.reason),
        Some(Reason::Poison),
        "{}",
        pretty(&final_poisoned)
    );

    let mut expect = Expect::all(&others, Status::Completed, &["s"]);
    expect.push(Expect {
        id: poisoned.clone(),
        status: Status::Failed,
        http_steps: &["p"],
    });
    let report = check(
        &c,
        &stand_in,
        &expect,
        others.len() + 1,
        Duration::from_secs(60),
    )
    .await;
    let failed_at = final_poisoned.finished_at.unwrap();
    let before = others
        .iter()
        .filter(|id| {
            report.final_runs[*id]
                .finished_at
                .is_some_and(|f| f < failed_at)
        })
        .count();
    assert!(
        before >= 1,
        "no other run completed while the poison step was being retried"
    );
    println!(
        "D6 ok in {:.1} s: poison after {kills} worker crashes; {before} of {} other runs completed before it failed; {report}",
        t0.elapsed().as_secs_f64(),
        others.len()
    );
}

/// D7: a step that outlives the queue's ack timeout (the adapter's, set to
/// 1 s, and the broker's `consumer_timeout` when the services were started
/// with a short one) is executed once: the delivery is acked as soon as the
/// step's lease is claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d7_a_step_longer_than_the_ack_timeout_runs_once() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    // scripts/test starts RabbitMQ with consumer_timeout = 10 s: outlive it too.
    let broker_timeout = std::env::var("WEFT_AMQP_CONSUMER_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|ms| *ms <= 15_000);
    let step_ms = broker_timeout.map_or(3_000, |ms| ms + 2_000);
    let stand_in = StandIn::start().await;
    let c = Cluster::start("d7", &[("WEFT_QUEUE_ACK_TIMEOUT_MS", "1000")]).await;
    let mut slow = call("slow", &stand_in, &format!("/slow?ms={step_ms}"));
    slow["timeout_ms"] = json!(step_ms + 5_000);
    let wf = c
        .workflow(&workflow(
            "d7",
            &stand_in,
            vec![slow, call("after", &stand_in, "/ok")],
        ))
        .await;
    let ids = c.start_runs(&wf, 4, 4).await;
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["slow", "after"]),
        ids.len() * 2,
        Duration::from_secs(step_ms / 1000 + 40),
    )
    .await;
    assert_eq!(
        report.repeats, 0,
        "a step was executed more than once ({report})"
    );
    assert_eq!(
        report.attempts,
        ids.len() * 2,
        "a step needed more than one attempt ({report})"
    );
    let redelivered = c.metric_sum("weft_redeliveries_total").await;
    println!(
        "D7 ok in {:.1} s: {step_ms} ms steps, adapter ack timeout 1 s, broker consumer_timeout {}; {redelivered} redeliveries seen; {report}",
        t0.elapsed().as_secs_f64(),
        broker_timeout.map_or("default (30 min)".into(), |ms| format!("{ms} ms"))
    );
}

/// D8: PostgreSQL stopped and started while runs are in flight: workers and
/// the API retry; every run completes; results stay idempotent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d8_postgresql_restart_mid_run_every_run_completes_once() {
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let c = Cluster::start("d8", &[]).await;
    let wf = c
        .workflow(&workflow(
            "d8",
            &stand_in,
            vec![
                call("a", &stand_in, "/ok"),
                call("b", &stand_in, "/slow?ms=1000"),
                call("c", &stand_in, "/ok"),
            ],
        ))
        .await;
    let ids = c.start_runs(&wf, 30, 8).await;
    stand_in.wait_in_flight(5, Duration::from_secs(30)).await;
    let in_flight = stand_in.in_flight();
    let outage = Outage::begin("pg").await;
    eprintln!("  PostgreSQL stopped with {in_flight} steps in flight");
    tokio::time::sleep(Duration::from_secs(2)).await;
    outage.end().await;
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["a", "b", "c"]),
        ids.len() * 3,
        Duration::from_secs(120),
    )
    .await;
    println!("D8 ok in {:.1} s: {report}", t0.elapsed().as_secs_f64());
}

/// A webhook POST (without a key, as a third party sends it); (status,
/// Retry-After, the answer as it came).
async fn hook(c: &Cluster, token: &str) -> (u16, Option<String>, weft_client::Response) {
    let resp = c
        .anonymous(&c.api.base)
        .hook(token, &json!({"from": "hook"}))
        .await
        .unwrap_or_else(|e| panic!("POST /hooks/{token}: {e}"));
    let retry_after = resp
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (resp.status.as_u16(), retry_after, resp)
}

/// D9: Redis stopped: authenticated API calls succeed (limits fail open),
/// the hard quota on active runs still holds (it is counted in the
/// database), webhooks answer 503 with Retry-After (fail closed). Redis
/// started again: webhooks work. Redis flushed: nothing breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d9_redis_down_or_flushed_fails_open_for_the_api_and_closed_for_webhooks() {
    const QUOTA: usize = 5;
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let c = Cluster::start("d9", &[("WEFT_LIMITS_MAX_ACTIVE_RUNS", "5")]).await;
    let mut hooked = workflow("d9-hook", &stand_in, vec![call("s", &stand_in, "/ok")]);
    hooked["triggers"] = json!({"webhook": {"mode": "async"}});
    let hook_wf = c.workflow(&hooked).await;
    let active = c
        .client()
        .activate_workflow(&hook_wf)
        .await
        .unwrap_or_else(|e| panic!("POST /v1/workflows/{hook_wf}/activate: {e}"));
    let token = active
        .hook_url()
        .rsplit_once("/hooks/")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("no webhook token in {active:#?}"));
    let slow = c
        .workflow(&workflow(
            "d9-slow",
            &stand_in,
            vec![call("s", &stand_in, "/slow?ms=2000")],
        ))
        .await;
    let mut expect = Vec::new();
    // An async webhook's 202: the run it started.
    let run_of = |resp: &weft_client::Response| {
        resp.json::<RunRef>()
            .unwrap_or_else(|| panic!("not a run reference: {}", resp.text()))
            .run_id
    };

    let (s, _, body) = hook(&c, &token).await;
    assert_eq!(s, 202, "webhook with Redis up: {}", body.text());
    let first = run_of(&body);
    finished(&c, &first, Duration::from_secs(30)).await;
    expect.extend(Expect::all(&[first], Status::Completed, &["s"]));

    let outage = Outage::begin("redis").await;
    let t = Instant::now();
    let list = c.client().list_workflows(&WorkflowsQuery::default()).await;
    assert!(
        list.is_ok(),
        "an authenticated call with Redis down (fail open): {list:?}"
    );
    let fail_open = t.elapsed();
    let mut slow_runs = Vec::new();
    for i in 0..QUOTA {
        slow_runs.push(c.start_run(&slow, json!(i)).await);
    }
    let refused = c
        .client()
        .start_run(
            &slow,
            &StartRun {
                input: json!("over"),
                until: None,
            },
            &StartQuery::default(),
        )
        .await;
    let refusal = refused.as_ref().err();
    assert_eq!(
        (
            refusal.and_then(|e| e.status()).map(|s| s.as_u16()),
            refusal.and_then(|e| e.code())
        ),
        (Some(429), Some("quota_exceeded")),
        "run {} of a quota of {QUOTA} with Redis down: {refused:?}",
        QUOTA + 1
    );
    let t = Instant::now();
    let (s, retry_after, body) = hook(&c, &token).await;
    let fail_closed = t.elapsed();
    assert_eq!(
        s,
        503,
        "a webhook with Redis down must fail closed: {}",
        body.text()
    );
    let secs: u64 = retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("503 without a Retry-After in seconds: {retry_after:?}"));
    assert!(secs >= 1, "Retry-After: {secs}");
    for id in &slow_runs {
        let run = finished(&c, id, Duration::from_secs(30)).await;
        assert_eq!(
            run.status,
            Status::Completed,
            "steps run with Redis down: {}",
            pretty(&run)
        );
    }
    expect.extend(Expect::all(&slow_runs, Status::Completed, &["s"]));
    outage.end().await;

    // Redis is back: webhooks work again (once the limiter reconnects).
    let back = Instant::now();
    let mut refused_after = 0;
    let body = loop {
        let (s, _, body) = hook(&c, &token).await;
        if s == 202 {
            break body;
        }
        assert_eq!(s, 503, "{}", body.text());
        refused_after += 1;
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "webhooks still refused 30 s after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let reconnect = back.elapsed();
    expect.extend(Expect::all(&[run_of(&body)], Status::Completed, &["s"]));

    // A flush loses buckets and slots, nothing else.
    let url = &c.launcher.redis_url;
    let db = c.launcher.redis_db;
    let keys = redis(url, db, &["DBSIZE"]).await;
    assert!(
        keys.starts_with(':') && keys != ":0",
        "no limiter keys in Redis database {db} ({keys}): the test would flush nothing"
    );
    assert_eq!(redis(url, db, &["FLUSHDB"]).await, "+OK");
    for _ in 0..3 {
        let (s, _, body) = hook(&c, &token).await;
        assert_eq!(s, 202, "webhook after a flush: {}", body.text());
        expect.extend(Expect::all(&[run_of(&body)], Status::Completed, &["s"]));
    }
    let id = c.start_run(&slow, json!("after the flush")).await;
    expect.extend(Expect::all(&[id], Status::Completed, &["s"]));
    let n = expect.len();
    let report = check(&c, &stand_in, &expect, n, Duration::from_secs(60)).await;
    println!(
        "D9 ok in {:.1} s: API call with Redis down answered in {:?}, webhook refused (503, Retry-After {secs}) in {:?}; webhooks back {:?} after Redis ({refused_after} more 503s); {keys} keys flushed; {report}",
        t0.elapsed().as_secs_f64(),
        fail_open,
        fail_closed,
        reconnect
    );
}

/// D10: SIGTERM to a worker with steps in flight: it stops taking deliveries,
/// finishes its steps within the grace period and exits 0; every run
/// completes (the other worker and a restarted one take what was handed
/// back), no attempt is abandoned, no effect repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d10_sigterm_finishes_steps_in_flight_and_exits_0_within_the_grace() {
    const GRACE_MS: u64 = 5_000;
    let _serial = SERIAL.lock().await;
    let t0 = Instant::now();
    let stand_in = StandIn::start().await;
    let mut c = Cluster::start("d10", &[("WEFT_SHUTDOWN_GRACE_MS", "5000")]).await;
    let wf = c
        .workflow(&workflow(
            "d10",
            &stand_in,
            vec![
                call("slow", &stand_in, "/slow?ms=1500"),
                call("after", &stand_in, "/ok"),
            ],
        ))
        .await;
    let ids = c.start_runs(&wf, 16, 8).await;
    stand_in.wait_in_flight(8, Duration::from_secs(30)).await;
    let in_flight = stand_in.in_flight();
    let t = Instant::now();
    c.workers[0].sigterm();
    let status = c.workers[0]
        .wait_exit(Duration::from_millis(GRACE_MS + 10_000))
        .await;
    let took = t.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!("the worker did not exit within {GRACE_MS} ms of grace + 10 s after SIGTERM")
    });
    assert!(status.success(), "SIGTERM: the worker exited with {status}");
    assert!(
        took <= Duration::from_millis(GRACE_MS + 2_000),
        "SIGTERM: the worker took {took:?} to exit (grace {GRACE_MS} ms)"
    );
    c.workers[0] = c.spawn(Role::Worker).await;
    let report = check(
        &c,
        &stand_in,
        &Expect::all(&ids, Status::Completed, &["slow", "after"]),
        ids.len() * 2,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        report.failed(Reason::LeaseExpired),
        0,
        "a step in flight was abandoned instead of finished ({report})"
    );
    assert_eq!(
        report.repeats, 0,
        "an effect was requested twice ({report})"
    );
    println!(
        "D10 ok in {:.1} s: SIGTERM with {in_flight} requests in flight, exit 0 after {took:?}; {report}",
        t0.elapsed().as_secs_f64()
    );
}

/// R5 in the distributed mode: a connector published to the registry on
/// PostgreSQL, installed with consent and run by the workers (fetched from
/// the database's blob table by digest, verified); an operator's takedown
/// through the API process reaches every worker by their periodic re-read
/// (`worker.takedown_refresh_ms`, 10 s) and the next step of a run already
/// going fails `taken_down`, within a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_a_takedown_stops_the_next_step_on_every_worker_within_a_minute() {
    use sha2::Digest as _;
    use weft_model::registry::{NewInstall, NewVersion, PackageKind};
    let _serial = SERIAL.lock().await;
    let c = Cluster::start("r5", &[]).await;
    let api = c.client();
    let bytes = std::fs::read(cluster::wasm("fixture_greeter.wasm")).unwrap();
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    api.create_publisher("acme").await.unwrap();
    let (signing, public) = weft_registry::sign::generate().unwrap();
    api.add_publisher_key("acme", &public).await.unwrap();
    api.put_blob(
        &format!("sha256:{digest}"),
        bytes,
        "application/wasm",
        |_, _| {},
    )
    .await
    .unwrap();
    let version = api
        .publish_version(
            "acme",
            "greeter",
            &NewVersion {
                kind: PackageKind::Connector,
                version: "0.1.0".into(),
                digest: format!("sha256:{digest}"),
                readme: String::new(),
                keywords: Vec::new(),
                license: "MIT".into(),
                source: None,
                key_id: signing.key_id(),
                signature: signing.sign(&weft_registry::sign::statement(
                    "acme", "greeter", "0.1.0", &digest,
                )),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("publish on PostgreSQL: {e}"));
    api.create_install(&NewInstall {
        package: "acme/greeter".into(),
        version: None,
        pin: None,
        consent: version.disclosure_digest.clone(),
    })
    .await
    .unwrap();
    let wf = c
        .workflow(&json!({"name": "greet-twice", "steps": [
            {"id": "hi", "kind": "action", "connector": "greeter", "action": "greet", "input": {"name": "ada"}},
            {"id": "pause", "kind": "wait", "duration_ms": 15000},
            {"id": "again", "kind": "action", "connector": "greeter", "action": "greet", "input": {"name": "bob"}}
        ]}))
        .await;
    let id = c.start_run(&wf, json!(null)).await;
    // The first step ran on a worker, from the blob fetched by digest.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = c.client().get_run(&id).await.unwrap();
        if run
            .step("hi")
            .is_some_and(|s| s.status == Status::Completed)
        {
            let hi = step(&run, "hi");
            assert_eq!(hi.output, Some(json!({"hello": "ada", "version": "0.1.0"})));
            assert_eq!(
                hi.attempts[0].digest.as_deref(),
                Some(version.digest.as_str())
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first step never ran: {}",
            pretty(&run)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let taken = Instant::now();
    c.operator_client()
        .take_down_version("acme", "greeter", "0.1.0", "found to leak greetings")
        .await
        .unwrap();
    let run = finished(&c, &id, Duration::from_secs(60)).await;
    let stopped = taken.elapsed();
    if run.status != Status::Failed {
        c.dump_logs();
    }
    assert_eq!(run.status, Status::Failed, "{}", pretty(&run));
    let again = step(&run, "again");
    let failure = again.error.as_ref().unwrap();
    assert_eq!(failure.reason, Some(Reason::TakenDown), "{}", pretty(&run));
    assert!(
        failure.message.contains("found to leak greetings"),
        "{}",
        pretty(&run)
    );
    assert!(
        again.attempts.iter().all(|a| a.digest.is_none()),
        "nothing of it ran"
    );
    assert!(
        stopped < Duration::from_secs(60),
        "stopped after {stopped:?}"
    );
    eprintln!("takedown to the failed step: {stopped:?} (the wait step held it 15 s)");
}

/// N1: notifications with two workers on PostgreSQL and RabbitMQ
/// (`docs/TENANCY.md`, section 6): every failed run's event reaches the
/// receiver, the first try of each answered 500 and retried; no event is
/// sent twice at once by the two workers (each `webhook-id` arrives exactly
/// twice: the failed try and the accepted one), and every delivery ends
/// `delivered` with both tries recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n1_two_workers_deliver_each_notification_once_per_try() {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};
    use weft_model::notifications::{
        DeliveriesQuery, DeliveryState, NewNotificationRule, NotifyEvent, NotifyTarget,
    };
    let _serial = SERIAL.lock().await;
    let seen: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let tries = seen.clone();
    let (receiver, inbox) = weft_tests::StandIn::scripted(move |r| {
        use axum::response::IntoResponse;
        let id = r.header("webhook-id").unwrap_or_default().to_owned();
        let mut tries = tries.lock().unwrap();
        let n = tries.entry(id).or_default();
        *n += 1;
        if *n == 1 {
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        } else {
            axum::http::StatusCode::NO_CONTENT.into_response()
        }
    })
    .await;
    let (failing, _) = weft_tests::StandIn::scripted(|_| {
        use axum::response::IntoResponse;
        axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
    .await;
    let c = Cluster::start(
        "n1",
        &[
            ("WEFT_WORKER_NOTIFICATIONS_INTERVAL_MS", "50"),
            ("WEFT_WORKER_NOTIFICATIONS_RETRY_BASE_MS", "200"),
        ],
    )
    .await;
    let wf = c
        .workflow(&json!({"name": "n1",
            "grants": {"hosts": [format!("127.0.0.1:{}", failing.port())]},
            "steps": [{"id": "call", "kind": "action", "connector": "http", "action": "request",
                       "input": {"method": "POST", "url": failing.url("/x"), "json": {},
                                 "fail_on_status": true},
                       "retry": {"max_attempts": 1}}]}))
        .await;
    let rule = c
        .client()
        .create_notification_rule(&NewNotificationRule {
            workflow_id: Some(wf.clone()),
            on: NotifyEvent::RunFailed,
            target: NotifyTarget::Webhook {
                url: receiver.url("/n1"),
            },
            enabled: None,
        })
        .await
        .unwrap();
    let ids = c.start_runs(&wf, 20, 4).await;
    for id in &ids {
        assert_eq!(
            finished(&c, id, Duration::from_secs(60)).await.status,
            Status::Failed
        );
    }
    let q = DeliveriesQuery {
        rule_id: Some(rule.id.clone()),
        limit: Some(100),
        ..Default::default()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let all = loop {
        let page = c.client().list_notification_deliveries(&q).await.unwrap();
        if page.items.len() == ids.len()
            && page
                .items
                .iter()
                .all(|d| d.status == DeliveryState::Delivered)
        {
            break page.items;
        }
        assert!(
            Instant::now() < deadline,
            "not all delivered: {:#?}",
            page.items
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(all.iter().all(|d| d.attempts == 2), "{all:#?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), ids.len(), "one event per failed run");
    assert!(
        seen.values().all(|n| *n == 2),
        "each sent once per try: {seen:?}"
    );
    assert_eq!(inbox.len(), 2 * ids.len());
    let mut runs: Vec<String> = all.iter().map(|d| d.run_id.clone()).collect();
    runs.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(runs, want);
    println!("N1 ok: {} deliveries, 2 tries each", all.len());
}
