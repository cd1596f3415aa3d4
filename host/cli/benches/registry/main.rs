//! The registry's benchmark (issue 12). Prints, as Markdown tables:
//!
//! 1. **Publish-to-runnable** against a real `weft serve` (release, SQLite,
//!    a fresh data directory each repetition, so the component is compiled
//!    cold): upload, publish (signature, sandbox load, disclosure, store),
//!    install with consent, create and activate a one-step workflow, and its
//!    first run until completed, for the `greeter` fixture (as `acme/greeter`)
//!    and the bundled `http` connector's bytes (as `weft/http`, signed with
//!    the deployment's first-party key on a server that does not bundle it).
//! 2. **Search latency** over a generated registry (`WEFT_BENCH_PACKAGES`,
//!    default 10,000 packages) written through the `RegistryStore` port: the
//!    same queries at the port on SQLite and PostgreSQL
//!    (`WEFT_TEST_DATABASE_URL`, started by the script) and through the API
//!    on a `weft serve` over the prefilled SQLite file.
//!
//! Run with `scripts/bench registry`. `WEFT_BENCH_REPS` sets the
//! publish repetitions (default 5), `WEFT_BENCH_SEARCHES` the timed samples
//! per query (default 200).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus;
mod publish;
mod search;

use std::sync::Arc;
use weft_client::Client;
use weft_registry::RegistryStore;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let reps = env_num("WEFT_BENCH_REPS", 5);
    let packages = env_num("WEFT_BENCH_PACKAGES", 10_000);
    let samples = env_num("WEFT_BENCH_SEARCHES", 200);

    publish::run(reps).await;

    let t = std::time::Instant::now();
    let corpus = corpus::generate(packages);
    println!(
        "\nSearch corpus: {} packages ({} publishers, {} versions, {} yanked, {} installs), generated in {:.1} s; rare word `{}`.",
        packages,
        corpus.publishers.len(),
        corpus.versions.len(),
        corpus.yanks.len(),
        corpus.installs.len(),
        t.elapsed().as_secs_f64(),
        corpus.rare_word
    );
    let cases = search::cases(&corpus.rare_word);

    // SQLite: the file `weft serve` will open, filled and measured first.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db");
    let sqlite = Arc::new(
        weft_store_sqlite::Sqlite::open(&weft_store_sqlite::Options::new(&db))
            .await
            .unwrap(),
    );
    let fill = search::fill(sqlite.clone(), &corpus).await;
    println!("SQLite fill through the port: {:.1} s", fill.as_secs_f64());
    let mut counts = Vec::new();
    for c in &cases {
        counts.push(search::count(sqlite.as_ref(), &c.port).await);
    }
    let sqlite_port = search::at_port(sqlite.as_ref(), &cases, samples).await;
    sqlite.close().await;
    drop(sqlite);

    let mut serve = publish::Serve::start(dir.path(), &[]);
    let client = Client::new(&serve.base, Some(&serve.key)).unwrap();
    let sqlite_api = search::at_api(&client, &cases, samples).await;
    serve.stop();

    let pg = match std::env::var("WEFT_TEST_DATABASE_URL") {
        Ok(url) => {
            let store = Arc::new(postgres(&url).await);
            let fill = search::fill(store.clone(), &corpus).await;
            println!(
                "PostgreSQL fill through the port: {:.1} s",
                fill.as_secs_f64()
            );
            // Statistics as autovacuum would have them in a running registry
            // (else it may analyze in the middle of the measurements).
            sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
            for (c, n) in cases.iter().zip(&counts) {
                let m = search::count(store.as_ref() as &dyn RegistryStore, &c.port).await;
                if m != *n {
                    println!(
                        "NOTE: `{}` matches {m} on PostgreSQL, {n} on SQLite",
                        c.label
                    );
                }
            }
            Some(search::at_port(store.as_ref(), &cases, samples).await)
        }
        Err(_) => {
            println!(
                "PostgreSQL skipped: WEFT_TEST_DATABASE_URL is not set (`scripts/bench registry` starts it)"
            );
            None
        }
    };

    println!(
        "\n| query (20 a page) | matches | SQLite port p50 / p99 | SQLite API p50 / p99 | PostgreSQL port p50 / p99 |"
    );
    println!("|---|---:|---|---|---|");
    for (i, c) in cases.iter().enumerate() {
        let f = |(a, b): (f64, f64)| format!("{a:.2} / {b:.2} ms");
        println!(
            "| {} | {} | {} | {} | {} |",
            c.label,
            counts[i],
            f(sqlite_port[i]),
            f(sqlite_api[i]),
            pg.as_ref().map_or("—".into(), |p| f(p[i]))
        );
    }
}

/// A fresh, migrated schema on the server at `url`.
async fn postgres(url: &str) -> weft_store_postgres::Postgres {
    use weft_store_postgres::{Options, Postgres};
    let schema = format!(
        "weft_bench_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let admin = Postgres::connect(&Options {
        max_connections: 1,
        ..Options::new(url)
    })
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .unwrap();
    let pg = Postgres::connect(&Options {
        max_connections: 8,
        schema: Some(schema),
        ..Options::new(url)
    })
    .await
    .unwrap();
    pg.migrate().await.unwrap();
    pg
}
