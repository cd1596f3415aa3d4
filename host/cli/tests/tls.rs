//! `weft migrate` as an operator runs it against a PostgreSQL that requires
//! TLS (`scripts/services`): the `WEFT_DATABASE_*` variables reach the
//! adapter, and a TLS option that cannot be used stops the start with an
//! error naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft_tls::testing::env;

use std::process::{Command, Output};
use weft_store_postgres::{Options, Postgres};

/// `weft migrate` with only these `WEFT_*` variables.
fn migrate(vars: &[(&str, &str)]) -> Output {
    let data = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_weft"));
    c.arg("migrate");
    for (k, _) in std::env::vars() {
        if k.starts_with("WEFT_") {
            c.env_remove(k);
        }
    }
    c.env("WEFT_LOG", "warn").env("WEFT_DATA_DIR", data.path());
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn weft_migrate_over_tls_with_the_ca_file_from_the_environment() {
    let url = env("WEFT_TEST_PG_TLS_URL");
    let ca = env("WEFT_TEST_TLS_CA_FILE");
    let schema = format!("weft_cli_tls_{:016x}", rand_suffix());
    let admin = Postgres::connect(&Options {
        max_connections: 1,
        tls: weft_tls::Files {
            ca_file: Some(ca.clone().into()),
            ..weft_tls::Files::default()
        },
        ..Options::new(&url)
    })
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .unwrap();

    let out = migrate(&[
        ("WEFT_DATABASE_URL", &url),
        ("WEFT_DATABASE_SCHEMA", &schema),
        ("WEFT_DATABASE_TLS_CA_FILE", &ca),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the database is up to date"),
        "{}",
        stderr(&out)
    );

    let out = migrate(&[
        ("WEFT_DATABASE_URL", &url),
        ("WEFT_DATABASE_SCHEMA", &schema),
        ("WEFT_DATABASE_TLS_CA_FILE", "/nonexistent/weft-ca.pem"),
    ]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("database.tls.ca_file") && e.contains("/nonexistent/weft-ca.pem"),
        "{e}"
    );

    let require = url.replace("sslmode=verify-full", "sslmode=require");
    let out = migrate(&[
        ("WEFT_DATABASE_URL", &require),
        ("WEFT_DATABASE_SCHEMA", &schema),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("sslmode=require"), "{}", stderr(&out));
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ u64::from(std::process::id())
}
