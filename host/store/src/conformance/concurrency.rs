//! Concurrent commits: one winner per `seq` or tick, no spurious failures.

use super::*;

/// Concurrent commits from the same `seq`: exactly one wins and the stored run
/// is the winner's; likewise for two runs started by the same schedule tick.
pub async fn commit_concurrent_one_wins<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let r = run(A, "run_1", "wf_1");
    put_run(&*store, &r, &[]).await;
    let commits: Vec<Commit> = (0..4)
        .map(|n| {
            let (mut m, e) = next(&r);
            m.output = Some(json!(n));
            Commit {
                runs: vec![(m, e)],
                ..Commit::default()
            }
        })
        .collect();
    let results = run_all(&store, commits.clone()).await;
    let winners: Vec<usize> = (0..4).filter(|n| results[*n].is_ok()).collect();
    assert_eq!(winners.len(), 1, "one winner among {results:?}");
    for res in &results {
        assert!(matches!(res, Ok(()) | Err(Error::Stale(_))), "{res:?}");
    }
    let stored = store.get_run(A, "run_1").await.unwrap();
    assert_eq!(stored.as_ref(), Some(&commits[winners[0]].runs[0].0));

    put_workflow(&*store, A, "wf_1").await;
    let s = schedule(A, "wf_1", 5_000);
    store
        .set_active(A, "wf_1", true, Some(&s), 100)
        .await
        .unwrap();
    let ticks: Vec<Commit> = (0..4)
        .map(|n| Commit {
            schedule: Some(ScheduleAdvance {
                tenant_id: A.into(),
                workflow_id: "wf_1".into(),
                expected: 5_000,
                next: 6_000,
            }),
            ..create(&run(A, &format!("run_t{n}"), "wf_1"), &[])
        })
        .collect();
    let results = run_all(&store, ticks).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let runs = store
        .list_runs(A, &RunFilter::default(), &Page::first(100))
        .await
        .unwrap();
    assert_eq!(runs.len(), 2, "one run per tick plus run_1");
}

pub(super) async fn run_all(
    store: &Arc<dyn Store>,
    commits: Vec<Commit>,
) -> Vec<crate::Result<()>> {
    let tasks: Vec<_> = commits
        .into_iter()
        .map(|c| {
            let store = store.clone();
            tokio::spawn(async move { store.commit(&c).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("commit task"));
    }
    out
}

/// Many concurrent commits to different runs all land (no spurious conflict
/// or busy error between the store's own writers).
pub async fn commit_concurrent_distinct_runs<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut r = run(A, &format!("run_{n:02}"), "wf_1");
                let s = step(&r, "a", Status::Pending);
                store.commit(&create(&r, &[s])).await?;
                for _ in 0..3 {
                    let (m, e) = next(&r);
                    let loaded = store.load_run(A, &r.id).await?;
                    assert_eq!(
                        loaded.map(|l| l.run),
                        Some(r.clone()),
                        "reads see the last commit"
                    );
                    store
                        .commit(&Commit {
                            runs: vec![(m.clone(), e)],
                            ..Commit::default()
                        })
                        .await?;
                    r = m;
                }
                crate::Result::<()>::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("commit task").expect("every commit lands");
    }
    let runs = store
        .list_runs(A, &RunFilter::default(), &Page::first(100))
        .await
        .unwrap();
    assert_eq!(runs.len(), 16);
    assert!(runs.iter().all(|r| r.seq == 4), "every run at seq 4");
}
