//! Who is calling: a tenant, the key (the audit actor) and its role. The tenant
//! comes only from the API key, never from a body or a query.

use crate::{App, Error, Result};
use weft_types::Role;
use weft_types::scope::Scope;

/// The authenticated caller of a tenant use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The tenant every id in the call is looked up in.
    pub tenant_id: String,
    /// The API key used (the audit actor), a user's id for a session, or a
    /// name such as `cli` for local use.
    pub key_id: String,
    /// What the caller may do.
    pub role: Role,
    /// The user behind a browser session (`usr_…`); `None` for an API key.
    pub user_id: Option<String>,
    /// The key's scopes, narrower than its role; `None`: the whole role.
    pub scopes: Option<Vec<Scope>>,
}

impl Actor {
    /// A caller with the whole of `role` (no scopes, no user).
    pub fn new(tenant_id: impl Into<String>, key_id: impl Into<String>, role: Role) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            key_id: key_id.into(),
            role,
            user_id: None,
            scopes: None,
        }
    }

    /// The tenant's owner acting through the local command line (`weft run`):
    /// no API key, audited as `actor`.
    pub fn local(tenant_id: impl Into<String>, actor: &str) -> Self {
        Self::new(tenant_id, actor, Role::Owner)
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
        Ok(Actor::new(key.tenant_id, key.id, key.role))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        let viewer = Actor::new("ten_1", "key_1", Role::Viewer);
        assert!(viewer.require(Role::Viewer).is_ok());
        assert!(matches!(
            viewer.require(Role::Admin),
            Err(Error::Forbidden { needs: Role::Admin })
        ));
        assert!(Actor::local("ten_1", "cli").require(Role::Owner).is_ok());
    }
}
