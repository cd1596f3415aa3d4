//! Blobs by digest.

use super::*;

/// Put, get, has; a second put of a digest is a no-op.
pub async fn blobs_put_get_has<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Blobs>>,
{
    let blobs = fresh_blobs(factory).await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let digest = hex::encode(Sha256::digest(&bytes));
    assert!(!blobs.has(&digest).await.unwrap());
    assert_eq!(blobs.get(&digest).await.unwrap(), None, "an unknown digest");
    blobs.put(&digest, &bytes).await.unwrap();
    blobs
        .put(&digest, &bytes)
        .await
        .expect("storing a digest again");
    assert!(blobs.has(&digest).await.unwrap());
    assert_eq!(blobs.get(&digest).await.unwrap(), Some(bytes));
    let empty = hex::encode(Sha256::digest(b""));
    blobs.put(&empty, b"").await.unwrap();
    assert_eq!(
        blobs.get(&empty).await.unwrap(),
        Some(Vec::new()),
        "an empty blob"
    );
}

/// Bytes stored under another digest are refused at put or at get, never served.
pub async fn blobs_never_serve_mismatched_bytes<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Blobs>>,
{
    let blobs = fresh_blobs(factory).await;
    let digest = hex::encode(Sha256::digest(b"the real bytes"));
    if blobs.put(&digest, b"other bytes").await.is_ok() {
        let got = blobs.get(&digest).await;
        assert!(
            matches!(got, Err(Error::Corrupt(_))),
            "bytes that do not match their digest: expected Corrupt, got {got:?}"
        );
    }
}
