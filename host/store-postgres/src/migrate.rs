//! Embedded migrations, applied once each, in order, under an advisory lock.

use crate::row::unavailable;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use weft_store::{Error, Result};

/// `(version, description, sql)`, from `migrations/postgres/<version>_<description>.sql`.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "attempt_logs",
        include_str!("../../../migrations/postgres/0002_attempt_logs.sql"),
    ),
    (
        3,
        "webhook_deliveries",
        include_str!("../../../migrations/postgres/0003_webhook_deliveries.sql"),
    ),
    (
        4,
        "credential_binding",
        include_str!("../../../migrations/postgres/0004_credential_binding.sql"),
    ),
    (
        5,
        "registry",
        include_str!("../../../migrations/postgres/0005_registry.sql"),
    ),
    (
        6,
        "attempt_digest",
        include_str!("../../../migrations/postgres/0006_attempt_digest.sql"),
    ),
    (
        7,
        "operators",
        include_str!("../../../migrations/postgres/0007_operators.sql"),
    ),
    (
        8,
        "people",
        include_str!("../../../migrations/postgres/0008_people.sql"),
    ),
    (
        9,
        "key_scopes",
        include_str!("../../../migrations/postgres/0009_key_scopes.sql"),
    ),
    (
        10,
        "usage",
        include_str!("../../../migrations/postgres/0010_usage.sql"),
    ),
    (
        11,
        "notifications",
        include_str!("../../../migrations/postgres/0011_notifications.sql"),
    ),
    (
        12,
        "notify_connector",
        include_str!("../../../migrations/postgres/0012_notify_connector.sql"),
    ),
    (
        13,
        "people_pruning",
        include_str!("../../../migrations/postgres/0013_people_pruning.sql"),
    ),
    (
        14,
        "notify_claim",
        include_str!("../../../migrations/postgres/0014_notify_claim.sql"),
    ),
    (
        15,
        "run_filters",
        include_str!("../../../migrations/postgres/0015_run_filters.sql"),
    ),
    (
        16,
        "run_until",
        include_str!("../../../migrations/postgres/0016_run_until.sql"),
    ),
    (
        17,
        "run_answered",
        include_str!("../../../migrations/postgres/0017_run_answered.sql"),
    ),
    (
        18,
        "usage_shards",
        include_str!("../../../migrations/postgres/0018_usage_shards.sql"),
    ),
    (
        19,
        "polling",
        include_str!("../../../migrations/postgres/0019_polling.sql"),
    ),
    (
        20,
        "oauth2",
        include_str!("../../../migrations/postgres/0020_oauth2.sql"),
    ),
    (
        21,
        "queue_triggers",
        include_str!("../../../migrations/postgres/0021_queue_triggers.sql"),
    ),
];

/// Any number; the same in every process.
const LOCK: i64 = 0x0077_6566_746d_6967; // "weftmig"

pub(crate) async fn run(pool: &PgPool) -> Result<Vec<String>> {
    let mut tx = pool.begin().await.map_err(unavailable)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS _weft_migrations (
            version     BIGINT NOT NULL PRIMARY KEY,
            description TEXT   NOT NULL,
            checksum    TEXT   NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(unavailable)?;
    let rows = sqlx::query("SELECT version, checksum FROM _weft_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await
        .map_err(unavailable)?;
    let mut applied = Vec::new();
    for r in &rows {
        let version: i64 = r.try_get("version").map_err(unavailable)?;
        let checksum: String = r.try_get("checksum").map_err(unavailable)?;
        match MIGRATIONS.iter().find(|m| m.0 == version) {
            Some(m) if sum(m.2) == checksum => applied.push(version),
            Some(m) => {
                return Err(Error::Unavailable(format!(
                    "migration {version} ({}) changed after it was applied",
                    m.1
                )));
            }
            None => {
                return Err(Error::Unavailable(format!(
                    "the database has migration {version}, which this weft does not know: \
                     it was migrated by a newer Weft"
                )));
            }
        }
    }
    let mut names = Vec::new();
    for &(version, description, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::Unavailable(format!("migration {version} ({description}): {e}")))?;
        sqlx::query(
            "INSERT INTO _weft_migrations (version, description, checksum) VALUES ($1, $2, $3)",
        )
        .bind(version)
        .bind(description)
        .bind(sum(sql))
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        names.push(format!("{version:04}_{description}"));
    }
    tx.commit().await.map_err(unavailable)?;
    Ok(names)
}

fn sum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS
            .iter()
            .map(|(v, d, _)| format!("{v:04}_{d}.sql"))
            .collect();
        assert_eq!(
            files, embedded,
            "MIGRATIONS lists migrations/postgres/*.sql in order"
        );
    }
}
