//! TLS to a real PostgreSQL (started with `ssl=on` by `scripts/services`): a
//! TLS-only user with a password, a user that must present a client
//! certificate, the server checked against the test CA, and the refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft_tls::testing::{env, files};

use serde_json::json;
use weft_store::{Commit, Store};
use weft_store_postgres::{Options, Postgres};
use weft_types::{Run, Status, Trigger};

fn options(url: String, tls: weft_tls::Files) -> Options {
    Options {
        max_connections: 2,
        tls,
        ..Options::new(url)
    }
}

async fn connect(url: String, tls: weft_tls::Files) -> weft_store::Result<Postgres> {
    Postgres::connect(&options(url, tls)).await
}

/// Whether this session is encrypted, as the server sees it.
async fn encrypted(pg: &Postgres) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pg.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn over_tls_it_migrates_and_round_trips_a_run() {
    let url = env("WEFT_TEST_PG_TLS_URL");
    let files = files("WEFT_TEST_TLS_CA_FILE", false);
    let admin = connect(url.clone(), files.clone()).await.unwrap();
    assert!(encrypted(&admin).await);
    let schema = format!("weft_tls_{:016x}", rand::random::<u64>());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .unwrap();
    let pg = Postgres::connect(&Options {
        schema: Some(schema),
        ..options(url, files)
    })
    .await
    .unwrap();
    assert!(!pg.migrate().await.unwrap().is_empty());
    let run = Run {
        tenant_id: "ten_a".into(),
        id: "run_tls".into(),
        workflow_id: "wf_1".into(),
        version: 1,
        status: Status::Running,
        trigger: Trigger::Manual,
        input: json!({"over": "tls"}),
        output: None,
        error: None,
        response: None,
        parent: None,
        depth: 0,
        deadline_at: None,
        seq: 1,
        created_at: 1,
        updated_at: 1,
        finished_at: None,
        until: None,
    };
    pg.commit(&Commit {
        runs: vec![(run.clone(), None)],
        ..Commit::default()
    })
    .await
    .unwrap();
    assert_eq!(pg.get_run("ten_a", "run_tls").await.unwrap(), Some(run));
    pg.ping().await.unwrap();
}

#[tokio::test]
async fn a_user_that_needs_a_client_certificate_gets_in_with_it_and_not_without() {
    let url = env("WEFT_TEST_PG_CERT_URL");
    let pg = connect(url.clone(), files("WEFT_TEST_TLS_CA_FILE", true))
        .await
        .unwrap();
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(user, "weft_cert");
    assert!(encrypted(&pg).await);

    let e = connect(url, files("WEFT_TEST_TLS_CA_FILE", false))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("certificate"), "{e}");
}

#[tokio::test]
async fn a_server_certificate_from_another_ca_is_refused_naming_the_ca_file() {
    let other = env("WEFT_TEST_TLS_OTHER_CA_FILE");
    let e = connect(
        env("WEFT_TEST_PG_TLS_URL"),
        files("WEFT_TEST_TLS_OTHER_CA_FILE", false),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("UnknownIssuer") && e.contains("database.tls.ca_file") && e.contains(&other),
        "{e}"
    );
    // Without a CA file the system's roots are used, which do not know the
    // test CA either.
    let e = connect(env("WEFT_TEST_PG_TLS_URL"), weft_tls::Files::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("UnknownIssuer") && e.contains("system's trusted roots"),
        "{e}"
    );
}

#[tokio::test]
async fn verify_full_checks_the_host_name_verify_ca_does_not() {
    // The server also listens on 127.0.0.2, which its certificate does not
    // name (the certificate has 127.0.0.1 and localhost).
    let url = env("WEFT_TEST_PG_TLS_URL").replace("@127.0.0.1:", "@127.0.0.2:");
    let e = connect(url.clone(), files("WEFT_TEST_TLS_CA_FILE", false))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not valid for name \"127.0.0.2\""), "{e}");
    let ca_only = url.replace("sslmode=verify-full", "sslmode=verify-ca");
    let pg = connect(ca_only, files("WEFT_TEST_TLS_CA_FILE", false))
        .await
        .unwrap();
    assert!(encrypted(&pg).await);
}

#[tokio::test]
async fn plain_tcp_for_a_tls_only_user_is_refused_by_the_server() {
    let url = env("WEFT_TEST_PG_TLS_URL").replace("sslmode=verify-full", "sslmode=disable");
    let e = connect(url, weft_tls::Files::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("pg_hba.conf rejects") && e.contains("weft_tls"),
        "{e}"
    );
}

#[tokio::test]
async fn sslmode_require_is_refused_before_connecting() {
    let url = env("WEFT_TEST_PG_TLS_URL").replace("sslmode=verify-full", "sslmode=require");
    let e = connect(url, files("WEFT_TEST_TLS_CA_FILE", false))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("sslmode=require") && e.contains("verify-full"),
        "{e}"
    );
}
