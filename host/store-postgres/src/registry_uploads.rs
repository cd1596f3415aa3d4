//! Blob uploads on PostgreSQL (`registry_uploads`): once per tenant and
//! digest, for the upload quota (a tenant's unpublished bytes) and the
//! sweeper (digests every upload of which is old and that no version
//! references).

use crate::Postgres;
use crate::row::{Cols, unavailable};
use weft_store::{Error, Result};

/// A digest no version references.
const UNREFERENCED: &str =
    "NOT EXISTS (SELECT 1 FROM registry_versions v WHERE v.digest = u.digest)";

pub(crate) async fn record(
    pg: &Postgres,
    digest: &str,
    tenant: &str,
    size: u64,
    at: i64,
) -> Result<()> {
    let size = i64::try_from(size)
        .map_err(|e| Error::Unavailable(format!("cannot encode registry_uploads.size: {e}")))?;
    sqlx::query(
        "INSERT INTO registry_uploads (digest, tenant_id, size, uploaded_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (digest, tenant_id) DO UPDATE SET \
         size = EXCLUDED.size, \
         uploaded_at = GREATEST(registry_uploads.uploaded_at, EXCLUDED.uploaded_at)",
    )
    .bind(digest)
    .bind(tenant)
    .bind(size)
    .bind(at)
    .execute(pg.pool())
    .await
    .map_err(unavailable)?;
    Ok(())
}

pub(crate) async fn unpublished_bytes(pg: &Postgres, tenant: &str) -> Result<u64> {
    let sql = format!(
        "SELECT COALESCE(SUM(u.size), 0)::BIGINT AS bytes FROM registry_uploads u \
         WHERE u.tenant_id = $1 AND {UNREFERENCED}"
    );
    let rows = pg.rows(sql, &[tenant]).await?;
    let bytes: i64 = match rows.first() {
        Some(r) => Cols::new(r, "registry_uploads").get("bytes")?,
        None => 0,
    };
    Ok(u64::try_from(bytes).unwrap_or(0))
}

pub(crate) async fn stale(pg: &Postgres, before: i64, limit: u32) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT u.digest, MAX(u.uploaded_at) AS last FROM registry_uploads u \
         WHERE {UNREFERENCED} GROUP BY u.digest HAVING MAX(u.uploaded_at) < $1 \
         ORDER BY last, u.digest LIMIT $2"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(pg.pool())
        .await
        .map_err(unavailable)?;
    rows.iter()
        .map(|r| Cols::new(r, "registry_uploads").get("digest"))
        .collect()
}

pub(crate) async fn forget(pg: &Postgres, digest: &str, before: i64) -> Result<bool> {
    // One statement: no upload at or after `before`, no version, else nothing.
    let sql = format!(
        "DELETE FROM registry_uploads u WHERE u.digest = $1 AND {UNREFERENCED} \
         AND NOT EXISTS (SELECT 1 FROM registry_uploads w \
         WHERE w.digest = $1 AND w.uploaded_at >= $2)"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(digest)
        .bind(before)
        .execute(pg.pool())
        .await
        .map_err(unavailable)?;
    Ok(done.rows_affected() > 0)
}
