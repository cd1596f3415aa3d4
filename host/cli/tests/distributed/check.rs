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
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

/// What one accepted run must end as.
#[derive(Debug, Clone)]
pub struct Expect {
    /// The run.
    pub id: String,
    /// `completed`, `failed`, ...
    pub status: &'static str,
    /// Its steps that call the stand-in.
    pub http_steps: &'static [&'static str],
}

impl Expect {
    /// Every run of `ids` must end as `status`.
    pub fn all(
        ids: &[String],
        status: &'static str,
        http_steps: &'static [&'static str],
    ) -> Vec<Self> {
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
    /// Failed attempts by reason (or kind).
    pub failed_attempts: BTreeMap<String, usize>,
    /// Distinct idempotency keys the stand-in applied.
    pub effects: usize,
    /// Requests that repeated a key already applied.
    pub repeats: u32,
    /// Most requests for one key.
    pub max_hits: u32,
    /// Time until every run was terminal.
    pub settled_in: Duration,
    /// The final runs, by id.
    pub final_runs: HashMap<String, Value>,
}

impl Report {
    /// Failed attempts with this reason.
    pub fn failed(&self, reason: &str) -> usize {
        self.failed_attempts.get(reason).copied().unwrap_or(0)
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

fn is_terminal(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled" | "skipped")
}

/// Fetches the runs of `ids` (8 at a time); a run that cannot be read now
/// (a 5xx during an outage, a transport error) is absent.
async fn fetch(cluster: &Cluster, ids: &[String]) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for id in chunk {
            let (http, url, key, id) = (
                cluster.http.clone(),
                cluster.url(&format!("/v1/runs/{id}")),
                cluster.key.clone(),
                id.clone(),
            );
            set.spawn(async move {
                let resp = http.get(&url).bearer_auth(&key).send().await.ok()?;
                if resp.status().as_u16() != 200 {
                    return None;
                }
                let run: Value = serde_json::from_str(&resp.text().await.ok()?).ok()?;
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
    let mut final_runs: HashMap<String, Value> = HashMap::new();
    let mut last_seen: HashMap<String, Value> = HashMap::new();
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
            let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
            for id in &open {
                let s = last_seen
                    .get(id)
                    .and_then(|r| r["status"].as_str())
                    .unwrap_or("unreadable");
                *by_status.entry(s.to_owned()).or_default() += 1;
            }
            let sample: Vec<String> = open
                .iter()
                .take(3)
                .map(|id| {
                    last_seen.get(id).map_or_else(
                        || format!("{id}: never read"),
                        |r| serde_json::to_string_pretty(r).unwrap(),
                    )
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
            if run["status"].as_str().is_some_and(is_terminal) {
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
            run["status"], e.status,
            "run {} ended {} instead of {}:\n{run:#}",
            e.id, run["status"], e.status
        );
        let steps = run["steps"].as_array().expect("a run's steps");
        for step in steps {
            let key = step["key"].as_str().unwrap();
            let attempts = step["attempts"].as_array().unwrap();
            report.attempts += attempts.len();
            let committed = attempts
                .iter()
                .filter(|a| a["status"] == "completed")
                .count();
            assert!(
                committed <= 1,
                "step {key} of run {} has {committed} committed results:\n{step:#}",
                e.id
            );
            if step["status"] == "completed" && !attempts.is_empty() {
                assert_eq!(
                    committed, 1,
                    "completed step {key} of run {} has no completed attempt:\n{step:#}",
                    e.id
                );
            }
            for a in attempts.iter().filter(|a| a["status"] == "failed") {
                let reason = a["error"]["reason"]
                    .as_str()
                    .or_else(|| a["error"]["kind"].as_str())
                    .unwrap_or("?");
                *report.failed_attempts.entry(reason.to_owned()).or_default() += 1;
            }
            let ikeys: HashSet<&str> = attempts
                .iter()
                .filter_map(|a| a["idempotency_key"].as_str())
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
            if step["status"] == "completed" {
                assert_eq!(
                    step["output"]["body"]["key"].as_str(),
                    Some(ikey),
                    "step {key} of run {} was not answered for its own key:\n{step:#}",
                    e.id
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
pub fn step<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no step {key} in {run:#}"))
}
