//! `impl OAuthStore for Sqlite`: pending authorizations and refresh leases.

use crate::error::{db, db_or_taken};
use crate::row::{Cols, all, execute, optional};
use crate::{Result, Sqlite};
use async_trait::async_trait;
use rusqlite::{Row, params};
use weft_store::oauth::{OAuthPending, OAuthState, OAuthStore};

fn pending(row: &Row<'_>) -> Result<OAuthPending> {
    let c = Cols::new(row, "oauth_pending");
    Ok(OAuthPending {
        state: c.get("state")?,
        tenant_id: c.get("tenant_id")?,
        credential_id: c.get("credential_id")?,
        verifier: c.get("verifier")?,
        redirect_uri: c.get("redirect_uri")?,
        expires_at: c.get("expires_at")?,
    })
}

#[async_trait]
impl OAuthStore for Sqlite {
    async fn put_oauth_pending(&self, p: &OAuthPending) -> Result<()> {
        const SQL: &str = "INSERT INTO oauth_pending \
            (state, tenant_id, credential_id, verifier, redirect_uri, expires_at) \
            VALUES (?, ?, ?, ?, ?, ?)";
        let p = p.clone();
        self.write(move |conn| {
            execute(
                conn,
                SQL,
                params![
                    p.state,
                    p.tenant_id,
                    p.credential_id,
                    p.verifier,
                    p.redirect_uri,
                    p.expires_at
                ],
            )
            .map_err(db_or_taken(|| "oauth state exists".to_owned()))?;
            Ok(())
        })
        .await
    }

    async fn take_oauth_pending(&self, state: &str, now: i64) -> Result<Option<OAuthPending>> {
        const TAKE: &str = "DELETE FROM oauth_pending WHERE state = ? RETURNING \
            state, tenant_id, credential_id, verifier, redirect_uri, expires_at";
        const PRUNE: &str = "DELETE FROM oauth_pending WHERE expires_at <= ?";
        let state = state.to_owned();
        self.write(move |conn| {
            let p = optional(conn, TAKE, params![state], pending)?;
            execute(conn, PRUNE, params![now]).map_err(db)?;
            Ok(p.filter(|p| p.expires_at > now))
        })
        .await
    }

    async fn lease_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        const SQL: &str = "INSERT INTO oauth_credentials \
            (tenant_id, credential_id, lease_holder, lease_until, updated_at) \
            VALUES (?1, ?2, ?3, ?4, ?5) \
            ON CONFLICT (tenant_id, credential_id) DO UPDATE SET \
            lease_holder = excluded.lease_holder, lease_until = excluded.lease_until, \
            updated_at = excluded.updated_at \
            WHERE oauth_credentials.lease_holder IS NULL \
            OR oauth_credentials.lease_until <= ?5 \
            OR oauth_credentials.lease_holder = excluded.lease_holder";
        let (t, c, h) = (
            tenant.to_owned(),
            credential_id.to_owned(),
            holder.to_owned(),
        );
        self.write(move |conn| {
            let n = execute(conn, SQL, params![t, c, h, until, now]).map_err(db)?;
            Ok(n == 1)
        })
        .await
    }

    async fn release_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
    ) -> Result<()> {
        const SQL: &str = "UPDATE oauth_credentials SET lease_holder = NULL, lease_until = 0 \
            WHERE tenant_id = ? AND credential_id = ? AND lease_holder = ?";
        let (t, c, h) = (
            tenant.to_owned(),
            credential_id.to_owned(),
            holder.to_owned(),
        );
        self.write(move |conn| {
            execute(conn, SQL, params![t, c, h]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn set_oauth_reauthorize(
        &self,
        tenant: &str,
        credential_id: &str,
        why: Option<&str>,
        now: i64,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO oauth_credentials \
            (tenant_id, credential_id, reauthorize, updated_at) VALUES (?1, ?2, ?3, ?4) \
            ON CONFLICT (tenant_id, credential_id) DO UPDATE SET \
            reauthorize = excluded.reauthorize, updated_at = excluded.updated_at";
        let (t, c) = (tenant.to_owned(), credential_id.to_owned());
        let why = why.map(str::to_owned);
        self.write(move |conn| {
            execute(conn, SQL, params![t, c, why, now]).map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn oauth_states(&self, tenant: &str) -> Result<Vec<OAuthState>> {
        const SQL: &str = "SELECT credential_id, reauthorize FROM oauth_credentials \
            WHERE tenant_id = ? ORDER BY credential_id";
        let tenant = tenant.to_owned();
        self.read(move |conn| {
            all(conn, SQL, params![tenant], |row| {
                let c = Cols::new(row, "oauth_credentials");
                Ok(OAuthState {
                    credential_id: c.get("credential_id")?,
                    reauthorize: c.get("reauthorize")?,
                })
            })
        })
        .await
    }
}
