//! The store's threads: one writer and a few readers, each owning one
//! connection and running the jobs (closures) the store methods send it.
//!
//! A call costs one hop each way: the caller's task queues a boxed closure and
//! awaits its answer on a `oneshot`; the thread runs it to the end (a whole
//! transaction) and sends the answer back. No runtime thread ever touches
//! SQLite or blocks on it.
//!
//! The writer has its own queue; the readers share one (whichever is idle
//! takes the next job). Run commits queued behind each other on the writer
//! share one transaction ([`crate::group`]). A thread stops when its queue is closed and empty: when
//! the store is dropped or [`Sqlite::close`](crate::Sqlite::close)d, after the
//! jobs already queued have run.

use crate::group::{self, Grouped};
use crate::{Error, Result, Sqlite};
use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::sync::PoisonError;
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// Work for a connection's thread.
pub(crate) enum Job {
    /// Runs on its own (it manages its transaction, if any).
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
    /// A write that may share a transaction with the grouped writes queued
    /// behind it (writer only).
    Grouped(Box<dyn Grouped>),
}

/// Where calls go, until the store is closed.
pub(crate) struct Queues {
    /// To the writer thread.
    pub(crate) writer: flume::Sender<Job>,
    /// To whichever reader thread is idle.
    pub(crate) readers: flume::Sender<Job>,
}

/// One of the store's threads.
pub(crate) struct Worker {
    handle: JoinHandle<()>,
    /// Closed (its sender dropped) as the thread's last act, after its connection closed.
    done: oneshot::Receiver<()>,
}

/// What a thread reports once its connection is open, or why it is not.
pub(crate) type Ready = oneshot::Receiver<std::result::Result<(), String>>;

impl Worker {
    /// Starts a thread that opens its connection with `open`, reports on
    /// [`Ready`], then runs `jobs` until that queue is closed and empty.
    pub(crate) fn spawn(
        name: String,
        open: impl FnOnce() -> std::result::Result<Connection, String> + Send + 'static,
        jobs: flume::Receiver<Job>,
    ) -> Result<(Self, Ready)> {
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                match open() {
                    Ok(mut conn) => {
                        let _ = ready_tx.send(Ok(()));
                        serve(&mut conn, &jobs);
                        drop(conn);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
                drop(jobs);
                drop(done_tx);
            })
            .map_err(|e| Error::Unavailable(format!("starting thread {name}: {e}")))?;
        Ok((Self { handle, done }, ready))
    }

    /// Waits (without blocking the runtime) for the thread to finish, then joins it.
    pub(crate) async fn stop(self) {
        let Self { handle, done } = self;
        let _ = done.await;
        // The thread has closed its connection and is returning: this join is immediate.
        Self::join_thread(handle);
    }

    /// Blocks until the thread has finished.
    pub(crate) fn join(self) {
        Self::join_thread(self.handle);
    }

    fn join_thread(handle: JoinHandle<()>) {
        if handle.join().is_err() {
            tracing::warn!("a sqlite store thread panicked");
        }
    }
}

/// Runs jobs until the queue is closed and empty; a grouped job takes the
/// grouped jobs queued right behind it into its transaction. A job that
/// panics (none should) is dropped, its caller answered `Unavailable`; the
/// thread goes on.
fn serve(conn: &mut Connection, jobs: &flume::Receiver<Job>) {
    let mut next = None;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        let ran = match job {
            Job::Alone(f) => std::panic::catch_unwind(AssertUnwindSafe(|| f(conn))),
            Job::Grouped(first) => {
                let mut writes = vec![first];
                while writes.len() < group::MAX_GROUP {
                    match jobs.try_recv() {
                        Ok(Job::Grouped(w)) => writes.push(w),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                std::panic::catch_unwind(AssertUnwindSafe(|| group::run(conn, writes)))
            }
        };
        if ran.is_err() {
            tracing::error!("a sqlite store job panicked");
            if !conn.is_autocommit()
                && let Err(e) = conn.execute_batch("ROLLBACK")
            {
                tracing::warn!(error = %e, "sqlite rollback after a panic failed");
            }
        }
    }
}

/// The answer a caller gets once the store is closed.
fn closed() -> Error {
    Error::Unavailable("the sqlite store is closed".into())
}

impl Sqlite {
    /// Runs `f` on the writer connection: every write goes through here, one
    /// at a time, so the store's own writers never meet `SQLITE_BUSY`.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.call(|q| &q.writer, f).await
    }

    /// Runs `f` on the writer connection inside a write transaction that it
    /// may share with other grouped writes queued at the same time (group
    /// commit, [`crate::group`]): `f`'s changes are all-or-nothing, and the
    /// answer comes once the shared transaction committed.
    pub(crate) async fn write_grouped<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Job::Grouped(Box::new(group::Write::new(f, tx)));
        self.send(|q| &q.writer, job)?;
        rx.await.map_err(|_| closed())?
    }

    /// Runs `f` on an idle reader connection (`query_only`).
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.call(|q| &q.readers, f).await
    }

    async fn call<T, F>(&self, queue: fn(&Queues) -> &flume::Sender<Job>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job = Job::Alone(Box::new(move |conn| {
            // A caller that stopped waiting (its future dropped) gets nothing done.
            if !tx.is_closed() {
                let _ = tx.send(f(conn));
            }
        }));
        self.send(queue, job)?;
        // Dropped unanswered: the thread stopped (closed store, panicked job).
        rx.await.map_err(|_| closed())?
    }

    fn send(&self, queue: fn(&Queues) -> &flume::Sender<Job>, job: Job) -> Result<()> {
        let queues = self.queues.read().unwrap_or_else(PoisonError::into_inner);
        let sender = queue(queues.as_ref().ok_or_else(closed)?);
        sender.send(job).map_err(|_| closed())
    }
}
