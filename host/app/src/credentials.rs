//! Credentials: stored sealed (the worker seals them next to where it unseals
//! them for a step), listed as metadata, deleted. No use case returns a secret.

use crate::{Actor, App, Result};
use weft_types::{CredentialRecord, Role};

pub use weft_worker::NewCredential;

impl App {
    /// Seals and stores a credential (admin and above).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] (empty name or secret, no hosts),
    /// [`crate::Error::Conflict`] (name taken), [`crate::Error::Forbidden`].
    pub async fn create_credential(
        &self,
        actor: &Actor,
        new: NewCredential,
    ) -> Result<CredentialRecord> {
        actor.require(Role::Admin)?;
        let c = self.handle.create_credential(&actor.tenant_id, new).await?;
        self.audit(actor, "credential.create", &c.id).await?;
        Ok(c)
    }

    /// The tenant's credentials: names and metadata only.
    ///
    /// # Errors
    /// [`crate::Error::Forbidden`]; store failures.
    pub async fn list_credentials(&self, actor: &Actor) -> Result<Vec<CredentialRecord>> {
        actor.require(Role::Viewer)?;
        Ok(self.store().list_credentials(&actor.tenant_id).await?)
    }

    /// Deletes a credential (admin and above).
    ///
    /// # Errors
    /// [`crate::Error::NotFound`], [`crate::Error::Forbidden`].
    pub async fn delete_credential(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store().delete_credential(&actor.tenant_id, id).await?;
        self.audit(actor, "credential.delete", id).await
    }
}
