//! Waiting for a run to answer: a synchronous webhook waits until the run
//! responds or ends. In-process commits wake waiters at once; runs answered by
//! another process wake them through the store's run feed (`crate::feed`), or
//! are seen by polling while there is none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// Waiters by run id.
#[derive(Default)]
pub struct Waiters {
    map: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Waiters {
    /// Registers interest in `run_id`; keep the returned guard while waiting.
    pub fn register(self: &Arc<Self>, run_id: &str) -> Guard {
        let notify = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(run_id.to_owned())
            .or_default()
            .clone();
        Guard {
            waiters: self.clone(),
            run_id: run_id.to_owned(),
            notify,
        }
    }

    /// Wakes whoever waits for `run_id`.
    pub fn wake(&self, run_id: &str) {
        let n = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(run_id)
            .cloned();
        if let Some(n) = n {
            n.notify_waiters();
            n.notify_one();
        }
    }
}

impl Waiters {
    /// Wakes every waiter (to look at its run again).
    pub fn wake_all(&self) {
        let all: Vec<Arc<Notify>> = self
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for n in all {
            n.notify_waiters();
            n.notify_one();
        }
    }
}

/// Interest in one run; dropping it unregisters.
pub struct Guard {
    waiters: Arc<Waiters>,
    run_id: String,
    notify: Arc<Notify>,
}

impl Guard {
    /// Resolves on the next wake-up for the run.
    pub async fn notified(&self) {
        self.notify.notified().await;
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
