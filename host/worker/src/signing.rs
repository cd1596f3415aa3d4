//! The signing secret of a webhook: a tenant credential, unsealed only to
//! verify a signature with, never handed to a plugin or a caller.

use crate::{Handle, Result};
use weft_vault::Zeroizing;

impl Handle {
    /// The plaintext of the tenant's credential `name`, to compute a webhook
    /// signature with; wiped when dropped.
    ///
    /// # Errors
    /// `NotFound` (no such credential), vault failures (it does not open).
    pub async fn signing_secret(&self, tenant: &str, name: &str) -> Result<Zeroizing<Vec<u8>>> {
        let credential = self.unseal(tenant, "webhook-signature", name).await?;
        Ok(Zeroizing::new(
            credential.secret.expose().as_bytes().to_vec(),
        ))
    }
}
