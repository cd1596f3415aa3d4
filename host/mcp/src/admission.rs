//! What the guard keeps between requests: which key opened each 2025-11-25
//! session (a session id is usable only by its own key: another tenant's key
//! that learnt it can neither read its answers, nor cancel its calls, nor
//! close it), and how many MCP requests each tenant has in progress (a tool
//! call holds a connection while its run goes on; one tenant must not hold
//! the listener's connections).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A session is forgotten this long after its last request (the SDK ends an
/// idle one after 5 minutes).
const SESSION_IDLE: Duration = Duration::from_secs(10 * 60);

/// Past this many sessions, idle ones are swept on each new session.
const SWEEP_ABOVE: usize = 1_024;

/// The key a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    tenant: String,
    key: String,
}

/// Session ids by owner.
#[derive(Debug, Default)]
pub struct Sessions {
    owners: Mutex<HashMap<String, (Owner, Instant)>>,
}

/// What a session id in a request is to its caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Belongs {
    /// The caller's own.
    Yes,
    /// Unknown, ended, or another key's: answered as not found.
    No,
}

impl Sessions {
    /// Records that `tenant`'s `key` opened session `id`.
    pub fn opened(&self, id: &str, tenant: &str, key: &str) {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        if owners.len() > SWEEP_ABOVE {
            owners.retain(|_, (_, seen)| seen.elapsed() < SESSION_IDLE);
        }
        owners.insert(
            id.to_owned(),
            (
                Owner {
                    tenant: tenant.to_owned(),
                    key: key.to_owned(),
                },
                Instant::now(),
            ),
        );
    }

    /// Whether session `id` is `tenant`'s `key`'s (and marks it used).
    pub fn check(&self, id: &str, tenant: &str, key: &str) -> Belongs {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        match owners.get_mut(id) {
            Some((owner, seen))
                if owner.tenant == tenant && owner.key == key && seen.elapsed() < SESSION_IDLE =>
            {
                *seen = Instant::now();
                Belongs::Yes
            }
            _ => Belongs::No,
        }
    }

    /// Forgets session `id` (closed by its owner).
    pub fn closed(&self, id: &str) {
        self.owners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }
}

/// Per-tenant caps on MCP requests in progress.
#[derive(Debug)]
pub struct Slots {
    per_tenant: usize,
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Slots {
    /// `per_tenant` requests at once for each tenant (at least 1).
    pub fn new(per_tenant: u32) -> Self {
        Self {
            per_tenant: (per_tenant as usize).max(1),
            tenants: Mutex::default(),
        }
    }

    /// How many requests a tenant may have in progress.
    pub fn per_tenant(&self) -> usize {
        self.per_tenant
    }

    /// A slot for one of `tenant`'s requests, held until the permit is
    /// dropped (when the answer, streamed or not, has been sent); `None`
    /// when all are taken.
    pub fn take(&self, tenant: &str) -> Option<OwnedSemaphorePermit> {
        let sem = self
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        sem.try_acquire_owned().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_its_keys_only() {
        let s = Sessions::default();
        s.opened("sess-1", "ten_a", "key_a");
        assert_eq!(s.check("sess-1", "ten_a", "key_a"), Belongs::Yes);
        assert_eq!(
            s.check("sess-1", "ten_b", "key_b"),
            Belongs::No,
            "another tenant"
        );
        assert_eq!(
            s.check("sess-1", "ten_a", "key_a2"),
            Belongs::No,
            "another key of the tenant"
        );
        assert_eq!(s.check("sess-2", "ten_a", "key_a"), Belongs::No, "unknown");
        s.closed("sess-1");
        assert_eq!(s.check("sess-1", "ten_a", "key_a"), Belongs::No, "closed");
    }

    #[test]
    fn a_tenant_has_its_own_slots() {
        let slots = Slots::new(2);
        let a1 = slots.take("ten_a").unwrap();
        let _a2 = slots.take("ten_a").unwrap();
        assert!(slots.take("ten_a").is_none(), "a third at once");
        assert!(slots.take("ten_b").is_some(), "another tenant is not held");
        drop(a1);
        assert!(
            slots.take("ten_a").is_some(),
            "a slot comes back when its answer is sent"
        );
    }
}
