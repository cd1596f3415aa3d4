//! The run state a decision committed, handed to the task it published, so
//! that the task does not read the run back from the store (embedded mode:
//! the tasks are this process's own, through the in-process queue).
//!
//! A handed state is never trusted to do nothing: a commit on it is
//! conditional on the run's `seq` like any other (a state that another
//! process moved on loses with `Stale` and is read again), and every outcome
//! that would commit nothing (a terminal run, a step not found or not ready,
//! a claim refused) is decided again on the run as the store has it. So a
//! stale state costs a read, never a dropped task.
//!
//! Only the newest state of a run is kept (by `seq`), an entry is taken by
//! the first task of its run that comes, and at most [`MAX_ENTRIES`] are kept
//! (past it the map starts again): it holds the runs whose tasks are in the
//! queue, not every run in flight.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use weft_store::RunState;

/// Runs kept at most.
const MAX_ENTRIES: usize = 4_096;

/// Run states waiting for their run's next task.
pub(crate) struct Handoff {
    on: bool,
    map: Mutex<HashMap<String, RunState>>,
}

impl Handoff {
    /// A hand-off, off when the tasks go through a broker other processes
    /// consume too.
    pub(crate) fn new(on: bool) -> Self {
        Self {
            on,
            map: Mutex::default(),
        }
    }

    /// Whether states are kept at all.
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// Keeps `state` for its run's next task, unless a newer one is kept.
    pub(crate) fn put(&self, state: RunState) {
        if !self.on {
            return;
        }
        let mut map = self.lock();
        if map
            .get(&state.run.id)
            .is_some_and(|kept| kept.run.seq >= state.run.seq)
        {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(state.run.id.clone(), state);
    }

    /// Forgets the state of `run_id` at `seq` (its commit failed).
    pub(crate) fn forget(&self, run_id: &str, seq: i64) {
        let mut map = self.lock();
        if map.get(run_id).is_some_and(|kept| kept.run.seq == seq) {
            map.remove(run_id);
        }
    }

    /// The state kept for `run_id`, taken.
    pub(crate) fn take(&self, run_id: &str) -> Option<RunState> {
        if !self.on {
            return None;
        }
        self.lock().remove(run_id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunState>> {
        // No code path panics while holding the lock.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;
    use weft_types::{Run, Status, Trigger};

    fn state(id: &str, seq: i64) -> RunState {
        RunState {
            run: Run {
                tenant_id: "t".into(),
                id: id.into(),
                workflow_id: "wf".into(),
                version: 1,
                status: Status::Running,
                trigger: Trigger::Manual,
                input: json!(null),
                output: None,
                error: None,
                response: None,
                parent: None,
                depth: 0,
                deadline_at: None,
                seq,
                created_at: 0,
                updated_at: 0,
                finished_at: None,
                until: None,
            },
            steps: Vec::new(),
        }
    }

    /// The newest state of a run wins, is taken once, and a failed commit's
    /// state is forgotten (not a newer one); off, nothing is kept.
    #[test]
    fn keeps_the_newest_state_once() {
        let h = Handoff::new(true);
        h.put(state("r", 3));
        h.put(state("r", 2));
        assert_eq!(h.take("r").unwrap().run.seq, 3);
        assert!(h.take("r").is_none());
        h.put(state("r", 4));
        h.forget("r", 3);
        assert_eq!(h.take("r").unwrap().run.seq, 4);
        h.put(state("r", 5));
        h.forget("r", 5);
        assert!(h.take("r").is_none());
        let off = Handoff::new(false);
        off.put(state("r", 1));
        assert!(off.take("r").is_none());
    }
}
