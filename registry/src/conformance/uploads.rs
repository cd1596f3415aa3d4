//! Blob uploads: the per-tenant quota's count and the sweeper's choice.

use super::*;

/// A version of `acme/name` whose artifact is the blob `digest`.
fn version_of(name: &str, digest: &str) -> Version {
    let mut v = version("acme", name, "1.0.0");
    v.digest = digest.into();
    v
}

/// Unpublished bytes count a tenant's uploads once per digest, and only
/// while no version references them.
pub async fn uploads_count_unpublished_bytes_per_tenant<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (d1, d2, d3) = (sha("blob 1"), sha("blob 2"), sha("blob 3"));
    assert_eq!(store.unpublished_bytes(A).await.unwrap(), 0, "no uploads");
    store.record_upload(&d1, A, 100, 10).await.unwrap();
    store.record_upload(&d2, A, 50, 20).await.unwrap();
    store.record_upload(&d3, B, 7, 10).await.unwrap();
    assert_eq!(store.unpublished_bytes(A).await.unwrap(), 150);
    assert_eq!(store.unpublished_bytes(B).await.unwrap(), 7, "B's own only");
    store.record_upload(&d1, A, 100, 30).await.unwrap();
    assert_eq!(
        store.unpublished_bytes(A).await.unwrap(),
        150,
        "uploading a digest again does not count it twice"
    );
    store.record_upload(&d1, B, 100, 30).await.unwrap();
    assert_eq!(
        store.unpublished_bytes(B).await.unwrap(),
        107,
        "each tenant that uploads a digest counts it"
    );
    put_publisher(&*store, "acme").await;
    publish(&*store, &version_of("one", &d1)).await;
    assert_eq!(
        store.unpublished_bytes(A).await.unwrap(),
        50,
        "a published digest no longer counts"
    );
    assert_eq!(store.unpublished_bytes(B).await.unwrap(), 7);
    let big = u64::try_from(i64::MAX).unwrap();
    store
        .record_upload(&sha("big"), "ten_c", big, 1)
        .await
        .unwrap();
    assert_eq!(store.unpublished_bytes("ten_c").await.unwrap(), big);
}

/// Stale uploads: every upload of the digest before the time, no version;
/// oldest first, at most `limit`; `forget_upload` removes only those.
pub async fn uploads_stale_and_forget<F, Fut>(factory: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn RegistryStore>>,
{
    let store = fresh(factory).await;
    let (d1, d2, d3, d4) = (sha("s1"), sha("s2"), sha("s3"), sha("s4"));
    store.record_upload(&d1, A, 10, 5).await.unwrap();
    store.record_upload(&d2, A, 10, 20).await.unwrap();
    store.record_upload(&d3, B, 10, 10).await.unwrap();
    store.record_upload(&d4, A, 10, 100).await.unwrap();
    put_publisher(&*store, "acme").await;
    publish(&*store, &version_of("one", &d1)).await;
    assert_eq!(
        store.stale_uploads(50, 10).await.unwrap(),
        [d3.clone(), d2.clone()],
        "old and unreferenced, oldest first; a published digest and a fresh one are kept"
    );
    assert_eq!(
        store.stale_uploads(50, 1).await.unwrap(),
        [d3.as_str()],
        "limit"
    );
    assert!(
        store.stale_uploads(10, 10).await.unwrap().is_empty(),
        "before is exclusive"
    );
    // Another tenant uploads d2 again: it is fresh.
    store.record_upload(&d2, B, 10, 60).await.unwrap();
    assert_eq!(store.stale_uploads(50, 10).await.unwrap(), [d3.as_str()]);
    assert!(
        !store.forget_upload(&d2, 50).await.unwrap(),
        "an upload since `before` keeps the digest"
    );
    assert!(
        !store.forget_upload(&d1, 1000).await.unwrap(),
        "a published digest is never forgotten"
    );
    assert!(store.forget_upload(&d3, 50).await.unwrap());
    assert!(
        !store.forget_upload(&d3, 50).await.unwrap(),
        "forgotten once"
    );
    assert!(store.stale_uploads(50, 10).await.unwrap().is_empty());
    assert_eq!(store.unpublished_bytes(B).await.unwrap(), 10, "d2 only");
    // Published between the sweeper's list and its forget: kept.
    let stale = store.stale_uploads(1000, 10).await.unwrap();
    assert_eq!(stale, [d2.clone(), d4.clone()]);
    publish(&*store, &version_of("four", &d4)).await;
    assert!(!store.forget_upload(&d4, 1000).await.unwrap());
    assert!(store.forget_upload(&d2, 1000).await.unwrap());
    assert_eq!(store.unpublished_bytes(A).await.unwrap(), 0);
    assert_eq!(store.unpublished_bytes(B).await.unwrap(), 0);
    assert!(
        store
            .forget_upload(&sha("never"), 1000)
            .await
            .is_ok_and(|f| !f)
    );
}
