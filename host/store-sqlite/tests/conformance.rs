//! The store conformance suite against a fresh database file per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_store::Store;
use weft_store_sqlite::Sqlite;

weft_store::conformance_tests!(
    #[tokio::test]
    fresh
);

async fn fresh() -> Arc<dyn Store> {
    Arc::new(Sqlite::temporary().await.expect("a temporary database"))
}
