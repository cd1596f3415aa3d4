//! Group commit: the run commits queued behind one another share one write
//! transaction on the writer thread.
//!
//! Each write runs in a savepoint of its own, so it stays all-or-nothing: one
//! that fails (a lost race, `Stale`) is rolled back to its savepoint and
//! answered at once, and the others go on. Every caller whose write applied
//! is answered only after the shared `COMMIT` returned, so an answer still
//! means what it meant with one transaction per write: the write is in the
//! WAL file (with `synchronous = NORMAL`: it survives the process being
//! killed; see the crate documentation). Only writes already queued when the
//! writer thread comes to them are grouped: a write never waits for others
//! to arrive, so one caller alone sees no added latency.
//!
//! What it saves is per transaction, not per statement: the lock
//! (`BEGIN IMMEDIATE`), the WAL frames of the pages that consecutive commits
//! share (a table's last leaf, its index pages, the usage counters), written
//! once per group instead of once per commit, and so the checkpoints that
//! WAL growth brings.

use crate::error::db;
use crate::{Error, Result};
use rusqlite::Connection;
use tokio::sync::oneshot;

/// The most writes one transaction takes: a bound on how long the first
/// caller of a group waits behind the others.
pub(crate) const MAX_GROUP: usize = 64;

/// A write that can share a transaction with others.
pub(crate) trait Grouped: Send {
    /// Runs the write on `conn`, inside a transaction the caller manages.
    /// `false` when it failed: its caller has been answered (or stopped
    /// waiting), and the changes it made must be rolled back.
    fn apply(&mut self, conn: &Connection) -> bool;

    /// Answers the caller once the transaction ended: `Ok` when it
    /// committed, else why not.
    fn settle(self: Box<Self>, committed: Result<()>);
}

/// A [`Grouped`] write: a closure and the caller waiting for its answer.
pub(crate) struct Write<T, F> {
    f: Option<F>,
    value: Option<T>,
    answer: Option<oneshot::Sender<Result<T>>>,
}

impl<T, F> Write<T, F> {
    pub(crate) fn new(f: F, answer: oneshot::Sender<Result<T>>) -> Self {
        Self {
            f: Some(f),
            value: None,
            answer: Some(answer),
        }
    }
}

impl<T, F> Grouped for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        // A caller that stopped waiting (its future dropped) gets nothing done.
        let Some(f) = self.f.take().filter(|_| self.answer_open()) else {
            return false;
        };
        match f(conn) {
            Ok(v) => {
                self.value = Some(v);
                true
            }
            Err(e) => {
                if let Some(answer) = self.answer.take() {
                    let _ = answer.send(Err(e));
                }
                false
            }
        }
    }

    fn settle(self: Box<Self>, committed: Result<()>) {
        let Self { value, answer, .. } = *self;
        let Some(answer) = answer else {
            return;
        };
        let result = committed.and_then(|()| {
            value.ok_or_else(|| Error::Unavailable("a grouped write did not run".into()))
        });
        let _ = answer.send(result);
    }
}

impl<T, F> Write<T, F> {
    fn answer_open(&self) -> bool {
        self.answer.as_ref().is_some_and(|a| !a.is_closed())
    }
}

/// Runs `group` in as few transactions as it can (one, unless a failure
/// undoes the whole transaction) and answers every caller.
pub(crate) fn run(conn: &Connection, group: Vec<Box<dyn Grouped>>) {
    let mut applied: Vec<Box<dyn Grouped>> = Vec::with_capacity(group.len());
    let mut open = false;
    let alone = group.len() == 1;
    for mut write in group {
        if !open {
            if let Err(e) = begin(conn) {
                write.settle(Err(e));
                continue;
            }
            open = true;
        }
        // One write alone needs no savepoint: its failure rolls back the
        // transaction, which holds nothing else.
        if !alone && let Err(e) = exec(conn, "SAVEPOINT weft_write") {
            write.settle(Err(e));
            continue;
        }
        if write.apply(conn) {
            if !alone && let Err(e) = exec(conn, "RELEASE weft_write") {
                // The savepoint stays open inside the transaction: give up
                // on the transaction as a whole.
                abandon(conn, &mut applied, &e);
                open = false;
                write.settle(Err(e));
                continue;
            }
            applied.push(write);
            continue;
        }
        write.settle(Err(Error::Unavailable("not applied".into())));
        if alone || conn.is_autocommit() {
            // Alone, or SQLite itself rolled the transaction back (an I/O
            // error, a full disk): nothing of it is left.
            if !conn.is_autocommit() {
                rollback(conn);
            }
            let e = Error::Unavailable(
                "the transaction was rolled back by a failure of another write; retry".into(),
            );
            abandon(conn, &mut applied, &e);
            open = false;
            continue;
        }
        if let Err(e) =
            exec(conn, "ROLLBACK TO weft_write").and_then(|()| exec(conn, "RELEASE weft_write"))
        {
            abandon(conn, &mut applied, &e);
            open = false;
        }
    }
    if !open {
        return;
    }
    let committed = exec(conn, "COMMIT");
    if committed.is_err() && !conn.is_autocommit() {
        rollback(conn);
    }
    for write in applied {
        write.settle(committed.clone());
    }
}

/// The transaction is lost: roll back what is left of it and answer the
/// writes it held with `why`.
fn abandon(conn: &Connection, applied: &mut Vec<Box<dyn Grouped>>, why: &Error) {
    if !conn.is_autocommit() {
        rollback(conn);
    }
    for write in applied.drain(..) {
        write.settle(Err(why.clone()));
    }
}

fn begin(conn: &Connection) -> Result<()> {
    exec(conn, "BEGIN IMMEDIATE")
}

fn rollback(conn: &Connection) {
    if let Err(e) = exec(conn, "ROLLBACK") {
        tracing::warn!(error = %e, "sqlite rollback failed");
    }
}

/// Runs one statement without parameters, prepared once per connection.
fn exec(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut st| st.execute([]))
        .map(drop)
        .map_err(db)
}
