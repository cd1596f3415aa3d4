//! Registry search on SQLite: a package's derived columns and its FTS5 row,
//! rewritten with every version change, and the search query over them.
//!
//! Relevance is FTS5's `bm25` with the name weighted above description and
//! keywords, and those above the README, after an exact name match. Pages
//! use a keyset cursor on the sort key (exact, rank, id) or (installs, id),
//! so walking them gives every match once.

use crate::error::db;
use crate::registry::{package, package_select, versions_of};
use crate::row::execute;
use crate::{Result, Sqlite};
use rusqlite::types::{ToSql, Value};
use rusqlite::{Transaction, params};
use weft_registry::index::{self, Cursor, HostFilter};
use weft_registry::{Package, SearchPage, SearchQuery, Sort};

/// Rewrites what package `id` derives from its latest installable version:
/// `latest`, the description, `no_network`, the credential hosts and the
/// full-text row. Runs in the transaction that changed a version.
pub(crate) fn refresh(tx: &Transaction<'_>, id: i64, publisher: &str, name: &str) -> Result<()> {
    const PACKAGE: &str = "UPDATE registry_packages SET latest = ?, \
        description = COALESCE(?, description), no_network = ? WHERE id = ?";
    const CLEAR_HOSTS: &str = "DELETE FROM registry_credential_hosts WHERE package_id = ?";
    const HOST: &str =
        "INSERT OR IGNORE INTO registry_credential_hosts (package_id, host) VALUES (?, ?)";
    const CLEAR_TEXT: &str = "DELETE FROM registry_search WHERE rowid = ?";
    const TEXT: &str = "INSERT INTO registry_search (rowid, name, description, keywords, readme) \
        VALUES (?, ?, ?, ?, ?)";
    let versions = versions_of(tx, publisher, name)?;
    let latest = index::latest(&versions);
    let no_network = latest.is_some_and(|v| v.disclosure.network.is_empty());
    execute(
        tx,
        PACKAGE,
        params![
            latest.map(|v| v.version.as_str()),
            latest.map(|v| v.description.as_str()),
            no_network,
            id
        ],
    )
    .map_err(db)?;
    execute(tx, CLEAR_HOSTS, params![id]).map_err(db)?;
    execute(tx, CLEAR_TEXT, params![id]).map_err(db)?;
    let Some(v) = latest else {
        return Ok(());
    };
    for host in v.disclosure.credentials.values().flatten() {
        execute(tx, HOST, params![id, index::host_key(host)]).map_err(db)?;
    }
    let keywords = v.keywords.join(" ");
    execute(
        tx,
        TEXT,
        params![id, v.name, v.description, keywords, v.readme],
    )
    .map_err(db)?;
    Ok(())
}

/// The filters every form of the query shares.
const FILTERS: &str = " AND p.latest IS NOT NULL \
    AND (:kind IS NULL OR p.kind = :kind) \
    AND (:publisher IS NULL OR p.publisher = :publisher) \
    AND (:verified IS NULL OR pub.verified = :verified) \
    AND (:no_network = 0 OR p.no_network = 1) \
    AND (:host_eq IS NULL OR EXISTS (SELECT 1 FROM registry_credential_hosts h \
         WHERE h.package_id = p.id AND (:host_any = 1 OR h.host = :host_eq \
         OR (h.host >= :host_lo AND h.host < :host_hi))))";

/// Keyset condition and order of the installs sort.
const BY_INSTALLS: &str = " AND (:after_installs IS NULL OR p.installs < :after_installs \
    OR (p.installs = :after_installs AND p.id > :after_id)) \
    ORDER BY p.installs DESC, p.id LIMIT :limit";

/// The statement for a query: with text or not, and its sort.
fn sql(text: bool, sort: Sort) -> String {
    const FTS_JOIN: &str =
        " JOIN registry_search s ON s.rowid = p.id WHERE registry_search MATCH :fts";
    match (text, sort) {
        (false, _) => format!("{} WHERE 1 = 1{FILTERS}{BY_INSTALLS}", package_select!()),
        (true, Sort::Installs) => format!("{}{FTS_JOIN}{FILTERS}{BY_INSTALLS}", package_select!()),
        (true, Sort::Relevance) => format!(
            "SELECT * FROM (SELECT p.id, p.publisher, p.name, p.kind, pub.verified, p.latest, \
             p.description, p.installs, p.created_at, -(p.name = :exact_name) AS exact, \
             bm25(registry_search, 10.0, 4.0, 4.0, 1.0) AS rank \
             FROM registry_packages p JOIN registry_publishers pub ON pub.name = p.publisher\
             {FTS_JOIN}{FILTERS}) \
             WHERE :after_exact IS NULL OR (exact, rank, id) > (:after_exact, :after_rank, :after_id) \
             ORDER BY exact, rank, id LIMIT :limit"
        ),
    }
}

pub(crate) async fn search(s: &Sqlite, q: &SearchQuery) -> Result<SearchPage> {
    let terms = q.text.as_deref().map(index::terms).unwrap_or_default();
    let text = !terms.is_empty();
    let sort = if text { q.sort } else { Sort::Installs };
    let cursor = q.cursor.as_deref().map(Cursor::decode).transpose()?;
    let (mut after_exact, mut after_rank, mut after_installs, mut after_id) =
        (Value::Null, Value::Null, Value::Null, Value::Null);
    match (cursor, sort) {
        (None, _) => {}
        (Some(Cursor::Relevance { exact, rank, id }), Sort::Relevance) => {
            after_exact = Value::Integer(-i64::from(exact));
            after_rank = Value::Real(rank);
            after_id = Value::Integer(id);
        }
        (Some(Cursor::Installs { installs, id }), Sort::Installs) => {
            after_installs = Value::Integer(installs);
            after_id = Value::Integer(id);
        }
        (Some(_), _) => return Err(crate::Error::NotFound("search cursor")),
    }
    let hosts = q.credential_host.as_deref().map(HostFilter::new);
    let (host_lo, host_hi) = hosts
        .as_ref()
        .and_then(|h| h.under.clone())
        .map_or((Value::Null, Value::Null), |(lo, hi)| {
            (lo.into(), hi.into())
        });
    let limit = q.limit.clamp(1, 100);
    let values: Vec<(&'static str, Value)> = vec![
        (":fts", fts(&terms).into()),
        (
            ":exact_name",
            index::exact_name(q.text.as_deref().unwrap_or("")).into(),
        ),
        (":kind", q.kind.map(|k| k.as_str().to_owned()).into()),
        (":publisher", q.publisher.clone().into()),
        (":verified", q.verified.map(i64::from).into()),
        (":no_network", i64::from(q.no_network).into()),
        (":host_eq", hosts.as_ref().map(|h| h.exact.clone()).into()),
        (
            ":host_any",
            i64::from(hosts.as_ref().is_some_and(|h| h.any)).into(),
        ),
        (":host_lo", host_lo),
        (":host_hi", host_hi),
        (":after_exact", after_exact),
        (":after_rank", after_rank),
        (":after_installs", after_installs),
        (":after_id", after_id),
        (":limit", (i64::from(limit) + 1).into()),
    ];
    let sql = sql(text, sort);
    s.read(move |conn| {
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let named: Vec<(&str, &dyn ToSql)> = values
            .iter()
            .filter(|(name, _)| stmt.parameter_index(name).ok().flatten().is_some())
            .map(|(name, v)| (*name, v as &dyn ToSql))
            .collect();
        let mut rows = stmt.query(named.as_slice()).map_err(db)?;
        let mut found: Vec<(Package, Cursor)> = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            let p = package(row)?;
            let id: i64 = row.get("id").map_err(db)?;
            let (exact, rank) = if sort == Sort::Relevance {
                let exact: i64 = row.get("exact").map_err(db)?;
                (exact != 0, row.get("rank").map_err(db)?)
            } else {
                (false, 0.0)
            };
            let cursor = Cursor::of(sort, exact, rank, p.installs, id);
            found.push((p, cursor));
        }
        Ok(index::page(found, limit))
    })
    .await
}

/// The FTS5 query: every term, each as a quoted prefix (terms are letters
/// and digits only, so nothing in them is FTS5 syntax).
fn fts(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" ")
}
