//! D10 and H2 with a real `weft serve` process: SIGTERM while a plugin spins
//! (a step that would run for minutes) and a client holds a half-sent
//! request. The process exits 0 within its shutdown grace period: the
//! spinning attempt is stopped (`cancelled`) and handed back, and after a
//! restart the step runs again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Serve;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};
use weft_client::{Client, Definition};
use weft_model::{Attempt, Run, StartQuery, StartRun, Status};
use weft_types::{ErrorKind, Reason};

const GRACE_MS: u64 = 3_000;

fn start(data: &std::path::Path, first_start: bool) -> Serve {
    let grace = [("WEFT_WORKER_SHUTDOWN_GRACE_MS", GRACE_MS.to_string())];
    Serve::start(data, first_start, "fixture_hostile", &grace)
}

/// Polls the run until `done` holds (at most 30 s).
async fn until(api: &Client, id: &str, done: impl Fn(&Run) -> bool) -> Run {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = api.get_run(id).await.unwrap();
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "never got there: {run:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spin_attempts(run: &Run) -> Vec<Attempt> {
    run.step("spin")
        .map(|s| s.attempts.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_spinning_step_exits_0_within_the_grace_and_hands_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = start(dir.path(), true);
    let key = first.key.clone().expect("bootstrap key on first start");
    let api = Client::new(&first.base, Some(&key)).unwrap();
    let def = json!({"name": "spinner", "steps": [
        {"id": "spin", "kind": "action", "connector": "hostile", "action": "spin",
         "input": {}, "timeout_ms": 600_000}
    ]});
    let wf = api.create_workflow(Definition::Json(&def)).await.unwrap();
    let run = api
        .start_run(
            &wf.id,
            &StartRun {
                input: json!({}),
                until: None,
            },
            &StartQuery::default(),
        )
        .await
        .unwrap();
    until(&api, &run.id, |r| {
        spin_attempts(r)
            .first()
            .is_some_and(|a| a.status == Status::Running)
    })
    .await;
    // A client that sends half a request and stalls, as a slow one would.
    let addr = first.base.trim_start_matches("http://").to_owned();
    let mut stalled = std::net::TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();

    let t = Instant::now();
    first.sigterm();
    let status = first
        .wait_exit(Duration::from_millis(GRACE_MS + 20_000))
        .await;
    let took = t.elapsed();
    let status = status.unwrap_or_else(|| panic!("weft serve still runs {took:?} after SIGTERM"));
    assert!(status.success(), "SIGTERM: weft serve exited with {status}");
    assert!(
        took <= Duration::from_millis(GRACE_MS + 500),
        "weft serve took {took:?} to exit; its grace is {GRACE_MS} ms"
    );
    drop(stalled);

    // The spinning attempt was stopped and handed back: after a restart the
    // step runs again (not only when a 10-minute lease has expired).
    let second = start(dir.path(), false);
    let api = Client::new(&second.base, Some(&key)).unwrap();
    let run = until(&api, &run.id, |r| spin_attempts(r).len() >= 2).await;
    let attempts = spin_attempts(&run);
    let a = &attempts[0];
    assert_eq!(a.status, Status::Failed, "{run:#?}");
    let e = a.error.as_ref().expect("the stopped attempt's failure");
    assert_eq!(e.reason, Some(Reason::Cancelled), "{a:#?}");
    assert_eq!(
        e.kind,
        ErrorKind::Transient,
        "handed back, not failed: {a:#?}"
    );
    let ran = a.finished_at.unwrap() - a.started_at;
    assert!(ran < i64::try_from(GRACE_MS).unwrap() + 2_000, "{a:#?}");
    assert_ne!(run.status, Status::Failed, "{run:#?}");
    api.cancel_run(&run.id).await.unwrap();
}
