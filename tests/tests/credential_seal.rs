//! K4: a credential's binding (name, hosts, injection) is authenticated with
//! its ciphertext. Played against the real SQLite file of a running server:
//! someone with write access to the database rebinds a credential to their own
//! host; the step fails `credential_tampered` and nothing reaches that host.
//! And a row sealed the way earlier builds did (binding version 1) is
//! refused until `weft migrate` re-seals it (printing the binding it
//! accepts), then opens; a server start never re-seals it (M3), and a row
//! that does not open is skipped, not fatal (L1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use weft_cli::server::{Config, StoreKind};
use weft_model::Credential;
use weft_tests::{Inbox, StandIn, TestApp, step};
use weft_types::{Reason, Status};
use weft_vault::{BINDING_VERSION, Binding, Keyring, Sealed};

const SECRET: &str = "sk-live-k4-1414213562373095";

/// A server on a SQLite file in `dir` (so the test can write to it too).
async fn app(dir: &Path) -> TestApp {
    let dir = dir.to_owned();
    TestApp::builder()
        .config(move |c| {
            c.data_dir = dir.clone();
            c.store = StoreKind::Sqlite(dir.join("weft.db"));
        })
        .start()
        .await
}

fn db(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("weft.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

async fn stand_in() -> (StandIn, Inbox) {
    StandIn::scripted(|_| "ok".into_response()).await
}

/// One `http` step calling `url` with the `auth` credential `api`.
fn workflow(url: &str) -> Value {
    json!({
        "name": "call",
        "grants": {"hosts": ["127.0.0.1"], "credentials": {"auth": "api"}},
        "steps": [
            {"id": "call", "kind": "action", "connector": "http", "action": "request",
             "input": {"url": url, "credential": true, "fail_on_status": false}}
        ]
    })
}

async fn create(app: &TestApp, bound: &StandIn) -> Credential {
    app.post(
        "/v1/credentials",
        json!({"name": "api", "secret": SECRET,
               "hosts": [format!("127.0.0.1:{}", bound.port())],
               "injection": {"type": "bearer"}}),
    )
    .await
    .typed(201)
}

fn carries_secret(inbox: &Inbox) -> bool {
    inbox
        .all()
        .iter()
        .any(|r| format!("{:?} {}", r.headers, r.uri).contains(SECRET))
}

#[tokio::test]
async fn k4_hosts_or_injection_changed_in_the_database_fail_the_step_and_send_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (api, api_inbox) = stand_in().await;
    let (evil, evil_inbox) = stand_in().await;
    let cred = create(&app, &api).await;
    let wf = app.workflow(workflow(&evil.url("/collect"))).await;

    // Before: the credential is not bound to the other host; nothing is sent.
    let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
    assert_eq!(run.status, Status::Failed, "{run:#?}");
    assert!(evil_inbox.is_empty());

    let evil_hosts = json!([format!("127.0.0.1:{}", evil.port())]).to_string();
    let tampered: [(&str, String); 3] = [
        ("hosts", evil_hosts.clone()),
        ("hosts", json!(["*"]).to_string()),
        // Moving the secret into the query string (servers log and echo it).
        (
            "injection",
            json!({"type": "query", "param": "k"}).to_string(),
        ),
    ];
    for (column, value) in tampered {
        let original: String = db(dir.path())
            .query_row(
                &format!("SELECT {column} FROM credentials WHERE id = ?1"),
                [&cred.id],
                |r| r.get(0),
            )
            .unwrap();
        let changed = db(dir.path())
            .execute(
                &format!("UPDATE credentials SET {column} = ?1 WHERE id = ?2"),
                [&value, &cred.id],
            )
            .unwrap();
        assert_eq!(changed, 1);
        if column == "injection" {
            // Also bind the evil host, so only the seal stands in the way.
            db(dir.path())
                .execute(
                    "UPDATE credentials SET hosts = ?1 WHERE id = ?2",
                    [&evil_hosts, &cred.id],
                )
                .unwrap();
        }
        let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
        assert_eq!(run.status, Status::Failed, "{column}={value}: {run:#?}");
        let error = step(&run, "call").error.clone().unwrap();
        assert_eq!(error.reason, Some(Reason::CredentialTampered), "{error:?}");
        assert!(
            error
                .message
                .starts_with("credential metadata does not match its seal"),
            "{}",
            error.message
        );
        assert!(
            evil_inbox.is_empty(),
            "{column}={value}: a request reached the rebound host"
        );
        db(dir.path())
            .execute(
                &format!("UPDATE credentials SET {column} = ?1 WHERE id = ?2"),
                [&original, &cred.id],
            )
            .unwrap();
        if column == "injection" {
            db(dir.path())
                .execute(
                    "UPDATE credentials SET hosts = ?1 WHERE id = ?2",
                    [
                        json!([format!("127.0.0.1:{}", api.port())]).to_string(),
                        cred.id.clone(),
                    ],
                )
                .unwrap();
        }
    }
    // The restored row opens again: the real API gets the secret, once.
    let wf = app.workflow(workflow(&api.url("/ok"))).await;
    let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        api_inbox.only().header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert!(!carries_secret(&evil_inbox));
}

/// Reads the credential row and its tenant's wrapped key.
fn row(dir: &Path, id: &str) -> (String, String, Vec<String>, String, Vec<u8>, u32) {
    db(dir)
        .query_row(
            "SELECT c.tenant_id, c.name, c.hosts, c.injection, t.wrapped_key, c.ad_version \
             FROM credentials c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = ?1",
            [id],
            |r| {
                let hosts: String = r.get(2)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    serde_json::from_str(&hosts).unwrap(),
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap()
}

fn sealed(dir: &Path, id: &str) -> Sealed {
    db(dir)
        .query_row(
            "SELECT nonce, ciphertext FROM credentials WHERE id = ?1",
            [id],
            |r| {
                Ok(Sealed {
                    nonce: r.get(0)?,
                    ciphertext: r.get(1)?,
                })
            },
        )
        .unwrap()
}

#[tokio::test]
async fn k4_a_row_sealed_the_old_way_is_refused_until_migrate_reseals_it_then_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let (api, inbox) = stand_in().await;
    let cred = create(&app, &api).await;
    let wf = app.workflow(workflow(&api.url("/ok"))).await;

    // Seal the row as builds before binding version 2 did: (tenant, id) only.
    let keyring = Keyring::load(&dir.path().join("master.keys")).unwrap();
    let (tenant, name, hosts, injection, wrapped, version) = row(dir.path(), &cred.id);
    assert_eq!(
        version, BINDING_VERSION,
        "new rows are sealed under the current binding"
    );
    let injection: weft_types::Injection = serde_json::from_str(&injection).unwrap();
    let injection = serde_json::to_string(&injection).unwrap();
    let binding = Binding {
        tenant_id: &tenant,
        credential_id: &cred.id,
        name: &name,
        hosts: &hosts,
        injection: &injection,
    };
    let v1 = keyring
        .seal_version(&wrapped, &binding, 1, SECRET.as_bytes())
        .unwrap();
    db(dir.path())
        .execute(
            "UPDATE credentials SET nonce = ?1, ciphertext = ?2, ad_version = 1 WHERE id = ?3",
            rusqlite::params![v1.nonce, v1.ciphertext, cred.id],
        )
        .unwrap();

    // Not re-sealed yet: refused, named, nothing sent.
    let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
    let error = step(&run, "call").error.clone().unwrap();
    assert_eq!(error.reason, Some(Reason::CredentialTampered), "{error:?}");
    assert!(
        error.message.contains("binding version 1"),
        "{}",
        error.message
    );
    assert!(error.message.contains("weft migrate"), "{}", error.message);
    assert!(inbox.is_empty());

    // M3: starting a server (which migrates the schema) does not re-seal
    // it: its hosts were never authenticated. An API process, beside the
    // running test server (which holds the database's lock: a second
    // `weft serve` on it is refused).
    let mut config = Config::embedded(PathBuf::from(dir.path()));
    config.http = false;
    config.role = weft_cli::server::Role::Api;
    let server = weft_cli::server::Server::start(config.clone())
        .await
        .unwrap();
    server.stop().await;
    let (.., version) = row(dir.path(), &cred.id);
    assert_eq!(version, 1, "a server start re-sealed a version-1 row");
    assert_eq!(sealed(dir.path(), &cred.id), v1);

    // L1: another version-1 row that does not open under version 1 (here a
    // version-2 seal relabelled) is skipped by migrate, not fatal.
    let bad: Credential = app
        .post(
            "/v1/credentials",
            json!({"name": "other", "secret": SECRET, "hosts": ["example.com"],
                   "injection": {"type": "bearer"}}),
        )
        .await
        .typed(201);
    db(dir.path())
        .execute(
            "UPDATE credentials SET ad_version = 1 WHERE id = ?1",
            [&bad.id],
        )
        .unwrap();

    // `weft migrate` on the same data directory, while the server runs: it
    // re-seals the good row and says which binding it accepted.
    let done = weft_cli::server::migrate(&config).await.unwrap();
    assert_eq!(done.resealed.skipped, 1, "{done:?}");
    assert_eq!(done.resealed.accepted.len(), 1, "{done:?}");
    let accepted = &done.resealed.accepted[0];
    assert_eq!(
        (&accepted.tenant_id, &accepted.credential_id, &accepted.name),
        (&tenant, &cred.id, &name)
    );
    assert_eq!(accepted.hosts, hosts);
    assert_eq!(accepted.injection, injection);
    let (.., version) = row(dir.path(), &bad.id);
    assert_eq!(version, 1, "a row that does not open is left as it was");
    let (.., version) = row(dir.path(), &cred.id);
    assert_eq!(version, BINDING_VERSION);
    let resealed = sealed(dir.path(), &cred.id);
    assert_ne!(resealed.nonce, v1.nonce);
    assert_eq!(
        &keyring
            .open(&wrapped, &binding, BINDING_VERSION, &resealed)
            .unwrap()[..],
        SECRET.as_bytes()
    );
    // Idempotent: a second migrate leaves the row alone.
    let again = weft_cli::server::migrate(&config).await.unwrap();
    assert!(again.resealed.accepted.is_empty(), "{again:?}");
    assert_eq!(sealed(dir.path(), &cred.id), resealed);

    // And the step now sends the secret to its bound host.
    let run = app.finished(&app.start_run(&wf.id, json!({})).await).await;
    assert_eq!(run.status, Status::Completed, "{run:#?}");
    assert_eq!(
        inbox.only().header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
}
