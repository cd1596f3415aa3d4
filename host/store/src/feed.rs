//! A feed of runs that answered or ended: what lets a process waiting for a
//! run's answer (a synchronous webhook) be woken by a commit made in another
//! process, instead of polling the store (`docs/DISTRIBUTED.md`, "Waiting
//! for a run").

use async_trait::async_trait;

/// What a [`RunFeed`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEvent {
    /// A commit of any process set the response of the run with this id, or
    /// ended it.
    Answered(String),
    /// The feed is connected (again): every event from now on is reported.
    /// Events of the time before may have been missed, so waiters look again.
    Connected,
    /// The feed lost its connection: events are missed until the next
    /// [`RunEvent::Connected`] (the feed reconnects by itself), so waiters
    /// poll meanwhile.
    Lost,
}

/// A live feed of [`RunEvent`]s; [`crate::Store::run_feed`] makes one.
#[async_trait]
pub trait RunFeed: Send {
    /// Waits for the next event. The first is `Connected` (or `Lost`, when
    /// the feed cannot connect: it keeps trying, with a back-off).
    async fn next(&mut self) -> RunEvent;
}
