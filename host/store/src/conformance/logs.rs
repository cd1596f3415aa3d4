//! Step logs in the journal: an attempt's records read back in order, with
//! their fields in order and the truncation marker kept; the digest of the
//! component that ran it.

use super::*;
use weft_types::log::{self, Level, LogRecord, Source};

/// An attempt's `logs` come back exactly (order, levels, sources, fields in
/// their order, the truncation marker last); an attempt written without logs
/// reads back with none; rewriting an attempt replaces its logs.
pub async fn attempt_logs_round_trip<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut s = step(&r, "fetch", Status::Running);
    s.attempt = 2;
    let bare = attempt(&s, 1);
    let mut running = attempt(&s, 2);
    running.logs = vec![LogRecord::new(Level::Info, "early")];
    let c = Commit {
        attempts: vec![bare.clone(), running],
        ..create(&r, std::slice::from_ref(&s))
    };
    store.commit(&c).await.unwrap();

    let records: Vec<LogRecord> = (0..5_000)
        .map(|n| LogRecord {
            level: [
                Level::Trace,
                Level::Debug,
                Level::Info,
                Level::Warn,
                Level::Error,
            ][n % 5],
            source: [Source::Log, Source::Stdout, Source::Stderr][n % 3],
            message: format!("record {n}: é 🎉 \"q\""),
            fields: vec![("z".into(), n.to_string()), ("a".into(), String::new())],
        })
        .collect();
    let kept = log::bound(records, 2);
    assert!(kept.len() < 5_000, "the budget cut the log");
    let mut done = attempt(&s, 2);
    done.status = Status::Completed;
    done.finished_at = Some(2_000);
    done.logs = kept.clone();
    let (r2, e2) = next(&r);
    let c = Commit {
        runs: vec![(r2, e2)],
        attempts: vec![done.clone()],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    let got = store.list_attempts(A, "run_1").await.unwrap();
    assert_eq!(got, vec![bare, done], "both attempts, logs as written");
    assert!(got[0].logs.is_empty(), "an attempt without logs has none");
    let logs = &got[1].logs;
    assert_eq!(logs.len(), kept.len(), "the rewrite replaced the early log");
    assert_eq!(logs[0].message, "record 0: é 🎉 \"q\"");
    assert_eq!(logs[0].fields[0], ("z".to_owned(), "0".to_owned()));
    let marker = logs.last().unwrap();
    assert!(
        marker.is_marker(),
        "the truncation marker is kept: {marker:?}"
    );
    assert!(marker.message.starts_with("[log truncated: "));
}

/// An attempt's `digest` (the component that ran it) reads back as written;
/// an attempt without one (claimed, nothing resolved yet) reads back with
/// none; completing the attempt sets it.
pub async fn attempt_digest_round_trip<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    let mut s = step(&r, "fetch", Status::Running);
    s.attempt = 2;
    let digest = format!("sha256:{}", "0f".repeat(32));
    let mut first = attempt(&s, 1);
    first.status = Status::Failed;
    first.digest = Some(format!("sha256:{}", "e1".repeat(32)));
    let claimed = attempt(&s, 2);
    let c = Commit {
        attempts: vec![first.clone(), claimed],
        ..create(&r, std::slice::from_ref(&s))
    };
    store.commit(&c).await.unwrap();
    let got = store.list_attempts(A, "run_1").await.unwrap();
    assert_eq!(got[0].digest, first.digest, "written with the attempt");
    assert_eq!(got[1].digest, None, "a claimed attempt has none yet");

    let mut done = attempt(&s, 2);
    done.status = Status::Completed;
    done.finished_at = Some(2_000);
    done.digest = Some(digest.clone());
    let (r2, e2) = next(&r);
    let c = Commit {
        runs: vec![(r2, e2)],
        attempts: vec![done.clone()],
        ..Commit::default()
    };
    store.commit(&c).await.unwrap();
    let got = store.list_attempts(A, "run_1").await.unwrap();
    assert_eq!(got, vec![first, done], "the rewrite set the digest");
    assert_eq!(got[1].digest.as_deref(), Some(digest.as_str()));
}
