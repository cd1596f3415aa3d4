//! Who is calling: a tenant, the key (the audit actor) and its role. The tenant
//! comes only from the API key, never from a body or a query.

use crate::{App, Error, Result};
use weft_types::Role;
use weft_types::scope::{Resource, Scope, Verb};

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
    /// When the key expires (ms since the epoch); `None`: never (or not a key).
    pub expires_at: Option<i64>,
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
            expires_at: None,
        }
    }

    /// The tenant's owner acting through the local command line (`weft run`):
    /// no API key, audited as `actor`.
    pub fn local(tenant_id: impl Into<String>, actor: &str) -> Self {
        Self::new(tenant_id, actor, Role::Owner)
    }

    /// Refuses unless the caller's scopes (if it has any) grant `verb` on
    /// `resource` for `id` (`None`: a route about no single id). Called after
    /// the role check: scopes only narrow a role.
    ///
    /// # Errors
    /// [`Error::OutOfScope`] naming the scope that would allow it.
    pub fn require_scope(&self, resource: Resource, verb: Verb, id: Option<&str>) -> Result<()> {
        let Some(scopes) = &self.scopes else {
            return Ok(());
        };
        if scopes.iter().any(|s| s.grants(resource, verb, id)) {
            return Ok(());
        }
        let needs = Scope {
            resource,
            verb,
            id: id.map(str::to_owned),
        };
        Err(Error::OutOfScope {
            needs: needs.to_string(),
        })
    }

    /// Whether every scope of `wanted` is within this caller's scopes (a key
    /// made by a scoped key can only be narrower: no escalation by minting).
    fn covers(&self, wanted: Option<&[Scope]>) -> bool {
        match (&self.scopes, wanted) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(mine), Some(wanted)) => wanted.iter().all(|w| {
                mine.iter()
                    .any(|m| m.grants(w.resource, w.verb, w.id.as_deref()))
            }),
        }
    }

    /// Refuses a new key that would do more than this caller: a higher role,
    /// scopes (or no scopes) beyond the caller's own, or a life beyond the
    /// caller's own expiry.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::OutOfScope`] or [`Error::Invalid`],
    /// naming what is beyond.
    pub fn require_covers(
        &self,
        role: Role,
        scopes: Option<&[Scope]>,
        expires_at: Option<i64>,
    ) -> Result<()> {
        if role > self.role {
            return Err(Error::Forbidden { needs: role });
        }
        if let Some(mine) = self.expires_at
            && expires_at.is_none_or(|theirs| theirs > mine)
        {
            return Err(Error::Invalid(format!(
                "request body at `expires_at`: a key that expires at {mine} can only make keys \
                 that expire by then (Unix milliseconds)"
            )));
        }
        if self.covers(scopes) {
            return Ok(());
        }
        let beyond = match (scopes, &self.scopes) {
            (Some(wanted), Some(mine)) => wanted
                .iter()
                .find(|w| {
                    !mine
                        .iter()
                        .any(|m| m.grants(w.resource, w.verb, w.id.as_deref()))
                })
                .map_or_else(String::new, ToString::to_string),
            _ => "a key without scopes".to_owned(),
        };
        Err(Error::OutOfScope { needs: beyond })
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

    /// Whether the caller could do `verb` on `resource` (`id`) through the
    /// API: at least `role`, and within its scopes. Decides which
    /// credentials an answer may carry (a webhook or a resume URL).
    pub fn may(&self, role: Role, resource: Resource, verb: Verb, id: Option<&str>) -> bool {
        self.require(role).is_ok() && self.require_scope(resource, verb, id).is_ok()
    }
}

impl App {
    /// The caller an API key secret (`weft_...`) stands for. Keys are found by
    /// their public prefix and checked against the stored SHA-256 in constant
    /// time; a revoked or expired key is refused at once. The key's use is
    /// recorded (`last_used_at`, at most one write a minute).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for a malformed, unknown, revoked or expired
    /// key; store failures.
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
        let now = weft_worker::now_ms();
        if key.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Unauthenticated);
        }
        if key
            .last_used_at
            .is_none_or(|t| t <= now.saturating_sub(weft_store::KEY_TOUCH_MS))
            && let Err(e) = self
                .store()
                .touch_api_key(&key.tenant_id, &key.id, now)
                .await
        {
            // Bookkeeping only: the call goes on.
            tracing::warn!(key.id = %key.id, error = %e, "could not record the key's last use");
        }
        let mut actor = Actor::new(key.tenant_id, key.id, key.role);
        actor.scopes = key.scopes;
        actor.expires_at = key.expires_at;
        Ok(actor)
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
