//! The checker every fault test ends with (docs/TEST-PLAN.md, "Durability"):
//!
//! 1. every accepted run reaches a terminal state, and the expected one;
//! 2. no step has two committed results (`attempts[]` with status
//!    `completed` ≤ 1; exactly 1 for a completed step), and every attempt of
//!    a step carries the same idempotency key;
//! 3. the stand-in saw each effect once per idempotency key: the keys it saw
//!    are exactly those of the steps that reached it (every completed `http`
//!    step among them, answered with its own key), none came without a key,
//!    and their number is what the test expects. Repeats of a key (a retry
//!    after a crash) are allowed — the stand-in applies them once — and
//!    reported.

use super::cluster::Cluster;
use super::standin::StandIn;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};
use weft_model::{Run, Status, Step};
use weft_types::{Failure, Reason};

/// What one accepted run must end as.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The run.
    pub id: String,
    /// `Completed`, `Failed`, ...
    pub status: Status,
    /// Its steps that call the stand-in.
    pub http_steps: &'static [&'static str],
}

impl Expect {
    /// Every run of `ids` must end as `status`.
    pub fn all(ids: &[String], status: Status, http_steps: &'static [&'static str]) -> Vec<Self> {
        ids.iter()
            .map(|id| Self {
                id: id.clone(),
                status,
                http_steps,
            })
            .collect()
    }
}

/// What the checker found (printed by each test).
#[derive(Debug, Default)]
pub struct Report {
    /// Runs checked.
    pub runs: usize,
    /// Step attempts journaled.
    pub attempts: usize,
    /// Failed attempts by reason (or kind), by name.
    pub failed_attempts: BTreeMap<&'static str, usize>,
    /// Failed attempts with a reason, by reason.
    pub failed_reasons: HashMap<Reason, usize>,
    /// Distinct idempotency keys the stand-in applied.
    pub effects: usize,
    /// Requests that repeated a key already applied.
    pub repeats: u32,
    /// Most requests for one key.
    pub max_hits: u32,
    /// Time until every run was terminal.
    pub settled_in: Duration,
    /// The final runs, by id.
    pub final_runs: HashMap<String, Run>,
}

impl Report {
    /// Failed attempts with this reason.
    pub fn failed(&self, reason: Reason) -> usize {
        self.failed_reasons.get(&reason).copied().unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs terminal in {:.1} s; {} attempts (failed: {:?}); stand-in: {} effects applied once, {} repeated requests (max {} per key)",
            self.runs,
            self.settled_in.as_secs_f64(),
            self.attempts,
            self.failed_attempts,
            self.effects,
            self.repeats,
            self.max_hits
        )
    }
}

fn is_terminal(status: Status) -> bool {
    matches!(
        status,
        Status::Completed | Status::Failed | Status::Cancelled | Status::Skipped
    )
}

/// Fetches the runs of `ids` (8 at a time); a run that cannot be read now
/// (a 5xx during an outage, a transport error) is absent.
async fn fetch(cluster: &Cluster, ids: &[String]) -> HashMap<String, Run> {
    let mut out = HashMap::new();
    let client = cluster.client();
    for chunk in ids.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for id in chunk {
            let (client, id) = (client.clone(), id.clone());
            set.spawn(async move {
                let run = client.get_run(&id).await.ok()?;
                Some((id, run))
            });
        }
        while let Some(r) = set.join_next().await {
            if let Some((id, run)) = r.unwrap() {
                out.insert(id, run);
            }
        }
    }
    out
}

/// Waits until every run of `expect` is terminal (at most `timeout`), then
/// checks them and the stand-in. `effects`: how many distinct keys the
/// stand-in must have applied.
pub async fn check(
    cluster: &Cluster,
    stand_in: &StandIn,
    expect: &[Expect],
    effects: usize,
    timeout: Duration,
) -> Report {
    let t0 = Instant::now();
    let deadline = t0 + timeout;
    let mut final_runs: HashMap<String, Run> = HashMap::new();
    let mut last_seen: HashMap<String, Run> = HashMap::new();
    loop {
        let open: Vec<String> = expect
            .iter()
            .filter(|e| !final_runs.contains_key(&e.id))
            .map(|e| e.id.clone())
            .collect();
        if open.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
            for id in &open {
                let s = last_seen
                    .get(id)
                    .map_or("unreadable", |r| r.status.as_str());
                *by_status.entry(s).or_default() += 1;
            }
            let sample: Vec<String> = open
                .iter()
                .take(3)
                .map(|id| {
                    last_seen
                        .get(id)
                        .map_or_else(|| format!("{id}: never read"), pretty)
                })
                .collect();
            panic!(
                "{} of {} accepted runs not terminal after {timeout:?} (by status: {by_status:?}); e.g.:\n{}",
                open.len(),
                expect.len(),
                sample.join("\n")
            );
        }
        for (id, run) in fetch(cluster, &open).await {
            if is_terminal(run.status) {
                final_runs.insert(id, run);
            } else {
                last_seen.insert(id, run);
            }
        }
        if final_runs.len() < expect.len() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let settled_in = t0.elapsed();

    let mut report = Report {
        runs: expect.len(),
        settled_in,
        ..Report::default()
    };
    // Keys of the steps that call the stand-in: those that must have reached
    // it (completed), and those that may have (attempted).
    let mut must: HashMap<String, String> = HashMap::new();
    let mut may: HashSet<String> = HashSet::new();
    for e in expect {
        let run = &final_runs[&e.id];
        assert_eq!(
            run.status,
            e.status,
            "run {} ended {} instead of {}:\n{}",
            e.id,
            run.status,
            e.status,
            pretty(run)
        );
        let steps = run.steps.as_deref().expect("a run's steps");
        for step in steps {
            let key = step.key.as_str();
            let attempts = &step.attempts;
            report.attempts += attempts.len();
            let committed = attempts
                .iter()
                .filter(|a| a.status == Status::Completed)
                .count();
            assert!(
                committed <= 1,
                "step {key} of run {} has {committed} committed results:\n{}",
                e.id,
                pretty(step)
            );
            if step.status == Status::Completed && !attempts.is_empty() {
                assert_eq!(
                    committed,
                    1,
                    "completed step {key} of run {} has no completed attempt:\n{}",
                    e.id,
                    pretty(step)
                );
            }
            for a in attempts.iter().filter(|a| a.status == Status::Failed) {
                let name = a.error.as_ref().map_or("?", Failure::label);
                *report.failed_attempts.entry(name).or_default() += 1;
                if let Some(reason) = a.error.as_ref().and_then(|f| f.reason) {
                    *report.failed_reasons.entry(reason).or_default() += 1;
                }
            }
            let ikeys: HashSet<&str> = attempts
                .iter()
                .map(|a| a.idempotency_key.as_str())
                .collect();
            assert!(
                ikeys.len() <= 1,
                "the attempts of step {key} of run {} have different idempotency keys: {ikeys:?}",
                e.id
            );
            if !e.http_steps.contains(&key) {
                continue;
            }
            let Some(ikey) = ikeys.into_iter().next() else {
                continue;
            };
            may.insert(ikey.to_owned());
            if step.status == Status::Completed {
                // The `http` connector's output: the stand-in's answer.
                assert_eq!(
                    step.output.as_ref().and_then(|o| o["body"]["key"].as_str()),
                    Some(ikey),
                    "step {key} of run {} was not answered for its own key:\n{}",
                    e.id,
                    pretty(step)
                );
                must.insert(ikey.to_owned(), format!("{}/{key}", e.id));
            }
        }
    }
    let seen = stand_in.effects();
    assert_eq!(
        stand_in.without_key(),
        0,
        "the stand-in got requests without an Idempotency-Key"
    );
    for (k, step) in &must {
        assert!(
            seen.contains_key(k),
            "completed step {step} never reached the stand-in (key {k})"
        );
    }
    for k in seen.keys() {
        assert!(
            may.contains(k),
            "the stand-in saw key {k}, which belongs to no step of the checked runs"
        );
    }
    report.effects = seen.len();
    report.repeats = seen.values().map(|e| e.hits - 1).sum();
    report.max_hits = seen.values().map(|e| e.hits).max().unwrap_or(0);
    assert_eq!(
        seen.len(),
        effects,
        "the stand-in applied {} distinct effects, expected {effects}",
        seen.len()
    );
    report.final_runs = final_runs;
    report
}

/// A step of a run (by key) as the API shows it.
pub fn step<'a>(run: &'a Run, key: &str) -> &'a Step {
    run.step(key)
        .unwrap_or_else(|| panic!("no step {key} in {}", pretty(run)))
}

/// A run or a step as the API answered it (pretty JSON), for messages.
pub fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("(unprintable: {e})"))
}
