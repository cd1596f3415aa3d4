//! The store conformance suite against PostgreSQL: a fresh schema per test on
//! the server named by `WEFT_TEST_DATABASE_URL` (started by `scripts/test`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_store::Store;
mod common;

weft_store::conformance_tests!(
    #[tokio::test]
    fresh
);

/// A store on a new, migrated schema of its own.
async fn fresh() -> Arc<dyn Store> {
    Arc::new(common::fresh_pg().await)
}
