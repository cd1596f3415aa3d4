//! Steps parked because their tenant holds all its running-step slots.
//!
//! A step whose tenant is full is not put back on the queue to come round
//! again by itself: it waits here, in this process, once per step attempt,
//! and goes back on the queue when
//!
//! - a slot of its tenant is given back in this process (the oldest parked
//!   step of that tenant goes at once: the freed slot is used without delay),
//!   or
//! - its wait ends (the `Full` answer's hint, at most a second), for slots
//!   given back by another worker or expired.
//!
//! Parking each step attempt once is what keeps a full tenant's backlog from
//! multiplying: the sweeper publishes another task for every step left due
//! for long, and each of those used to be deferred and republished again,
//! for ever. A task for a step attempt already parked is a duplicate and is
//! dropped.
//!
//! Nothing here is the source of truth: a parked step is `pending` and due in
//! the store, so a crash loses nothing (the sweeper, or the restart's
//! recovery, publishes it again). At shutdown the parked tasks are put back
//! on the queue.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;
use weft_queue::Task;

/// A step attempt: run, step, attempt.
type Key = (String, String, u32);

fn key(task: &Task) -> Key {
    (task.run_id.clone(), task.step_key.clone(), task.attempt)
}

struct Entry {
    task: Task,
    until: Instant,
}

#[derive(Default)]
struct Inner {
    /// Oldest first, by tenant.
    by_tenant: HashMap<String, VecDeque<Entry>>,
    keys: HashSet<Key>,
}

/// The parked tasks of this process.
#[derive(Default)]
pub(crate) struct Parked {
    inner: Mutex<Inner>,
    /// Wakes the timer loop when a step is parked.
    pub(crate) timer: tokio::sync::Notify,
}

impl Parked {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code path panics while holding the lock.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks `task` for at most `wait`; false (and nothing kept) when its
    /// step attempt is parked already.
    pub(crate) fn park(&self, task: Task, wait: Duration) -> bool {
        let until = Instant::now() + wait;
        {
            let mut inner = self.lock();
            if !inner.keys.insert(key(&task)) {
                return false;
            }
            inner
                .by_tenant
                .entry(task.tenant_id.clone())
                .or_default()
                .push_back(Entry { task, until });
        }
        self.timer.notify_one();
        true
    }

    /// The oldest parked task of `tenant`, taken out.
    pub(crate) fn wake(&self, tenant: &str) -> Option<Task> {
        let mut inner = self.lock();
        let queue = inner.by_tenant.get_mut(tenant)?;
        let entry = queue.pop_front();
        if queue.is_empty() {
            inner.by_tenant.remove(tenant);
        }
        let entry = entry?;
        inner.keys.remove(&key(&entry.task));
        Some(entry.task)
    }

    /// Takes out the tasks whose wait ended by `now`; also says when the
    /// next one ends.
    pub(crate) fn due(&self, now: Instant) -> (Vec<Task>, Option<Instant>) {
        let mut inner = self.lock();
        let Inner { by_tenant, keys } = &mut *inner;
        let (mut out, mut next) = (Vec::new(), None::<Instant>);
        by_tenant.retain(|_, queue| {
            let (ended, waiting): (VecDeque<_>, VecDeque<_>) = std::mem::take(queue)
                .into_iter()
                .partition(|e| e.until <= now);
            for e in ended {
                keys.remove(&key(&e.task));
                out.push(e.task);
            }
            if let Some(first) = waiting.iter().map(|e| e.until).min() {
                next = Some(next.map_or(first, |n| n.min(first)));
            }
            *queue = waiting;
            !queue.is_empty()
        });
        (out, next)
    }

    /// Takes out every parked task, with what is left of its wait.
    pub(crate) fn drain(&self, now: Instant) -> Vec<(Task, Duration)> {
        let mut inner = self.lock();
        inner.keys.clear();
        inner
            .by_tenant
            .drain()
            .flat_map(|(_, q)| q)
            .map(|e| {
                let left = e.until.saturating_duration_since(now);
                (e.task, left)
            })
            .collect()
    }

    /// Tasks parked now.
    pub(crate) fn len(&self) -> usize {
        self.lock().keys.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn task(tenant: &str, run: &str) -> Task {
        Task::new(tenant, run, "s", 1)
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_attempt_is_parked_once() {
        let p = Parked::default();
        assert!(p.park(task("a", "r1"), ms(500)));
        assert!(!p.park(task("a", "r1"), ms(500)), "the sweeper's copy");
        assert!(
            p.park(Task::new("a", "r1", "s", 2), ms(500)),
            "another attempt"
        );
        assert_eq!(p.len(), 2);
        // Once woken it may be parked again (it was full again).
        assert_eq!(p.wake("a").unwrap().run_id, "r1");
        assert!(p.park(task("a", "r1"), ms(500)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_freed_slot_wakes_the_tenants_oldest_step() {
        let p = Parked::default();
        p.park(task("a", "r1"), ms(500));
        p.park(task("b", "r2"), ms(500));
        p.park(task("a", "r3"), ms(500));
        assert_eq!(p.wake("a").unwrap().run_id, "r1");
        assert_eq!(p.wake("a").unwrap().run_id, "r3");
        assert!(p.wake("a").is_none());
        assert!(p.wake("c").is_none());
        assert_eq!(p.len(), 1, "b's step still waits");
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_that_ends_releases_the_step() {
        let p = Parked::default();
        let t0 = Instant::now();
        p.park(task("a", "r1"), ms(300));
        p.park(task("a", "r2"), ms(100));
        p.park(task("b", "r3"), ms(200));
        let (out, next) = p.due(t0 + ms(150));
        let runs: Vec<_> = out.iter().map(|t| t.run_id.as_str()).collect();
        assert_eq!(runs, ["r2"]);
        assert_eq!(next, Some(t0 + ms(200)));
        let (out, next) = p.due(t0 + ms(300));
        assert_eq!(out.len(), 2);
        assert_eq!(next, None);
        assert_eq!(p.len(), 0);
        assert!(p.park(task("a", "r1"), ms(1)), "released: parkable again");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_takes_everything_with_its_wait_left() {
        let p = Parked::default();
        let t0 = Instant::now();
        p.park(task("a", "r1"), ms(300));
        p.park(task("b", "r2"), ms(100));
        let mut left: Vec<_> = p
            .drain(t0 + ms(200))
            .into_iter()
            .map(|(t, d)| (t.run_id, d))
            .collect();
        left.sort();
        assert_eq!(left, [("r1".to_owned(), ms(100)), ("r2".to_owned(), ms(0))]);
        assert_eq!(p.len(), 0);
    }
}
