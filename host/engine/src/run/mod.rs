//! Run semantics: given a definition, the run's rows (the journal) and one event,
//! decide what changes and what may run next. Pure: the caller (`weft-worker`)
//! loads the rows, applies a [`Decision`] with one store commit, then publishes
//! its [`Due`] tasks and starts its [`Start`] runs.
//!
//! Events: a run starts ([`Plan::start`]), a step is claimed ([`Plan::claim`]) and
//! finishes ([`Plan::complete`]), a wait elapses ([`Plan::wake`]) or is resumed
//! ([`Plan::resume`]), a child run ends ([`Plan::child_done`]), the run is cancelled
//! ([`Plan::cancel`]) or times out ([`Plan::time_out`]). After each, the plan
//! creates every step whose dependencies are done (control steps such as
//! `condition`, `merge` and `respond` complete on the spot, in the same decision)
//! and finishes the run when nothing is left.
//!
//! Step keys are the node id, prefixed by the loop iterations that contain it:
//! `fetch`, `each[2].fetch`, `outer[0].inner[3].post`. The run's trigger is the
//! step `$trigger`, whose output is the trigger payload.
//!
//! A plan renders and copies within one [`Budget`] of the [`RunLimits`] it is
//! given: a step that would take more fails with reason `render_limit`, and
//! what it had rendered is dropped, so a decision never holds or stores more.

mod abandon;
mod advance;
#[cfg(test)]
mod budget_tests;
mod context;
mod events;
mod render;
mod rerun;
#[cfg(test)]
mod tests;
mod until;
#[cfg(test)]
mod until_tests;

use crate::{Budget, Graph, RunLimits};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use weft_types::{Attempt, Definition, Failure, LogRecord, Run, Status, Step};

pub use context::locate;
pub use until::check_until;

/// The key of the trigger step every run has.
pub const TRIGGER: &str = "$trigger";
/// Deepest chain of sub-workflows (and error workflows).
pub const MAX_DEPTH: u32 = 8;
/// A step whose worker is lost (lease expired) this many attempts in a row
/// fails with reason `poison` instead of being retried again.
pub const POISON_AFTER: u32 = 3;
/// Most items a loop iterates over.
pub const MAX_LOOP_ITEMS: usize = 10_000;
/// How often a waiting sub-workflow step re-checks its child if no message came.
pub const CHILD_RECHECK_MS: i64 = 60_000;

/// Fresh ids, tokens and jitter for a decision (random in production, fixed in tests).
pub trait Ids: Sync {
    /// A new sortable id with `prefix` (`run`).
    fn id(&self, prefix: &str) -> String;
    /// A new unguessable token.
    fn token(&self) -> String;
    /// A uniform number in `[0, 1)` for retry jitter.
    fn unit(&self) -> f64;
}

/// A step of this run to hand to the queue after the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The step.
    pub key: String,
    /// The attempt the task asks for.
    pub attempt: u32,
    /// Publish delayed by this much (retry backoff, wait duration).
    pub delay_ms: u64,
}

/// A run to create in the same commit: a sub-workflow's child or the error workflow.
/// The caller resolves the workflow's current version and creates the run
/// `pending`, with a pending [`TRIGGER`] step (see [`Plan::pending_run`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The new run's id (already referenced by the parent step).
    pub run_id: String,
    /// Which workflow.
    pub workflow_id: String,
    /// Its trigger payload.
    pub input: Value,
    /// `subworkflow` or `error`.
    pub trigger: weft_types::Trigger,
    /// The parent step waiting for it (`None` for an error workflow).
    pub parent: weft_types::Parent,
    /// Its depth.
    pub depth: u32,
}

/// What a claimed action step must run.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Connector name.
    pub connector: String,
    /// Action name.
    pub action: String,
    /// Rendered input.
    pub input: Value,
    /// Rendered config.
    pub config: Value,
    /// The attempt's deadline, if the step sets one.
    pub timeout_ms: Option<u64>,
    /// `run_id:step_key`, the same for every attempt.
    pub idempotency_key: String,
    /// The attempt.
    pub attempt: u32,
}

/// What came of running a claimed attempt, as the worker reports it to
/// [`Plan::complete`] (or [`Plan::abandon`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    /// The plugin's output, or why the attempt failed.
    pub result: Result<Value, Failure>,
    /// What the sandbox measured.
    pub usage: Option<Value>,
    /// The plugin's log records (bounded when journaled).
    pub logs: Vec<LogRecord>,
    /// The component that ran (`sha256:<hex>`), journaled on the attempt;
    /// `None` when none was resolved.
    pub digest: Option<String>,
}

impl Ran {
    /// A result with no usage, logs or digest (a failure before any
    /// component ran).
    pub fn result(result: Result<Value, Failure>) -> Self {
        Self {
            result,
            usage: None,
            logs: Vec::new(),
            digest: None,
        }
    }
}

/// Everything one event changed, for one commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The run as it must be stored.
    pub run: Run,
    /// The `seq` the store must still hold (`None`: the run is new).
    pub expected_seq: Option<i64>,
    /// Changed step rows.
    pub steps: Vec<Step>,
    /// Changed journal rows.
    pub attempts: Vec<Attempt>,
    /// Tasks to publish after the commit.
    pub due: Vec<Due>,
    /// Runs to create in the same commit.
    pub starts: Vec<Start>,
    /// Child runs to cancel after the commit (this run was cancelled or failed).
    pub cancel_children: Vec<String>,
    /// Whether the run became terminal in this decision.
    pub finished: bool,
    /// Whether a `respond` step answered in this decision.
    pub responded: bool,
    /// Steps the plan itself failed before any attempt (a template, the
    /// render budget, the sub-workflow depth), for metrics; an attempt's
    /// failure is counted where the attempt ran.
    pub failures: Vec<Failure>,
}

/// A run being decided on: its rows plus what changed.
pub struct Plan<'a> {
    def: &'a Definition,
    ids: &'a dyn Ids,
    now: i64,
    run: Run,
    expected_seq: Option<i64>,
    steps: BTreeMap<String, Step>,
    changed: BTreeSet<String>,
    attempts: Vec<Attempt>,
    due: Vec<Due>,
    starts: Vec<Start>,
    cancel_children: Vec<String>,
    was_terminal: bool,
    was_status: weft_types::Status,
    had_response: bool,
    moves: usize,
    budget: Budget,
    failures: Vec<Failure>,
    /// Each step list's graph, by the list's address in `def` (which
    /// outlives the plan), built on first use.
    graphs: HashMap<usize, Arc<Graph>>,
    /// Which rows may have been loaded without their data ([`Plan::lean`]).
    lean: Lean,
}

/// The rows a lean plan may hold without their data, and the ones it found
/// it needed ([`Plan::lean`]).
#[derive(Default)]
struct Lean {
    on: bool,
    /// Keys loaded in full.
    full: BTreeSet<String>,
    /// Keys whose data the decision read or changed without having it.
    missing: RefCell<BTreeSet<String>>,
}

impl Lean {
    /// Whether `row` may lack its `input`, `output` and `error`: a terminal
    /// row without an output that was not loaded in full nor written here.
    fn lacks(&self, row: &Step, changed: &BTreeSet<String>) -> bool {
        self.on
            && row.status.is_terminal()
            && row.output.is_none()
            && !self.full.contains(&row.key)
            && !changed.contains(&row.key)
    }

    /// The row `key`, for reading its data: a row loaded without it is
    /// recorded as missing (the decision is then made again).
    fn read<'s>(
        &self,
        steps: &'s BTreeMap<String, Step>,
        changed: &BTreeSet<String>,
        key: &str,
    ) -> Option<&'s Step> {
        let row = steps.get(key)?;
        if self.lacks(row, changed) {
            self.missing.borrow_mut().insert(key.to_owned());
        }
        Some(row)
    }
}

impl<'a> Plan<'a> {
    /// A plan over an existing run's rows, rendering within `limits`.
    pub fn load(
        def: &'a Definition,
        ids: &'a dyn Ids,
        limits: RunLimits,
        now: i64,
        run: Run,
        steps: Vec<Step>,
    ) -> Self {
        let expected_seq = Some(run.seq);
        let was_terminal = run.status.is_terminal();
        let was_status = run.status;
        let had_response = run.response.is_some();
        Self {
            def,
            ids,
            now,
            run,
            expected_seq,
            steps: steps.into_iter().map(|s| (s.key.clone(), s)).collect(),
            changed: BTreeSet::new(),
            attempts: Vec::new(),
            due: Vec::new(),
            starts: Vec::new(),
            cancel_children: Vec::new(),
            was_terminal,
            was_status,
            had_response,
            moves: 0,
            budget: Budget::new(limits),
            failures: Vec::new(),
            graphs: HashMap::new(),
            lean: Lean::default(),
        }
    }

    /// Decides on lean rows, as `weft_store::Store::load_run_lean` reads
    /// them: a terminal step's `input`, `output` and `error` are left out
    /// unless its key is in `full`. The plan reads and changes only what the
    /// event touches; when that includes a row without its data (a
    /// template reading an old output, a loop collecting its iterations'
    /// outputs), the key is recorded in [`Plan::missing`] and the decision
    /// must be thrown away and made again with those rows in `full`. So a
    /// decision never depends on, nor writes, a row it did not have.
    #[must_use]
    pub fn lean(mut self, full: BTreeSet<String>) -> Self {
        self.lean = Lean {
            on: true,
            full,
            missing: RefCell::default(),
        };
        self
    }

    /// The rows this decision needed in full but had lean ([`Plan::lean`]):
    /// when not empty, the decision is void.
    pub fn missing(&self) -> BTreeSet<String> {
        self.lean.missing.borrow().clone()
    }

    /// The run as it stands in the plan.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// A step as it stands in the plan.
    pub fn step(&self, key: &str) -> Option<&Step> {
        self.lean.read(&self.steps, &self.changed, key)
    }

    /// A row whose data (`input`, `output`, `error`) the plan reads.
    fn full(&self, key: &str) -> Option<&Step> {
        self.lean.read(&self.steps, &self.changed, key)
    }

    /// Every step row as it stands in the plan, by key.
    pub fn steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.values()
    }

    /// Whether the plan changed anything.
    pub fn is_changed(&self) -> bool {
        !self.changed.is_empty() || !self.attempts.is_empty() || self.run_changed()
    }

    fn run_changed(&self) -> bool {
        self.expected_seq.is_none() || self.run.status != self.was_status
    }

    /// Whether the run is under way (`running`, or `waiting` when every live
    /// step waits: a timer, a resume, a child run).
    fn live(&self) -> bool {
        matches!(self.run.status, Status::Running | Status::Waiting)
    }

    /// `waiting` when nothing can progress until a step wakes, else `running`.
    fn refresh_status(&mut self) {
        if !self.live() {
            return;
        }
        let busy = self
            .steps
            .values()
            .any(|s| matches!(s.status, Status::Pending | Status::Running));
        let waits = self.steps.values().any(|s| s.status == Status::Waiting);
        self.run.status = if waits && !busy {
            Status::Waiting
        } else {
            Status::Running
        };
    }

    /// The decision to commit (the run's `seq` bumped).
    pub fn finish(self) -> Decision {
        self.close(false).0
    }

    /// [`Plan::finish`], also giving back every row as it then stands
    /// (moved, not copied), so that the next decision on the run (an
    /// attempt's result after its claim) can start from them.
    pub fn finish_keep(self) -> (Decision, Vec<Step>) {
        self.close(true)
    }

    /// Every row as it stands, for a plan that changed nothing.
    pub fn into_rows(self) -> Vec<Step> {
        self.steps.into_values().collect()
    }

    fn close(mut self, keep: bool) -> (Decision, Vec<Step>) {
        self.refresh_status();
        self.run.seq += 1;
        self.run.updated_at = self.now;
        let mut rows = std::mem::take(&mut self.steps);
        let (steps, rows) = if keep {
            let changed = self
                .changed
                .iter()
                .filter_map(|k| rows.get(k).cloned())
                .collect();
            (changed, rows.into_values().collect())
        } else {
            let changed = self.changed.iter().filter_map(|k| rows.remove(k)).collect();
            (changed, Vec::new())
        };
        let decision = Decision {
            finished: self.run.status.is_terminal() && !self.was_terminal,
            responded: self.run.response.is_some() && !self.had_response,
            run: self.run,
            expected_seq: self.expected_seq,
            steps,
            attempts: self.attempts,
            due: self.due,
            starts: self.starts,
            cancel_children: self.cancel_children,
            failures: self.failures,
        };
        (decision, rows)
    }

    fn put(&mut self, step: Step) {
        if let Some(old) = self.steps.get(&step.key)
            && self.lean.lacks(old, &self.changed)
        {
            self.lean.missing.borrow_mut().insert(step.key.clone());
        }
        self.moves += 1;
        self.changed.insert(step.key.clone());
        self.steps.insert(step.key.clone(), step);
    }

    fn update(&mut self, key: &str, f: impl FnOnce(&mut Step)) {
        // A row changed is written whole: it must have been loaded whole.
        self.lean.read(&self.steps, &self.changed, key);
        if let Some(s) = self.steps.get_mut(key) {
            f(s);
            s.updated_at = self.now;
            self.moves += 1;
            self.changed.insert(key.to_owned());
        }
    }
}
