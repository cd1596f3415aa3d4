//! Wakes this process's run waiters ([`Handle::wait`]) from the store's run
//! feed (PostgreSQL `LISTEN/NOTIFY`), so that a run answered by a commit in
//! another process (a worker) is seen at once instead of by polling
//! (`docs/DISTRIBUTED.md`, "Waiting for a run"). One feed per process,
//! started by the first wait, fanned out to every waiter by run id.

use crate::Handle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio_util::sync::{CancellationToken, DropGuard};
use weft_store::RunEvent;

/// The running feed: whether it is connected, and its task's stop (the task
/// ends when the handle's last clone is dropped).
pub(crate) struct Feed {
    up: Arc<AtomicBool>,
    _stop: DropGuard,
}

impl Handle {
    /// Whether the run feed is connected (every answer committed anywhere
    /// then wakes its waiters); starts it on the first call. `false` when the
    /// store has no feed or it is down: waiters poll.
    pub(crate) fn feed_up(&self) -> bool {
        self.0
            .feed
            .get_or_init(|| self.start_feed())
            .as_ref()
            .is_some_and(|f| f.up.load(Ordering::Acquire))
    }

    fn start_feed(&self) -> Option<Feed> {
        let mut feed = self.store().run_feed()?;
        let up = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let waiters = self.0.waiters.clone();
        let (connected, stopped) = (up.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    () = stopped.cancelled() => break,
                    e = feed.next() => e,
                };
                match event {
                    RunEvent::Answered(id) => waiters.wake(&id),
                    // Answers committed while it was down were missed: every
                    // waiter looks again.
                    RunEvent::Connected => {
                        connected.store(true, Ordering::Release);
                        waiters.wake_all();
                    }
                    // Every waiter looks again, and polls until it is back.
                    RunEvent::Lost => {
                        if connected.swap(false, Ordering::AcqRel) {
                            waiters.wake_all();
                        }
                    }
                }
            }
        });
        Some(Feed {
            up,
            _stop: stop.drop_guard(),
        })
    }
}
