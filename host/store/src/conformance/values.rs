//! Values read back exactly: JSON, optional fields, enums, integer ranges.

use super::*;
use serde_json::Value;
use weft_types::log::{Level, LogRecord, Source};
use weft_types::{ErrorKind, Failure, Parent, Reason, Response, RunFailure};

/// A failure whose every field is set, its text full of escapes.
fn tricky_failure() -> Failure {
    Failure {
        kind: ErrorKind::RateLimited,
        reason: Some(Reason::LeaseExpired),
        message: "héllo 🎉 \u{0} \"quoted\" \\back\nline".into(),
        retry_after_ms: Some(u64::MAX),
        lost: Some(u32::MAX),
    }
}

fn tricky() -> Value {
    json!({
        "nested": { "a": [1, 2, { "b": null }], "empty_object": {}, "empty_array": [] },
        "unicode": "héllo wörld — 日本語 🎉 \u{0} \u{1f} \"quoted\" \\back\\slash\n\ttab",
        "key with \"quotes\" and 🎉": "x",
        "": "the empty key",
        "big": 1e300,
        "tiny": 5e-324,
        "negative": -1.5e-300,
        "u64_max": u64::MAX,
        "i64_min": i64::MIN,
        "tenth": 0.1,
        "third": 1.0 / 3.0,
        "pi": std::f64::consts::PI,
        "float_two": 2.0,
        "zero": 0,
        "true": true,
        "null": null,
        "deep": [[[[[[[[[[{ "x": [1.5, "y", false] }]]]]]]]]]],
    })
}

/// JSON values — nested objects and arrays, unicode and escapes, 1e300,
/// `u64::MAX`, `i64::MIN`, floats — come back exactly from every record that
/// holds one, whatever the read path.
pub async fn json_values_round_trip<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let v = tricky();
    let scalars = [
        json!("just a string"),
        json!(u64::MAX),
        json!(-0.5),
        json!([]),
        json!(null),
    ];
    for (n, input) in scalars.iter().enumerate() {
        let r = Run {
            input: input.clone(),
            ..run(A, &format!("run_s{n}"), "wf_s")
        };
        put_run(&*store, &r, &[]).await;
        assert_eq!(
            store.get_run(A, &r.id).await.unwrap(),
            Some(r),
            "input {input}"
        );
    }
    let r = Run {
        input: v.clone(),
        output: Some(v.clone()),
        error: Some(RunFailure {
            failure: tricky_failure(),
            step: Some("each[2].fetch 🎉".into()),
        }),
        response: Some(Response {
            status: u16::MAX,
            headers: [("x-é".to_owned(), "🎉 \"v\"".to_owned())].into(),
            body: json!([v.clone(), 1]),
        }),
        deadline_at: Some(50),
        until: Some("b 🎉".into()),
        ..run(A, "run_1", "wf_1")
    };
    let mut s = step(&r, "a", Status::Waiting);
    s.input = Some(v.clone());
    s.output = Some(json!({ "out": v.clone() }));
    s.error = Some(tricky_failure());
    s.resume_token = Some("tok_v".into());
    s.due_at = Some(10);
    let mut a = attempt(&s, 1);
    a.input = Some(v.clone());
    a.output = Some(v.clone());
    a.error = Some(tricky_failure());
    a.usage = Some(json!({ "wall_ms": u64::MAX, "peak": 1e300, "logs": ["é", "🎉"] }));
    a.logs = vec![LogRecord {
        level: Level::Trace,
        source: Source::Stderr,
        message: "日本語 \u{0}\n\"x\"".into(),
        fields: vec![("z".into(), "1".into()), ("".into(), "é".into())],
    }];
    let c = Commit {
        attempts: vec![a.clone()],
        ..create(&r, std::slice::from_ref(&s))
    };
    store.commit(&c).await.unwrap();
    let state = store.load_run(A, "run_1").await.unwrap().unwrap();
    assert_eq!(state.run, r, "load_run: the run");
    assert_eq!(state.steps, vec![s.clone()], "load_run: the step");
    let filter = RunFilter {
        workflow_id: Some("wf_1".into()),
        ..RunFilter::default()
    };
    let listed = store.list_runs(A, &filter, &Page::first(10)).await.unwrap();
    assert_eq!(listed, vec![r.clone()], "list_runs");
    assert_eq!(
        store.overdue_runs(50, 10).await.unwrap(),
        vec![r],
        "overdue_runs"
    );
    assert_eq!(
        store.list_attempts(A, "run_1").await.unwrap(),
        vec![a],
        "list_attempts"
    );
    assert_eq!(
        store.due_steps(10, 10).await.unwrap(),
        vec![s.clone()],
        "due_steps"
    );
    assert_eq!(
        store.step_by_resume_token("tok_v").await.unwrap(),
        Some(s),
        "by token"
    );

    let w = workflow(A, "wf_1");
    let mut ver = version(A, "wf_1", 1);
    ver.definition = v.clone();
    store.create_workflow(&w, &ver).await.unwrap();
    assert_eq!(
        store.get_version(A, "wf_1", 1).await.unwrap(),
        Some(ver.clone())
    );
    let mut ver2 = version(A, "wf_1", 2);
    ver2.definition = json!({ "again": v.clone() });
    store.add_version(&ver2, "wf 🎉", 5).await.unwrap();
    assert_eq!(store.get_version(A, "wf_1", 2).await.unwrap(), Some(ver2));

    let mut cred = credential(A, "cred_1", "naïve 🎉");
    cred.injection = v;
    cred.hosts = vec![];
    store.create_credential(&cred).await.unwrap();
    assert_eq!(
        store.credential_by_name(A, "naïve 🎉").await.unwrap(),
        Some(cred.clone())
    );
    assert_eq!(store.list_credentials(A).await.unwrap(), vec![cred]);
}

/// Every field reads back as written: `None` and `Some(null)` stay apart,
/// every status, trigger and role keeps its name, integers keep their range.
pub async fn optional_values_round_trip<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    let triggers = Trigger::ALL;
    for (n, status) in Status::ALL.into_iter().enumerate() {
        let mut r = run(A, &format!("run_{n}"), "wf_1");
        r.status = status;
        r.trigger = triggers[n % triggers.len()];
        if n % 2 == 0 {
            r.output = Some(Value::Null);
            r.error = Some(Failure::new(ErrorKind::Cancelled, "").into());
            r.response = Some(Response {
                status: 0,
                headers: Default::default(),
                body: Value::Null,
            });
            r.parent = Some(Parent {
                run_id: "run_parent".into(),
                step_key: if n == 0 { String::new() } else { "call".into() },
            });
            r.deadline_at = Some(i64::MAX);
            r.finished_at = Some(-1);
            r.version = u32::MAX;
            r.depth = u32::MAX;
            r.seq = i64::MAX - 1;
            r.created_at = i64::MIN;
        }
        let mut s = step(&r, "s", status);
        s.attempt = u32::MAX;
        if n % 2 == 1 {
            s.input = Some(Value::Null);
            s.output = Some(Value::Null);
            s.error = Some(Failure::new(ErrorKind::Permanent, ""));
            s.due_at = Some(i64::MIN);
            s.resume_token = Some(format!("tok_{n}"));
            s.child_run_id = Some("run_child".into());
        }
        let mut a = attempt(&s, u32::MAX);
        a.status = status;
        a.input = None;
        if n % 2 == 1 {
            a.output = Some(Value::Null);
            a.error = Some(Failure::of(Reason::Poison, ""));
            a.usage = Some(Value::Null);
            a.finished_at = Some(0);
        }
        let c = Commit {
            attempts: vec![a.clone()],
            ..create(&r, std::slice::from_ref(&s))
        };
        store.commit(&c).await.unwrap();
        let state = store.load_run(A, &r.id).await.unwrap().unwrap();
        assert_eq!(state.run, r, "run {n} ({status})");
        assert_eq!(state.steps, vec![s], "step {n} ({status})");
        assert_eq!(
            store.list_attempts(A, &r.id).await.unwrap(),
            vec![a],
            "attempt {n}"
        );
    }
    for (n, role) in [Role::Viewer, Role::Member, Role::Admin, Role::Owner]
        .into_iter()
        .enumerate()
    {
        let mut k = api_key(A, &format!("key_{n}"), &format!("weft_{n}"), n as i64);
        k.role = role;
        k.hash = vec![];
        k.revoked_at = (n % 2 == 0).then_some(i64::MAX);
        store.create_api_key(&k).await.unwrap();
        assert_eq!(store.api_key_by_prefix(&k.prefix).await.unwrap(), Some(k));
    }
    let t = Tenant {
        wrapped_key: vec![],
        ..tenant(A, 0)
    };
    store.create_tenant(&t).await.unwrap();
    assert_eq!(store.get_tenant(A).await.unwrap(), Some(t));
}

/// `ping` answers on a healthy store.
pub async fn ping_answers<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let store = fresh(factory).await;
    store.ping().await.unwrap();
}
