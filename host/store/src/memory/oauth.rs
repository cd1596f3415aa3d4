//! `OAuthStore` in memory.

use super::{Key2, Memory, k2};
use crate::Result;
use crate::oauth::{OAuthPending, OAuthState, OAuthStore};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// One credential's row: lease holder and until, the reauthorize mark.
#[derive(Default, Clone)]
struct Row {
    holder: Option<String>,
    until: i64,
    reauthorize: Option<String>,
}

#[derive(Default)]
pub(super) struct OAuth {
    pending: BTreeMap<String, OAuthPending>,
    rows: BTreeMap<Key2, Row>,
}

impl OAuth {
    /// Drops a deleted credential's row and pending authorizations.
    pub(super) fn forget(&mut self, tenant: &str, credential_id: &str) {
        self.rows.remove(&k2(tenant, credential_id));
        self.pending
            .retain(|_, p| !(p.tenant_id == tenant && p.credential_id == credential_id));
    }
}

#[async_trait]
impl OAuthStore for Memory {
    async fn put_oauth_pending(&self, p: &OAuthPending) -> Result<()> {
        let mut g = self.lock();
        if g.oauth.pending.contains_key(&p.state) {
            return Err(crate::Error::Duplicate("oauth state exists".into()));
        }
        g.oauth.pending.insert(p.state.clone(), p.clone());
        Ok(())
    }

    async fn take_oauth_pending(&self, state: &str, now: i64) -> Result<Option<OAuthPending>> {
        let mut g = self.lock();
        let p = g.oauth.pending.remove(state);
        g.oauth.pending.retain(|_, p| p.expires_at > now);
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
        let mut g = self.lock();
        let row = g.oauth.rows.entry(k2(tenant, credential_id)).or_default();
        let free =
            row.holder.is_none() || row.until <= now || row.holder.as_deref() == Some(holder);
        if free {
            row.holder = Some(holder.to_owned());
            row.until = until;
        }
        Ok(free)
    }

    async fn release_oauth_refresh(
        &self,
        tenant: &str,
        credential_id: &str,
        holder: &str,
    ) -> Result<()> {
        let mut g = self.lock();
        if let Some(row) = g.oauth.rows.get_mut(&k2(tenant, credential_id))
            && row.holder.as_deref() == Some(holder)
        {
            row.holder = None;
            row.until = 0;
        }
        Ok(())
    }

    async fn set_oauth_reauthorize(
        &self,
        tenant: &str,
        credential_id: &str,
        why: Option<&str>,
        _now: i64,
    ) -> Result<()> {
        let mut g = self.lock();
        g.oauth
            .rows
            .entry(k2(tenant, credential_id))
            .or_default()
            .reauthorize = why.map(str::to_owned);
        Ok(())
    }

    async fn oauth_states(&self, tenant: &str) -> Result<Vec<OAuthState>> {
        let g = self.lock();
        Ok(g.oauth
            .rows
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|((_, id), r)| OAuthState {
                credential_id: id.clone(),
                reauthorize: r.reauthorize.clone(),
            })
            .collect())
    }
}
