//! The schema migrations, embedded from `migrations/sqlite/` and applied by
//! the writer when the store opens.
//!
//! `_weft_migrations` records each applied migration with a checksum of its
//! SQL. Opening checks the record (a migration edited after it was applied,
//! or one this build does not know, is refused) and applies the rest, all in
//! one `BEGIN IMMEDIATE` transaction: two processes opening the same new file
//! apply each migration once, and a failing migration leaves nothing behind.
//!
//! A test checks the list against the directory: a new file there must be
//! added here.

use rusqlite::{Connection, TransactionBehavior, params};

/// `(version, description, sql)`, from `<version>_<description>.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "outbox",
        include_str!("../../../migrations/sqlite/0002_outbox.sql"),
    ),
    (
        3,
        "attempt logs",
        include_str!("../../../migrations/sqlite/0003_attempt_logs.sql"),
    ),
    (
        4,
        "webhook deliveries",
        include_str!("../../../migrations/sqlite/0004_webhook_deliveries.sql"),
    ),
    (
        5,
        "credential binding",
        include_str!("../../../migrations/sqlite/0005_credential_binding.sql"),
    ),
    (
        6,
        "registry",
        include_str!("../../../migrations/sqlite/0006_registry.sql"),
    ),
    (
        7,
        "attempt digest",
        include_str!("../../../migrations/sqlite/0007_attempt_digest.sql"),
    ),
    (
        8,
        "operators",
        include_str!("../../../migrations/sqlite/0008_operators.sql"),
    ),
    (
        9,
        "people",
        include_str!("../../../migrations/sqlite/0009_people.sql"),
    ),
    (
        10,
        "key scopes",
        include_str!("../../../migrations/sqlite/0010_key_scopes.sql"),
    ),
    (
        11,
        "usage",
        include_str!("../../../migrations/sqlite/0011_usage.sql"),
    ),
    (
        12,
        "notifications",
        include_str!("../../../migrations/sqlite/0012_notifications.sql"),
    ),
    (
        13,
        "notify connector",
        include_str!("../../../migrations/sqlite/0013_notify_connector.sql"),
    ),
    (
        14,
        "people pruning",
        include_str!("../../../migrations/sqlite/0014_people_pruning.sql"),
    ),
    (
        15,
        "notify claim",
        include_str!("../../../migrations/sqlite/0015_notify_claim.sql"),
    ),
    (
        16,
        "run filters",
        include_str!("../../../migrations/sqlite/0016_run_filters.sql"),
    ),
    (
        17,
        "run until",
        include_str!("../../../migrations/sqlite/0017_run_until.sql"),
    ),
    (
        18,
        "polling",
        include_str!("../../../migrations/sqlite/0018_polling.sql"),
    ),
    (
        19,
        "oauth2",
        include_str!("../../../migrations/sqlite/0019_oauth2.sql"),
    ),
    (
        20,
        "queue triggers",
        include_str!("../../../migrations/sqlite/0020_queue_triggers.sql"),
    ),
];

const TABLE: &str = "CREATE TABLE IF NOT EXISTS _weft_migrations (
    version     INTEGER NOT NULL PRIMARY KEY,
    description TEXT    NOT NULL,
    checksum    TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL
) STRICT";

/// FNV-1a (64 bits) of the SQL, in hex: tells an edited migration apart.
fn checksum(sql: &str) -> String {
    let hash = sql.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Applies the migrations not yet applied.
pub(crate) fn run(conn: &mut Connection) -> Result<(), String> {
    let e = |e: rusqlite::Error| e.to_string();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(e)?;
    tx.execute_batch(TABLE).map_err(e)?;
    let applied: Vec<(i64, String)> = tx
        .prepare("SELECT version, checksum FROM _weft_migrations ORDER BY version")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
        })
        .map_err(e)?;
    for (version, sum) in &applied {
        match MIGRATIONS.iter().find(|m| m.0 == *version) {
            None => {
                return Err(format!(
                    "migration {version} was applied by a newer Weft; this one knows up to {}",
                    MIGRATIONS.last().map_or(0, |m| m.0)
                ));
            }
            Some(&(_, description, sql)) if checksum(sql) != *sum => {
                return Err(format!(
                    "migration {version} ({description}) changed after it was applied"
                ));
            }
            Some(_) => {}
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    for &(version, description, sql) in MIGRATIONS {
        if applied.iter().any(|(v, _)| *v == version) {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(|err| format!("migration {version} ({description}): {err}"))?;
        tx.execute(
            "INSERT INTO _weft_migrations (version, description, checksum, applied_at) \
             VALUES (?, ?, ?, ?)",
            params![version, description, checksum(sql), now],
        )
        .map_err(e)?;
        tracing::info!(version, description, "sqlite migration applied");
    }
    tx.commit().map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite");
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|name| {
                let stem = name.strip_suffix(".sql")?;
                let (version, description) = stem.split_once('_')?;
                let sql = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
                Some((version.parse().unwrap(), description.replace('_', " "), sql))
            })
            .collect();
        files.sort();
        let embedded: Vec<(i64, String, String)> = MIGRATIONS
            .iter()
            .map(|&(v, d, s)| (v, d.to_owned(), s.to_owned()))
            .collect();
        assert_eq!(
            embedded, files,
            "MIGRATIONS lists migrations/sqlite/*.sql in order"
        );
    }

    #[test]
    fn applying_twice_is_a_no_op_and_an_edit_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM _weft_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, i64::try_from(MIGRATIONS.len()).unwrap());
        conn.execute("UPDATE _weft_migrations SET checksum = 'x'", [])
            .unwrap();
        let err = run(&mut conn).unwrap_err();
        assert!(err.contains("changed after it was applied"), "{err}");
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        conn.execute(
            "UPDATE _weft_migrations SET version = 999 WHERE version = 1",
            [],
        )
        .unwrap();
        let err = run(&mut conn).unwrap_err();
        assert!(err.contains("newer Weft"), "{err}");
    }
}
