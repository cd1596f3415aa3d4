//! What the console lists: workflows by a part of their name, each
//! workflow's newest run, runs by trigger and creation time, run statistics.

use super::*;

/// `list_workflows` with a name filter: a substring, ASCII letters in either
/// case, other characters exactly; `%`, `_` and `\` are plain characters;
/// pages and tenants as without a filter.
pub async fn workflows_search_by_name<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let names = [
        ("wf_01", "Nightly Report"),
        ("wf_02", "report: 100% done"),
        ("wf_03", "send_mail"),
        ("wf_04", "sendXmail"),
        ("wf_05", "Ärger REPORT"),
        ("wf_06", "ärger"),
        ("wf_07", r"back\slash"),
    ];
    for (id, name) in names {
        let mut w = workflow(A, id);
        w.name = name.into();
        store.create_workflow(&w, &version(A, id, 1)).await.unwrap();
    }
    let mut theirs = workflow(B, "wf_08");
    theirs.name = "Report of B".into();
    store
        .create_workflow(&theirs, &version(B, "wf_08", 1))
        .await
        .unwrap();
    let find = |q: &str, before: Option<&str>, limit: u32| {
        let store = store.clone();
        let filter = WorkflowFilter {
            name: Some(q.to_owned()),
        };
        let page = Page {
            before: before.map(str::to_owned),
            limit,
        };
        async move {
            let got = store.list_workflows(A, &filter, &page).await.unwrap();
            ids(&got, |w| &w.id)
        }
    };
    assert_eq!(
        find("report", None, 100).await,
        ["wf_05", "wf_02", "wf_01"],
        "ASCII letters in either case, newest first, this tenant's only"
    );
    assert_eq!(find("REPORT", None, 2).await, ["wf_05", "wf_02"]);
    assert_eq!(find("REPORT", Some("wf_02"), 2).await, ["wf_01"]);
    assert_eq!(
        find("100%", None, 100).await,
        ["wf_02"],
        "`%` is a character"
    );
    assert_eq!(find("%", None, 100).await, ["wf_02"]);
    assert_eq!(
        find("d_m", None, 100).await,
        ["wf_03"],
        "`_` is a character"
    );
    assert_eq!(
        find(r"\s", None, 100).await,
        ["wf_07"],
        r"`\` is a character"
    );
    assert_eq!(find("ärger", None, 100).await, ["wf_06"], "others exactly");
    assert_eq!(find("Ärger", None, 100).await, ["wf_05"]);
    assert_eq!(
        find("nothing like it", None, 100).await,
        Vec::<String>::new()
    );
    assert_eq!(find("", None, 100).await.len(), 7, "empty: every workflow");
}

/// `last_runs`: for each workflow asked about, its run with the greatest id
/// (whatever its status), none for a workflow without runs; another
/// tenant's runs never show.
pub async fn last_runs_newest_per_workflow<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let spec = [
        ("run_01", "wf_1", Status::Completed, 10),
        ("run_03", "wf_1", Status::Failed, 30),
        ("run_02", "wf_1", Status::Completed, 20),
        ("run_04", "wf_2", Status::Waiting, 40),
        ("run_05", "wf_3", Status::Running, 50),
    ];
    for (id, wf, status, at) in spec {
        let mut r = run(A, id, wf);
        r.status = status;
        r.created_at = at;
        put_run(&*store, &r, &[]).await;
    }
    put_run(&*store, &run(B, "run_09", "wf_1"), &[]).await;
    put_run(&*store, &run(B, "run_08", "wf_4"), &[]).await;
    let asked: Vec<String> = ["wf_1", "wf_2", "wf_4", "wf_none"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut got = store.last_runs(A, &asked).await.unwrap();
    got.sort_by(|a, b| a.workflow_id.cmp(&b.workflow_id));
    let last = |wf: &str, id: &str, status, at| LastRun {
        workflow_id: wf.into(),
        id: id.into(),
        status,
        created_at: at,
    };
    assert_eq!(
        got,
        [
            last("wf_1", "run_03", Status::Failed, 30),
            last("wf_2", "run_04", Status::Waiting, 40),
        ],
        "the newest run of each workflow asked about, of this tenant only"
    );
    assert!(store.last_runs(A, &[]).await.unwrap().is_empty());
    let many: Vec<String> = (0..1000).map(|i| format!("wf_{i}")).collect();
    assert_eq!(
        store.last_runs(A, &many).await.unwrap().len(),
        3,
        "a page of 1000 workflows in one call"
    );
}

/// `list_runs` by trigger and by creation time (`created_from` included,
/// `created_to` excluded), combined with each other, with the workflow and
/// status filters and with pages; another tenant's runs never show.
pub async fn list_runs_by_trigger_and_time<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let spec = [
        ("run_01", "wf_1", Trigger::Manual, Status::Completed, 100),
        ("run_02", "wf_1", Trigger::Webhook, Status::Failed, 200),
        ("run_03", "wf_2", Trigger::Webhook, Status::Completed, 300),
        ("run_04", "wf_1", Trigger::Schedule, Status::Completed, 400),
        ("run_05", "wf_2", Trigger::Webhook, Status::Failed, 500),
        ("run_06", "wf_1", Trigger::Webhook, Status::Completed, 600),
    ];
    for (id, wf, trigger, status, at) in spec {
        let mut r = run(A, id, wf);
        r.trigger = trigger;
        r.status = status;
        r.created_at = at;
        put_run(&*store, &r, &[]).await;
    }
    let mut theirs = run(B, "run_07", "wf_1");
    theirs.trigger = Trigger::Webhook;
    theirs.created_at = 300;
    put_run(&*store, &theirs, &[]).await;
    let list = |filter: RunFilter, before: Option<&str>, limit: u32| {
        let store = store.clone();
        let page = Page {
            before: before.map(str::to_owned),
            limit,
        };
        async move {
            let got = store.list_runs(A, &filter, &page).await.unwrap();
            ids(&got, |r| &r.id)
        }
    };
    let webhook = RunFilter {
        trigger: Some(Trigger::Webhook),
        ..RunFilter::default()
    };
    assert_eq!(
        list(webhook.clone(), None, 100).await,
        ["run_06", "run_05", "run_03", "run_02"]
    );
    let window = RunFilter {
        created_from: Some(200),
        created_to: Some(500),
        ..RunFilter::default()
    };
    assert_eq!(
        list(window.clone(), None, 100).await,
        ["run_04", "run_03", "run_02"],
        "from included, to excluded"
    );
    let both = RunFilter {
        trigger: Some(Trigger::Webhook),
        ..window.clone()
    };
    assert_eq!(list(both.clone(), None, 1).await, ["run_03"]);
    assert_eq!(list(both, Some("run_03"), 1).await, ["run_02"]);
    let all = RunFilter {
        workflow_id: Some("wf_1".into()),
        status: Some(Status::Completed),
        trigger: Some(Trigger::Webhook),
        created_from: Some(600),
        created_to: Some(601),
    };
    assert_eq!(
        list(all, None, 100).await,
        ["run_06"],
        "every filter at once"
    );
    let since = RunFilter {
        created_from: Some(500),
        ..RunFilter::default()
    };
    assert_eq!(list(since, None, 100).await, ["run_06", "run_05"]);
    let until = RunFilter {
        created_to: Some(200),
        ..RunFilter::default()
    };
    assert_eq!(list(until, None, 100).await, ["run_01"]);
    let none = RunFilter {
        trigger: Some(Trigger::Error),
        ..RunFilter::default()
    };
    assert_eq!(list(none, None, 100).await, Vec::<String>::new());
}

/// `run_stats`: the runs created in the window (`from` included, `to`
/// excluded), per bucket and status; the ten busiest workflows by runs then
/// id, each with its failed runs and its name (`None` once deleted);
/// another tenant's runs never count.
pub async fn run_stats_by_bucket_and_busiest<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    use crate::stats::{BucketCount, BusyWorkflow, RunStats, StatsWindow};
    let store = fresh(factory).await;
    for id in ["wf_a", "wf_b", "wf_c"] {
        put_workflow(&*store, A, id).await;
    }
    let mut n = 0;
    let mut add = |store: Arc<dyn Store>, tenant: &'static str, wf: String, status, at| {
        n += 1;
        let mut r = run(tenant, &format!("run_{n:03}"), &wf);
        r.status = status;
        r.created_at = at;
        async move { put_run(&*store, &r, &[]).await }
    };
    // The window is 1000..1250 in buckets of 100: 0, 1 and a short 2.
    let spec = [
        ("wf_a", Status::Completed, 1_000),
        ("wf_a", Status::Failed, 1_099),
        ("wf_a", Status::Failed, 1_100),
        ("wf_b", Status::Completed, 1_150),
        ("wf_b", Status::Running, 1_249),
        ("wf_a", Status::Completed, 1_250),
        ("wf_c", Status::Failed, 999),
        ("wf_gone", Status::Waiting, 1_200),
    ];
    for (wf, status, at) in spec {
        add(store.clone(), A, wf.into(), status, at).await;
    }
    add(store.clone(), B, "wf_a".into(), Status::Failed, 1_000).await;
    let w = StatsWindow {
        from: 1_000,
        to: 1_250,
        bucket_ms: 100,
    };
    let got = store.run_stats(A, &w).await.unwrap();
    let count = |bucket, status, runs| BucketCount {
        bucket,
        status,
        runs,
    };
    let busy = |id: &str, name: Option<&str>, runs, failed| BusyWorkflow {
        workflow_id: id.into(),
        name: name.map(str::to_owned),
        runs,
        failed,
    };
    assert_eq!(
        got,
        RunStats {
            buckets: vec![
                count(0, Status::Completed, 1),
                count(0, Status::Failed, 1),
                count(1, Status::Completed, 1),
                count(1, Status::Failed, 1),
                count(2, Status::Running, 1),
                count(2, Status::Waiting, 1),
            ],
            busiest: vec![
                busy("wf_a", Some("workflow wf_a"), 3, 2),
                busy("wf_b", Some("workflow wf_b"), 2, 0),
                busy("wf_gone", None, 1, 0),
            ],
        },
        "this tenant's runs of the window, by bucket and status; the busiest"
    );

    // Twelve workflows: ten are named, by runs then id.
    for i in 0..12 {
        for _ in 0..(i % 3 + 1) {
            add(
                store.clone(),
                A,
                format!("wf_{i:02}"),
                Status::Completed,
                5_000,
            )
            .await;
        }
    }
    let later = StatsWindow {
        from: 5_000,
        to: 5_001,
        bucket_ms: 1_000,
    };
    let got = store.run_stats(A, &later).await.unwrap();
    assert_eq!(got.buckets, vec![count(0, Status::Completed, 24)]);
    let order: Vec<(&str, u64)> = got
        .busiest
        .iter()
        .map(|b| (b.workflow_id.as_str(), b.runs))
        .collect();
    assert_eq!(
        order,
        [
            ("wf_02", 3),
            ("wf_05", 3),
            ("wf_08", 3),
            ("wf_11", 3),
            ("wf_01", 2),
            ("wf_04", 2),
            ("wf_07", 2),
            ("wf_10", 2),
            ("wf_00", 1),
            ("wf_03", 1),
        ],
        "ten, by runs (most first), then id"
    );
    let empty = StatsWindow {
        from: 9_000,
        to: 10_000,
        bucket_ms: 10,
    };
    assert_eq!(
        store.run_stats(A, &empty).await.unwrap(),
        RunStats::default()
    );
}
