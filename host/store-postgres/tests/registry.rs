//! The registry and blobs conformance suites against PostgreSQL: a fresh
//! schema per test on the server named by `WEFT_TEST_DATABASE_URL` (started
//! by `scripts/test`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_registry::{Blobs, RegistryStore};
mod common;

weft_registry::registry_conformance_tests!(
    #[tokio::test]
    fresh
);

weft_registry::blobs_conformance_tests!(
    #[tokio::test]
    fresh_blobs
);

async fn fresh() -> Arc<dyn RegistryStore> {
    Arc::new(common::fresh_pg().await)
}

async fn fresh_blobs() -> Arc<dyn Blobs> {
    Arc::new(common::fresh_pg().await)
}
