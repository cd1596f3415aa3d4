//! Blob uploads on SQLite (`registry_uploads`): once per tenant and digest,
//! for the upload quota (a tenant's unpublished bytes) and the sweeper
//! (digests every upload of which is old and that no version references).

use crate::error::{db, encode};
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use rusqlite::params;

/// A digest no version references.
const UNREFERENCED: &str =
    "NOT EXISTS (SELECT 1 FROM registry_versions v WHERE v.digest = u.digest)";

pub(crate) async fn record(
    s: &Sqlite,
    digest: &str,
    tenant: &str,
    size: u64,
    at: i64,
) -> Result<()> {
    const SQL: &str = "INSERT INTO registry_uploads (digest, tenant_id, size, uploaded_at) \
        VALUES (?, ?, ?, ?) ON CONFLICT (digest, tenant_id) DO UPDATE SET \
        size = excluded.size, uploaded_at = max(uploaded_at, excluded.uploaded_at)";
    let size = i64::try_from(size).map_err(|e| encode("registry_uploads", "size", e))?;
    let (digest, tenant) = (digest.to_owned(), tenant.to_owned());
    s.write(move |conn| {
        execute(conn, SQL, params![digest, tenant, size, at]).map_err(db)?;
        Ok(())
    })
    .await
}

pub(crate) async fn unpublished_bytes(s: &Sqlite, tenant: &str) -> Result<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM(u.size), 0) AS bytes FROM registry_uploads u \
         WHERE u.tenant_id = ? AND {UNREFERENCED}"
    );
    let tenant = tenant.to_owned();
    let bytes = s
        .read(move |conn| {
            optional(conn, &sql, params![tenant], |row| {
                Cols::new(row, "registry_uploads").get::<i64>("bytes")
            })
        })
        .await?
        .unwrap_or(0);
    Ok(u64::try_from(bytes).unwrap_or(0))
}

pub(crate) async fn stale(s: &Sqlite, before: i64, limit: u32) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT u.digest, MAX(u.uploaded_at) AS last FROM registry_uploads u \
         WHERE {UNREFERENCED} GROUP BY u.digest HAVING MAX(u.uploaded_at) < ? \
         ORDER BY last, u.digest LIMIT ?"
    );
    s.read(move |conn| {
        all(conn, &sql, params![before, limit], |row| {
            Cols::new(row, "registry_uploads").get("digest")
        })
    })
    .await
}

pub(crate) async fn forget(s: &Sqlite, digest: &str, before: i64) -> Result<bool> {
    // One statement: no upload at or after `before`, no version, else nothing.
    let sql = format!(
        "DELETE FROM registry_uploads AS u WHERE u.digest = ?1 AND {UNREFERENCED} \
         AND NOT EXISTS (SELECT 1 FROM registry_uploads w \
         WHERE w.digest = ?1 AND w.uploaded_at >= ?2)"
    );
    let digest = digest.to_owned();
    s.write(move |conn| {
        let changed = execute(conn, &sql, params![digest, before]).map_err(db)?;
        Ok(changed > 0)
    })
    .await
}
