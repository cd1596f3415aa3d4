//! `impl Blobs for Postgres`: components by digest in a `bytea` table
//! (migration 0005), the distributed mode's artifact store. Bytes are
//! checked against their digest when stored and when read back; a put of
//! the right bytes replaces a corrupt row.

use crate::Postgres;
use crate::row::{Cols, unavailable};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use weft_registry::Blobs;
use weft_store::{Error, Result};

/// A digest is 64 lower-case hex digits.
fn check(digest: &str) -> Result<()> {
    let ok = digest.len() == 64
        && digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "blob digest `{digest}` is not 64 lower-case hex digits (SHA-256)"
        )))
    }
}

#[async_trait]
impl Blobs for Postgres {
    /// Refuses bytes that do not hash to `digest` (`Invalid`); replaces
    /// stored bytes that differ from them (a corrupt row is repaired), and
    /// leaves equal ones alone.
    async fn put(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        check(digest)?;
        let actual = hex::encode(Sha256::digest(bytes));
        if actual != digest {
            return Err(Error::Invalid(format!(
                "the bytes hash to sha256:{actual}, not sha256:{digest}"
            )));
        }
        let size = i64::try_from(bytes.len())
            .map_err(|e| Error::Unavailable(format!("blob {digest}: {e}")))?;
        sqlx::query(
            "INSERT INTO registry_blobs (digest, bytes, size) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET bytes = EXCLUDED.bytes, size = EXCLUDED.size \
             WHERE registry_blobs.bytes IS DISTINCT FROM EXCLUDED.bytes",
        )
        .bind(digest)
        .bind(bytes)
        .bind(size)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn get(&self, digest: &str) -> Result<Option<Vec<u8>>> {
        check(digest)?;
        let Some(row) = sqlx::query("SELECT bytes FROM registry_blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let bytes: Vec<u8> = Cols::new(&row, "registry_blobs").get("bytes")?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != digest {
            return Err(Error::Corrupt(format!(
                "blob {digest} holds bytes whose SHA-256 is {actual}"
            )));
        }
        Ok(Some(bytes))
    }

    async fn has(&self, digest: &str) -> Result<bool> {
        check(digest)?;
        let row = sqlx::query("SELECT 1 AS one FROM registry_blobs WHERE digest = $1")
            .bind(digest)
            .fetch_optional(self.pool())
            .await
            .map_err(unavailable)?;
        Ok(row.is_some())
    }

    async fn delete(&self, digest: &str) -> Result<()> {
        check(digest)?;
        sqlx::query("DELETE FROM registry_blobs WHERE digest = $1")
            .bind(digest)
            .execute(self.pool())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
