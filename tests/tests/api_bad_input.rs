//! A7 (expressions are data) and B5 (JSON and workflow bombs) through the API:
//! refused quickly with a clear error, nothing stored, the server unharmed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use weft_tests::TestApp;
use weft_types::Status;

#[tokio::test]
async fn expressions_read_data_only_and_payloads_are_never_evaluated() {
    let app = TestApp::builder().memory().start().await;
    // No root but trigger, steps, vars, item and index: no env, no host, no files.
    for expr in [
        "{{ env.HOME }}",
        "{{ process.env }}",
        "{{ steps.other_tenant.output }}",
    ] {
        let def = json!({"name": "a7", "steps": [{"id": "r", "kind": "respond", "body": expr}]});
        let r = app.post("/v1/workflows", def).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_workflow"),
            "{expr}: {}",
            r.body
        );
        assert_eq!(
            r.body["error"]["details"][0]["path"], "/steps/0/body",
            "{}",
            r.body
        );
    }
    // A payload that looks like a template is data: it comes back verbatim.
    let wf = app
        .workflow(json!({"name": "echo", "vars": {"secret": "v"}, "steps": [
            {"id": "r", "kind": "respond", "body": {"got": "{{ trigger.body }}", "q": "{{ trigger.query.q }}"}}
        ]}))
        .await;
    let sneaky = json!({"x": "{{ vars.secret }}", "y": "{{ env.HOME }}"});
    // The query string is decoded, and is data too.
    let hook = format!("{}?q=%7B%7B%20vars.secret%20%7D%7D", wf.hook_url());
    let r = app.call_as("", "POST", &hook, Some(sneaky.clone())).await;
    assert_eq!(
        r.expect(200),
        json!({"got": sneaky, "q": "{{ vars.secret }}"})
    );
}

#[tokio::test]
async fn json_and_workflow_bombs_are_refused_with_400_and_nothing_is_stored() {
    let app = TestApp::builder().memory().start().await;
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/json",
            Some(deep.clone().into_bytes()),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_workflow"),
        "{}",
        r.body
    );
    assert!(r.body.to_string().contains("nests deeper"), "{}", r.body);

    let yaml_bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    let r = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/yaml",
            Some(yaml_bomb.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    let many: Vec<Value> = (0..1_500)
        .map(|i| json!({"id": format!("s{i}"), "kind": "merge", "after": []}))
        .collect();
    let r = app
        .post("/v1/workflows", json!({"name": "huge", "steps": many}))
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_workflow"));
    assert!(
        r.body.to_string().contains("more than 1000 steps"),
        "{}",
        r.body
    );

    let cyc = json!({"name": "cyc", "steps": [
        {"id": "a", "kind": "merge", "after": ["b"]}, {"id": "b", "kind": "merge", "after": ["a"]}
    ]});
    assert_eq!(app.post("/v1/workflows", cyc).await.status, 400);

    for (cron, tz) in [
        ("* * * * * * * *", "UTC"),
        ("0 0 30 2 *", "UTC"),
        ("0 0 * * *", "Mars/Olympus"),
    ] {
        let def = json!({"name": "c", "triggers": {"schedule": {"cron": cron, "timezone": tz}}, "steps": [{"id": "r", "kind": "respond"}]});
        let r = app.post("/v1/workflows", def).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "invalid_workflow"),
            "{cron} {tz}: {}",
            r.body
        );
        assert!(
            r.body["error"]["details"][0]["path"]
                .as_str()
                .unwrap()
                .starts_with("/triggers/schedule"),
            "{}",
            r.body
        );
    }

    let big = vec![b' '; weft_api::MAX_BODY_BYTES + 10];
    let r = app
        .raw(
            &app.key,
            "POST",
            "/v1/workflows",
            "application/json",
            Some(big),
        )
        .await;
    assert_eq!(r.status, 413, "{}", r.body);

    // A deep webhook body is refused too, and starts no run.
    let wf = app
        .workflow(json!({"name": "w", "steps": [{"id": "r", "kind": "respond"}]}))
        .await;
    let r = app
        .raw(
            "",
            "POST",
            wf.hook_url(),
            "application/json",
            Some(deep.into_bytes()),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "invalid_request"), "{}", r.body);

    assert_eq!(
        app.get("/v1/workflows").await.expect(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        app.get("/v1/runs").await.expect(200)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.call_as("", "GET", "/healthz", None).await.expect(200);
}

#[tokio::test]
async fn a_self_recursive_subworkflow_stops_at_the_depth_limit() {
    let app = TestApp::builder().memory().start().await;
    let wf = app
        .workflow(json!({"name": "seed", "steps": [{"id": "r", "kind": "respond"}]}))
        .await;
    let id = wf.id.as_str();
    let recursive =
        json!({"name": "rec", "steps": [{"id": "again", "kind": "subworkflow", "workflow": id}]});
    app.call("PUT", &format!("/v1/workflows/{id}"), Some(recursive))
        .await
        .expect(200);
    let run = app.start_run(id, json!({})).await;
    let run = app.finished(&run).await;
    assert_eq!(run.status, Status::Failed, "{run:#?}");
    let runs = app
        .get(&format!("/v1/runs?workflow_id={id}&limit=100"))
        .await
        .expect(200);
    let n = runs["items"].as_array().unwrap().len();
    assert_eq!(n, 9, "the top run and 8 nested ones");
    let deepest = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["error"]["reason"] == "depth_limit"
                || r["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("deeper"))
        })
        .cloned();
    assert!(deepest.is_some(), "{runs:#}");
}
