//! Stored credentials: sealing new ones, and unsealing them into the sandbox's
//! grants for one step. The secret never leaves this module except into the
//! sandbox, which injects it into outbound requests.

use crate::{Error, Handle, Result, new_id, now_ms};
use weft_sandbox::{Credential, Secret};
use weft_types::{CredentialRecord, HostPattern, Injection};

pub use weft_types::NewCredential;

impl Handle {
    /// Seals and stores a credential for `tenant`.
    ///
    /// # Errors
    /// `Invalid` (empty name or secret, no hosts), store `Duplicate` (name taken), store or vault failures.
    pub async fn create_credential(
        &self,
        tenant: &str,
        new: NewCredential,
    ) -> Result<CredentialRecord> {
        if new.name.is_empty() || new.name.len() > 100 {
            return Err(Error::Invalid("/name: must be 1-100 characters".into()));
        }
        if new.secret.is_empty() || new.secret.len() > 16 * 1024 {
            return Err(Error::Invalid("/secret: must be 1 byte to 16 KiB".into()));
        }
        if new.hosts.is_empty() {
            return Err(Error::Invalid(
                "/hosts: bind the credential to at least one host".into(),
            ));
        }
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let id = new_id("cred");
        let sealed = self
            .keyring()
            .seal(tenant, &t.wrapped_key, &id, new.secret.as_bytes())
            .map_err(|e| Error::Vault(e.to_string()))?;
        let record = CredentialRecord {
            tenant_id: tenant.to_owned(),
            id,
            name: new.name,
            injection: serde_json::to_value(&new.injection)
                .map_err(|e| Error::Invalid(e.to_string()))?,
            hosts: new.hosts.iter().map(ToString::to_string).collect(),
            nonce: sealed.nonce.clone(),
            ciphertext: sealed.ciphertext.clone(),
            created_at: now_ms(),
        };
        self.store().create_credential(&record).await?;
        Ok(record)
    }

    /// Unseals the credential `name` of `tenant` for slot `slot`.
    pub(crate) async fn unseal(&self, tenant: &str, slot: &str, name: &str) -> Result<Credential> {
        let record = self
            .store()
            .credential_by_name(tenant, name)
            .await?
            .ok_or(Error::NotFound("credential"))?;
        let t = self
            .store()
            .get_tenant(tenant)
            .await?
            .ok_or(Error::NotFound("tenant"))?;
        let plain = self
            .keyring()
            .open(
                tenant,
                &t.wrapped_key,
                &record.id,
                &record.nonce,
                &record.ciphertext,
            )
            .map_err(|e| Error::Vault(e.to_string()))?;
        let secret = String::from_utf8(plain.to_vec())
            .map_err(|_| Error::Vault(format!("credential `{name}` is not UTF-8")))?;
        let injection: Injection = serde_json::from_value(record.injection.clone())
            .map_err(|e| Error::Vault(format!("credential `{name}` injection: {e}")))?;
        let hosts = record
            .hosts
            .iter()
            .filter_map(|h| h.parse::<HostPattern>().ok())
            .collect();
        Ok(Credential {
            slot: slot.to_owned(),
            secret: Secret::new(secret),
            hosts,
            inject: injection,
        })
    }
}
