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

/// Bytes that do not hash to the digest are refused (`Invalid`) and nothing
/// is stored.
pub async fn blobs_never_serve_mismatched_bytes<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Blobs>>,
{
    let blobs = fresh_blobs(factory).await;
    let digest = hex::encode(Sha256::digest(b"the real bytes"));
    let got = blobs.put(&digest, b"other bytes").await;
    assert!(
        matches!(got, Err(Error::Invalid(_))),
        "bytes that do not match their digest: expected Invalid, got {got:?}"
    );
    assert!(!blobs.has(&digest).await.unwrap(), "nothing stored");
    assert_eq!(blobs.get(&digest).await.unwrap(), None);
}

/// A deleted blob is gone; the others stay; deleting again is a no-op.
pub async fn blobs_delete<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn Blobs>>,
{
    let blobs = fresh_blobs(factory).await;
    let (a, b) = (b"blob a".to_vec(), b"blob b".to_vec());
    let (da, db) = (
        hex::encode(Sha256::digest(&a)),
        hex::encode(Sha256::digest(&b)),
    );
    blobs.put(&da, &a).await.unwrap();
    blobs.put(&db, &b).await.unwrap();
    blobs.delete(&da).await.unwrap();
    assert!(!blobs.has(&da).await.unwrap(), "deleted");
    assert_eq!(blobs.get(&da).await.unwrap(), None);
    assert_eq!(blobs.get(&db).await.unwrap(), Some(b), "another blob stays");
    blobs.delete(&da).await.expect("deleting a missing blob");
    blobs
        .put(&da, &a)
        .await
        .expect("stored again after a delete");
    assert_eq!(blobs.get(&da).await.unwrap(), Some(a));
    assert!(
        matches!(blobs.delete("../x").await, Err(Error::Invalid(_))),
        "a malformed digest"
    );
}
