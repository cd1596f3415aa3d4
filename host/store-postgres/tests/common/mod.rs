//! A fresh, migrated schema per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use weft_store_postgres::{Options, Postgres};

pub async fn fresh_pg() -> Postgres {
    let url = std::env::var("WEFT_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "WEFT_TEST_DATABASE_URL is not set: start the services with \
             eval \"$(scripts/services start)\" (scripts/test does this)"
        )
    });
    let schema = format!("weft_test_{:016x}", rand::random::<u64>());
    let admin = Postgres::connect(&Options {
        max_connections: 1,
        ..Options::new(&url)
    })
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .unwrap();
    let pg = Postgres::connect(&Options {
        max_connections: 4,
        schema: Some(schema),
        ..Options::new(&url)
    })
    .await
    .unwrap();
    pg.migrate().await.unwrap();
    pg
}
