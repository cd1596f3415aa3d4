//! The task queue: the port the engine and the worker use to hand step tasks
//! around, the in-process adapter ([`memory`]) and the conformance suite every
//! adapter must pass.
//!
//! The queue carries *hints* — "step S of run R may run now" — never the source
//! of truth, which is the database. Its contract is a broker's:
//!
//! - **At-least-once delivery.** A [`Delivery`] must be settled: [`ack`] after
//!   the step's result has committed, [`nack`]`(true)` or [`retry_after`] to
//!   have it delivered again, [`nack`]`(false)` to dead-letter it. A delivery
//!   that is dropped unsettled, held by a dropped [`Consumer`], or not settled
//!   within the ack timeout is delivered again (`redelivered()` is then true).
//! - **Exactly-once effect is the engine's job.** A redelivery can reach a
//!   second worker while the first is still running the step; the worker takes
//!   the step's lease in the database first (`docs/ENGINE.md`, "Delivery and
//!   leases"), so the duplicate finds the lease held and is acked unrun. An ack
//!   of a delivery that was already handed back fails with [`Error::Stale`].
//! - **Bounded prefetch.** A consumer holds at most `prefetch` unsettled
//!   deliveries; the next one waits for an ack.
//! - **Delayed delivery** for retry backoff: `publish(task, Some(delay))`.
//! - **Poison messages** are dead-lettered after the adapter's delivery limit;
//!   operators list them with [`Queue::dead_letters`] and put them back with
//!   [`Queue::redrive`].
//! - **No ordering** is promised, between producers or otherwise.
//!
//! ```
//! use std::time::Duration;
//! use weft_queue::{Queue, Task, memory};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> weft_queue::Result<()> {
//! let queue = memory::Handle::start(memory::Options::default())?;
//! queue.publish(Task::new("tenant-1", "run-1", "fetch", 1), None).await?;
//! queue.publish(Task::new("tenant-1", "run-1", "retry-me", 2), Some(Duration::from_millis(5))).await?;
//!
//! let mut consumer = queue.consume(16).await?;
//! while let Some(delivery) = consumer.next().await {
//!     let delivery = delivery?;
//!     // ... take the lease, run the step, commit the result ...
//!     let last = delivery.task().step_key == "retry-me";
//!     delivery.ack().await?;
//!     if last {
//!         break;
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Conformance
//!
//! With the `conformance` feature, `weft_queue::conformance` holds one async
//! function per behaviour, each taking a factory that builds a fresh queue from
//! [`conformance::Settings`](crate#conformance); `conformance_tests!` turns the
//! whole list into `#[test]`s. An adapter's test file is:
//!
//! ```
//! # #[cfg(feature = "conformance")] mod adapter_tests {
//! use std::sync::Arc;
//! use weft_queue::{Queue, conformance::Settings, memory};
//!
//! // A fresh, empty queue configured with the suite's settings.
//! async fn queue(settings: Settings) -> Arc<dyn Queue> {
//!     let options = memory::Options {
//!         ack_timeout: settings.ack_timeout,
//!         max_deliveries: settings.max_deliveries,
//!         ..memory::Options::default()
//!     };
//!     Arc::new(memory::Handle::start(options).expect("valid options"))
//! }
//!
//! weft_queue::conformance_tests!(#[tokio::test(start_paused = true)] queue);
//! # }
//! ```
//!
//! [`ack`]: Delivery::ack
//! [`nack`]: Delivery::nack
//! [`retry_after`]: Delivery::retry_after

pub mod memory;
mod port;
mod task;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use port::{Acker, Consumer, DeadLetter, DeadReason, Delivery, Depth, Outcome, Queue};
pub use task::{MessageId, Task};

/// What can go wrong with a queue operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No dead letter has this id.
    #[error("no dead letter with id `{0}`")]
    NotFound(MessageId),
    /// The delivery was already handed back to the queue (its ack timeout
    /// passed or its consumer was dropped); it is, or will be, delivered again.
    #[error("the delivery is no longer held by this consumer; the message was handed back")]
    Stale,
    /// A task's payload is over [`Task::MAX_PAYLOAD_BYTES`].
    #[error("task payload of {size} bytes is over the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The payload's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An argument or option out of range.
    #[error("invalid queue argument: {0}")]
    Invalid(&'static str),
    /// The backend cannot be reached or refused the operation; worth retrying.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
