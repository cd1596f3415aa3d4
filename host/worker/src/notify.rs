//! Waiting for a run to answer: a synchronous webhook waits until the run
//! responds or ends. In-process commits wake waiters at once, with the run as
//! committed; runs answered by another process wake them through the store's
//! run feed (`crate::feed`), or are seen by polling while there is none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;
use weft_types::Run;

/// Waiters by run id.
#[derive(Default)]
pub struct Waiters {
    map: Mutex<HashMap<String, Arc<Waiter>>>,
}

/// What the waiters of one run share: the wake-up, and the run as this
/// process committed its answer (its response or its end), so that a waiter
/// woken by it need not read the store.
#[derive(Default)]
pub struct Waiter {
    notify: Notify,
    answer: Mutex<Option<Run>>,
}

impl Waiters {
    /// Registers interest in `run_id`; keep the returned guard while waiting.
    pub fn register(self: &Arc<Self>, run_id: &str) -> Guard {
        let waiter = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(run_id.to_owned())
            .or_default()
            .clone();
        Guard {
            waiters: self.clone(),
            run_id: run_id.to_owned(),
            waiter,
        }
    }

    /// Wakes whoever waits for `run_id` (to read it again).
    pub fn wake(&self, run_id: &str) {
        if let Some(w) = self.get(run_id) {
            w.wake();
        }
    }

    /// Wakes whoever waits for `run`, handing them `run` as just committed:
    /// it responded or ended.
    pub fn answer(&self, run: &Run) {
        if let Some(w) = self.get(&run.id) {
            *w.answer.lock().unwrap_or_else(PoisonError::into_inner) = Some(run.clone());
            w.wake();
        }
    }

    fn get(&self, run_id: &str) -> Option<Arc<Waiter>> {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(run_id)
            .cloned()
    }
}

impl Waiter {
    fn wake(&self) {
        self.notify.notify_waiters();
        self.notify.notify_one();
    }
}

impl Waiters {
    /// Wakes every waiter (to look at its run again).
    pub fn wake_all(&self) {
        let all: Vec<Arc<Waiter>> = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for w in all {
            w.wake();
        }
    }
}

/// Interest in one run; dropping it unregisters.
pub struct Guard {
    waiters: Arc<Waiters>,
    run_id: String,
    waiter: Arc<Waiter>,
}

impl Guard {
    /// Resolves on the next wake-up for the run.
    pub async fn notified(&self) {
        self.waiter.notify.notified().await;
    }

    /// The run this guard waits for.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The run as this process committed its answer, once it has.
    pub fn answer(&self) -> Option<Run> {
        self.waiter
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let mut map = self
            .waiters
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Only the map and this guard hold it: nobody else waits.
        if map
            .get(&self.run_id)
            .is_some_and(|n| Arc::strong_count(n) <= 2)
        {
            map.remove(&self.run_id);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use weft_types::{Status, Trigger};

    fn run(id: &str) -> Run {
        Run {
            tenant_id: "t".into(),
            id: id.into(),
            workflow_id: "wf".into(),
            version: 1,
            status: Status::Completed,
            trigger: Trigger::Webhook,
            input: serde_json::json!({ "n": 1 }),
            output: None,
            error: None,
            response: None,
            parent: None,
            depth: 0,
            deadline_at: None,
            seq: 3,
            created_at: 0,
            updated_at: 0,
            finished_at: Some(1),
            until: None,
        }
    }

    /// An answer wakes the run's waiters and hands them the run; a plain
    /// wake-up hands nothing (the waiter reads the run); another run's
    /// answer is not theirs.
    #[tokio::test]
    async fn an_answer_wakes_with_the_run_a_wake_without() {
        let waiters = Arc::new(Waiters::default());
        let guard = waiters.register("run_1");
        waiters.wake("run_1");
        guard.notified().await;
        assert_eq!(guard.answer(), None);
        waiters.answer(&run("run_2"));
        assert_eq!(guard.answer(), None);
        waiters.answer(&run("run_1"));
        guard.notified().await;
        assert_eq!(guard.answer(), Some(run("run_1")));
        // A second waiter of the same run sees the same answer.
        let twin = waiters.register("run_1");
        assert_eq!(twin.answer(), Some(run("run_1")));
        drop((guard, twin));
        assert!(waiters.map.lock().unwrap().is_empty(), "unregistered");
    }
}
