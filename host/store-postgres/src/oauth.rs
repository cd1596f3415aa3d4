//! `impl OAuthStore for Postgres`: pending authorizations and refresh leases.

use crate::Postgres;
use crate::row::{Cols, unavailable, write_error};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use weft_store::Result;
use weft_store::oauth::{OAuthPending, OAuthState, OAuthStore};

fn pending(row: &PgRow) -> Result<OAuthPending> {
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
impl OAuthStore for Postgres {
    async fn put_oauth_pending(&self, p: &OAuthPending) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_pending \
             (state, tenant_id, credential_id, verifier, redirect_uri, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.state)
        .bind(&p.tenant_id)
        .bind(&p.credential_id)
        .bind(&p.verifier)
        .bind(&p.redirect_uri)
        .bind(p.expires_at)
        .execute(&self.pool)
        .await
        .map_err(write_error("tenant", || "oauth state exists".to_owned()))?;
        Ok(())
    }

    async fn take_oauth_pending(&self, state: &str, now: i64) -> Result<Option<OAuthPending>> {
        let p = sqlx::query(
            "DELETE FROM oauth_pending WHERE state = $1 RETURNING \
             state, tenant_id, credential_id, verifier, redirect_uri, expires_at",
        )
        .bind(state)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?
        .as_ref()
        .map(pending)
        .transpose()?;
        sqlx::query("DELETE FROM oauth_pending WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(p.filter(|p| p.expires_at > now))
    }

    async fn lease_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO oauth_credentials \
             (tenant_id, credential_id, lease_holder, lease_until, updated_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, credential_id) DO UPDATE SET \
             lease_holder = excluded.lease_holder, lease_until = excluded.lease_until, \
             updated_at = excluded.updated_at \
             WHERE oauth_credentials.lease_holder IS NULL \
             OR oauth_credentials.lease_until <= $5 \
             OR oauth_credentials.lease_holder = excluded.lease_holder",
        )
        .bind(tenant)
        .bind(credential_id)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?
        .rows_affected();
        Ok(n == 1)
    }

    async fn release_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE oauth_credentials SET lease_holder = NULL, lease_until = 0 \
             WHERE tenant_id = $1 AND credential_id = $2 AND lease_holder = $3",
        )
        .bind(tenant)
        .bind(credential_id)
        .bind(holder)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn set_oauth_reauthorize(
        &self,
        tenant: &str,
        credential_id: &str,
        why: Option<&str>,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_credentials (tenant_id, credential_id, reauthorize, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, credential_id) DO UPDATE SET \
             reauthorize = excluded.reauthorize, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(credential_id)
        .bind(why)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn oauth_states(&self, tenant: &str) -> Result<Vec<OAuthState>> {
        sqlx::query(
            "SELECT credential_id, reauthorize FROM oauth_credentials \
             WHERE tenant_id = $1 ORDER BY credential_id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?
        .iter()
        .map(|row| {
            let c = Cols::new(row, "oauth_credentials");
            Ok(OAuthState {
                credential_id: c.get("credential_id")?,
                reauthorize: c.get("reauthorize")?,
            })
        })
        .collect()
    }
}
