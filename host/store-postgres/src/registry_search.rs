//! Registry search on PostgreSQL: a package's derived columns (its
//! generated `tsvector` among them, under a GIN index), rewritten with every
//! version change, and the search query over them.
//!
//! Relevance is `ts_rank_cd` over the name (weight A), description and
//! keywords (B) and README (D), after an exact name match. Pages use a
//! keyset cursor on the sort key (exact, rank, id) or (installs, id), so
//! walking them gives every match once.

use crate::Postgres;
use crate::registry::{PACKAGE_SELECT, package, versions_of};
use crate::row::unavailable;
use sqlx::{Postgres as Pg, QueryBuilder, Row, Transaction};
use weft_registry::index::{self, Cursor, HostFilter};
use weft_registry::{Package, SearchPage, SearchQuery, Sort};
use weft_store::{Error, Result};

/// Rewrites what package `id` derives from its latest installable version:
/// `latest`, the description, `no_network`, the search text and the
/// credential hosts. Runs in the transaction that changed a version.
pub(crate) async fn refresh(
    tx: &mut Transaction<'_, Pg>,
    id: i64,
    publisher: &str,
    name: &str,
) -> Result<()> {
    let versions = versions_of(tx, publisher, name).await?;
    let latest = index::latest(&versions);
    sqlx::query(
        "UPDATE registry_packages SET latest = $1, description = COALESCE($2, description), \
         no_network = $3, search_keywords = $4, search_readme = $5 WHERE id = $6",
    )
    .bind(latest.map(|v| v.version.clone()))
    .bind(latest.map(|v| v.description.clone()))
    .bind(latest.is_some_and(|v| v.disclosure.network.is_empty()))
    .bind(latest.map(|v| v.keywords.join(" ")).unwrap_or_default())
    .bind(latest.map(|v| v.readme.clone()).unwrap_or_default())
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(unavailable)?;
    sqlx::query("DELETE FROM registry_credential_hosts WHERE package_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    let hosts: Vec<String> = latest
        .map(|v| {
            v.disclosure
                .credentials
                .values()
                .flatten()
                .map(|h| index::host_key(h))
                .collect()
        })
        .unwrap_or_default();
    if !hosts.is_empty() {
        sqlx::query(
            "INSERT INTO registry_credential_hosts (package_id, host) \
             SELECT $1, h FROM unnest($2::text[]) AS h ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(hosts)
        .execute(&mut **tx)
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

/// The filters every form of the query shares, each only when asked for.
fn filters(b: &mut QueryBuilder<Pg>, q: &SearchQuery) {
    b.push(" AND p.latest IS NOT NULL");
    if let Some(kind) = q.kind {
        b.push(" AND p.kind = ").push_bind(kind.as_str().to_owned());
    }
    if let Some(publisher) = &q.publisher {
        b.push(" AND p.publisher = ").push_bind(publisher.clone());
    }
    if let Some(verified) = q.verified {
        b.push(" AND pub.verified = ").push_bind(verified);
    }
    if q.no_network {
        b.push(" AND p.no_network");
    }
    if let Some(pattern) = &q.credential_host {
        let f = HostFilter::new(pattern);
        b.push(" AND EXISTS (SELECT 1 FROM registry_credential_hosts h WHERE h.package_id = p.id");
        if !f.any {
            b.push(" AND (h.host = ").push_bind(f.exact);
            if let Some((lo, hi)) = f.under {
                b.push(" OR (h.host >= ").push_bind(lo);
                b.push(" AND h.host < ").push_bind(hi).push(")");
            }
            b.push(")");
        }
        b.push(")");
    }
}

pub(crate) async fn search(pg: &Postgres, q: &SearchQuery) -> Result<SearchPage> {
    let terms = q.text.as_deref().map(index::terms).unwrap_or_default();
    let text = !terms.is_empty();
    let sort = if text { q.sort } else { Sort::Installs };
    let cursor = q.cursor.as_deref().map(Cursor::decode).transpose()?;
    let limit = q.limit.clamp(1, 100);
    // Terms are letters and digits only: nothing in them is tsquery syntax.
    let tsquery = terms
        .iter()
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(" & ");
    let mut b = QueryBuilder::<Pg>::new("");
    match sort {
        Sort::Relevance => {
            b.push(
                "SELECT * FROM (SELECT p.id, p.publisher, p.name, p.kind, pub.verified, p.latest, \
                 p.description, p.installs, p.created_at, -((p.name = ",
            )
            .push_bind(index::exact_name(q.text.as_deref().unwrap_or("")))
            .push(
                ")::int) AS exact, -(ts_rank_cd(p.search, query)::float8) AS rank \
                 FROM registry_packages p JOIN registry_publishers pub ON pub.name = p.publisher, \
                 to_tsquery('simple', ",
            )
            .push_bind(tsquery)
            .push(") AS query WHERE p.search @@ query");
            filters(&mut b, q);
            // OFFSET 0 keeps the cursor's condition out of the subquery:
            // pushed down, it ranks every match a second time (a page after
            // the first cost 1.4 times the first over 10,000 packages;
            // `scripts/bench registry`).
            b.push(" OFFSET 0) AS found");
            match cursor {
                None => {}
                Some(Cursor::Relevance { exact, rank, id }) => {
                    b.push(" WHERE (exact, rank, id) > (")
                        .push_bind(-i32::from(exact))
                        .push(", ")
                        .push_bind(rank)
                        .push(", ")
                        .push_bind(id)
                        .push(")");
                }
                Some(Cursor::Installs { .. }) => return Err(Error::NotFound("search cursor")),
            }
            b.push(" ORDER BY exact, rank, id");
        }
        Sort::Installs => {
            b.push(PACKAGE_SELECT);
            if text {
                b.push(", to_tsquery('simple', ")
                    .push_bind(tsquery)
                    .push(") AS query WHERE p.search @@ query");
            } else {
                b.push(" WHERE true");
            }
            filters(&mut b, q);
            match cursor {
                None => {}
                Some(Cursor::Installs { installs, id }) => {
                    b.push(" AND (p.installs, -p.id) < (")
                        .push_bind(installs)
                        .push(", ")
                        .push_bind(-id)
                        .push(")");
                }
                Some(Cursor::Relevance { .. }) => return Err(Error::NotFound("search cursor")),
            }
            b.push(" ORDER BY p.installs DESC, p.id");
        }
    }
    b.push(" LIMIT ").push_bind(i64::from(limit) + 1);
    let rows = b.build().fetch_all(pg.pool()).await.map_err(unavailable)?;
    let mut found: Vec<(Package, Cursor)> = Vec::with_capacity(rows.len());
    for row in &rows {
        let p = package(row)?;
        let id: i64 = row.try_get("id").map_err(unavailable)?;
        let (exact, rank) = if sort == Sort::Relevance {
            let exact: i32 = row.try_get("exact").map_err(unavailable)?;
            (exact != 0, row.try_get("rank").map_err(unavailable)?)
        } else {
            (false, 0.0)
        };
        let cursor = Cursor::of(sort, exact, rank, p.installs, id);
        found.push((p, cursor));
    }
    Ok(index::page(found, limit))
}
