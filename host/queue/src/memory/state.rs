//! The in-process queue's state and every transition on it. All of it runs under
//! one mutex, in short sections with no await; the timer task and the consumers
//! are woken through [`Notify`]s.

use super::fair::Fair;
use crate::{DeadLetter, DeadReason, Error, MessageId, Outcome, Result, Task};
use std::{
    cmp::Ordering,
    collections::{BTreeMap, BinaryHeap, HashMap, VecDeque},
    sync::Arc,
    time::{Duration, SystemTime},
};
use tokio::{sync::Notify, time::Instant};

/// A message between deliveries.
pub(super) struct Message {
    pub(super) id: MessageId,
    pub(super) task: Arc<Task>,
    /// Deliveries so far.
    pub(super) deliveries: u32,
}

/// A message waiting for its delay; the heap's top is the earliest.
struct Delayed {
    due: Instant,
    seq: u64,
    msg: Message,
}

impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Delayed {}

struct Unacked {
    msg: Message,
    consumer: u64,
    deadline: Instant,
}

struct Slot {
    prefetch: usize,
    in_flight: usize,
    notify: Arc<Notify>,
    /// Idle with capacity and registered in `State::waiting`.
    waiting: bool,
    /// About to wait (or waiting) on `notify`.
    parked: bool,
}

/// What a consumer gets from [`State::take`].
pub(super) enum Take {
    /// A delivery: the message and its delivery tag.
    Ready(MessageId, Arc<Task>, u32, u64),
    /// Nothing for now; wait on the consumer's notify.
    Wait,
    /// The consumer is gone.
    Gone,
}

pub(super) struct State {
    ack_timeout: Duration,
    max_deliveries: u32,
    dead_capacity: usize,
    timer: Arc<Notify>,
    /// When the timer task will next look; `None` when it sleeps until notified.
    timer_target: Option<Instant>,
    next_id: u64,
    next_seq: u64,
    /// Delivery tags grow with time and every lease is `ack_timeout` long, so
    /// `unacked`, keyed by tag, is also ordered by deadline.
    next_tag: u64,
    next_consumer: u64,
    /// Ready messages, taken round robin by tenant ([`Fair`]).
    ready: Fair,
    delayed: BinaryHeap<Delayed>,
    unacked: BTreeMap<u64, Unacked>,
    consumers: HashMap<u64, Slot>,
    /// Consumers idle with capacity, oldest first; entries whose slot is no
    /// longer `waiting` are stale and skipped.
    waiting: VecDeque<u64>,
    dead: VecDeque<DeadLetter>,
}

impl State {
    pub(super) fn new(options: &super::Options, timer: Arc<Notify>) -> Self {
        Self {
            ack_timeout: options.ack_timeout,
            max_deliveries: options.max_deliveries,
            dead_capacity: options.dead_letter_capacity,
            timer,
            timer_target: None,
            next_id: 0,
            next_seq: 0,
            next_tag: 0,
            next_consumer: 0,
            ready: Fair::default(),
            delayed: BinaryHeap::new(),
            unacked: BTreeMap::new(),
            consumers: HashMap::new(),
            waiting: VecDeque::new(),
            dead: VecDeque::new(),
        }
    }

    pub(super) fn timer(&self) -> &Notify {
        &self.timer
    }

    pub(super) fn publish(
        &mut self,
        task: Task,
        delay: Option<Duration>,
        now: Instant,
    ) -> MessageId {
        self.next_id += 1;
        let id = MessageId::new(format!("m{}", self.next_id));
        let msg = Message {
            id: id.clone(),
            task: Arc::new(task),
            deliveries: 0,
        };
        self.enqueue(msg, delay, now);
        id
    }

    fn enqueue(&mut self, msg: Message, delay: Option<Duration>, now: Instant) {
        match delay.filter(|d| !d.is_zero()) {
            Some(delay) => {
                // A delay too long to add is as good as never: a year.
                let due = now
                    .checked_add(delay)
                    .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3_600)))
                    .unwrap_or(now);
                self.next_seq += 1;
                let seq = self.next_seq;
                self.delayed.push(Delayed { due, seq, msg });
                self.arm(due);
            }
            None => {
                self.ready.push_back(msg);
                self.wake(1);
            }
        }
    }

    /// Makes sure the timer task looks again no later than `at`.
    fn arm(&mut self, at: Instant) {
        if self.timer_target.is_none_or(|t| at < t) {
            self.timer_target = Some(at);
            self.timer.notify_one();
        }
    }

    /// Wakes up to `n` idle consumers.
    fn wake(&mut self, mut n: usize) {
        while n > 0 {
            let Some(id) = self.waiting.pop_front() else {
                return;
            };
            if let Some(slot) = self.consumers.get_mut(&id)
                && slot.waiting
            {
                slot.waiting = false;
                slot.notify.notify_one();
                n -= 1;
            }
        }
    }

    /// A message comes back unacknowledged: dead-letter it if it used up its
    /// deliveries, else queue it again.
    fn hand_back(&mut self, msg: Message, delay: Option<Duration>, now: Instant) {
        if msg.deliveries >= self.max_deliveries {
            self.bury(msg, DeadReason::DeliveryLimit);
        } else {
            self.enqueue(msg, delay, now);
        }
    }

    fn bury(&mut self, msg: Message, reason: DeadReason) {
        if self.dead.len() >= self.dead_capacity {
            self.dead.pop_front();
        }
        self.dead.push_back(DeadLetter {
            id: msg.id,
            task: Arc::unwrap_or_clone(msg.task),
            deliveries: msg.deliveries,
            reason,
            at: SystemTime::now(),
        });
    }

    pub(super) fn add_consumer(&mut self, prefetch: usize) -> (u64, Arc<Notify>) {
        self.next_consumer += 1;
        let id = self.next_consumer;
        let notify = Arc::new(Notify::new());
        self.consumers.insert(
            id,
            Slot {
                prefetch,
                in_flight: 0,
                notify: notify.clone(),
                waiting: false,
                parked: false,
            },
        );
        (id, notify)
    }

    /// Hands back everything consumer `id` holds and forgets it.
    pub(super) fn remove_consumer(&mut self, id: u64, now: Instant) {
        self.consumers.remove(&id);
        let tags: Vec<u64> = self
            .unacked
            .iter()
            .filter(|(_, u)| u.consumer == id)
            .map(|(tag, _)| *tag)
            .collect();
        for tag in tags {
            if let Some(u) = self.unacked.remove(&tag) {
                self.hand_back(u.msg, None, now);
            }
        }
        // A wake-up meant for this consumer may have been lost with it.
        self.wake(self.ready.len());
    }

    /// The next delivery for consumer `id`, if it has capacity and a message is ready.
    pub(super) fn take(&mut self, id: u64, now: Instant) -> Take {
        let Some(slot) = self.consumers.get_mut(&id) else {
            return Take::Gone;
        };
        slot.waiting = false;
        slot.parked = true;
        if slot.in_flight >= slot.prefetch {
            // An ack, nack or expiry of one of its deliveries wakes it (`release`).
            return Take::Wait;
        }
        let Some(mut msg) = self.ready.pop_front() else {
            slot.waiting = true;
            self.waiting.push_back(id);
            return Take::Wait;
        };
        slot.parked = false;
        slot.in_flight += 1;
        msg.deliveries += 1;
        self.next_tag += 1;
        let tag = self.next_tag;
        let out = Take::Ready(msg.id.clone(), msg.task.clone(), msg.deliveries, tag);
        let deadline = now + self.ack_timeout;
        self.unacked.insert(
            tag,
            Unacked {
                msg,
                consumer: id,
                deadline,
            },
        );
        self.arm(deadline);
        out
    }

    /// Settles delivery `tag`.
    pub(super) fn settle(&mut self, tag: u64, outcome: Outcome, now: Instant) -> Result<()> {
        let unacked = self.unacked.remove(&tag).ok_or(Error::Stale)?;
        self.release(unacked.consumer);
        match outcome {
            Outcome::Ack => {}
            Outcome::Requeue { delay } => self.hand_back(unacked.msg, delay, now),
            Outcome::Reject => self.bury(unacked.msg, DeadReason::Rejected),
        }
        Ok(())
    }

    /// Consumer `id` holds one delivery less.
    fn release(&mut self, id: u64) {
        if let Some(slot) = self.consumers.get_mut(&id) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
            if slot.parked {
                slot.notify.notify_one();
            }
        }
    }

    /// Expires leases and releases due delayed messages; returns when to look again.
    pub(super) fn tick(&mut self, now: Instant) -> Option<Instant> {
        while let Some(entry) = self.unacked.first_entry() {
            if entry.get().deadline > now {
                break;
            }
            let unacked = entry.remove();
            self.release(unacked.consumer);
            self.hand_back(unacked.msg, None, now);
        }
        let mut due = 0;
        while self.delayed.peek().is_some_and(|d| d.due <= now) {
            if let Some(d) = self.delayed.pop() {
                self.ready.push_back(d.msg);
                due += 1;
            }
        }
        self.wake(due);
        let lease = self.unacked.first_key_value().map(|(_, u)| u.deadline);
        let delayed = self.delayed.peek().map(|d| d.due);
        self.timer_target = match (lease, delayed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.timer_target
    }

    pub(super) fn depth(&self) -> crate::Depth {
        crate::Depth {
            ready: (self.ready.len() + self.delayed.len()) as u64,
            dead: self.dead.len() as u64,
        }
    }

    pub(super) fn dead_letters(&self, limit: usize) -> Vec<DeadLetter> {
        self.dead.iter().take(limit).cloned().collect()
    }

    pub(super) fn redrive(&mut self, id: &MessageId, now: Instant) -> Result<()> {
        let pos = self
            .dead
            .iter()
            .position(|d| &d.id == id)
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let dead = self
            .dead
            .remove(pos)
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let msg = Message {
            id: dead.id,
            task: Arc::new(dead.task),
            deliveries: 0,
        };
        self.enqueue(msg, None, now);
        Ok(())
    }
}
