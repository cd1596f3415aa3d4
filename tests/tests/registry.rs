//! The registry end to end on `weft serve` (SQLite, blobs on disk), as a
//! plugin author and tenants use it: a publisher and its key, a signed
//! upload, what publishing refuses (R1, B1, B3, R4, a mismatched manifest,
//! confusable names, an existing version), search, the disclosure, an
//! install with consent, a run that records the digest it ran, an upgrade
//! that widens and is held until re-consented, yank, uninstall refused while
//! in use, and a takedown that stops a running workflow's next step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry.rs"]
mod support;

use serde_json::json;
use support::{Author, greeter_workflow, run_as, sha, until_as};
use weft_model::registry::{Install, PackageDetail, PackagePage, Upgraded, Version};
use weft_registry::sign::statement;
use weft_tests::{TestApp, artifact, step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connector_is_published_installed_with_consent_upgraded_yanked_and_taken_down() {
    let app = TestApp::builder()
        .config(|c| c.sandbox.engine.component_bytes = 2 * 1024 * 1024)
        .start()
        .await;
    let acme = Author::new(&app, "acme").await;
    let v1 = artifact("fixture_greeter");
    let v2 = artifact("fixture_greeter_v2");

    // Upload by digest: stored once; a digest that is not the bytes' is refused.
    assert_eq!(acme.upload(&v1).await, 201);
    assert_eq!(acme.upload(&v1).await, 200);
    let wrong = app
        .raw(
            &acme.key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{}", sha(b"x")),
            "application/wasm",
            Some(v1.clone()),
        )
        .await;
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(
        wrong.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&sha(&v1))
    );

    // R1: a signature over anything else, or by a key that is not the
    // publisher's, is refused before the bytes are looked at.
    let forged = acme
        .publish_signed("greeter", "0.1.0", &v1, &sha(b"other"))
        .await;
    assert_eq!(forged.status, 422, "{}", forged.body);
    assert_eq!(forged.code(), "bad_signature");
    let other = Author::new(&app, "other").await;
    let mut borrowed = json!({"version": "0.1.0", "digest": format!("sha256:{}", sha(&v1)), "license": "MIT",
        "key_id": other.signing.key_id(),
        "signature": other.signing.sign(&statement("acme", "greeter", "0.1.0", &sha(&v1)))});
    let r = app
        .call_as(
            &acme.key,
            "POST",
            "/v1/registry/packages/acme/greeter/versions",
            Some(borrowed.clone()),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "bad_signature"), "{}", r.body);
    // Publishing under another tenant's publisher: not found, as a missing one.
    borrowed["key_id"] = json!(acme.signing.key_id());
    let r = app
        .call_as(
            &other.key,
            "POST",
            "/v1/registry/packages/acme/greeter/versions",
            Some(borrowed),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);

    // B1: not wasm. R4: a component that imports wasi:http, every misfit listed.
    let junk = b"definitely not a component".to_vec();
    let r = acme.publish("junk", "0.1.0", &junk).await;
    assert_eq!((r.status, r.code()), (422, "invalid_wasm"), "{}", r.body);
    // B2: a component that needs a disabled feature (shared memory).
    let threads = weft_tests::wat("threads-component.wat");
    let r = acme.publish("threads", "0.1.0", &threads).await;
    assert_eq!(r.status, 422, "{}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("threads") || message.contains("shared"),
        "the disabled feature is named: {}",
        r.body
    );
    let wasi_http = weft_tests::wat("imports-wasi-http.wat");
    let r = acme.publish("wasi-http", "0.1.0", &wasi_http).await;
    assert_eq!((r.status, r.code()), (422, "world_mismatch"), "{}", r.body);
    let details = r.body["error"]["details"].as_array().unwrap();
    assert!(
        details
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("wasi:http")),
        "{details:?}"
    );
    // B3: over the component size limit (2 MiB here), refused at upload.
    let big = vec![0u8; 2 * 1024 * 1024 + 1];
    let r = app
        .raw(
            &acme.key,
            "PUT",
            &format!("/v1/registry/blobs/sha256:{}", sha(&big)),
            "application/wasm",
            Some(big),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "too_large"), "{}", r.body);
    // The manifest must name the package and the version.
    let r = acme.publish("greeting", "0.1.0", &v1).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "manifest_mismatch"),
        "{}",
        r.body
    );
    let r = acme.publish("greeter", "0.1.1", &v1).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "manifest_mismatch"),
        "{}",
        r.body
    );

    // Published: the disclosure comes from the component.
    let published: Version = acme.publish("greeter", "0.1.0", &v1).await.typed(201);
    assert_eq!(published.digest, format!("sha256:{}", sha(&v1)));
    assert_eq!(published.disclosure.network, ["127.0.0.1"]);
    assert!(
        published.disclosure.imports.contains(&"http".to_owned()),
        "{:?}",
        published.disclosure
    );
    assert!(published.disclosure.credentials.is_empty() && !published.disclosure.state);
    // Immutable: the same version again is refused.
    let r = acme.publish("greeter", "0.1.0", &v1).await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Confusable with acme/greeter (another publisher), or with weft's.
    for name in ["greeter", "gree7er", "greetr"] {
        let r = other.publish(name, "0.1.0", &v1).await;
        assert_eq!(
            (r.status, r.code()),
            (422, "name_confusable"),
            "{name}: {}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("acme/greeter"),
            "{}",
            r.body
        );
    }
    let r = other.publish("http", "0.1.0", &v1).await;
    assert_eq!((r.status, r.code()), (422, "name_confusable"), "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("weft/http"),
        "{}",
        r.body
    );

    // Search finds it (and the bundled connectors, published by `weft`).
    let found: PackagePage = app.get("/v1/registry/packages?q=greeter").await.typed(200);
    assert_eq!(found.items[0].name, "greeter", "{found:?}");
    let offline: PackagePage = app
        .get("/v1/registry/packages?no_network=true&kind=connector")
        .await
        .typed(200);
    assert!(
        offline
            .items
            .iter()
            .all(|p| p.name != "greeter" && p.name != "http"),
        "{offline:?}"
    );
    assert!(
        offline.items.iter().any(|p| p.name == "transform"),
        "{offline:?}"
    );
    let first_party: PackageDetail = app.get("/v1/registry/packages/weft/http").await.typed(200);
    assert!(first_party.package.verified);

    // Tenant A: before installing, its workflows cannot name the connector.
    let a = app.tenant("tenant-a").await;
    let r = app
        .call_as(
            &a,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // Installing needs consent to exactly the disclosure shown.
    let shown: Version = app
        .call_as(
            &a,
            "GET",
            "/v1/registry/packages/acme/greeter/versions/0.1.0",
            None,
        )
        .await
        .typed(200);
    let r = app
        .call_as(&a, "POST", "/v1/installs", Some(json!({"package": "acme/greeter", "consent": format!("sha256:{}", sha(b"something else"))})))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "consent_mismatch"),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["error"]["disclosure_digest"],
        json!(shown.disclosure_digest)
    );
    let install: Install = app
        .call_as(
            &a,
            "POST",
            "/v1/installs",
            Some(json!({"package": "acme/greeter", "consent": shown.disclosure_digest})),
        )
        .await
        .typed(201);
    assert_eq!(
        (install.version.as_str(), install.pin.as_str()),
        ("0.1.0", "^0.1")
    );

    // A's workflow runs it, and the attempt records the digest that ran.
    let wf: weft_model::Workflow = app
        .call_as(
            &a,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await
        .typed(201);
    app.call_as(
        &a,
        "POST",
        &format!("/v1/workflows/{}/activate", wf.id),
        Some(json!(null)),
    )
    .await
    .expect(200);
    let run = run_as(&app, &a, &wf.id, "ada").await;
    assert_eq!(run.status, weft_model::Status::Completed, "{run:#?}");
    let hi = step(&run, "hi");
    assert_eq!(hi.output, Some(json!({"hello": "ada", "version": "0.1.0"})));
    let attempts = &hi.attempts;
    assert_eq!(
        attempts[0].digest.as_deref(),
        Some(published.digest.as_str()),
        "{attempts:#?}"
    );

    // Another tenant sees neither the install nor the connector.
    let b = app.tenant("tenant-b").await;
    let r = app
        .call_as(
            &b,
            "POST",
            "/v1/workflows",
            Some(greeter_workflow(json!([]))),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    app.call_as(&b, "GET", &format!("/v1/installs/{}", install.id), None)
        .await
        .expect(404);

    // 0.2.0 reaches one more host: the upgrade is held until re-consented.
    let v2pub: Version = acme.publish("greeter", "0.2.0", &v2).await.typed(201);
    let held: Upgraded = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/installs/{}/upgrade", install.id),
            Some(json!({"version": "0.2.0"})),
        )
        .await
        .typed(202);
    assert!(!held.applied);
    assert!(
        held.widening.iter().any(|w| w.contains("api.example.com")),
        "{held:?}"
    );
    assert_eq!(held.install.version, "0.1.0");
    assert_eq!(held.install.held.as_ref().unwrap().version, "0.2.0");
    let run = run_as(&app, &a, &wf.id, "bob").await;
    assert_eq!(
        step(&run, "hi").output,
        Some(json!({"hello": "bob", "version": "0.1.0"})),
        "held: still 0.1.0"
    );
    let applied: Upgraded = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/installs/{}/upgrade", install.id),
            Some(json!({"consent": v2pub.disclosure_digest})),
        )
        .await
        .typed(200);
    assert!(applied.applied && applied.install.held.is_none());
    assert_eq!(applied.install.version, "0.2.0");
    let run = run_as(&app, &a, &wf.id, "cy").await;
    assert_eq!(
        step(&run, "hi").output,
        Some(json!({"hello": "cy", "version": "0.2.0"}))
    );

    // Yanked: no new installs of it; A's install keeps running.
    app.call_as(
        &acme.key,
        "POST",
        "/v1/registry/packages/acme/greeter/versions/0.2.0/yank",
        Some(json!({"yanked": true})),
    )
    .await
    .expect(200);
    let r = app
        .call_as(&b, "POST", "/v1/installs", Some(json!({"package": "acme/greeter", "version": "0.2.0", "consent": v2pub.disclosure_digest})))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let run = run_as(&app, &a, &wf.id, "dee").await;
    assert_eq!(run.status, weft_model::Status::Completed, "{run:#?}");

    // Uninstall is refused while an active workflow uses it, naming it.
    let r = app
        .call_as(&a, "DELETE", &format!("/v1/installs/{}", install.id), None)
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&wf.id),
        "{}",
        r.body
    );

    // Takedown (the operator: the first tenant's owner) stops the next step
    // of a run already going, with the reason; the tenant sees why.
    let slow: weft_model::Workflow = app
        .call_as(&a, "POST", "/v1/workflows", Some(greeter_workflow(json!([
            {"id": "pause", "kind": "wait", "duration_ms": 1500},
            {"id": "again", "kind": "action", "connector": "greeter", "action": "greet", "input": {"name": "again"}}
        ]))))
        .await
        .typed(201);
    let id = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/workflows/{}/runs", slow.id),
            Some(json!({"input": {"name": "eve"}})),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let waiting = until_as(&app, &a, &id, |r| {
        step(r, "hi").status == weft_model::Status::Completed
    })
    .await;
    assert_eq!(step(&waiting, "hi").status, weft_model::Status::Completed);
    let down = app
        .call_as(
            &app.operator,
            "POST",
            "/v1/ops/registry/packages/acme/greeter/versions/0.2.0/takedown",
            Some(json!({"reason": "exfiltrates greetings"})),
        )
        .await;
    assert_eq!(down.status, 200, "{}", down.body);
    let r = app
        .call_as(
            &acme.key,
            "POST",
            "/v1/ops/registry/packages/acme/greeter/versions/0.1.0/takedown",
            Some(json!({"reason": "no"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "wrong_principal"),
        "only the operator takes down: {}",
        r.body
    );
    let ended = until_as(&app, &a, &id, |r| r.status.is_terminal()).await;
    assert_eq!(ended.status, weft_model::Status::Failed, "{ended:#?}");
    let again = step(&ended, "again");
    let failure = again.error.as_ref().unwrap();
    assert_eq!(
        failure.reason.map(|r| r.to_string()).as_deref(),
        Some("taken_down"),
        "{again:#?}"
    );
    assert!(
        failure.message.contains("exfiltrates greetings"),
        "{again:#?}"
    );
    let seen: Install = app
        .call_as(&a, "GET", &format!("/v1/installs/{}", install.id), None)
        .await
        .typed(200);
    assert_eq!(seen.taken_down.unwrap().reason, "exfiltrates greetings");
}

/// A community template that needs a registry connector: publishing checks
/// it against that connector's published manifest; a tenant without the
/// install is told which install provides it; parameters are checked
/// against the schema; with the install, the workflow is created and runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_names_the_install_it_needs_and_checks_its_parameters() {
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let v1: Version = acme
        .publish("greeter", "0.1.0", &artifact("fixture_greeter"))
        .await
        .typed(201);
    let doc = serde_json::to_vec(&json!({
        "name": "greet-someone", "description": "Greets whoever you name.",
        "category": "demo", "tags": ["greeting"], "difficulty": "beginner",
        "requires": {"greeter": "^0.1"},
        "parameters": {"type": "object", "required": ["who"], "additionalProperties": false,
                       "properties": {"who": {"type": "string", "minLength": 1}}},
        "placements": {"who": ["/steps/0/input/name"]},
        "examples": [{"title": "Ada", "parameters": {"who": "Ada"}}],
        "definition": {"name": "greet-someone", "steps": [
            {"id": "hi", "kind": "action", "connector": "greeter", "action": "greet",
             "input": {"name": "someone"}}
        ]}
    }))
    .unwrap();
    assert_eq!(acme.upload(&doc).await, 201);
    let sig = acme
        .signing
        .sign(&statement("acme", "greet-someone", "1.0.0", &sha(&doc)));
    app.call_as(
        &acme.key,
        "POST",
        "/v1/registry/packages/acme/greet-someone/versions",
        Some(json!({"kind": "template", "version": "1.0.0", "digest": format!("sha256:{}", sha(&doc)),
                    "license": "MIT", "key_id": acme.signing.key_id(), "signature": sig})),
    )
    .await
    .expect(201);

    let a = app.tenant("tenant-a").await;
    let use_it = |params: serde_json::Value| {
        let (app, a) = (&app, a.clone());
        async move {
            app.call_as(
                &a,
                "POST",
                "/v1/registry/packages/acme/greet-someone/use",
                Some(json!({"parameters": params})),
            )
            .await
        }
    };
    let r = use_it(json!({"who": "Ada"})).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "missing_connectors"),
        "{}",
        r.body
    );
    assert!(
        r.body["error"]["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("weft registry install acme/greeter"),
        "{}",
        r.body
    );
    app.call_as(
        &a,
        "POST",
        "/v1/installs",
        Some(json!({"package": "acme/greeter", "consent": v1.disclosure_digest})),
    )
    .await
    .expect(201);
    let r = use_it(json!({"who": ""})).await;
    assert_eq!(
        (r.status, r.code()),
        (422, "invalid_parameters"),
        "{}",
        r.body
    );
    assert!(r.body.to_string().contains("who"), "{}", r.body);
    let wf: weft_model::Workflow = use_it(json!({"who": "Grace"})).await.typed(201);
    let run = run_as(&app, &a, &wf.id, "unused").await;
    assert_eq!(
        step(&run, "hi").output,
        Some(json!({"hello": "Grace", "version": "0.1.0"})),
        "{run:#?}"
    );
}

/// A step may name the versions of its connector it accepts (`version`, a
/// semver range): a workflow outside the tenant's install is refused at
/// save, an upgrade out of an active workflow's range is refused naming it,
/// and a step whose connector moved out of its range since does not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_version_range_holds_across_installs_and_upgrades() {
    let app = TestApp::builder().start().await;
    let acme = Author::new(&app, "acme").await;
    let v1: Version = acme
        .publish("greeter", "0.1.0", &artifact("fixture_greeter"))
        .await
        .typed(201);
    let v2: Version = acme
        .publish("greeter", "0.2.0", &artifact("fixture_greeter_v2"))
        .await
        .typed(201);
    let a = app.tenant("tenant-a").await;
    let install: Install = app
        .call_as(
            &a,
            "POST",
            "/v1/installs",
            Some(json!({"package": "acme/greeter", "version": "0.1.0", "consent": v1.disclosure_digest})),
        )
        .await
        .typed(201);
    let pinned = |range: &str| {
        json!({"name": "pinned", "steps": [
            {"id": "hi", "kind": "action", "connector": "greeter", "action": "greet",
             "version": range, "input": {"name": "{{ trigger.body.name }}"}}
        ]})
    };
    let r = app
        .call_as(&a, "POST", "/v1/workflows", Some(pinned("^0.2")))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["error"]["details"][0]["path"], "/steps/0/version",
        "{}",
        r.body
    );
    let r = app
        .call_as(&a, "POST", "/v1/workflows", Some(pinned("one")))
        .await;
    assert_eq!(
        r.body["error"]["details"][0]["path"], "/steps/0/version",
        "{}",
        r.body
    );
    let wf: weft_model::Workflow = app
        .call_as(&a, "POST", "/v1/workflows", Some(pinned("^0.1")))
        .await
        .typed(201);
    app.call_as(
        &a,
        "POST",
        &format!("/v1/workflows/{}/activate", wf.id),
        Some(json!(null)),
    )
    .await
    .expect(200);
    let r = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/installs/{}/upgrade", install.id),
            Some(json!({"version": "0.2.0", "consent": v2.disclosure_digest})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&wf.id),
        "{}",
        r.body
    );
    // Deactivated, the upgrade goes through; the step then refuses to run
    // a version outside its range.
    app.call_as(
        &a,
        "POST",
        &format!("/v1/workflows/{}/deactivate", wf.id),
        Some(json!(null)),
    )
    .await
    .expect(200);
    app.call_as(
        &a,
        "POST",
        &format!("/v1/installs/{}/upgrade", install.id),
        Some(json!({"version": "0.2.0", "consent": v2.disclosure_digest})),
    )
    .await
    .expect(200);
    // Activating it again is refused: it is checked against what the
    // tenant has now.
    let r = app
        .call_as(
            &a,
            "POST",
            &format!("/v1/workflows/{}/activate", wf.id),
            Some(json!(null)),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body["error"]["details"][0]["path"], "/steps/0/version",
        "{}",
        r.body
    );
    let run = run_as(&app, &a, &wf.id, "ada").await;
    assert_eq!(run.status, weft_model::Status::Failed, "{run:#?}");
    let e = step(&run, "hi").error.as_ref().unwrap();
    assert!(
        e.message.contains("outside this step's version `^0.1`"),
        "{e:?}"
    );
    assert!(step(&run, "hi").output.is_none());
}

/// A worker loads (fetches, verifies, compiles) every installed connector
/// before a step needs it, once per digest, so no step waits for a
/// compilation: the work of its maintenance round (`takedown_refresh_ms`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_connectors_are_loaded_ahead_of_their_first_step() {
    let app = TestApp::builder()
        .worker(|w| w.takedown_refresh_ms = 0)
        .start()
        .await;
    let handle = &app.server.handle;
    assert_eq!(handle.load_installed_ahead().await.unwrap(), 0);
    let acme = Author::new(&app, "acme").await;
    let bytes = artifact("fixture_greeter");
    let v1: Version = acme.publish("greeter", "0.1.0", &bytes).await.typed(201);
    let digest = sha(&bytes);
    assert_eq!(
        handle.load_installed_ahead().await.unwrap(),
        0,
        "published but not installed: not loaded"
    );
    for tenant in ["tenant-a", "tenant-b"] {
        let key = app.tenant(tenant).await;
        app.call_as(
            &key,
            "POST",
            "/v1/installs",
            Some(json!({"package": "acme/greeter", "consent": v1.disclosure_digest})),
        )
        .await
        .expect(201);
    }
    assert!(handle.connectors().verified(&digest).is_none());
    assert_eq!(
        handle.load_installed_ahead().await.unwrap(),
        1,
        "one digest, installed twice"
    );
    assert!(
        handle.connectors().verified(&digest).is_some(),
        "verified and loaded without a step"
    );
    assert_eq!(handle.load_installed_ahead().await.unwrap(), 0, "once");
}
