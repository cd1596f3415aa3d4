//! Tenants and their API keys: the part of the application that needs only
//! the store and the keyring (no sandbox, no queue), so that `weft migrate`
//! can create the first tenant without starting a runtime.

use crate::{Actor, Error, Result, record};
use std::sync::Arc;
use weft_store::{AuditEntry, Store};
use weft_types::{ApiKey, Role, Tenant};
use weft_vault::Keyring;
use weft_worker::{new_id, now_ms};

/// Longest key or tenant name.
const MAX_NAME: usize = 100;

/// What [`Tenants::bootstrap`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    /// The first tenant.
    pub tenant_id: String,
    /// Its owner key's secret, when it was created just now (shown once).
    pub owner_key: Option<String>,
}

/// Tenant and API-key use cases over the store and the keyring.
#[derive(Clone)]
pub struct Tenants {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    cache: crate::ops::TenantCache,
}

impl Tenants {
    /// The use cases over `store`, wrapping tenant keys with `keyring`.
    pub fn new(store: Arc<dyn Store>, keyring: Arc<Keyring>) -> Self {
        Self {
            store,
            keyring,
            cache: crate::ops::TenantCache::default(),
        }
    }

    /// The same use cases, also forgetting in `view` a tenant they change.
    #[must_use]
    pub fn with_view(mut self, view: weft_worker::TenantView) -> Self {
        self.cache.1 = Some(view);
        self
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn cache(&self) -> &crate::ops::TenantCache {
        &self.cache
    }

    /// On an empty store: a `default` tenant with an owner key named
    /// `bootstrap`, whose secret is returned once. Otherwise the first tenant.
    ///
    /// # Errors
    /// Store or vault failures.
    pub async fn bootstrap(&self) -> Result<Bootstrap> {
        if let Some(t) = self.store.list_tenants().await?.into_iter().next() {
            return Ok(Bootstrap {
                tenant_id: t.id,
                owner_key: None,
            });
        }
        let tenant = self.insert("default").await?;
        let (_, secret) = self.issue(&tenant.id, "bootstrap", Role::Owner).await?;
        Ok(Bootstrap {
            tenant_id: tenant.id,
            owner_key: Some(secret),
        })
    }

    /// The first tenant (the one [`Tenants::bootstrap`] made), if any.
    ///
    /// # Errors
    /// Store failures.
    pub async fn first(&self) -> Result<Option<String>> {
        Ok(self
            .store
            .list_tenants()
            .await?
            .into_iter()
            .next()
            .map(|t| t.id))
    }

    /// Creates a tenant with its own data key and an owner key named `owner`;
    /// returns the tenant and the key's secret (shown once).
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad name; store or vault failures.
    pub async fn create(&self, name: &str) -> Result<(Tenant, String)> {
        check_name("name", name)?;
        let tenant = self.insert(name).await?;
        let (_, secret) = self.issue(&tenant.id, "owner", Role::Owner).await?;
        Ok((tenant, secret))
    }

    async fn insert(&self, name: &str) -> Result<Tenant> {
        let id = new_id("ten");
        let tenant = Tenant {
            wrapped_key: self.keyring.new_tenant_key(&id)?,
            id,
            name: name.to_owned(),
            created_at: now_ms(),
            state: weft_types::TenantState::Active,
            limits: weft_types::TenantLimits::default(),
        };
        self.store.create_tenant(&tenant).await?;
        Ok(tenant)
    }

    /// Creates an API key for `tenant` with the whole of `role`; returns the
    /// stored key and its secret.
    async fn issue(&self, tenant: &str, name: &str, role: Role) -> Result<(ApiKey, String)> {
        let (key, secret) = self.key(tenant, name, role, None, None)?;
        self.store.create_api_key(&key).await?;
        Ok((key, secret))
    }

    /// A new key (not stored yet) and its secret.
    fn key(
        &self,
        tenant: &str,
        name: &str,
        role: Role,
        scopes: Option<Vec<weft_types::scope::Scope>>,
        expires_at: Option<i64>,
    ) -> Result<(ApiKey, String)> {
        let generated = weft_vault::apikey::generate()?;
        let key = ApiKey {
            id: new_id("key"),
            tenant_id: tenant.to_owned(),
            prefix: generated.prefix.clone(),
            hash: generated.hash.clone(),
            role,
            name: name.to_owned(),
            created_at: now_ms(),
            revoked_at: None,
            scopes,
            expires_at,
            last_used_at: None,
        };
        Ok((key, generated.secret.to_string()))
    }

    /// Creates an API key in the caller's tenant (owner only); the secret is in
    /// this answer only. `scopes` narrow the role (`None`: the whole role);
    /// `expires_at` is when it stops working. A scoped caller can only make
    /// keys within its own scopes.
    ///
    /// # Errors
    /// [`Error::Forbidden`] unless owner; [`Error::Invalid`] for a bad name,
    /// scope or expiry (naming it); [`Error::OutOfScope`] for a key beyond the
    /// caller's scopes.
    pub async fn create_key(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        scopes: Option<&[String]>,
        expires_at: Option<i64>,
    ) -> Result<(ApiKey, String)> {
        actor.require(Role::Owner)?;
        check_name("name", name)?;
        let scopes = scopes
            .map(weft_types::scope::parse_all)
            .transpose()
            .map_err(|(at, e)| Error::Invalid(format!("request body at `{at}`: {e}")))?;
        let now = now_ms();
        if let Some(at) = expires_at
            && at <= now
        {
            return Err(Error::Invalid(format!(
                "request body at `expires_at`: {at} is not in the future (now is {now}, \
                 Unix milliseconds)"
            )));
        }
        actor.require_covers(role, scopes.as_deref(), expires_at)?;
        let (key, secret) = self.key(&actor.tenant_id, name, role, scopes, expires_at)?;
        self.store.create_api_key(&key).await?;
        record(self.store.as_ref(), actor, "key.create", &key.id).await?;
        Ok((key, secret))
    }

    /// The tenant's API keys (owner only): prefixes and metadata.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; store failures.
    pub async fn list_keys(&self, actor: &Actor) -> Result<Vec<ApiKey>> {
        actor.require(Role::Owner)?;
        Ok(self.store.list_api_keys(&actor.tenant_id).await?)
    }

    /// Revokes an API key at once (owner only).
    ///
    /// # Errors
    /// [`Error::Forbidden`]; [`Error::NotFound`].
    pub async fn revoke_key(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Owner)?;
        self.store
            .revoke_api_key(&actor.tenant_id, id, now_ms())
            .await?;
        record(self.store.as_ref(), actor, "key.revoke", id).await
    }

    /// The tenant's audit log, newest first (admin and above); at most 1,000.
    ///
    /// # Errors
    /// [`Error::Forbidden`]; store failures.
    pub async fn audit_log(&self, actor: &Actor, limit: Option<u32>) -> Result<Vec<AuditEntry>> {
        actor.require(Role::Admin)?;
        let limit = limit.unwrap_or(100).clamp(1, 1000);
        Ok(self.store.list_audit(&actor.tenant_id, limit).await?)
    }
}

/// A name of 1 to 100 characters.
pub(crate) fn check_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::Invalid(format!(
            "request body at `{field}`: must be 1-{MAX_NAME} characters"
        )));
    }
    Ok(())
}
