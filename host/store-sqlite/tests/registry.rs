//! The registry conformance suite against a fresh database file per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_registry::RegistryStore;
use weft_store_sqlite::Sqlite;

weft_registry::registry_conformance_tests!(
    #[tokio::test]
    fresh
);

async fn fresh() -> Arc<dyn RegistryStore> {
    Arc::new(Sqlite::temporary().await.expect("a temporary database"))
}
