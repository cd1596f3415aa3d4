//! The queue conformance suite: one async function per behaviour of the
//! [`Queue`] port. Every adapter runs all of them, unchanged, through
//! [`conformance_tests!`](crate::conformance_tests).
//!
//! Each function takes a factory that returns a fresh, empty queue configured
//! with the given [`Settings`]. Waits are bounded: an expected delivery must
//! come within [`WAIT`], an absence is checked over [`QUIET`] (or the relevant
//! delay). The functions use tokio time only, so an adapter on tokio timers can
//! run them with paused time (`#[tokio::test(start_paused = true)]`) and take no
//! wall-clock time at all; a broker adapter runs them in real time (about
//! fifteen seconds in all).
//!
//! Failures panic with a message naming the broken behaviour: this module is
//! test support, compiled only with the `conformance` feature.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod dead_letter;
mod delivery;
mod load;

pub use dead_letter::*;
pub use delivery::*;
pub use load::*;

use crate::{Consumer, DeadReason, Delivery, Error, MessageId, Queue, Task};
use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{sync::Notify, time::timeout};

/// How the factory must configure the queue it builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Unsettled deliveries are handed back after this long.
    pub ack_timeout: Duration,
    /// A message is dead-lettered instead of being delivered more than this many times.
    pub max_deliveries: u32,
}

/// The settings every suite function asks for.
pub const SETTINGS: Settings = Settings {
    ack_timeout: Duration::from_secs(4),
    max_deliveries: 3,
};

/// Longest wait for a delivery that must come.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long a consumer is watched to show that nothing comes.
pub const QUIET: Duration = Duration::from_millis(300);

async fn fresh<F, Fut>(factory: F) -> Arc<dyn Queue>
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = Arc<dyn Queue>>,
{
    factory(SETTINGS).await
}

fn task(n: u32) -> Task {
    Task::new("tenant-a", format!("run-{n}"), "step", 1).with_payload(n.to_le_bytes().to_vec())
}

fn index(delivery: &Delivery) -> u32 {
    let bytes: [u8; 4] = delivery.task().payload.as_slice().try_into().unwrap();
    u32::from_le_bytes(bytes)
}

async fn recv(consumer: &mut Consumer, what: &str) -> Delivery {
    recv_within(consumer, WAIT, what).await
}

/// A redelivery that must not wait for the ack timeout.
async fn recv_prompt(consumer: &mut Consumer, what: &str) -> Delivery {
    recv_within(consumer, SETTINGS.ack_timeout / 2, what).await
}

async fn recv_within(consumer: &mut Consumer, within: Duration, what: &str) -> Delivery {
    match timeout(within, consumer.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(e))) => panic!("{what}: consumer error: {e}"),
        Ok(None) => panic!("{what}: consumer ended"),
        Err(_) => panic!("{what}: nothing delivered within {within:?}"),
    }
}

async fn quiet(consumer: &mut Consumer, over: Duration, what: &str) {
    if let Ok(got) = timeout(over, consumer.next()).await {
        panic!("{what}: expected no delivery for {over:?}, got {got:?}");
    }
}

async fn publish(queue: &dyn Queue, task: Task, delay: Option<Duration>) -> MessageId {
    queue.publish(task, delay).await.expect("publish")
}

/// Turns the whole suite into tests in the calling crate:
/// `weft_queue::conformance_tests!(#[tokio::test] factory);` where `factory` is
/// an `async fn(Settings) -> Arc<dyn Queue>` returning a fresh queue.
#[macro_export]
macro_rules! conformance_tests {
    ($(#[$attr:meta])* $factory:path) => {
        $crate::conformance_tests!(@each [$(#[$attr])*] $factory;
            publish_consume_ack,
            nack_requeue_redelivers,
            nack_reject_dead_letters,
            dropped_delivery_redelivers,
            consumer_drop_redelivers,
            ack_timeout_redelivers,
            delayed_delivery,
            prefetch_bound,
            delivery_limit_dead_letters,
            dead_letters_list_and_redrive,
            payload_limit,
            many_producers_and_consumers,
        );
    };
    (@each $attrs:tt $factory:path; $($name:ident,)*) => {
        $( $crate::conformance_tests!(@one $attrs $factory; $name); )*
    };
    (@one [$($attr:tt)*] $factory:path; $name:ident) => {
        $($attr)*
        async fn $name() {
            $crate::conformance::$name($factory).await;
        }
    };
}
