//! The ready messages, taken round robin by tenant: one queue per tenant with
//! something ready, and a ring of those tenants. A tenant that publishes
//! thousands of tasks gets one turn in each round, like every other tenant,
//! so another tenant's task waits behind at most one task of each tenant, not
//! behind the whole backlog. Within a tenant, first in, first out. A tenant
//! whose queue empties leaves the ring and the map: memory follows what is
//! ready.

use super::state::Message;
use std::collections::{HashMap, VecDeque};

#[derive(Default)]
pub(super) struct Fair {
    queues: HashMap<String, VecDeque<Message>>,
    /// Tenants with a non-empty queue, each once, next turn first.
    ring: VecDeque<String>,
    len: usize,
}

impl Fair {
    pub(super) fn push_back(&mut self, msg: Message) {
        let tenant = msg.task.tenant_id.as_str();
        if let Some(q) = self.queues.get_mut(tenant) {
            q.push_back(msg);
        } else {
            let tenant = tenant.to_owned();
            self.ring.push_back(tenant.clone());
            self.queues.insert(tenant, VecDeque::from([msg]));
        }
        self.len += 1;
    }

    /// The next tenant's oldest message; that tenant goes to the back of the
    /// ring (or leaves it when it has no more).
    pub(super) fn pop_front(&mut self) -> Option<Message> {
        let tenant = self.ring.pop_front()?;
        let q = self.queues.get_mut(&tenant)?;
        let msg = q.pop_front();
        if q.is_empty() {
            self.queues.remove(&tenant);
        } else {
            self.ring.push_back(tenant);
        }
        if msg.is_some() {
            self.len -= 1;
        }
        msg
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{MessageId, Task};
    use std::sync::Arc;

    fn msg(tenant: &str, n: u32) -> Message {
        Message {
            id: MessageId::new(format!("{tenant}{n}")),
            task: Arc::new(Task::new(tenant, format!("run-{n}"), "s", 1)),
            deliveries: 0,
        }
    }

    fn order(f: &mut Fair) -> Vec<String> {
        std::iter::from_fn(|| f.pop_front())
            .map(|m| m.id.as_str().to_owned())
            .collect()
    }

    #[test]
    fn a_flooding_tenant_takes_turns_with_the_others() {
        let mut f = Fair::default();
        for n in 0..1_000 {
            f.push_back(msg("a", n));
        }
        f.push_back(msg("b", 0));
        f.push_back(msg("c", 0));
        f.push_back(msg("b", 1));
        assert_eq!(f.len(), 1_003);
        let got = order(&mut f);
        assert_eq!(got[..6], ["a0", "b0", "c0", "a1", "b1", "a2"]);
        assert_eq!(got.len(), 1_003);
        assert_eq!(got.last().unwrap(), "a999", "a's own order is kept");
        assert_eq!(f.len(), 0);
        assert!(f.queues.is_empty() && f.ring.is_empty(), "nothing kept");
    }

    #[test]
    fn a_tenant_that_comes_back_joins_at_the_back() {
        let mut f = Fair::default();
        f.push_back(msg("a", 0));
        f.push_back(msg("b", 0));
        assert_eq!(f.pop_front().unwrap().id.as_str(), "a0");
        f.push_back(msg("a", 1));
        f.push_back(msg("b", 1));
        assert_eq!(order(&mut f), ["b0", "a1", "b1"]);
        assert!(f.pop_front().is_none());
    }
}
