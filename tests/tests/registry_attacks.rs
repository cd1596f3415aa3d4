//! The registry against a hostile publisher or tenant (found by review, each
//! played for real): a component whose `describe` now answers otherwise than
//! what was published and consented to; taken-down bytes published again
//! under a new version; an admin (not the operator) of the operator's tenant
//! acting for the first party; publisher names that read like the first
//! party; search text that would make unbounded work; a tenant whose install is gone running a
//! workflow that names the connector another tenant has installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry.rs"]
mod support;

use serde_json::json;
use std::path::{Path, PathBuf};
use support::{Author, greeter_workflow, run_as, sha};
use weft_cli::server::StoreKind;
use weft_model::registry::{Install, Version};
use weft_tests::{TestApp, artifact, step};

async fn app_in(dir: &Path) -> TestApp {
    let dir: PathBuf = dir.to_owned();
    TestApp::builder()
        .config(move |c| {
            c.data_dir = dir.clone();
            c.store = StoreKind::Sqlite(dir.join("weft.db"));
        })
        .start()
        .await
}

async fn install(app: &TestApp, key: &str, package: &str, v: &Version) -> Install {
    app.call_as(
        key,
        "POST",
        "/v1/installs",
        Some(json!({"package": package, "version": v.version, "consent": v.disclosure_digest})),
    )
    .await
    .typed(201)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_that_describes_itself_otherwise_than_published_does_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path()).await;
    let acme = Author::new(&app, "acme").await;
    let v1: Version = acme
        .publish("greeter", "0.1.0", &artifact("fixture_greeter"))
        .await
        .typed(201);
    let a = app.tenant("tenant-a").await;
    install(&app, &a, "acme/greeter", &v1).await;
    let wf: weft_model::Workflow = app
        .call_as(
            &a,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await
        .typed(201);
    // What the tenant consented to says one host; the component (as a
    // `describe` that reads the clock would, after the publish) now says
    // another. Played by changing what the registry recorded, which is the
    // same mismatch seen from the other side.
    let conn = rusqlite::Connection::open(dir.path().join("weft.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let mut published = v1.manifest.clone();
    published["capabilities"]["hosts"] = json!(["api.example.com"]);
    conn.execute(
        "UPDATE registry_versions SET manifest = ?1 WHERE publisher = 'acme' AND name = 'greeter'",
        [published.to_string()],
    )
    .unwrap();
    let run = run_as(&app, &a, &wf.id, "mallory").await;
    assert_eq!(run.status, weft_model::Status::Failed, "{run:#?}");
    let hi = step(&run, "hi");
    let e = hi.error.as_ref().unwrap();
    assert_eq!(
        e.reason.map(|r| r.to_string()).as_deref(),
        Some("artifact_mismatch"),
        "{hi:#?}"
    );
    assert!(e.message.contains("manifest"), "{}", e.message);
    assert!(hi.output.is_none(), "nothing ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_down_bytes_stay_down_under_a_new_version_and_the_first_party_is_the_operators() {
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let bytes = artifact("fixture_greeter");
    let v1: Version = acme.publish("greeter", "0.1.0", &bytes).await.typed(201);
    app.call_as(
        &app.operator,
        "POST",
        "/v1/ops/registry/packages/acme/greeter/versions/0.1.0/takedown",
        Some(json!({"reason": "malware"})),
    )
    .await
    .expect(200);
    // The same bytes published again as 0.1.1: refused by digest, before
    // anything else is looked at.
    let again = acme.publish("greeter", "0.1.1", &bytes).await;
    assert_eq!(
        (again.status, again.code()),
        (422, "taken_down"),
        "{}",
        again.body
    );
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malware")
    );
    let a = app.tenant("tenant-a").await;
    let r = app
        .call_as(
            &a,
            "POST",
            "/v1/installs",
            Some(json!({"package": "acme/greeter", "version": "0.1.0", "consent": v1.disclosure_digest})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malware"),
        "{}",
        r.body
    );
    // No tenant acts as the first party: not an admin of the first tenant,
    let admin = app
        .post("/v1/keys", json!({"name": "ops-admin", "role": "admin"}))
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, public) = weft_registry::sign::generate().unwrap();
    let r = app
        .call_as(
            &admin,
            "POST",
            "/v1/registry/publishers/weft/keys",
            Some(json!({"public_key": public})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .call_as(
            &admin,
            "POST",
            "/v1/registry/packages/weft/http/versions/0.1.0/yank",
            Some(json!({"yanked": true})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // nor its owner (before operators existed, the first tenant's owners
    // acted as the operator and as the first party).
    let r = app
        .post(
            "/v1/registry/publishers/weft/keys",
            json!({"public_key": public}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = app
        .post(
            "/v1/registry/packages/weft/http/versions/0.1.0/yank",
            json!({"yanked": true}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // The first tenant's owner cannot take a version down or verify a
    // publisher either: those take an operator key.
    let r = app
        .post(
            "/v1/ops/registry/packages/acme/greeter/versions/0.1.0/takedown",
            json!({"reason": "no"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "wrong_principal"), "{}", r.body);
    let r = app
        .post(
            "/v1/ops/registry/publishers/acme/verify",
            json!({"verified": true}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "wrong_principal"), "{}", r.body);
    // The operator's acts are in the operator audit log.
    let audit = app
        .call_as(&app.operator, "GET", "/v1/ops/audit", None)
        .await
        .expect(200);
    let take = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "version.takedown")
        .expect("the takedown is audited");
    assert_eq!(take["target"], "acme/greeter@0.1.0: malware", "{take}");
    assert!(take["actor"].as_str().unwrap().starts_with("op:"), "{take}");

    // Publisher names that read like the first party are refused.
    let t = app.tenant("squatter").await;
    for name in ["weft-official", "wefthq", "vveft", "weft1", "weff"] {
        let r = app
            .call_as(
                &t,
                "POST",
                "/v1/registry/publishers",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (422, "name_confusable"),
            "{name}: {}",
            r.body
        );
    }
    // Search text is bounded.
    let long = ["word"; 9].join(" ");
    let r = app
        .get(&format!(
            "/v1/registry/packages?q={}",
            long.replace(' ', "+")
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .get(&format!("/v1/registry/packages?q={}", "a".repeat(300)))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_install_takes_the_latest_and_an_uninstalled_tenant_runs_nothing_of_anothers() {
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let v1: Version = acme
        .publish("greeter", "0.1.0", &artifact("fixture_greeter"))
        .await
        .typed(201);
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let mine: Install = app
        .call_as(
            &a,
            "POST",
            "/v1/installs",
            Some(json!({"package": "acme/greeter", "consent": v1.disclosure_digest})),
        )
        .await
        .typed(201);
    assert_eq!(mine.version, "0.1.0");
    assert_eq!(
        mine.digest,
        format!("sha256:{}", sha(&artifact("fixture_greeter")))
    );

    // B installs it, saves an (inactive) workflow naming it, uninstalls:
    // its run must not find A's install.
    let theirs = install(&app, &b, "acme/greeter", &v1).await;
    let wf: weft_model::Workflow = app
        .call_as(
            &b,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await
        .typed(201);
    app.call_as(&b, "DELETE", &format!("/v1/installs/{}", theirs.id), None)
        .await
        .expect(204);
    let run = run_as(&app, &b, &wf.id, "eve").await;
    assert_eq!(run.status, weft_model::Status::Failed, "{run:#?}");
    let e = step(&run, "hi").error.as_ref().unwrap();
    assert_eq!(
        e.reason.map(|r| r.to_string()).as_deref(),
        Some("unknown_connector"),
        "{e:?}"
    );
    // A's still runs.
    let wf_a: weft_model::Workflow = app
        .call_as(
            &a,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await
        .typed(201);
    let run = run_as(&app, &a, &wf_a.id, "ada").await;
    assert_eq!(run.status, weft_model::Status::Completed, "{run:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_no_version_uses_are_bounded_per_tenant_and_collected() {
    let dir = tempfile::tempdir().unwrap();
    let data: PathBuf = dir.path().to_owned();
    let app = TestApp::builder()
        .worker(|w| {
            w.unpublished_quota_bytes = 300_000;
            w.unpublished_retention_ms = 1_000;
            w.takedown_refresh_ms = 100;
        })
        .config(move |c| {
            c.data_dir = data.clone();
            c.store = StoreKind::Sqlite(data.join("weft.db"));
        })
        .start()
        .await;
    let acme = Author::new(&app, "acme").await;
    let (v1, v2, sockets) = (
        artifact("fixture_greeter"),
        artifact("fixture_greeter_v2"),
        artifact("fixture_sockets"),
    );
    assert_eq!(acme.upload(&v1).await, 201);
    assert_eq!(acme.upload(&v2).await, 201);
    // About 263 kB held by blobs nothing uses: 148 kB more passes 300 kB.
    let r = app
        .raw(
            &acme.key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{}", sha(&sockets)),
            "application/wasm",
            Some(sockets.clone()),
        )
        .await;
    assert_eq!((r.status, r.code()), (429, "quota_exceeded"), "{}", r.body);
    // Publishing one frees its share.
    acme.publish("greeter", "0.1.0", &v1).await.expect(201);
    assert_eq!(acme.upload(&sockets).await, 201);
    // After the retention, what no version uses is deleted; the published
    // artifact stays.
    let path = |bytes: &[u8]| {
        let d = sha(bytes);
        dir.path().join("blobs/sha256").join(&d[..2]).join(&d)
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while path(&v2).exists() || path(&sockets).exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "unpublished blobs never collected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(path(&v1).exists(), "the published artifact is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstall_waits_for_the_runs_in_flight_that_use_the_connector() {
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let v1: Version = acme
        .publish("greeter", "0.1.0", &artifact("fixture_greeter"))
        .await
        .typed(201);
    let a = app.tenant("tenant-a").await;
    let ins = install(&app, &a, "acme/greeter", &v1).await;
    // Not active: only its run waiting for a resume uses the connector.
    let wf: weft_model::Workflow = app
        .call_as(
            &a,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([
                {"id": "approve", "kind": "wait", "until": "resume"},
                {"id": "again", "kind": "action", "connector": "greeter", "action": "greet",
                 "input": {"name": "again"}}
            ]))),
        )
        .await
        .typed(201);
    let run = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/workflows/{}/runs", wf.id),
            Some(json!({"input": {"name": "ada"}})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    support::until_as(&app, &a, &run, |r| r.status == weft_model::Status::Waiting).await;
    let r = app
        .call_as(&a, "DELETE", &format!("/v1/installs/{}", ins.id), None)
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["error"]["message"].as_str().unwrap().contains(&run),
        "{}",
        r.body
    );
    app.call_as(
        &a,
        "POST",
        &format!("/v1/runs/{run}/cancel"),
        Some(json!(null)),
    )
    .await
    .expect(200);
    support::until_as(&app, &a, &run, |r| r.status.is_terminal()).await;
    app.call_as(&a, "DELETE", &format!("/v1/installs/{}", ins.id), None)
        .await
        .expect(204);
}
