//! Artifacts on the filesystem, by digest (docs/REGISTRY.md section 7): the
//! embedded mode's [`Blobs`] adapter.
//!
//! A blob lives at `<root>/sha256/<first two hex digits>/<digest>`. It is
//! written to a temporary file in the same directory, flushed and renamed,
//! so a reader sees the whole blob or none (the temporary file is removed
//! when a write fails). Its bytes are hashed again on every read: a file
//! changed on disk is refused, not served, and a put of the right bytes
//! replaces it.

use crate::{Blobs, Error, Result};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The hex SHA-256 of `bytes`: a blob's digest.
pub fn digest_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks a digest's form: 64 lower-case hex digits, nothing else (so it can
/// never name a path outside the store).
///
/// # Errors
/// [`Error::Invalid`] saying what is wrong with it.
pub fn check_digest(digest: &str) -> Result<()> {
    let shown: String = digest.chars().take(80).collect();
    if digest.len() != 64 {
        return Err(Error::Invalid(format!(
            "digest `{shown}` is {} characters; a SHA-256 digest is 64 lower-case hex digits",
            digest.chars().count()
        )));
    }
    if let Some(c) = digest
        .chars()
        .find(|c| !(c.is_ascii_digit() || ('a'..='f').contains(c)))
    {
        return Err(Error::Invalid(format!(
            "digest `{shown}` has {c:?}; a SHA-256 digest is 64 lower-case hex digits"
        )));
    }
    Ok(())
}

/// Blobs in a directory.
#[derive(Debug)]
pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    /// Blobs under `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Where the blob `digest` lives; the digest must have been checked.
    fn path(&self, digest: &str) -> PathBuf {
        self.root.join("sha256").join(&digest[..2]).join(digest)
    }
}

fn unavailable(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::Unavailable(format!("{what} {}: {e}", path.display()))
}

/// A name for a temporary file no other writer in any process uses.
fn temp_name(digest: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        ".{digest}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn write_atomically(path: &Path, digest: &str, bytes: &[u8]) -> Result<()> {
    let Some(dir) = path.parent() else {
        return Err(Error::Unavailable(format!(
            "blob path {} has no directory",
            path.display()
        )));
    };
    std::fs::create_dir_all(dir).map_err(|e| unavailable("creating", dir, &e))?;
    let temp = dir.join(temp_name(digest));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename is durable once the directory is.
        std::fs::File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        // Best effort: a leftover temporary file is never read as a blob.
        let _ = std::fs::remove_file(&temp);
        unavailable("writing", path, &e)
    })
}

fn read_checked(path: &Path, digest: &str) -> Result<Option<Vec<u8>>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unavailable("reading", path, &e)),
    };
    let actual = digest_of(&bytes);
    if actual != digest {
        return Err(Error::Corrupt(format!(
            "blob sha256:{digest} is corrupt: its bytes on disk hash to sha256:{actual}"
        )));
    }
    Ok(Some(bytes))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Unavailable(format!("blob task failed: {e}")))?
}

#[async_trait]
impl Blobs for FsBlobs {
    /// Stores `bytes` under `digest` after checking that they hash to it
    /// (`Invalid`, naming both digests, when not).
    async fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        check_digest(digest)?;
        let actual = digest_of(bytes);
        if actual != digest {
            return Err(Error::Invalid(format!(
                "the bytes hash to sha256:{actual}, not sha256:{digest}"
            )));
        }
        let path = self.path(digest);
        let (digest, bytes) = (digest.to_owned(), bytes.to_vec());
        blocking(move || {
            // The bytes hash to the digest: stored bytes equal to them are
            // right; anything else (changed, torn, unreadable) is replaced.
            if std::fs::read(&path).is_ok_and(|stored| stored == bytes) {
                return Ok(());
            }
            write_atomically(&path, &digest, &bytes)
        })
        .await
    }

    async fn get(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        check_digest(digest)?;
        let path = self.path(digest);
        let digest = digest.to_owned();
        blocking(move || read_checked(&path, &digest)).await
    }

    async fn has(&self, digest: &str) -> Result<bool> {
        check_digest(digest)?;
        let path = self.path(digest);
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| unavailable("checking", &path, &e))
    }

    async fn delete(&self, digest: &str) -> Result<()> {
        check_digest(digest)?;
        let path = self.path(digest);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(unavailable("deleting", &path, &e)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FsBlobs) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::new(dir.path().join("blobs"));
        (dir, blobs)
    }

    #[tokio::test]
    async fn put_get_has_round_trip_and_put_is_idempotent() {
        let (dir, blobs) = store();
        let bytes = b"\0asm component bytes".to_vec();
        let d = digest_of(&bytes);
        assert!(!blobs.has(&d).await.unwrap());
        assert_eq!(blobs.get(&d).await.unwrap(), None);
        blobs.put(&d, &bytes).await.unwrap();
        blobs.put(&d, &bytes).await.unwrap();
        assert!(blobs.has(&d).await.unwrap());
        assert_eq!(blobs.get(&d).await.unwrap(), Some(bytes));
        let path = dir.path().join("blobs/sha256").join(&d[..2]).join(&d);
        assert!(path.is_file(), "{}", path.display());
        // Nothing but the blob is left in its directory.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(&d)]);
        // The empty blob is a blob too.
        let empty = digest_of(b"");
        blobs.put(&empty, b"").await.unwrap();
        assert_eq!(blobs.get(&empty).await.unwrap(), Some(vec![]));
    }

    #[tokio::test]
    async fn bad_digests_are_invalid_and_never_reach_the_filesystem() {
        let (dir, blobs) = store();
        let cases = [
            (String::new(), "is 0 characters"),
            ("abc".to_owned(), "is 3 characters"),
            ("A".repeat(64), "has 'A'"),
            (format!("../../{}", "a".repeat(58)), "has '.'"),
            (format!("{}/..", "a".repeat(61)), "has '/'"),
            (format!("sha256:{}", "a".repeat(57)), "has 's'"),
            // 64 bytes, 32 characters.
            ("é".repeat(32), "has 'é'"),
        ];
        for (digest, want) in &cases {
            let digest = digest.as_str();
            for e in [
                blobs.put(digest, b"x").await.unwrap_err(),
                blobs.get(digest).await.unwrap_err(),
                blobs.has(digest).await.unwrap_err(),
            ] {
                match e {
                    Error::Invalid(m) => {
                        assert!(m.contains(want), "{digest}: {m}");
                        assert!(m.contains("64 lower-case hex digits"), "{m}");
                    }
                    other => panic!("{digest}: {other:?}"),
                }
            }
        }
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[tokio::test]
    async fn bytes_that_do_not_hash_to_the_digest_are_refused() {
        let (_dir, blobs) = store();
        let claimed = digest_of(b"the real component");
        let e = blobs.put(&claimed, b"something else").await.unwrap_err();
        assert_eq!(
            e,
            Error::Invalid(format!(
                "the bytes hash to sha256:{}, not sha256:{claimed}",
                digest_of(b"something else")
            ))
        );
        assert!(!blobs.has(&claimed).await.unwrap());
    }

    #[tokio::test]
    async fn a_blob_changed_on_disk_is_refused_naming_the_digest() {
        let (dir, blobs) = store();
        let d = digest_of(b"good");
        blobs.put(&d, b"good").await.unwrap();
        let path = dir.path().join("blobs/sha256").join(&d[..2]).join(&d);
        std::fs::write(&path, b"evil").unwrap();
        let e = blobs.get(&d).await.unwrap_err();
        assert_eq!(
            e,
            Error::Corrupt(format!(
                "blob sha256:{d} is corrupt: its bytes on disk hash to sha256:{}",
                digest_of(b"evil")
            ))
        );
        // A truncated (torn) file is refused the same way.
        std::fs::write(&path, b"goo").unwrap();
        assert!(matches!(blobs.get(&d).await, Err(Error::Corrupt(_))));
    }

    #[tokio::test]
    async fn a_corrupt_blob_is_replaced_by_a_put_of_the_right_bytes() {
        let (dir, blobs) = store();
        let d = digest_of(b"good");
        blobs.put(&d, b"good").await.unwrap();
        let path = dir.path().join("blobs/sha256").join(&d[..2]).join(&d);
        for bad in [&b"evil"[..], b"goo", b""] {
            std::fs::write(&path, bad).unwrap();
            assert!(matches!(blobs.get(&d).await, Err(Error::Corrupt(_))));
            blobs.put(&d, b"good").await.unwrap();
            assert_eq!(blobs.get(&d).await.unwrap(), Some(b"good".to_vec()));
        }
        // Bytes that hash right are left alone (same file, not rewritten).
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        blobs.put(&d, b"good").await.unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_temporary_file() {
        let (dir, blobs) = store();
        let d = digest_of(b"bytes");
        // A non-empty directory where the blob goes: the rename fails.
        let path = dir.path().join("blobs/sha256").join(&d[..2]).join(&d);
        std::fs::create_dir_all(path.join("x")).unwrap();
        let e = blobs.put(&d, b"bytes").await.unwrap_err();
        assert!(matches!(e, Error::Unavailable(_)), "{e:?}");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from(&d)], "no .tmp left");
    }

    #[tokio::test]
    async fn concurrent_writers_of_one_blob_leave_it_whole() {
        let (_dir, blobs) = store();
        let blobs = std::sync::Arc::new(blobs);
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let d = digest_of(&bytes);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (blobs, d, bytes) = (blobs.clone(), d.clone(), bytes.clone());
                tokio::spawn(async move { blobs.put(&d, &bytes).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(blobs.get(&d).await.unwrap(), Some(bytes));
    }
}
