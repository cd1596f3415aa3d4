//! The blobs conformance suite against [`FsBlobs`] in a fresh directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use weft_registry::{Blobs, FsBlobs};

weft_registry::blobs_conformance_tests!(
    #[tokio::test]
    fresh
);

async fn fresh() -> Arc<dyn Blobs> {
    // Kept for the process's life: the suite's store outlives this call.
    let dir = tempfile::tempdir().unwrap().keep();
    Arc::new(FsBlobs::new(dir.join("blobs")))
}
