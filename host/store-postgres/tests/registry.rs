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

/// Bytes changed in the table are refused at get, and a put of the right
/// bytes replaces them (a corrupt blob can be repaired by uploading it again).
#[tokio::test]
async fn a_corrupt_blob_is_replaced_by_a_put_of_the_right_bytes() {
    use sha2::{Digest, Sha256};
    let pg = common::fresh_pg().await;
    let good = b"the component".to_vec();
    let d = hex::encode(Sha256::digest(&good));
    pg.put(&d, &good).await.unwrap();
    for bad in [&b"evil"[..], b"the componen", b""] {
        sqlx::query("UPDATE registry_blobs SET bytes = $1 WHERE digest = $2")
            .bind(bad)
            .bind(&d)
            .execute(pg.pool())
            .await
            .unwrap();
        assert!(
            matches!(pg.get(&d).await, Err(weft_store::Error::Corrupt(_))),
            "changed bytes are refused"
        );
        pg.put(&d, &good).await.unwrap();
        assert_eq!(pg.get(&d).await.unwrap(), Some(good.clone()), "repaired");
    }
}
