//! Throughput of the in-process queue on one core: publish, consume and ack.
//!
//! `cargo bench -p weft-queue --bench throughput` prints messages per second for
//! a batch (publish everything, then drain) and for a pipeline (one producer and
//! four consumers running together on a current-thread runtime).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;
use weft_queue::{Queue, Task, memory};

const N: u32 = 200_000;

fn task(n: u32) -> Task {
    Task::new("tenant-1", "run_01hv7k3", format!("step-{}", n % 16), 1)
}

async fn batch() -> f64 {
    let queue = memory::Handle::start(memory::Options::default()).unwrap();
    let start = Instant::now();
    for n in 0..N {
        queue.publish(task(n), None).await.unwrap();
    }
    let mut consumer = queue.consume(256).await.unwrap();
    for _ in 0..N {
        consumer.next().await.unwrap().unwrap().ack().await.unwrap();
    }
    f64::from(N) / start.elapsed().as_secs_f64()
}

async fn pipeline() -> f64 {
    let queue = memory::Handle::start(memory::Options::default()).unwrap();
    let start = Instant::now();
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let mut consumer = queue.consume(64).await.unwrap();
        consumers.push(tokio::spawn(async move {
            let mut n = 0u32;
            while n < N / 4 {
                consumer.next().await.unwrap().unwrap().ack().await.unwrap();
                n += 1;
            }
        }));
    }
    for n in 0..N {
        queue.publish(task(n), None).await.unwrap();
        if n.is_multiple_of(256) {
            tokio::task::yield_now().await;
        }
    }
    for c in consumers {
        c.await.unwrap();
    }
    f64::from(N) / start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..3 {
        let b = rt.block_on(batch());
        let p = rt.block_on(pipeline());
        println!("memory queue, {N} messages: batch {b:>10.0} msg/s   pipeline {p:>10.0} msg/s");
    }
}
