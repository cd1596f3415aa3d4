//! The schema migrations, embedded from `migrations/sqlite/` and applied with
//! sqlx's migrator (its `_sqlx_migrations` table, its checksums).
//!
//! The list is written out here rather than by `sqlx::migrate!`, which would
//! need sqlx's `macros` feature (and a second build of SQLite for the proc
//! macro). A test checks the list against the directory: a new file there
//! must be added here.

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::sqlite::SqlitePool;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// `(version, description, sql)`, as sqlx reads `<version>_<description>.sql`.
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../../../migrations/sqlite/0001_init.sql"),
)];

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies the migrations not yet applied.
pub(crate) async fn run(pool: &SqlitePool) -> Result<(), String> {
    let migrator = Migrator::new(Embedded).await.map_err(|e| e.to_string())?;
    migrator.run(pool).await.map_err(|e| e.to_string())
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
}
