//! Issuing API keys: the secret is returned once; the store keeps its prefix
//! and hash.

use crate::{Error, Handle, Result, new_id, now_ms};
use weft_types::{ApiKey, Role};

impl Handle {
    /// Creates an API key for `tenant`; returns the stored key and its secret.
    ///
    /// # Errors
    /// Store failures; `Vault` when no randomness is available.
    pub async fn issue_api_key(
        &self,
        tenant: &str,
        name: &str,
        role: Role,
    ) -> Result<(ApiKey, String)> {
        let generated = weft_vault::apikey::generate().map_err(|e| Error::Vault(e.to_string()))?;
        let key = ApiKey {
            id: new_id("key"),
            tenant_id: tenant.to_owned(),
            prefix: generated.prefix.clone(),
            hash: generated.hash.clone(),
            role,
            name: name.to_owned(),
            created_at: now_ms(),
            revoked_at: None,
        };
        self.store().create_api_key(&key).await?;
        Ok((key, generated.secret.to_string()))
    }
}
