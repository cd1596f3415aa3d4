//! Who is calling: a tenant, the key (the audit actor) and its role. The tenant
//! comes only from the API key, never from a body or a query.

use crate::{App, Error, Result};
use weft_types::Role;

/// The authenticated caller of a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The tenant every id in the call is looked up in.
    pub tenant_id: String,
    /// The API key used (the audit actor), or a name such as `cli` for local use.
    pub key_id: String,
    /// What the caller may do.
    pub role: Role,
}

impl Actor {
    /// The tenant's owner acting through the local command line (`weft run`):
    /// no API key, audited as `actor`.
    pub fn local(tenant_id: impl Into<String>, actor: &str) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            key_id: actor.to_owned(),
            role: Role::Owner,
        }
    }

    /// Refuses unless the caller's role is at least `role`.
    ///
    /// # Errors
    /// [`Error::Forbidden`].
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden { needs: role })
        }
    }
}

impl App {
    /// The caller an API key secret (`weft_...`) stands for. Keys are found by
    /// their public prefix and checked against the stored SHA-256 in constant
    /// time; a revoked key is refused at once.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for a malformed, unknown or revoked key;
    /// store failures.
    pub async fn authenticate(&self, secret: &str) -> Result<Actor> {
        let prefix = weft_vault::apikey::parse_prefix(secret).ok_or(Error::Unauthenticated)?;
        let key = self
            .store()
            .api_key_by_prefix(prefix)
            .await?
            .ok_or(Error::Unauthenticated)?;
        if key.revoked_at.is_some() || !weft_vault::apikey::verify(secret, &key.hash) {
            return Err(Error::Unauthenticated);
        }
        Ok(Actor {
            tenant_id: key.tenant_id,
            key_id: key.id,
            role: key.role,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        let viewer = Actor {
            tenant_id: "ten_1".into(),
            key_id: "key_1".into(),
            role: Role::Viewer,
        };
        assert!(viewer.require(Role::Viewer).is_ok());
        assert!(matches!(
            viewer.require(Role::Admin),
            Err(Error::Forbidden { needs: Role::Admin })
        ));
        assert!(Actor::local("ten_1", "cli").require(Role::Owner).is_ok());
    }
}
