//! Sealed credentials.

use crate::error::{db, db_or_taken, one};
use crate::row::{Cols, all, execute, json, optional};
use crate::{Result, Sqlite};
use rusqlite::{Row, params};
use weft_types::CredentialRecord;

/// The columns of `credentials`.
macro_rules! cols {
    () => {
        "tenant_id, id, name, injection, hosts, nonce, ciphertext, created_at, ad_version"
    };
}

fn credential(row: &Row<'_>) -> Result<CredentialRecord> {
    let c = Cols::new(row, "credentials");
    Ok(CredentialRecord {
        tenant_id: c.get("tenant_id")?,
        id: c.get("id")?,
        name: c.get("name")?,
        injection: c.json("injection")?,
        hosts: c.json("hosts")?,
        nonce: c.get("nonce")?,
        ciphertext: c.get("ciphertext")?,
        created_at: c.get("created_at")?,
        ad_version: c.get("ad_version")?,
    })
}

pub(crate) async fn create(s: &Sqlite, cr: &CredentialRecord) -> Result<()> {
    const SQL: &str = concat!(
        "INSERT INTO credentials (",
        cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let injection = json("credentials", "injection", &cr.injection)?;
    let hosts = json("credentials", "hosts", &cr.hosts)?;
    let cr = cr.clone();
    s.write(move |conn| {
        execute(
            conn,
            SQL,
            params![
                cr.tenant_id,
                cr.id,
                cr.name,
                injection,
                hosts,
                cr.nonce,
                cr.ciphertext,
                cr.created_at,
                cr.ad_version
            ],
        )
        .map_err(db_or_taken(|| format!("credential `{}` exists", cr.name)))?;
        Ok(())
    })
    .await
}

pub(crate) async fn list(s: &Sqlite, tenant: &str) -> Result<Vec<CredentialRecord>> {
    const SQL: &str = concat!(
        "SELECT ",
        cols!(),
        " FROM credentials WHERE tenant_id = ? ORDER BY name"
    );
    let tenant = tenant.to_owned();
    s.read(move |conn| all(conn, SQL, params![tenant], credential))
        .await
}

pub(crate) async fn by_name(
    s: &Sqlite,
    tenant: &str,
    name: &str,
) -> Result<Option<CredentialRecord>> {
    const SQL: &str = concat!(
        "SELECT ",
        cols!(),
        " FROM credentials WHERE tenant_id = ? AND name = ?"
    );
    let (tenant, name) = (tenant.to_owned(), name.to_owned());
    s.read(move |conn| optional(conn, SQL, params![tenant, name], credential))
        .await
}

/// Deletes the credential with its OAuth2 rows (refresh lease, reauthorize
/// mark, pending authorizations), in one transaction.
pub(crate) async fn delete(s: &Sqlite, tenant: &str, id: &str) -> Result<()> {
    const SQL: &str = "DELETE FROM credentials WHERE tenant_id = ? AND id = ?";
    const OAUTH: [&str; 2] = [
        "DELETE FROM oauth_credentials WHERE tenant_id = ? AND credential_id = ?",
        "DELETE FROM oauth_pending WHERE tenant_id = ? AND credential_id = ?",
    ];
    let (tenant, id) = (tenant.to_owned(), id.to_owned());
    s.write(move |conn| {
        let tx = conn.transaction().map_err(db)?;
        let changed = execute(&tx, SQL, params![tenant, id]).map_err(db)?;
        one(changed, "credential")?;
        for sql in OAUTH {
            execute(&tx, sql, params![tenant, id]).map_err(db)?;
        }
        tx.commit().map_err(db)
    })
    .await
}

pub(crate) async fn reseal(
    s: &Sqlite,
    cr: &CredentialRecord,
    previous_nonce: &[u8],
) -> Result<bool> {
    const SQL: &str = "UPDATE credentials SET name = ?, injection = ?, hosts = ?, nonce = ?, \
         ciphertext = ?, ad_version = ? WHERE tenant_id = ? AND id = ? AND nonce = ?";
    let injection = json("credentials", "injection", &cr.injection)?;
    let hosts = json("credentials", "hosts", &cr.hosts)?;
    let (cr, previous) = (cr.clone(), previous_nonce.to_vec());
    s.write(move |conn| {
        let changed = execute(
            conn,
            SQL,
            params![
                cr.name,
                injection,
                hosts,
                cr.nonce,
                cr.ciphertext,
                cr.ad_version,
                cr.tenant_id,
                cr.id,
                previous
            ],
        )
        .map_err(db_or_taken(|| format!("credential `{}` exists", cr.name)))?;
        Ok(changed == 1)
    })
    .await
}
